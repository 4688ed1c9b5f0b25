package dev.scoreline.core.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class DurationsTest {
  @Test
  void parse_everyUnit() {
    assertThat(Durations.parse("k", "500us")).isEqualTo(Duration.ofNanos(500_000));
    assertThat(Durations.parse("k", "2ms")).isEqualTo(Duration.ofMillis(2));
    assertThat(Durations.parse("k", "1.5s")).isEqualTo(Duration.ofMillis(1500));
    assertThat(Durations.parse("k", "5m")).isEqualTo(Duration.ofMinutes(5));
    assertThat(Durations.parse("k", "12h")).isEqualTo(Duration.ofHours(12));
    assertThat(Durations.parse("k", "30d")).isEqualTo(Duration.ofDays(30));
    assertThat(Durations.parse("k", null)).isNull();
  }

  @Test
  void parse_invalid_namesKeyAndExamples() {
    assertThatThrownBy(() -> Durations.parse("ttl", "soon"))
        .hasMessageContaining("ttl")
        .hasMessageContaining("30d");
    assertThatThrownBy(() -> Durations.parse("ttl", "-1s")).hasMessageContaining("ttl");
    assertThatThrownBy(() -> Durations.parse("ttl", "10")).hasMessageContaining("ttl");
  }
}
