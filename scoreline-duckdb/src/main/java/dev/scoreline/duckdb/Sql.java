package dev.scoreline.duckdb;

import java.time.Instant;

/**
 * Quoting and literals for the SQL this module generates. Every name and path goes through here.
 */
final class Sql {
  /** Prefix of the columns this module adds to relations; source columns may not use it. */
  static final String RESERVED_PREFIX = "__sl_";

  /**
   * Seconds from the epoch beyond which an instant is treated as unbounded (about 285,000 years;
   * DuckDB timestamps end near ±290,000 years, and the microseconds still fit in a long).
   */
  private static final long MAX_SECONDS = 9_000_000_000_000L;

  private Sql() {}

  /** A double-quoted identifier: {@code my "col"} becomes {@code "my ""col"""}. */
  static String ident(String name) {
    return '"' + name.replace("\"", "\"\"") + '"';
  }

  /** A single-quoted string literal: {@code it's} becomes {@code 'it''s'}. */
  static String literal(String text) {
    return '\'' + text.replace("'", "''") + '\'';
  }

  /**
   * The smallest whole microsecond at or after {@code t}, as a DuckDB TIMESTAMP expression, or null
   * when {@code t} lies beyond what DuckDB can represent (the bound is then dropped). Since event
   * times have microsecond precision, {@code ts >= t} equals {@code ts >= ceil(t)} and {@code ts <
   * t} equals {@code ts < ceil(t)}.
   */
  static String ceilTimestamp(Instant t) {
    long seconds = t.getEpochSecond();
    if (seconds < -MAX_SECONDS || seconds > MAX_SECONDS) {
      return null;
    }
    long micros = seconds * 1_000_000L + (t.getNano() + 999) / 1000;
    return "make_timestamp(CAST(" + micros + " AS BIGINT))";
  }

  /** True when {@code t} is so early that {@code ts >= t} holds for every timestamp. */
  static boolean beforeAll(Instant t) {
    return t.getEpochSecond() < -MAX_SECONDS;
  }

  /** True when {@code t} is so late that {@code ts < t} holds for every timestamp. */
  static boolean afterAll(Instant t) {
    return t.getEpochSecond() > MAX_SECONDS;
  }

  /** Instant of a count of microseconds from the epoch. */
  static Instant instantOfMicros(long micros) {
    return Instant.ofEpochSecond(
        Math.floorDiv(micros, 1_000_000L), Math.floorMod(micros, 1_000_000L) * 1000L);
  }
}
