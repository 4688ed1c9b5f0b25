package dev.scoreline.duckdb;

import dev.scoreline.core.feature.Definitions.KeyColumn;
import java.time.Duration;
import java.util.List;
import java.util.StringJoiner;

/**
 * Builds the SQL of a point-in-time join (see {@link DuckDbOfflineStore#pointInTimeJoin}).
 *
 * <p>The spine is first copied into the temp table {@code __sl_spine} with its columns, its
 * position ({@code __sl_file}, {@code __sl_pos}: the spine row id) and its time as {@code __sl_ts}.
 * Per requested view {@code i}:
 *
 * <ol>
 *   <li>{@code __sl_keys_i}: the distinct (keys, {@code __sl_ts}) of the spine with no null part;
 *   <li>{@code __sl_src_i}: the view's normalized rows ({@link ViewScan#normalized}) whose key is
 *       in the spine and whose event time is at most the spine's latest time (and, with a TTL, at
 *       least its earliest time minus the TTL): pruning only;
 *   <li>{@code __sl_q_i}: one row per (keys, {@code __sl_ts}) with the chosen feature values, by
 *       one of two strategies that give identical results;
 * </ol>
 *
 * and finally every spine row, in spine order, left-joined to each {@code __sl_q_i} on (keys,
 * {@code __sl_ts}). Since each {@code __sl_q_i} has at most one row per (keys, ts), spine rows are
 * never dropped or duplicated, and duplicate spine rows each get the value.
 *
 * <p><b>{@link Strategy#WINDOW}</b> (the reference): join keys to source rows on {@code key = key
 * AND event <= ts [AND event >= ts - ttl]} and keep {@code row_number() OVER (PARTITION BY keys, ts
 * ORDER BY event DESC, created DESC NULLS LAST, file DESC, pos DESC) = 1}. Its join grows with
 * (spine rows × history per key).
 *
 * <p><b>{@link Strategy#ASOF}</b> (the default): first keep one row per (keys, event): the one with
 * the greatest {@code (created NULLS LAST, file, pos)}; then {@code ASOF LEFT JOIN} on {@code key =
 * key AND ts >= event}, which picks the row with the greatest {@code event <= ts}; with a TTL, the
 * values are kept only when that event is {@code >= ts - ttl}. Why identical: the window's winner
 * is the lexicographic maximum of (event, created, file, pos) over the candidates {@code event <=
 * ts}; the dedup keeps, per event, that maximum of the rest, and ASOF takes the greatest event, so
 * without a TTL both pick the same row. The TTL bound depends on the event only, so it holds for
 * all rows of an event or for none: if the newest candidate event satisfies it, the windowed
 * candidates (a subset) contain that same winner; if not, every candidate is older still and the
 * window has none, and ASOF yields null. {@code PointInTimeJoinTest} checks both against a
 * brute-force reference on random data with many ties.
 */
final class PointInTimeJoin {
  static final String SPINE = Sql.ident(Sql.RESERVED_PREFIX + "spine");
  static final String TS = Sql.ident(Sql.RESERVED_PREFIX + "ts");

  /** How each view's newest row is chosen. */
  enum Strategy {
    WINDOW,
    ASOF
  }

  /**
   * One requested view: its scan, the indexes of the requested features in the view, the spine's
   * actual column name of each entity key, and the output names of the features.
   */
  record Part(
      ViewScan scan,
      int[] featureIndexes,
      List<String> spineKeyColumns,
      List<String> outputNames) {}

  private PointInTimeJoin() {}

  /** The statement that copies the spine into {@link #SPINE}. */
  static String createSpine(SourceScan spine, String tsExpr) {
    return "CREATE TEMP TABLE "
        + SPINE
        + " AS SELECT *, "
        + tsExpr
        + " AS "
        + TS
        + " FROM "
        + spine.relation();
  }

