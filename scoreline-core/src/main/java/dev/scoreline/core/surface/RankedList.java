package dev.scoreline.core.surface;

import dev.scoreline.core.error.ErrorCode;
import dev.scoreline.core.error.ScorelineException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * A ranked list of item ids with scores, best first: a surface's result, a precomputed candidate
 * list, a popularity list. It is also the value layout of every list a batch job writes into a KV
 * snapshot (key: the entity key, {@code EntityKeys} encoding), so the batch runners, the candidate
 * job and the online readers share it.
 *
 * <h2>Value layout, format version 1</h2>
 *
 * <pre>
 * list  := version:u8 (0x01) count:u32 (item:i64 score:f32){count}     all big-endian
 * </pre>
 *
 * <p>Items are int64 entity keys.
 *
 * @param ids item ids, best first
 * @param scores one score per id
 */
public record RankedList(long[] ids, float[] scores) {
  public static final byte FORMAT_VERSION = 0x01;
  private static final int HEADER = 5;
  private static final int ENTRY = 12;

  public static final RankedList EMPTY = new RankedList(new long[0], new float[0]);

  public RankedList {
    if (ids.length != scores.length) {
      throw new IllegalArgumentException(
          "ids and scores differ in length: " + ids.length + " vs " + scores.length);
    }
  }

  public int size() {
    return ids.length;
  }

  /** The first {@code n} entries (all when there are fewer). */
  public RankedList head(int n) {
    if (n >= ids.length) {
      return this;
    }
    return new RankedList(Arrays.copyOf(ids, n), Arrays.copyOf(scores, n));
  }

  /** The binary value (layout above). */
  public byte[] encode() {
    ByteBuffer b = ByteBuffer.allocate(HEADER + ENTRY * ids.length).order(ByteOrder.BIG_ENDIAN);
    b.put(FORMAT_VERSION).putInt(ids.length);
    for (int i = 0; i < ids.length; i++) {
      b.putLong(ids[i]).putFloat(scores[i]);
    }
    return b.array();
  }

  /**
   * Decodes a value written by {@link #encode}.
   *
   * @throws ScorelineException INTERNAL when the bytes are not a version-1 ranked list
   */
  public static RankedList decode(byte[] value) {
    if (value.length < HEADER || value[0] != FORMAT_VERSION) {
      throw new ScorelineException(
          ErrorCode.INTERNAL,
          "ranked list: unknown format "
              + (value.length == 0 ? "(empty value)" : "version " + value[0])
              + "; this build reads version "
              + FORMAT_VERSION
              + " (re-run the job that wrote it)");
    }
    ByteBuffer b = ByteBuffer.wrap(value).order(ByteOrder.BIG_ENDIAN);
    b.get();
    int n = b.getInt();
    if (n < 0 || value.length != HEADER + (long) ENTRY * n) {
      throw new ScorelineException(
          ErrorCode.INTERNAL,
          "ranked list: " + value.length + " bytes do not hold " + n + " entries (corrupt value)");
    }
    long[] ids = new long[n];
    float[] scores = new float[n];
    for (int i = 0; i < n; i++) {
      ids[i] = b.getLong();
      scores[i] = b.getFloat();
    }
    return new RankedList(ids, scores);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof RankedList r
        && Arrays.equals(ids, r.ids)
        && Arrays.equals(scores, r.scores);
  }

  @Override
  public int hashCode() {
    return 31 * Arrays.hashCode(ids) + Arrays.hashCode(scores);
  }

  @Override
  public String toString() {
    StringBuilder sb = new StringBuilder("RankedList[");
    for (int i = 0; i < Math.min(ids.length, 5); i++) {
      sb.append(i == 0 ? "" : ", ").append(ids[i]).append(':').append(scores[i]);
    }
    return sb.append(ids.length > 5 ? ", ... (" + ids.length + ")]" : "]").toString();
  }
}
