package dev.scoreline.server;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import dev.scoreline.core.config.ConfigLoader;
import dev.scoreline.core.error.ScorelineException;
import dev.scoreline.server.features.FeatureRequests.EntitiesForm;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Parses the JSON bodies of {@code POST /v1/features} and {@code POST /v1/features/push} with the
 * streaming parser. Values become the JSON-like Java objects the feature store converts ({@code
 * Integer}/{@code Long}/{@code BigInteger}, {@code Double}, {@code String}, {@code Boolean}, {@code
 * List}, {@code Map}, null); an unknown top-level field is a user error naming the nearest valid
 * one.
 */
final class FeatureJsonRequests {
  private static final List<String> GET_FIELDS =
      List.of("feature_service", "features", "entities", "full_feature_names");
  private static final List<String> PUSH_FIELDS = List.of("feature_view", "rows", "to");

  private FeatureJsonRequests() {}

  /** A parsed {@code POST /v1/features} body. */
  record Get(
      String featureService,
      List<String> features,
      List<Map<String, Object>> entityRows,
      Map<String, List<Object>> entityColumns,
      boolean fullFeatureNames) {
    EntitiesForm form() {
      return entityColumns != null ? EntitiesForm.COLUMNS : EntitiesForm.ROWS;
    }
  }

  /**
   * A parsed {@code POST /v1/features/push} body.
   *
   * @param toOffline true for {@code "to": "online_and_offline"}, false for {@code "online"}, null
   *     when absent (the store's default)
   */
  record Push(String featureView, List<Map<String, Object>> rows, Boolean toOffline) {}

  static Get parseGet(byte[] body) {
    try (JsonParser p = open(body, "{\"feature_service\": \"ranker\", \"entities\": [...]}")) {
      String service = null;
      List<String> features = null;
      List<Map<String, Object>> rows = null;
      Map<String, List<Object>> columns = null;
      boolean full = false;
      boolean sawEntities = false;
      while (p.nextToken() == JsonToken.FIELD_NAME) {
        String field = p.currentName();
        JsonToken t = p.nextToken();
        switch (field) {
          case "feature_service":
            service = t == JsonToken.VALUE_NULL ? null : string(p, t, field);
            break;
          case "features":
            if (t == JsonToken.VALUE_NULL) {
              break;
            }
            expect(t, JsonToken.START_ARRAY, field, "an array of \"view:feature\" strings");
            features = new ArrayList<>();
            int i = 0;
            while ((t = p.nextToken()) != JsonToken.END_ARRAY) {
              features.add(string(p, t, field + "[" + i++ + "]"));
            }
            break;
          case "entities":
            sawEntities = true;
            if (t == JsonToken.START_ARRAY) {
              rows = readRows(p, field);
            } else if (t == JsonToken.START_OBJECT) {
              columns = readColumns(p, field);
            } else {
              throw ScorelineException.userError(
                  field,
                  "entities must be an array of rows [{\"user_id\": 1}, ...] or an object of"
                      + " columns {\"user_id\": [1, 2]}; got "
                      + describe(t));
            }
            break;
          case "full_feature_names":
            if (t != JsonToken.VALUE_TRUE && t != JsonToken.VALUE_FALSE) {
              throw ScorelineException.userError(
                  field, "full_feature_names must be true or false; got " + describe(t));
            }
            full = t == JsonToken.VALUE_TRUE;
            break;
          default:
            throw unknownField(field, GET_FIELDS);
        }
      }
      if (!sawEntities) {
        throw ScorelineException.userError(
            "entities",
            "entities is missing; send the entity keys as rows [{\"user_id\": 1}, ...] or columns"
                + " {\"user_id\": [1, 2]}");
      }
      return new Get(service, features, rows, columns, full);
    } catch (JsonProcessingException e) {
      throw Json.malformed(e);
    } catch (IOException e) {
      throw ScorelineException.userError(null, "unreadable JSON: " + e.getMessage());
    }
  }

  static Push parsePush(byte[] body) {
    try (JsonParser p =
        open(body, "{\"feature_view\": \"user_stats\", \"rows\": [{...}], \"to\": \"online\"}")) {
      String view = null;
      List<Map<String, Object>> rows = null;
      Boolean toOffline = null;
      while (p.nextToken() == JsonToken.FIELD_NAME) {
        String field = p.currentName();
        JsonToken t = p.nextToken();
        switch (field) {
          case "feature_view":
            view = string(p, t, field);
            break;
          case "rows":
            expect(t, JsonToken.START_ARRAY, field, "an array of row objects");
            rows = readRows(p, field);
            break;
          case "to":
            String to = string(p, t, field);
            if (to.equals("online")) {
              toOffline = false;
            } else if (to.equals("online_and_offline")) {
              toOffline = true;
            } else {
              throw ScorelineException.userError(
                  field, "to is '" + to + "'; use \"online\" or \"online_and_offline\"");
            }
            break;
          default:
            throw unknownField(field, PUSH_FIELDS);
        }
      }
      if (view == null) {
        throw ScorelineException.userError(
            "feature_view", "feature_view is missing; name the feature view the rows belong to");
      }
      if (rows == null) {
        throw ScorelineException.userError("rows", "rows is missing; send an array of row objects");
      }
      return new Push(view, rows, toOffline);
    } catch (JsonProcessingException e) {
      throw Json.malformed(e);
    } catch (IOException e) {
      throw ScorelineException.userError(null, "unreadable JSON: " + e.getMessage());
    }
  }