  /**
   * The query (to be wrapped in COPY) producing spine columns then features, in spine order.
   *
   * @param features output order: for each output column, {@code {partIndex, valueIndex}}
   */
  static String query(
      List<String> spineColumns, List<Part> parts, List<int[]> features, Strategy strategy) {
    StringJoiner ctes = new StringJoiner(",\n", "WITH\n", "\n");
    for (int i = 0; i < parts.size(); i++) {
      Part p = parts.get(i);
      ctes.add(keysCte(i, p));
      ctes.add(sourceCte(i, p));
      if (strategy == Strategy.WINDOW) {
        ctes.add(windowCte(i, p));
      } else {
        ctes.add(latestCte(i, p));
        ctes.add(asofCte(i, p));
      }
    }
    StringJoiner select = new StringJoiner(", ");
    for (String c : spineColumns) {
      select.add("s." + Sql.ident(c));
    }
    for (int[] f : features) {
      Part p = parts.get(f[0]);
      select.add(
          q(f[0]) + "." + ViewScan.value(f[1]) + " AS " + Sql.ident(p.outputNames().get(f[1])));
    }
    StringBuilder sql = new StringBuilder();
    sql.append(ctes).append("SELECT ").append(select).append("\nFROM ").append(SPINE).append(" s");
    for (int i = 0; i < parts.size(); i++) {
      Part p = parts.get(i);
      sql.append("\nLEFT JOIN ").append(q(i)).append(' ').append(q(i)).append(" ON ");
      List<KeyColumn> keys = p.scan().keys();
      for (int k = 0; k < keys.size(); k++) {
        sql.append(q(i))
            .append('.')
            .append(ViewScan.key(k))
            .append(" = ")
            .append(spineKey(p, k))
            .append(" AND ");
      }
      sql.append(q(i)).append('.').append(TS).append(" = s.").append(TS);
    }
    sql.append("\nORDER BY s.")
        .append(Sql.ident(SourceScan.FILE))
        .append(", s.")
        .append(Sql.ident(SourceScan.POS));
    return sql.toString();
  }

  private static String q(int i) {
    return Sql.ident(Sql.RESERVED_PREFIX + "q_" + i);
  }

  private static String keys(int i) {
    return Sql.ident(Sql.RESERVED_PREFIX + "keys_" + i);
  }

  private static String src(int i) {
    return Sql.ident(Sql.RESERVED_PREFIX + "src_" + i);
  }

  private static String latest(int i) {
    return Sql.ident(Sql.RESERVED_PREFIX + "latest_" + i);
  }

  /** The spine's k-th key of a part, cast to the entity key's type. */
  private static String spineKey(Part p, int k) {
    KeyColumn key = p.scan().keys().get(k);
    return "CAST(s."
        + Sql.ident(p.spineKeyColumns().get(k))
        + " AS "
        + DuckTypes.sqlType(key.type())
        + ")";
  }

  private static String keysCte(int i, Part p) {
    StringJoiner cols = new StringJoiner(", ");
    StringJoiner notNull = new StringJoiner(" AND ");
    for (int k = 0; k < p.scan().keyCount(); k++) {
      cols.add(spineKey(p, k) + " AS " + ViewScan.key(k));
      notNull.add("s." + Sql.ident(p.spineKeyColumns().get(k)) + " IS NOT NULL");
    }
    return keys(i)
        + " AS (SELECT DISTINCT "
        + cols
        + ", s."
        + TS
        + " FROM "
        + SPINE
        + " s WHERE s."
        + TS
        + " IS NOT NULL AND "
        + notNull
        + ")";
  }

  private static String sourceCte(int i, Part p) {
    String event = "f." + Sql.ident(ViewScan.EVENT);
    StringBuilder where = new StringBuilder();
    where.append(event).append(" <= (SELECT max(").append(TS).append(") FROM ").append(keys(i));
    where.append(')');
    String ttl = ttl(p);
    if (ttl != null) {
      where.append(" AND ").append(event).append(" >= (SELECT min(").append(TS).append(") FROM ");
      where.append(keys(i)).append(") - ").append(ttl);
    }
    StringJoiner match = new StringJoiner(" AND ");
    for (int k = 0; k < p.scan().keyCount(); k++) {
      match.add("k." + ViewScan.key(k) + " = f." + ViewScan.key(k));
    }
    where.append(" AND EXISTS (SELECT 1 FROM ").append(keys(i)).append(" k WHERE ").append(match);
    where.append(')');
    return src(i)
        + " AS (SELECT * FROM "
        + p.scan().normalized(p.featureIndexes())
        + " f WHERE "
        + where
        + ")";
  }

