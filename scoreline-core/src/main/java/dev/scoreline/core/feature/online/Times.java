package dev.scoreline.core.feature.online;

import java.time.Instant;

/** Microseconds since the epoch, the unit of stamps and event times in the online store. */
final class Times {
  private Times() {}

  /**
   * Truncates to microseconds (toward negative infinity); throws ArithmeticException on overflow.
   */
  static long micros(Instant t) {
    return Math.addExact(Math.multiplyExact(t.getEpochSecond(), 1_000_000L), t.getNano() / 1000);
  }

  static Instant instant(long micros) {
    return Instant.ofEpochSecond(
        Math.floorDiv(micros, 1_000_000L), Math.floorMod(micros, 1_000_000L) * 1000L);
  }
}
