package dev.scoreline.core.config;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.exc.InvalidFormatException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.databind.exc.ValueInstantiationException;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.scoreline.core.error.ErrorCode;
import dev.scoreline.core.error.ScorelineException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Collection;
import java.util.stream.Collectors;

/**
 * Binds YAML files to records: kebab-case keys, unknown keys rejected with the file, line, key and
 * the nearest valid key; values validated by the records' compact constructors.
 */
public final class ConfigLoader {
  private static final ObjectMapper YAML =
      new ObjectMapper(new YAMLFactory())
          .setPropertyNamingStrategy(PropertyNamingStrategies.KEBAB_CASE)
          .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
          .enable(DeserializationFeature.ACCEPT_SINGLE_VALUE_AS_ARRAY);

  private ConfigLoader() {}

  /** The mapper configured for config files, for callers that bind trees. */
  public static ObjectMapper yamlMapper() {
    return YAML;
  }

  public static <T> T load(Path file, Class<T> type) {
    String text;
    try {
      text = Files.readString(file);
    } catch (NoSuchFileException e) {
      throw new ScorelineException(ErrorCode.USER_ERROR, file + ": file not found");
    } catch (IOException e) {
      throw new ScorelineException(ErrorCode.USER_ERROR, file + ": cannot read: " + e, e);
    }
    return parse(file.toString(), text, type);
  }

  /** Parses YAML text; {@code source} names it in error messages. */
  public static <T> T parse(String source, String text, Class<T> type) {
    try {
      T value = YAML.readValue(text.isBlank() ? "{}" : text, type);
      if (value == null) {
        return YAML.readValue("{}", type);
      }
      return value;
    } catch (UnrecognizedPropertyException e) {
      String known = nearest(e.getPropertyName(), e.getKnownPropertyIds());
      throw new ScorelineException(
          ErrorCode.USER_ERROR,
          path(e),
          keyLine(source, text, e.getPropertyName(), e)
              + "unknown key '"
              + e.getPropertyName()
              + "'"
              + (known == null ? "" : "; did you mean '" + known + "'?")
              + " Valid keys: "
              + e.getKnownPropertyIds().stream()
                  .map(Object::toString)
                  .sorted()
                  .collect(Collectors.joining(", ")),
          null);
    } catch (ValueInstantiationException e) {
      Throwable cause = e.getCause();
      String msg =
          cause != null && cause.getMessage() != null ? cause.getMessage() : e.getMessage();
      throw new ScorelineException(
          ErrorCode.USER_ERROR, path(e), where(source, e) + pathPrefix(e) + msg, null);
    } catch (InvalidFormatException e) {
      throw new ScorelineException(
          ErrorCode.USER_ERROR,
          path(e),
          where(source, e)
              + pathPrefix(e)
              + "value '"
              + e.getValue()
              + "' is not a valid "
              + e.getTargetType().getSimpleName(),
          null);
    } catch (JsonMappingException e) {
      throw new ScorelineException(
          ErrorCode.USER_ERROR,
          path(e),
          where(source, e) + pathPrefix(e) + e.getOriginalMessage(),
          null);
    } catch (JsonProcessingException e) {
      throw new ScorelineException(
          ErrorCode.USER_ERROR,
          null,
          where(source, e) + "invalid YAML: " + e.getOriginalMessage(),
          null);
    }
  }

  /** Jackson reports where the parser stopped; the key's own line is more useful to a reader. */
  private static String keyLine(String source, String text, String key, JsonProcessingException e) {
    String[] lines = text.split("\n", -1);
    for (int i = 0; i < lines.length; i++) {
      String l = lines[i].trim();
      if (l.startsWith("- ")) {
        l = l.substring(2).trim();
      }
      if (l.startsWith(key + ":") || l.startsWith("{" + key + ":") || l.contains(" " + key + ":")) {
        return source + ":" + (i + 1) + ": ";
      }
    }
    return where(source, e);
  }

  private static String where(String source, JsonProcessingException e) {
    JsonLocation loc = e.getLocation();
    return source + (loc != null && loc.getLineNr() > 0 ? ":" + loc.getLineNr() : "") + ": ";
  }

  private static String path(JsonMappingException e) {
    StringBuilder sb = new StringBuilder();
    for (JsonMappingException.Reference r : e.getPath()) {
      if (r.getFieldName() != null) {
        if (sb.length() > 0) {
          sb.append('.');
        }
        sb.append(r.getFieldName());
      } else if (r.getIndex() >= 0) {
        sb.append('[').append(r.getIndex()).append(']');
      }
    }
    return sb.length() == 0 ? null : sb.toString();
  }

  private static String pathPrefix(JsonMappingException e) {
    String p = path(e);
    return p == null ? "" : "'" + p + "': ";
  }

  /** The candidate closest to {@code key} by edit distance, or null when none is close. */
  public static String nearest(String key, Collection<?> candidates) {
    String best = null;
    int bestDistance = Integer.MAX_VALUE;
    for (Object c : candidates) {
      String s = c.toString();
      int d = distance(key, s);
      if (d < bestDistance) {
        bestDistance = d;
        best = s;
      }
    }
    return best != null && bestDistance <= Math.max(2, key.length() / 2) ? best : null;
  }

  static int distance(String a, String b) {
    int[] prev = new int[b.length() + 1];
    int[] cur = new int[b.length() + 1];
    for (int j = 0; j <= b.length(); j++) {
      prev[j] = j;
    }
    for (int i = 1; i <= a.length(); i++) {
      cur[0] = i;
      for (int j = 1; j <= b.length(); j++) {
        int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
        cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
      }
      int[] t = prev;
      prev = cur;
      cur = t;
    }
    return prev[b.length()];
  }
}