  private static String windowCte(int i, Part p) {
    StringJoiner cols = new StringJoiner(", ");
    StringJoiner on = new StringJoiner(" AND ");
    StringJoiner partition = new StringJoiner(", ");
    for (int k = 0; k < p.scan().keyCount(); k++) {
      cols.add("k." + ViewScan.key(k));
      on.add("f." + ViewScan.key(k) + " = k." + ViewScan.key(k));
      partition.add("k." + ViewScan.key(k));
    }
    cols.add("k." + TS);
    partition.add("k." + TS);
    for (int v = 0; v < p.featureIndexes().length; v++) {
      cols.add("f." + ViewScan.value(v));
    }
    String event = "f." + Sql.ident(ViewScan.EVENT);
    on.add(event + " <= k." + TS);
    String ttl = ttl(p);
    if (ttl != null) {
      on.add(event + " >= k." + TS + " - " + ttl);
    }
    return q(i)
        + " AS (SELECT "
        + cols
        + " FROM "
        + keys(i)
        + " k JOIN "
        + src(i)
        + " f ON "
        + on
        + " QUALIFY row_number() OVER (PARTITION BY "
        + partition
        + " ORDER BY "
        + event
        + " DESC, "
        + newestFirst("f")
        + ") = 1)";
  }

  private static String latestCte(int i, Part p) {
    StringJoiner partition = new StringJoiner(", ");
    for (int k = 0; k < p.scan().keyCount(); k++) {
      partition.add("f." + ViewScan.key(k));
    }
    partition.add("f." + Sql.ident(ViewScan.EVENT));
    return latest(i)
        + " AS (SELECT * FROM "
        + src(i)
        + " f QUALIFY row_number() OVER (PARTITION BY "
        + partition
        + " ORDER BY "
        + newestFirst("f")
        + ") = 1)";
  }

  private static String asofCte(int i, Part p) {
    StringJoiner cols = new StringJoiner(", ");
    StringJoiner on = new StringJoiner(" AND ");
    for (int k = 0; k < p.scan().keyCount(); k++) {
      cols.add("k." + ViewScan.key(k));
      on.add("f." + ViewScan.key(k) + " = k." + ViewScan.key(k));
    }
    cols.add("k." + TS);
    String event = "f." + Sql.ident(ViewScan.EVENT);
    on.add("k." + TS + " >= " + event);
    String ttl = ttl(p);
    for (int v = 0; v < p.featureIndexes().length; v++) {
      String value = "f." + ViewScan.value(v);
      if (ttl != null) {
        value =
            "CASE WHEN "
                + event
                + " >= k."
                + TS
                + " - "
                + ttl
                + " THEN "
                + value
                + " END AS "
                + ViewScan.value(v);
      }
      cols.add(value);
    }
    return q(i)
        + " AS (SELECT "
        + cols
        + " FROM "
        + keys(i)
        + " k ASOF LEFT JOIN "
        + latest(i)
        + " f ON "
        + on
        + ")";
  }

  /** Tie-break among rows of one event time: greater created time, then later in the source. */
  private static String newestFirst(String alias) {
    return alias
        + "."
        + Sql.ident(ViewScan.CREATED)
        + " DESC NULLS LAST, "
        + alias
        + "."
        + Sql.ident(SourceScan.FILE)
        + " DESC, "
        + alias
        + "."
        + Sql.ident(SourceScan.POS)
        + " DESC";
  }

  /** The view's TTL as a DuckDB INTERVAL expression, or null when unbounded. */
  static String ttl(Part p) {
    Duration ttl = p.scan().view().ttl();
    if (ttl == null || ttl.getSeconds() > 9_000_000_000_000L) {
      return null;
    }
    // Event times have microsecond precision: event >= ts - ttl holds exactly when
    // event >= ts - floor_micros(ttl).
    long micros = ttl.getSeconds() * 1_000_000L + ttl.getNano() / 1000;
    return "to_microseconds(CAST(" + micros + " AS BIGINT))";
  }
}
