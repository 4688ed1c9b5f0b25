package dev.scoreline.core.kv;

/**
 * The hash code of a key's bytes for hash tables keyed by entity keys.
 *
 * <p>{@link java.util.Arrays#hashCode(byte[])} is the wrong function for entity keys: it is a
 * polynomial in 31, and an int64 key is eight big-endian bytes, so a small id is {@code 31 * high +
 * low} plus a constant. The 20,000 int64 keys 0..19,999 have only 2,643 distinct values of it, and
 * 1,000,000 keys have 21,615: eight to fifty keys per hash code, so a {@code HashMap} turns its
 * buckets into trees and every lookup compares keys. This function (FNV-1a over the bytes, finished
 * with MurmurHash3's 64-bit mix) gives distinct codes to all of those keys.
 */
public final class KeyHash {
  private KeyHash() {}

  /** A well-mixed 32-bit hash of {@code bytes}. */
  public static int of(byte[] bytes) {
    long h = 0xcbf29ce484222325L ^ bytes.length;
    for (byte b : bytes) {
      h = (h ^ (b & 0xff)) * 0x100000001b3L;
    }
    h ^= h >>> 33;
    h *= 0xff51afd7ed558ccdL;
    h ^= h >>> 33;
    h *= 0xc4ceb9fe1a85ec53L;
    h ^= h >>> 33;
    return (int) h;
  }
}
