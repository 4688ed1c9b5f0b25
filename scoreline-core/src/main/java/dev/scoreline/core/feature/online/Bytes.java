package dev.scoreline.core.feature.online;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Big-endian fixed-width numbers and unsigned LEB128 varints over byte arrays: a growable {@link
 * Writer} for the write path and an allocation-free {@link Reader} for the read path.
 */
final class Bytes {
  private static final VarHandle LONG_BE =
      MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.BIG_ENDIAN);
  private static final VarHandle INT_BE =
      MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.BIG_ENDIAN);

  private Bytes() {}

  /** Thrown for truncated or malformed bytes; callers translate it with context. */
  static final class CorruptException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    CorruptException(String message) {
      super(message);
    }
  }

  /** A growable output buffer; reuse one per call (it is not thread-safe). */
  static final class Writer {
    private byte[] buf;
    private int len;

    Writer(int capacity) {
      buf = new byte[Math.max(16, capacity)];
    }

    void reset() {
      len = 0;
    }

    int length() {
      return len;
    }

    byte[] toByteArray() {
      return Arrays.copyOf(buf, len);
    }

    private void ensure(int more) {
      if (len + more > buf.length) {
        buf = Arrays.copyOf(buf, Math.max(buf.length * 2, len + more));
      }
    }

    void writeByte(int b) {
      ensure(1);
      buf[len++] = (byte) b;
    }

    void writeBytes(byte[] b) {
      ensure(b.length);
      System.arraycopy(b, 0, buf, len, b.length);
      len += b.length;
    }

    void writeLong(long v) {
      ensure(8);
      LONG_BE.set(buf, len, v);
      len += 8;
    }

    void writeInt(int v) {
      ensure(4);
      INT_BE.set(buf, len, v);
      len += 4;
    }

    /** Unsigned LEB128: 7 bits per byte, least significant group first, high bit = more. */
    void writeVarint(int v) {
      if (v < 0) {
        throw new IllegalArgumentException("negative varint " + v);
      }
      ensure(5);
      while ((v & ~0x7f) != 0) {
        buf[len++] = (byte) ((v & 0x7f) | 0x80);
        v >>>= 7;
      }
      buf[len++] = (byte) v;
    }

    void writeString(String s) {
      byte[] b = s.getBytes(StandardCharsets.UTF_8);
      writeVarint(b.length);
      writeBytes(b);
    }

    /** Writes a 16-byte stamp at the current position. */
    void writeStamp(long eventMicros, long createdMicros) {
      ensure(16);
      dev.scoreline.core.kv.Stamps.write(buf, len, eventMicros);
      dev.scoreline.core.kv.Stamps.write(buf, len + 8, createdMicros);
      len += 16;
    }
  }

  /**
   * A cursor over a byte array, or over the range {@code [base, end)} of one (a value read in place
   * inside a larger buffer); bounds are checked against the end, overruns throw {@link
   * CorruptException}, and offsets in messages are relative to the base.
   */
  static final class Reader {
    byte[] b;
    int pos;
    private int base;
    private int end;

    Reader() {}

    Reader(byte[] b, int pos) {
      reset(b, pos);
    }

    void reset(byte[] bytes, int at) {
      reset(bytes, 0, at, bytes.length);
    }

    /** Reads {@code bytes[base, end)} from {@code at} (an absolute index, at least base). */
    void reset(byte[] bytes, int base, int at, int end) {
      this.b = bytes;
      this.base = base;
      this.pos = at;
      this.end = end;
    }

    boolean hasMore() {
      return pos < end;
    }

    private void need(int n) {
      if (n < 0 || pos + n > end || pos + n < 0) {
        throw new CorruptException(
            "truncated: need " + n + " bytes at offset " + (pos - base) + " of " + (end - base));
      }
    }

    byte readByte() {
      need(1);
      return b[pos++];
    }

    long readLong() {
      need(8);
      long v = (long) LONG_BE.get(b, pos);
      pos += 8;
      return v;
    }

    int readInt() {
      need(4);
      int v = (int) INT_BE.get(b, pos);
      pos += 4;
      return v;
    }

    int readVarint() {
      int v = 0;
      for (int shift = 0; shift < 35; shift += 7) {
        need(1);
        byte x = b[pos++];
        v |= (x & 0x7f) << shift;
        if (x >= 0) {
          if (v < 0) {
            throw new CorruptException("varint out of range at offset " + (pos - 1 - base));
          }
          return v;
        }
      }
      throw new CorruptException("varint longer than 5 bytes at offset " + (pos - base));
    }

    /** Fills {@code out} with big-endian binary32 values: one bounds check for all of them. */
    void readFloats(float[] out) {
      need(out.length * 4);
      for (int i = 0; i < out.length; i++) {
        out[i] = Float.intBitsToFloat((int) INT_BE.get(b, pos));
        pos += 4;
      }
    }

    /** Fills {@code out} with big-endian longs: one bounds check for all of them. */
    void readLongs(long[] out) {
      need(out.length * 8);
      for (int i = 0; i < out.length; i++) {
        out[i] = (long) LONG_BE.get(b, pos);
        pos += 8;
      }
    }

    String readString() {
      int n = readVarint();
      need(n);
      String s = new String(b, pos, n, StandardCharsets.UTF_8);
      pos += n;
      return s;
    }

    byte[] readBytes() {
      int n = readVarint();
      need(n);
      byte[] out = Arrays.copyOfRange(b, pos, pos + n);
      pos += n;
      return out;
    }

    void skip(int n) {
      need(n);
      pos += n;
    }

    /** A count of {@code width}-byte items that must fit in the remaining bytes. */
    int readCount(int width) {
      int n = readVarint();
      if ((long) n * width > end - pos) {
        throw new CorruptException(
            "count " + n + " exceeds the remaining bytes at offset " + (pos - base));
      }
      return n;
    }
  }
}
