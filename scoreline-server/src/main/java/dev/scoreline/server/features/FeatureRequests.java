package dev.scoreline.server.features;

import dev.scoreline.core.error.ErrorCode;
import dev.scoreline.core.error.ScorelineException;
import dev.scoreline.core.feature.Definitions.Entity;
import dev.scoreline.core.feature.Definitions.FeatureView;
import dev.scoreline.core.feature.Definitions.KeyColumn;
import dev.scoreline.core.feature.FeatureRef;
import dev.scoreline.core.feature.FeatureRegistry;
import dev.scoreline.core.feature.online.EntityKeys;
import dev.scoreline.core.feature.online.FeatureVectors;
import dev.scoreline.core.feature.online.OnlineFeatureStore;
import java.util.AbstractList;
import java.util.AbstractMap;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What the REST ({@code POST /v1/features}) and gRPC ({@code FeatureService}) endpoints share: the
 * feature list of a request, the read with its errors named after the request's fields, and the
 * entity key columns echoed before the features. Server internals, not an API.
 */
public final class FeatureRequests {
  /** The message of the NOT_FOUND answer when the server has no feature store. */
  public static final String NO_FEATURE_STORE =
      "no feature store configured on this server; add feature definitions (features/*.yaml) to"
          + " the project and start it with an online store (see docs/features.md)";

  private FeatureRequests() {}

  /** How a request sent its entity rows, for naming the fields of errors. */
  public enum EntitiesForm {
    /** {@code "entities": [{"user_id": 1}, ...]} */
    ROWS,
    /** {@code "entities": {"user_id": [1, 2]}} (Feast's form, and gRPC's) */
    COLUMNS
  }

  /**
   * The features of a request: exactly one of {@code service} and {@code features} is given.
   * Unknown views and features are left to {@link #read}, which answers NOT_FOUND naming them.
   *
   * @throws ScorelineException NOT_FOUND for an unknown service; USER_ERROR when both or neither
   *     are given, or a feature is not {@code view:feature}
   */
  public static List<FeatureRef> features(
      FeatureRegistry registry, String service, List<String> features) {
    if ((service == null) == (features == null)) {
      throw ScorelineException.userError(
          "feature_service",
          "give either \"feature_service\": \"<name>\" or \"features\": [\"view:feature\", ...]"
              + (service == null ? "" : ", not both"));
    }
    if (service != null) {
      try {
        return registry.service(service);
      } catch (ScorelineException e) {
        throw new ScorelineException(e.code(), "feature_service", e.getMessage(), null);
      }
    }
    if (features.isEmpty()) {
      throw ScorelineException.userError(
          "features", "features is empty; name at least one view:feature (view:* for all)");
    }
    List<FeatureRef> refs = new ArrayList<>(features.size());
    for (int i = 0; i < features.size(); i++) {
      String f = features.get(i);
      String field = "features[" + i + "]";
      if (f == null) {
        throw ScorelineException.userError(field, field + " is null; send \"view:feature\"");
      }
      refs.add(FeatureRef.parse(field, f));
    }
    return refs;
  }

  /**
   * Reads {@code features} for {@code rows}, naming the request's fields in errors: {@code
   * entities[3].user_id} (rows) or {@code entities.user_id[3]} (columns) rather than the store's
   * {@code entityRows[3].user_id}; {@code feature_service} when the features came from a service.
   */
  public static FeatureVectors read(
      OnlineFeatureStore store,
      List<FeatureRef> features,
      List<Map<String, Object>> rows,
      EntitiesForm form,
      boolean fromService) {
    try {
      return store.get(features, rows);
    } catch (ScorelineException e) {
      throw renamed(e, form, fromService);
    }
  }

  private static ScorelineException renamed(
      ScorelineException e, EntitiesForm form, boolean fromService) {
    String field = e.field().orElse(null);
    if (field == null) {
      return e;
    }
    String message = e.getMessage();
    String renamed;
    if (field.startsWith("entityRows")) {
      renamed = entitiesField(field.substring("entityRows".length()), form);
      message = message.replace(field, renamed).replace("entityRows", "entities");
    } else if (fromService && field.startsWith("features[")) {
      renamed = "feature_service";
    } else {
      return e;
    }
    return new ScorelineException(e.code(), renamed, message, e.getCause());
  }

  /** {@code [3].user_id} as a field of the request's entities. */
  private static String entitiesField(String rest, EntitiesForm form) {
    if (form == EntitiesForm.ROWS || !rest.startsWith("[")) {
      return "entities" + rest;
    }
    int close = rest.indexOf(']');
    if (close < 0 || close + 2 > rest.length() || rest.charAt(close + 1) != '.') {
      return "entities" + rest;
    }
    return "entities." + rest.substring(close + 2) + rest.substring(0, close + 1);
  }

  /** A feature's name in a response: {@code view:feature}, or {@code view__feature} when full. */
  public static String name(FeatureRef ref, boolean fullFeatureNames) {
    return fullFeatureNames ? ref.view() + "__" + ref.feature() : ref.toString();
  }

