package dev.scoreline.core.feature;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import dev.scoreline.core.config.Durations;
import java.time.Duration;
import java.util.List;

/**
 * The records of a {@code features/*.yaml} file: entities, feature views and feature services.
 *
 * <pre>
 * entities:
 *   - name: user
 *     keys: [{name: user_id, type: int64}]
 * feature-views:
 *   - name: user_stats
 *     entity: user
 *     source: {path: data/user_stats.parquet}     # a file or a directory; parquet or csv
 *     timestamp-column: event_ts
 *     created-timestamp-column: created_ts        # optional: breaks ties of equal event times
 *     ttl: 30d                                    # optional: values older than this are EXPIRED
 *     features:
 *       - {name: clicks_7d, type: int64}
 * feature-services:
 *   - name: ranker
 *     features: [user_stats:clicks_7d, item_stats:*]
 * </pre>
 */
public record Definitions(
    List<Entity> entities, List<FeatureView> featureViews, List<FeatureService> featureServices) {
  public Definitions {
    entities = entities == null ? List.of() : List.copyOf(entities);
    featureViews = featureViews == null ? List.of() : List.copyOf(featureViews);
    featureServices = featureServices == null ? List.of() : List.copyOf(featureServices);
  }

  /** A column of an entity key. Key types are INT64 or STRING. */
  public record KeyColumn(String name, ValueType type) {
    @JsonCreator
    static KeyColumn of(@JsonProperty("name") String name, @JsonProperty("type") String type) {
      if (name == null) {
        throw new IllegalArgumentException("key column 'name' is missing");
      }
      ValueType t = type == null ? ValueType.STRING : ValueType.parse(type);
      if (t != ValueType.INT64 && t != ValueType.STRING) {
        throw new IllegalArgumentException(
            "key column '" + name + "' has type " + type + "; entity keys are int64 or string");
      }
      return new KeyColumn(name, t);
    }
  }

  /** Something features describe (user, item, card), identified by one or more key columns. */
  public record Entity(String name, List<KeyColumn> keys, String description) {
    public Entity {
      if (name == null || name.isBlank()) {
        throw new IllegalArgumentException("entity 'name' is missing");
      }
      if (keys == null || keys.isEmpty()) {
        throw new IllegalArgumentException("entity '" + name + "' needs at least one key column");
      }
      keys = List.copyOf(keys);
    }
  }

  /** A typed feature of a view. */
  public record Feature(String name, ValueType type) {
    @JsonCreator
    static Feature of(@JsonProperty("name") String name, @JsonProperty("type") String type) {
      if (name == null) {
        throw new IllegalArgumentException("feature 'name' is missing");
      }
      if (type == null) {
        throw new IllegalArgumentException("feature '" + name + "' needs a 'type'");
      }
      return new Feature(name, ValueType.parse(type));
    }
  }

  /** Where a view's rows come from: a Parquet or CSV file, or a directory of them. */
  public record Source(String path, String format) {
    public Source {
      if (path == null || path.isBlank()) {
        throw new IllegalArgumentException("source 'path' is missing");
      }
      if (format != null && !format.equals("parquet") && !format.equals("csv")) {
        throw new IllegalArgumentException("source format '" + format + "' is not parquet or csv");
      }
    }
  }

  /** Typed features of one entity from one source, with event time and TTL. */
  public record FeatureView(
      String name,
      String entity,
      Source source,
      List<Feature> features,
      Duration ttl,
      String timestampColumn,
      String createdTimestampColumn,
      boolean online) {
    public FeatureView {
      if (name == null || name.isBlank() || name.contains(":")) {
        throw new IllegalArgumentException("feature view 'name' is missing or contains ':'");
      }
      if (entity == null) {
        throw new IllegalArgumentException("feature view '" + name + "' needs an 'entity'");
      }
      if (features == null || features.isEmpty()) {
        throw new IllegalArgumentException("feature view '" + name + "' needs 'features'");
      }
      features = List.copyOf(features);
      timestampColumn = timestampColumn == null ? "event_timestamp" : timestampColumn;
      if (ttl != null && (ttl.isNegative() || ttl.isZero())) {
        ttl = null; // 0 = no TTL
      }
    }

    @JsonCreator
    static FeatureView of(
        @JsonProperty("name") String name,
        @JsonProperty("entity") String entity,
        @JsonProperty("source") Source source,
        @JsonProperty("features") List<Feature> features,
        @JsonProperty("ttl") String ttl,
        @JsonProperty("timestamp-column") String timestampColumn,
        @JsonProperty("created-timestamp-column") String createdTimestampColumn,
        @JsonProperty("online") Boolean online) {
      return new FeatureView(
          name,
          entity,
          source,
          features,
          Durations.parse("ttl", ttl),
          timestampColumn,
          createdTimestampColumn,
          online == null || online);
    }

    /** Index of a feature in this view, or -1. */
    public int indexOf(String feature) {
      for (int i = 0; i < features.size(); i++) {
        if (features.get(i).name().equals(feature)) {
          return i;
        }
      }
      return -1;
    }
  }

  /**
   * A named list of features, possibly from several views ({@code view:feature} or {@code view:*}).
   */
  public record FeatureService(String name, List<String> features) {
    public FeatureService {
      if (name == null || name.isBlank()) {
        throw new IllegalArgumentException("feature service 'name' is missing");
      }
      if (features == null || features.isEmpty()) {
        throw new IllegalArgumentException("feature service '" + name + "' needs 'features'");
      }
      features = List.copyOf(features);
    }
  }
}
