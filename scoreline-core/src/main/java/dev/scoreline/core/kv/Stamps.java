package dev.scoreline.core.kv;

import java.util.Arrays;

/**
 * The 16-byte ordering stamp of record fields: event time then created time, each in microseconds
 * since the epoch as a big-endian long with the sign bit flipped, so that unsigned byte-wise order
 * equals time order (also before 1970).
 */
public final class Stamps {
  private Stamps() {}

  public static byte[] stamp(long eventMicros, long createdMicros) {
    byte[] b = new byte[KvStore.STAMP_BYTES];
    write(b, 0, eventMicros);
    write(b, 8, createdMicros);
    return b;
  }

  public static void write(byte[] b, int at, long micros) {
    long v = micros ^ Long.MIN_VALUE;
    for (int i = 7; i >= 0; i--) {
      b[at + i] = (byte) v;
      v >>>= 8;
    }
  }

  public static long read(byte[] b, int at) {
    long v = 0;
    for (int i = 0; i < 8; i++) {
      v = (v << 8) | (b[at + i] & 0xff);
    }
    return v ^ Long.MIN_VALUE;
  }

  /** Compares the stamps that start {@code a} and {@code b} (unsigned, byte-wise). */
  public static int compare(byte[] a, byte[] b) {
    return Arrays.compareUnsigned(a, 0, KvStore.STAMP_BYTES, b, 0, KvStore.STAMP_BYTES);
  }
}
