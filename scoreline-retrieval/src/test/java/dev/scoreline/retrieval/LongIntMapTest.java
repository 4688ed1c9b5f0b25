package dev.scoreline.retrieval;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class LongIntMapTest {
  @Test
  void putIfAbsentAndGet_growsAndKeepsEveryEntry() {
    LongIntMap map = new LongIntMap(2);
    for (int i = 0; i < 10_000; i++) {
      assertThat(map.putIfAbsent(i * 1_000_003L - 77, i)).isEqualTo(-1);
    }
    assertThat(map.size()).isEqualTo(10_000);
    for (int i = 0; i < 10_000; i++) {
      assertThat(map.get(i * 1_000_003L - 77)).isEqualTo(i);
    }
    assertThat(map.putIfAbsent(5 * 1_000_003L - 77, 99)).isEqualTo(5);
    assertThat(map.get(Long.MIN_VALUE)).isEqualTo(-1);
    assertThat(map.putIfAbsent(Long.MIN_VALUE, 0)).isEqualTo(-1);
    assertThat(map.get(Long.MIN_VALUE)).isZero();
  }
}
