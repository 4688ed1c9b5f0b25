package dev.scoreline.core.tensor;

import dev.scoreline.core.error.ScorelineException;
import java.nio.ByteBuffer;

/** Element access by datatype over little-endian buffers. Package-private plumbing for Tensor. */
final class TensorWriter {
  private TensorWriter() {}

  static double get(ByteBuffer b, DataType type, int i) {
    switch (type) {
      case BOOL:
      case INT8:
        return type == DataType.BOOL ? (b.get(i) != 0 ? 1 : 0) : b.get(i);
      case UINT8:
        return b.get(i) & 0xff;
      case INT16:
        return b.getShort(i * 2);
      case UINT16:
        return b.getShort(i * 2) & 0xffff;
      case INT32:
        return b.getInt(i * 4);
      case UINT32:
        return b.getInt(i * 4) & 0xffffffffL;
      case INT64:
        return b.getLong(i * 8);
      case UINT64:
        {
          long v = b.getLong(i * 8);
          return v >= 0 ? v : (double) (v >>> 1) * 2.0 + (v & 1);
        }
      case FP16:
        return Fp16.toFloat(b.getShort(i * 2));
      case BF16:
        return Fp16.bf16ToFloat(b.getShort(i * 2));
      case FP32:
        return b.getFloat(i * 4);
      case FP64:
        return b.getDouble(i * 8);
      default:
        throw new IllegalStateException("BYTES tensors have no numeric elements");
    }
  }

  static long getLong(ByteBuffer b, DataType type, int i) {
    switch (type) {
      case INT64:
      case UINT64:
        return b.getLong(i * 8);
      case UINT32:
        return b.getInt(i * 4) & 0xffffffffL;
      default:
        return (long) get(b, type, i);
    }
  }

  /** Appends one element converted from a double, validating integrality and range. */
  static void put(ByteBuffer b, DataType type, double v, String name, int index) {
    switch (type) {
      case FP32:
        b.putFloat((float) v);
        return;
      case FP64:
        b.putDouble(v);
        return;
      case FP16:
        b.putShort(Fp16.fromFloat((float) v));
        return;
      case BF16:
        b.putShort(Fp16.floatToBf16((float) v));
        return;
      case BOOL:
        if (v != 0 && v != 1) {
          throw outOfRange(name, index, v, type, "0 or 1 (or true/false)");
        }
        b.put((byte) v);
        return;
      default:
        break;
    }
    if (v != Math.rint(v) || Double.isInfinite(v)) {
      throw outOfRange(name, index, v, type, "an integer");
    }
    switch (type) {
      case INT8:
        checkRange(name, index, v, type, -128, 127);
        b.put((byte) v);
        return;
      case UINT8:
        checkRange(name, index, v, type, 0, 255);
        b.put((byte) v);
        return;
      case INT16:
        checkRange(name, index, v, type, Short.MIN_VALUE, Short.MAX_VALUE);
        b.putShort((short) v);
        return;
      case UINT16:
        checkRange(name, index, v, type, 0, 65535);
        b.putShort((short) v);
        return;
      case INT32:
        checkRange(name, index, v, type, Integer.MIN_VALUE, Integer.MAX_VALUE);
        b.putInt((int) v);
        return;
      case UINT32:
        checkRange(name, index, v, type, 0, 4294967295.0);
        b.putInt((int) (long) v);
        return;
      case INT64:
        checkRange(name, index, v, type, -0x1p63, 0x1p63 - 1);
        b.putLong((long) v);
        return;
      case UINT64:
        checkRange(name, index, v, type, 0, 0x1p64);
        b.putLong(v >= 0x1p63 ? (long) (v - 0x1p63) ^ Long.MIN_VALUE : (long) v);
        return;
      default:
        throw new IllegalStateException("unexpected " + type);
    }
  }

  private static void checkRange(
      String name, int index, double v, DataType type, double min, double max) {
    if (v < min || v > max) {
      throw outOfRange(name, index, v, type, "in [" + (long) min + ", " + (long) max + "]");
    }
  }

  private static ScorelineException outOfRange(
      String name, int index, double v, DataType type, String expected) {
    return ScorelineException.userError(
        name,
        "tensor '"
            + name
            + "' element "
            + index
            + " is "
            + v
            + " but datatype "
            + type
            + " needs "
            + expected);
  }
}
