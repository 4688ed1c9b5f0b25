package dev.scoreline.duckdb;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Random;
import java.util.StringJoiner;

/**
 * Random feature history with many ties (event times on a 10-minute grid, created times often equal
 * or null) and a spine with duplicates, missing entities and null times, plus a brute-force
 * point-in-time join to check the SQL against.
 */
final class RandomHistory {
  static final long TTL_MINUTES = 120;
  private static final long BASE_MICROS = 1_704_067_200_000_000L; // 2024-01-01T00:00:00Z

  /** A source row; its index is its value and its position in the source. */
  record Row(int index, long user, long eventMinute, Long createdMinute) {}

  record SpineRow(Long user, Long minute) {}

  final List<Row> rows = new ArrayList<>();
  final List<SpineRow> spine = new ArrayList<>();

  static RandomHistory generate(long seed) {
    Random random = new Random(seed);
    RandomHistory h = new RandomHistory();
    for (int i = 0; i < 300; i++) {
      long event = random.nextInt(41) * 10L;
      Long created = random.nextInt(10) < 3 ? null : event + random.nextInt(3);
      h.rows.add(new Row(i, random.nextInt(10), event, created));
    }
    for (int i = 0; i < 150; i++) {
      if (i > 0 && random.nextInt(10) == 0) {
        h.spine.add(h.spine.get(random.nextInt(h.spine.size()))); // duplicate
        continue;
      }
      Long user = random.nextInt(30) == 0 ? null : Long.valueOf(random.nextInt(12));
      Long minute = random.nextInt(20) == 0 ? null : (random.nextInt(48) - 2) * 10L;
      h.spine.add(new SpineRow(user, minute));
    }
    return h;
  }

  /** Writes user_stats (with created_ts), user_profile (no created) and the spine. */
  void write(TestProject project) {
    StringJoiner stats = new StringJoiner(", ");
    StringJoiner profile = new StringJoiner(", ");
    for (Row r : rows) {
      String created = r.createdMinute() == null ? "NULL" : ts(r.createdMinute());
      stats.add(
          "("
              + r.user()
              + ", "
              + ts(r.eventMinute())
              + ", "
              + created
              + ", "
              + r.index()
              + ", 0.5)");
      profile.add("(" + r.user() + ", " + ts(r.eventMinute()) + ", 'v" + r.index() + "')");
    }
    project.write(
        "data/user_stats.parquet",
        "SELECT user_id::BIGINT AS user_id, event_ts, created_ts, clicks::BIGINT AS clicks,"
            + " ctr::DOUBLE AS ctr FROM (VALUES "
            + stats
            + ") t(user_id, event_ts, created_ts, clicks, ctr)");
    project.write(
        "data/profile/part-0.parquet",
        "SELECT user_id::BIGINT AS user_id, event_ts, tier FROM (VALUES "
            + profile
            + ") t(user_id, event_ts, tier)");
    StringJoiner sp = new StringJoiner(", ");
    for (SpineRow s : spine) {
      sp.add(
          "("
              + (s.user() == null ? "NULL" : s.user())
              + ", "
              + (s.minute() == null ? "CAST(NULL AS TIMESTAMP)" : ts(s.minute()))
              + ")");
    }
    project.write(
        "spine.parquet",
        "SELECT user_id::BIGINT AS user_id, ts FROM (VALUES " + sp + ") t(user_id, ts)");
  }

  private static String ts(long minute) {
    return "make_timestamp(CAST(" + (BASE_MICROS + minute * 60_000_000L) + " AS BIGINT))";
  }

  /**
   * The chosen row index per spine row: newest event with {@code event <= ts} (and {@code event >=
   * ts - ttl} when ttl > 0), then greatest created (null loses) when {@code useCreated}, then the
   * later row.
   */
  List<Long> expected(long ttlMinutes, boolean useCreated) {
    List<Long> out = new ArrayList<>();
    for (SpineRow s : spine) {
      Row best = null;
      if (s.user() != null && s.minute() != null) {
        for (Row r : rows) {
          if (r.user() != s.user()
              || r.eventMinute() > s.minute()
              || (ttlMinutes > 0 && r.eventMinute() < s.minute() - ttlMinutes)) {
            continue;
          }
          if (best == null || newer(r, best, useCreated)) {
            best = r;
          }
        }
      }
      out.add(best == null ? null : Long.valueOf(best.index()));
    }
    return out;
  }

  private static boolean newer(Row a, Row b, boolean useCreated) {
    if (a.eventMinute() != b.eventMinute()) {
      return a.eventMinute() > b.eventMinute();
    }
    if (useCreated && !Objects.equals(a.createdMinute(), b.createdMinute())) {
      if (a.createdMinute() == null || b.createdMinute() == null) {
        return b.createdMinute() == null;
      }
      return a.createdMinute() > b.createdMinute();
    }
    return a.index() > b.index();
  }
}
