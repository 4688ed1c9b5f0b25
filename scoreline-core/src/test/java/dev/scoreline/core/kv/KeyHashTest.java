package dev.scoreline.core.kv;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

class KeyHashTest {
  /** An entity key as the online store encodes an int64 key: version, tag, 8 big-endian bytes. */
  private static byte[] int64Key(long id) {
    return ByteBuffer.allocate(10).put((byte) 1).put((byte) 2).putLong(id).array();
  }

  @Test
  void sequentialInt64Keys_getDistinctCodes_whereArraysHashCodeCollides() {
    Set<Integer> mixed = new HashSet<>();
    Set<Integer> polynomial = new HashSet<>();
    int n = 200_000;
    for (long id = 0; id < n; id++) {
      byte[] key = int64Key(id);
      mixed.add(KeyHash.of(key));
      polynomial.add(Arrays.hashCode(key));
    }
    // the reason for this class: the polynomial hash maps these keys to a few thousand codes
    assertThat(polynomial.size()).isLessThan(n / 10);
    // 32-bit codes of 200k keys: a handful of birthday collisions at most
    assertThat(mixed.size()).isGreaterThan(n - 20);
  }

  @Test
  void spreadsOverTheLowBits_thatHashTablesIndexWith() {
    int buckets = 1 << 12;
    int[] counts = new int[buckets];
    int n = buckets * 16;
    for (long id = 0; id < n; id++) {
      counts[KeyHash.of(int64Key(id)) & (buckets - 1)]++;
    }
    // 16 expected per bucket; a uniform hash stays far below 64 in every bucket
    assertThat(Arrays.stream(counts).max().getAsInt()).isLessThan(64);
    assertThat(Arrays.stream(counts).min().getAsInt()).isGreaterThan(0);
  }

  @Test
  void equalBytes_equalCodes_andLengthMatters() {
    assertThat(KeyHash.of(new byte[] {1, 2, 3})).isEqualTo(KeyHash.of(new byte[] {1, 2, 3}));
    assertThat(KeyHash.of(new byte[] {0})).isNotEqualTo(KeyHash.of(new byte[] {0, 0}));
    assertThat(KeyHash.of(new byte[0])).isNotEqualTo(KeyHash.of(new byte[] {0}));
  }
}