  /**
   * The key columns of the entities of {@code vectors}' features, in order of first use, each once:
   * the columns a response echoes before the features.
   */
  public static List<KeyColumnOf> keyColumns(FeatureRegistry registry, FeatureVectors vectors) {
    List<KeyColumnOf> out = new ArrayList<>(2);
    String lastView = null;
    List<FeatureRef> features = vectors.features();
    for (int f = 0; f < features.size(); f++) {
      String view = features.get(f).view();
      if (view.equals(lastView)) {
        continue;
      }
      lastView = view;
      FeatureView v = registry.view(view);
      Entity entity = registry.entity(v.entity());
      for (KeyColumn k : entity.keys()) {
        if (!contains(out, k.name())) {
          out.add(new KeyColumnOf(entity.name(), k));
        }
      }
    }
    return out;
  }

  private static boolean contains(List<KeyColumnOf> columns, String name) {
    for (KeyColumnOf c : columns) {
      if (c.column().name().equals(name)) {
        return true;
      }
    }
    return false;
  }

  /** A key column and its entity. */
  public record KeyColumnOf(String entity, KeyColumn column) {
    public String name() {
      return column.name();
    }

    /** The key value of a row, as the store read it: {@code Long} or {@code String}. */
    public Object value(Map<String, Object> row, int index) {
      return EntityKeys.fromJson(
          entity, column, row.get(column.name()), "entities[" + index + "]." + column.name());
    }
  }

  /**
   * Entity rows of columnar entities ({@code {"user_id": [1, 2], "item_id": [7, 8]}}) without
   * copying: row {@code i} is a map view of element {@code i} of every column.
   *
   * @throws ScorelineException USER_ERROR when the columns differ in length, naming the column
   */
  public static List<Map<String, Object>> columnar(
      Map<String, ? extends List<?>> columns, String field) {
    int n = -1;
    String first = null;
    for (Map.Entry<String, ? extends List<?>> e : columns.entrySet()) {
      int size = e.getValue().size();
      if (n < 0) {
        n = size;
        first = e.getKey();
      } else if (size != n) {
        throw ScorelineException.userError(
            field + "." + e.getKey(),
            field
                + "."
                + e.getKey()
                + " has "
                + size
                + " values but "
                + field
                + "."
                + first
                + " has "
                + n
                + "; every key column needs one value per entity row");
      }
    }
    return new ColumnRows(new LinkedHashMap<>(columns), Math.max(n, 0));
  }

  private static final class ColumnRows extends AbstractList<Map<String, Object>> {
    private final Map<String, ? extends List<?>> columns;
    private final int size;

    ColumnRows(Map<String, ? extends List<?>> columns, int size) {
      this.columns = columns;
      this.size = size;
    }

    @Override
    public Map<String, Object> get(int index) {
      if (index < 0 || index >= size) {
        throw new IndexOutOfBoundsException(index);
      }
      return new ColumnRow(columns, index);
    }

    @Override
    public int size() {
      return size;
    }
  }

  /** Row {@code index} of columnar entities; {@code get} and {@code containsKey} are O(1). */
  private static final class ColumnRow extends AbstractMap<String, Object> {
    private final Map<String, ? extends List<?>> columns;
    private final int index;

    ColumnRow(Map<String, ? extends List<?>> columns, int index) {
      this.columns = columns;
      this.index = index;
    }

    @Override
    public Object get(Object key) {
      List<?> column = columns.get(key);
      return column == null ? null : column.get(index);
    }

    @Override
    public boolean containsKey(Object key) {
      return columns.containsKey(key);
    }

    @Override
    public Set<Entry<String, Object>> entrySet() {
      return new java.util.AbstractSet<>() {
        @Override
        public Iterator<Entry<String, Object>> iterator() {
          Iterator<? extends Map.Entry<String, ? extends List<?>>> it =
              columns.entrySet().iterator();
          return new Iterator<>() {
            @Override
            public boolean hasNext() {
              return it.hasNext();
            }

            @Override
            public Entry<String, Object> next() {
              Map.Entry<String, ? extends List<?>> e = it.next();
              return new SimpleImmutableEntry<>(e.getKey(), e.getValue().get(index));
            }
          };
        }

        @Override
        public int size() {
          return columns.size();
        }
      };
    }
  }

  /**
   * Pushes rows of one view, naming {@code feature_view} in errors about the view.
   *
   * @param toOffline whether to append the rows to the offline log; null for the store's default
   * @return how many rows were applied
   */
  public static int push(
      OnlineFeatureStore store, String view, List<Map<String, Object>> rows, Boolean toOffline) {
    if (view == null || view.isEmpty()) {
      throw ScorelineException.userError(
          "feature_view", "feature_view is missing; name the feature view the rows belong to");
    }
    try {
      return toOffline == null ? store.pushRows(view, rows) : store.pushRows(view, rows, toOffline);
    } catch (ScorelineException e) {
      String field = e.field().orElse(null);
      if ((field == null && e.code() == ErrorCode.NOT_FOUND) || "view".equals(field)) {
        throw new ScorelineException(e.code(), "feature_view", e.getMessage(), e.getCause());
      }
      throw e;
    }
  }

  /** NOT_FOUND: the server has no feature store. */
  public static ScorelineException noFeatureStore() {
    return new ScorelineException(ErrorCode.NOT_FOUND, NO_FEATURE_STORE);
  }
}
