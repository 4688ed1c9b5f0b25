package dev.scoreline.duckdb;

import dev.scoreline.core.feature.Definitions.Entity;
import dev.scoreline.core.feature.Definitions.Feature;
import dev.scoreline.core.feature.Definitions.FeatureView;
import dev.scoreline.core.feature.Definitions.KeyColumn;
import dev.scoreline.core.feature.FeatureRegistry;
import dev.scoreline.core.feature.ValueType;
import java.sql.Connection;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.StringJoiner;

/**
 * A feature view's source, validated against the view (timestamp, created-timestamp, key and
 * feature columns, with compatible types) and normalized to one relation:
 *
 * <pre>
 * __sl_k0.. (keys, BIGINT or VARCHAR), __sl_event, __sl_created (TIMESTAMP, UTC),
 * __sl_file, __sl_pos (position in the source), __sl_v0.. (features, cast to their ValueType)
 * </pre>
 */
final class ViewScan {
  static final String EVENT = Sql.RESERVED_PREFIX + "event";
  static final String CREATED = Sql.RESERVED_PREFIX + "created";

  private final FeatureView view;
  private final List<KeyColumn> keys;
  private final SourceScan source;
  private final List<String> keyExprs;
  private final String eventExpr;
  private final String createdExpr;
  private final List<String> featureExprs;

  private ViewScan(
      FeatureView view,
      List<KeyColumn> keys,
      SourceScan source,
      List<String> keyExprs,
      String eventExpr,
      String createdExpr,
      List<String> featureExprs) {
    this.view = view;
    this.keys = keys;
    this.source = source;
    this.keyExprs = keyExprs;
    this.eventExpr = eventExpr;
    this.createdExpr = createdExpr;
    this.featureExprs = featureExprs;
  }

  /** Describes and validates the view's source; USER_ERROR naming the view, file and column. */
  static ViewScan open(Connection connection, FeatureRegistry registry, FeatureView view) {
    Entity entity = registry.entity(view.entity());
    String label = "feature view '" + view.name() + "'";
    List<String> strings = new ArrayList<>();
    for (KeyColumn k : entity.keys()) {
      if (k.type() == ValueType.STRING) {
        strings.add(k.name());
      }
    }
    for (Feature f : view.features()) {
      if (f.type() == ValueType.STRING) {
        strings.add(f.name());
      }
    }
    SourceScan source =
        SourceScan.open(
            connection, label, registry.sourcePath(view), view.source().format(), strings);

    String eventExpr = source.timestamp(view.timestampColumn(), "timestamp-column");
    String createdExpr =
        view.createdTimestampColumn() == null
            ? "CAST(NULL AS TIMESTAMP)"
            : source.timestamp(view.createdTimestampColumn(), "created-timestamp-column");

    List<String> keyExprs = new ArrayList<>();
    for (KeyColumn k : entity.keys()) {
      String actual = source.require(k.name(), "key of entity '" + entity.name() + "'");
      String type = source.type(actual);
      boolean ok =
          k.type() == ValueType.INT64
              ? DuckTypes.accepts(ValueType.INT64, type)
              : DuckTypes.accepts(ValueType.STRING, type);
      if (!ok) {
        throw typeError(
            label, source, actual, type, "key of entity '" + entity.name() + "'", k.type());
      }
      keyExprs.add("CAST(" + Sql.ident(actual) + " AS " + DuckTypes.sqlType(k.type()) + ")");
    }

    List<String> featureExprs = new ArrayList<>();
    for (Feature f : view.features()) {
      String actual = source.require(f.name(), "feature '" + f.name() + "'");
      String type = source.type(actual);
      if (!DuckTypes.accepts(f.type(), type)) {
        throw typeError(label, source, actual, type, "feature '" + f.name() + "'", f.type());
      }
      featureExprs.add("CAST(" + Sql.ident(actual) + " AS " + DuckTypes.sqlType(f.type()) + ")");
    }
    return new ViewScan(
        view,
        List.copyOf(entity.keys()),
        source,
        List.copyOf(keyExprs),
        eventExpr,
        createdExpr,
        List.copyOf(featureExprs));
  }

  private static RuntimeException typeError(
      String label, SourceScan source, String column, String type, String role, ValueType want) {
    return SourceScan.userError(
        label
            + ": column '"
            + column
            + "' ("
            + role
            + ") of "
            + source.describe()
            + " has type "
            + type
            + ", which cannot hold "
            + want.name().toLowerCase(Locale.ROOT)
            + " values; fix the type in the definition or in the data");
  }

  /** Name of the i-th key column in {@link #normalized}. */
  static String key(int i) {
    return Sql.ident(Sql.RESERVED_PREFIX + "k" + i);
  }

  /** Name of the i-th selected feature column in {@link #normalized}. */
  static String value(int i) {
    return Sql.ident(Sql.RESERVED_PREFIX + "v" + i);
  }

  /**
   * A parenthesized relation with the keys, times, source position and the features at {@code
   * featureIndexes} (in that order, as {@code __sl_v0..}). Rows with a null event time are dropped:
   * they cannot be placed in time.
   */
  String normalized(int[] featureIndexes) {
    StringJoiner cols = new StringJoiner(", ");
    for (int i = 0; i < keyExprs.size(); i++) {
      cols.add(keyExprs.get(i) + " AS " + key(i));
    }
    cols.add(eventExpr + " AS " + Sql.ident(EVENT));
    cols.add(createdExpr + " AS " + Sql.ident(CREATED));
    cols.add(Sql.ident(SourceScan.FILE));
    cols.add(Sql.ident(SourceScan.POS));
    for (int i = 0; i < featureIndexes.length; i++) {
      cols.add(featureExprs.get(featureIndexes[i]) + " AS " + value(i));
    }
    return "(SELECT * FROM (SELECT "
        + cols
        + " FROM "
        + source.relation()
        + ") WHERE "
        + Sql.ident(EVENT)
        + " IS NOT NULL)";
  }

  /** A parenthesized relation of the event times only (for counting). */
  String eventsOnly() {
    return "(SELECT " + eventExpr + " AS " + Sql.ident(EVENT) + " FROM " + source.relation() + ")";
  }

  int keyCount() {
    return keyExprs.size();
  }

  List<KeyColumn> keys() {
    return keys;
  }

  FeatureView view() {
    return view;
  }

  SourceScan source() {
    return source;
  }

  /** Message prefix for failures while reading this view. */
  String context() {
    return "feature view '" + view.name() + "' (" + source.describe() + ")";
  }
}
