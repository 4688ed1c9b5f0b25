package dev.scoreline.stream;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class JsonTest {
  static long micros(Instant t) {
    return t.getEpochSecond() * 1_000_000L + t.getNano() / 1000;
  }

  @Test
  void fastIso_matchesInstant_bothWays() {
    SplittableRandom r = new SplittableRandom(3);
    for (int i = 0; i < 20_000; i++) {
      long m = r.nextLong(0, 253_402_300_799_000_000L); // up to 9999-12-31
      if (i % 3 == 0) {
        m -= m % 1_000_000; // whole seconds
      } else if (i % 3 == 1) {
        m -= m % 1000; // whole millis
      }
      Instant t = Instant.ofEpochSecond(m / 1_000_000, (m % 1_000_000) * 1000);
      assertThat(Json.iso(m)).isEqualTo(t.toString());
      char[] c = new char[Json.ISO_CHARS];
      assertThat(new String(c, 0, Json.iso(m, c))).isEqualTo(t.toString());
      assertThat(Json.parseIsoMicros(t.toString())).isEqualTo(m);
    }
    assertThat(Json.parseIsoMicros("2025-05-01T12:00:00.5Z"))
        .isEqualTo(micros(Instant.parse("2025-05-01T12:00:00.5Z")));
    assertThat(Json.parseIsoMicros("2025-05-01T12:00:00+02:00")).isEqualTo(Long.MIN_VALUE);
    assertThat(Json.parseIsoMicros("2025-02-30T12:00:00Z")).isEqualTo(Long.MIN_VALUE);
    assertThat(Json.parseIsoMicros("yesterday")).isEqualTo(Long.MIN_VALUE);
    long farFuture = 400_000_000_000_000_000L; // a year past 9999
    assertThat(Json.iso(farFuture))
        .isEqualTo(Instant.ofEpochSecond(farFuture / 1_000_000L).toString());
    assertThat(Json.iso(farFuture, new char[Json.ISO_CHARS])).isEqualTo(-1);
  }
}
