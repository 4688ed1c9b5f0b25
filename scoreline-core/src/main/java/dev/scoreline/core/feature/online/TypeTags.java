package dev.scoreline.core.feature.online;

import dev.scoreline.core.feature.ValueType;

/**
 * The one-byte type tags of the binary layouts ({@link EntityKeys}, {@link ViewCodec}). The mapping
 * is explicit, never {@code ordinal()}, so reordering {@link ValueType} cannot change stored bytes.
 */
final class TypeTags {
  static final byte NULL = 0;
  static final byte INT64 = 1;
  static final byte FP64 = 2;
  static final byte FP32 = 3;
  static final byte STRING = 4;
  static final byte BOOL = 5;
  static final byte BYTES = 6;
  static final byte FP32_LIST = 7;
  static final byte INT64_LIST = 8;
  static final byte STRING_LIST = 9;

  private TypeTags() {}

  static byte of(ValueType type) {
    switch (type) {
      case INT64:
        return INT64;
      case FP64:
        return FP64;
      case FP32:
        return FP32;
      case STRING:
        return STRING;
      case BOOL:
        return BOOL;
      case BYTES:
        return BYTES;
      case FP32_LIST:
        return FP32_LIST;
      case INT64_LIST:
        return INT64_LIST;
      case STRING_LIST:
        return STRING_LIST;
      default:
        throw new IllegalArgumentException("no tag for " + type);
    }
  }

  /** The type of a non-null tag, or null for an unknown tag. */
  static ValueType type(byte tag) {
    switch (tag) {
      case INT64:
        return ValueType.INT64;
      case FP64:
        return ValueType.FP64;
      case FP32:
        return ValueType.FP32;
      case STRING:
        return ValueType.STRING;
      case BOOL:
        return ValueType.BOOL;
      case BYTES:
        return ValueType.BYTES;
      case FP32_LIST:
        return ValueType.FP32_LIST;
      case INT64_LIST:
        return ValueType.INT64_LIST;
      case STRING_LIST:
        return ValueType.STRING_LIST;
      default:
        return null;
    }
  }
}
