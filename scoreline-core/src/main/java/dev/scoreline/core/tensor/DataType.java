package dev.scoreline.core.tensor;

import dev.scoreline.core.error.ScorelineException;
import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/** Open Inference Protocol tensor datatypes. The name is the protocol's spelling. */
public enum DataType {
  BOOL(1),
  UINT8(1),
  UINT16(2),
  UINT32(4),
  UINT64(8),
  INT8(1),
  INT16(2),
  INT32(4),
  INT64(8),
  FP16(2),
  BF16(2),
  FP32(4),
  FP64(8),
  /** Variable-length byte strings; each element is a {@code byte[]}. */
  BYTES(-1);

  private static final String VALID =
      Arrays.stream(values()).map(Enum::name).collect(Collectors.joining(", "));

  private final int byteSize;

  DataType(int byteSize) {
    this.byteSize = byteSize;
  }

  /** Bytes per element, or -1 for {@link #BYTES}. */
  public int byteSize() {
    return byteSize;
  }

  public boolean isFixedSize() {
    return byteSize > 0;
  }

  public boolean isFloatingPoint() {
    return this == FP16 || this == BF16 || this == FP32 || this == FP64;
  }

  /**
   * Parses a protocol datatype name. Also accepts the Triton config spelling ({@code TYPE_FP32})
   * and the common aliases {@code FLOAT}, {@code DOUBLE}, {@code STRING}.
   */
  public static DataType parse(String field, String name) {
    if (name == null || name.isBlank()) {
      throw ScorelineException.userError(field, field + " is missing; use one of " + VALID);
    }
    String n = name.trim().toUpperCase(Locale.ROOT);
    if (n.startsWith("TYPE_")) {
      n = n.substring(5);
    }
    switch (n) {
      case "FLOAT":
      case "FLOAT32":
        return FP32;
      case "DOUBLE":
      case "FLOAT64":
        return FP64;
      case "FLOAT16":
        return FP16;
      case "STRING":
        return BYTES;
      default:
        break;
    }
    for (DataType t : values()) {
      if (t.name().equals(n)) {
        return t;
      }
    }
    throw ScorelineException.userError(
        field, field + " has unknown datatype '" + name + "'; use one of " + VALID);
  }
}
