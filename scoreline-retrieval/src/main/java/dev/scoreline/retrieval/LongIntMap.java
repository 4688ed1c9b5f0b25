package dev.scoreline.retrieval;

import java.util.Arrays;

/**
 * An open-addressing map from {@code long} item ids to {@code int} ordinals, without boxing. It
 * grows while one thread fills it; once handed to an index it is only read, by any number of
 * threads.
 */
final class LongIntMap {
  private static final int ABSENT = -1;

  private long[] keys;
  private int[] values;
  private int mask;
  private int size;

  /** A map sized for {@code expected} entries (it grows beyond). */
  LongIntMap(int expected) {
    allocate(capacityFor(Math.max(4, expected)));
  }

  private static int capacityFor(int entries) {
    // load factor at most 0.5
    long capacity = Long.highestOneBit(Math.max(4L, entries) * 2 - 1) << 1;
    if (capacity > 1 << 30) {
      throw new IllegalArgumentException("too many entries: " + entries);
    }
    return (int) capacity;
  }

  private void allocate(int capacity) {
    keys = new long[capacity];
    values = new int[capacity];
    Arrays.fill(values, ABSENT);
    mask = capacity - 1;
  }

  /**
   * Maps {@code key} to {@code value} ({@code >= 0}) unless the key is present.
   *
   * @return the value already mapped to the key, or -1 when the key was absent (and is now mapped)
   */
  int putIfAbsent(long key, int value) {
    int slot = slot(key);
    while (values[slot] != ABSENT) {
      if (keys[slot] == key) {
        return values[slot];
      }
      slot = (slot + 1) & mask;
    }
    keys[slot] = key;
    values[slot] = value;
    if (++size * 2 > keys.length) {
      grow();
    }
    return ABSENT;
  }

  /** The value of {@code key}, or -1. */
  int get(long key) {
    int slot = slot(key);
    while (values[slot] != ABSENT) {
      if (keys[slot] == key) {
        return values[slot];
      }
      slot = (slot + 1) & mask;
    }
    return ABSENT;
  }

  int size() {
    return size;
  }

  private void grow() {
    long[] oldKeys = keys;
    int[] oldValues = values;
    allocate(capacityFor(size * 2));
    for (int i = 0; i < oldKeys.length; i++) {
      if (oldValues[i] != ABSENT) {
        int slot = slot(oldKeys[i]);
        while (values[slot] != ABSENT) {
          slot = (slot + 1) & mask;
        }
        keys[slot] = oldKeys[i];
        values[slot] = oldValues[i];
      }
    }
  }

  private int slot(long key) {
    // the murmur3 64-bit finalizer: sequential ids spread over the table
    long h = key;
    h ^= h >>> 33;
    h *= 0xff51afd7ed558ccdL;
    h ^= h >>> 33;
    h *= 0xc4ceb53a185ec463L;
    h ^= h >>> 33;
    return (int) h & mask;
  }
}
