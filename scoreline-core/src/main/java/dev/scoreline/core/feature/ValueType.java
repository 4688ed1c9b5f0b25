package dev.scoreline.core.feature;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * Feature value types and their Java representation: INT64 {@code Long}, FP64 {@code Double}, FP32
 * {@code Float}, STRING {@code String}, BOOL {@code Boolean}, BYTES {@code byte[]}, FP32_LIST
 * {@code float[]} (embeddings), INT64_LIST {@code long[]}, STRING_LIST {@code List<String>}; null
 * is a missing value.
 */
public enum ValueType {
  INT64,
  FP64,
  FP32,
  STRING,
  BOOL,
  BYTES,
  FP32_LIST,
  INT64_LIST,
  STRING_LIST;

  private static final String VALID =
      Arrays.stream(values())
          .map(v -> v.name().toLowerCase(Locale.ROOT))
          .collect(Collectors.joining(", "));

  /**
   * Parses {@code int64}, {@code fp32_list}, ... (case-insensitive; also float, double, string).
   */
  public static ValueType parse(String text) {
    String t = text.trim().toUpperCase(Locale.ROOT).replace('-', '_');
    switch (t) {
      case "LONG":
      case "INT":
        return INT64;
      case "DOUBLE":
      case "FLOAT64":
        return FP64;
      case "FLOAT":
      case "FLOAT32":
        return FP32;
      case "BOOLEAN":
        return BOOL;
      default:
        break;
    }
    for (ValueType v : values()) {
      if (v.name().equals(t)) {
        return v;
      }
    }
    throw new IllegalArgumentException("unknown type '" + text + "'; use one of " + VALID);
  }

  /** True when values of this type are valid for a Java object (null is always valid). */
  public boolean accepts(Object value) {
    if (value == null) {
      return true;
    }
    switch (this) {
      case INT64:
        return value instanceof Long;
      case FP64:
        return value instanceof Double;
      case FP32:
        return value instanceof Float;
      case STRING:
        return value instanceof String;
      case BOOL:
        return value instanceof Boolean;
      case BYTES:
        return value instanceof byte[];
      case FP32_LIST:
        return value instanceof float[];
      case INT64_LIST:
        return value instanceof long[];
      case STRING_LIST:
        return value instanceof java.util.List;
      default:
        return false;
    }
  }
}