  private static JsonParser open(byte[] body, String example) throws IOException {
    if (body.length == 0) {
      throw ScorelineException.userError(
          null, "the request body is empty; send a JSON object such as " + example);
    }
    JsonParser p = Json.FACTORY.createParser(body);
    if (p.nextToken() != JsonToken.START_OBJECT) {
      p.close();
      throw ScorelineException.userError(
          null, "the request body must be a JSON object such as " + example);
    }
    return p;
  }

  /** Reads an array of row objects; the parser is at START_ARRAY. */
  private static List<Map<String, Object>> readRows(JsonParser p, String field) throws IOException {
    List<Map<String, Object>> rows = new ArrayList<>();
    JsonToken t;
    int i = 0;
    while ((t = p.nextToken()) != JsonToken.END_ARRAY) {
      String rowField = field + "[" + i + "]";
      if (t != JsonToken.START_OBJECT) {
        throw ScorelineException.userError(
            rowField, rowField + " must be an object of columns; got " + describe(t));
      }
      rows.add(readObject(p));
      i++;
    }
    return rows;
  }

  /** Reads an object of arrays (columnar entities); the parser is at START_OBJECT. */
  private static Map<String, List<Object>> readColumns(JsonParser p, String field)
      throws IOException {
    Map<String, List<Object>> columns = new LinkedHashMap<>();
    while (p.nextToken() == JsonToken.FIELD_NAME) {
      String name = p.currentName();
      JsonToken t = p.nextToken();
      if (t != JsonToken.START_ARRAY) {
        throw ScorelineException.userError(
            field + "." + name,
            field
                + "."
                + name
                + " must be an array of key values, one per entity row; got "
                + describe(t));
      }
      columns.put(name, readArray(p));
    }
    return columns;
  }

  /** Reads an object; the parser is at START_OBJECT. */
  private static Map<String, Object> readObject(JsonParser p) throws IOException {
    Map<String, Object> m = new LinkedHashMap<>();
    while (p.nextToken() == JsonToken.FIELD_NAME) {
      String name = p.currentName();
      m.put(name, readValue(p, p.nextToken()));
    }
    return m;
  }

  /** Reads an array; the parser is at START_ARRAY. */
  private static List<Object> readArray(JsonParser p) throws IOException {
    List<Object> list = new ArrayList<>();
    JsonToken t;
    while ((t = p.nextToken()) != JsonToken.END_ARRAY) {
      list.add(readValue(p, t));
    }
    return list;
  }

  private static Object readValue(JsonParser p, JsonToken t) throws IOException {
    switch (t) {
      case VALUE_NUMBER_INT:
        return p.getNumberValue();
      case VALUE_NUMBER_FLOAT:
        return p.getDoubleValue();
      case VALUE_STRING:
        return p.getText();
      case VALUE_TRUE:
        return Boolean.TRUE;
      case VALUE_FALSE:
        return Boolean.FALSE;
      case VALUE_NULL:
        return null;
      case START_ARRAY:
        return readArray(p);
      case START_OBJECT:
        return readObject(p);
      default:
        throw ScorelineException.userError(null, "unexpected JSON token " + t);
    }
  }

  private static String string(JsonParser p, JsonToken t, String field) throws IOException {
    if (t != JsonToken.VALUE_STRING) {
      throw ScorelineException.userError(field, field + " must be a string; got " + describe(t));
    }
    return p.getText();
  }

  private static void expect(JsonToken t, JsonToken expected, String field, String what) {
    if (t != expected) {
      throw ScorelineException.userError(
          field, field + " must be " + what + "; got " + describe(t));
    }
  }

  private static ScorelineException unknownField(String field, List<String> valid) {
    String near = ConfigLoader.nearest(field, valid);
    return ScorelineException.userError(
        field,
        "unknown field '"
            + field
            + "'"
            + (near == null ? "" : "; did you mean '" + near + "'?")
            + " Valid fields: "
            + valid);
  }

  private static String describe(JsonToken t) {
    switch (t) {
      case START_ARRAY:
        return "an array";
      case START_OBJECT:
        return "an object";
      case VALUE_STRING:
        return "a string";
      case VALUE_NUMBER_INT:
      case VALUE_NUMBER_FLOAT:
        return "a number";
      case VALUE_TRUE:
      case VALUE_FALSE:
        return "a boolean";
      case VALUE_NULL:
        return "null";
      default:
        return t.toString();
    }
  }
}
