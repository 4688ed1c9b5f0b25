package dev.scoreline.core.feature.online;

import dev.scoreline.core.error.ScorelineException;
import dev.scoreline.core.feature.ValueType;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.List;

/**
 * Converts values of JSON-like maps (what Jackson gives for a request body: Integer, Long,
 * BigInteger, Double, BigDecimal, String, Boolean, List) to the Java type of a {@link ValueType}.
 *
 * <ul>
 *   <li>INT64: integers in range; floating numbers only when integral ({@code 3.0}); canonical
 *       decimal strings ({@code "42"}, as the proto3 JSON mapping writes int64).
 *   <li>FP64, FP32: any number (FP32 refuses finite values beyond its range); the strings {@code
 *       "NaN"}, {@code "Infinity"}, {@code "-Infinity"}.
 *   <li>STRING: strings only (numbers are refused, not formatted). BOOL: booleans only.
 *   <li>BYTES: a base64 string (standard alphabet), or a {@code byte[]}.
 *   <li>Lists: JSON arrays of the element type (no nulls), or the Java array type.
 * </ul>
 */
final class JsonValues {
  private static final double TWO_POW_63 = 9.223372036854775808E18;

  private JsonValues() {}

  /**
   * Converts {@code v} for {@code type}; null stays null.
   *
   * @param field the request field named in errors, such as {@code rows[2].clicks}
   * @param what the thing converted, such as {@code feature 'clicks' of view 'user_stats'}
   */
  static Object convert(ValueType type, Object v, String field, String what) {
    if (v == null) {
      return null;
    }
    switch (type) {
      case INT64:
        return toLong(v, field, what);
      case FP64:
        return toDouble(v, field, what);
      case FP32:
        return toFloat(v, field, what);
      case STRING:
        if (v instanceof String) {
          return v;
        }
        throw error(field, what, type, v, "send a JSON string");
      case BOOL:
        if (v instanceof Boolean) {
          return v;
        }
        throw error(field, what, type, v, "send true or false");
      case BYTES:
        if (v instanceof byte[]) {
          return v;
        }
        if (v instanceof String) {
          try {
            return Base64.getDecoder().decode((String) v);
          } catch (IllegalArgumentException e) {
            throw error(field, what, type, v, "send base64 (standard alphabet): " + e.getMessage());
          }
        }
        throw error(field, what, type, v, "send a base64 string");
      case FP32_LIST:
        return toFloatList(v, field, what);
      case INT64_LIST:
        return toLongList(v, field, what);
      case STRING_LIST:
        return toStringList(v, field, what);
      default:
        throw new IllegalStateException("unreachable");
    }
  }

  private static Long toLong(Object v, String field, String what) {
    Object key = EntityKeys.convert(ValueType.INT64, v);
    if (key != null) {
      return (Long) key;
    }
    if (v instanceof Double || v instanceof Float) {
      double d = ((Number) v).doubleValue();
      if (d == Math.rint(d) && d >= -TWO_POW_63 && d < TWO_POW_63) {
        return (long) d;
      }
    }
    if (v instanceof BigDecimal) {
      try {
        return ((BigDecimal) v).longValueExact();
      } catch (ArithmeticException e) {
        // fall through to the error
      }
    }
    throw error(
        field,
        what,
        ValueType.INT64,
        v,
        "send an integer in the int64 range (or its decimal digits as a string)");
  }

  private static Double toDouble(Object v, String field, String what) {
    if (v instanceof Double) {
      return (Double) v;
    }
    if (v instanceof Number && !(v instanceof BigInteger && ((BigInteger) v).bitLength() > 1023)) {
      return ((Number) v).doubleValue();
    }
    if (v instanceof String) {
      Double special = special((String) v);
      if (special != null) {
        return special;
      }
    }
    throw error(field, what, ValueType.FP64, v, "send a number (or \"NaN\", \"Infinity\")");
  }

  private static Float toFloat(Object v, String field, String what) {
    if (v instanceof Float) {
      return (Float) v;
    }
    double d;
    if (v instanceof Number) {
      d = ((Number) v).doubleValue();
    } else if (v instanceof String && special((String) v) != null) {
      d = special((String) v);
    } else {
      throw error(field, what, ValueType.FP32, v, "send a number (or \"NaN\", \"Infinity\")");
    }
    float f = (float) d;
    if (Float.isInfinite(f) && !Double.isInfinite(d)) {
      throw error(
          field, what, ValueType.FP32, v, "the value is beyond the fp32 range (±3.4028235E38)");
    }
    return f;
  }

  private static Double special(String s) {
    switch (s) {
      case "NaN":
        return Double.NaN;
      case "Infinity":
        return Double.POSITIVE_INFINITY;
      case "-Infinity":
        return Double.NEGATIVE_INFINITY;
      default:
        return null;
    }
  }

  private static float[] toFloatList(Object v, String field, String what) {
    if (v instanceof float[]) {
      return (float[]) v;
    }
    if (v instanceof double[]) {
      double[] ds = (double[]) v;
      float[] fs = new float[ds.length];
      for (int i = 0; i < ds.length; i++) {
        fs[i] = toFloat(ds[i], field + "[" + i + "]", what);
      }
      return fs;
    }
    List<?> list = list(v, ValueType.FP32_LIST, field, what);
    float[] fs = new float[list.size()];
    for (int i = 0; i < fs.length; i++) {
      fs[i] = toFloat(element(list, i, field, what), field + "[" + i + "]", what);
    }
    return fs;
  }

  private static long[] toLongList(Object v, String field, String what) {
    if (v instanceof long[]) {
      return (long[]) v;
    }
    if (v instanceof int[]) {
      int[] is = (int[]) v;
      long[] ls = new long[is.length];
      for (int i = 0; i < is.length; i++) {
        ls[i] = is[i];
      }
      return ls;
    }
    List<?> list = list(v, ValueType.INT64_LIST, field, what);
    long[] ls = new long[list.size()];
    for (int i = 0; i < ls.length; i++) {
      ls[i] = toLong(element(list, i, field, what), field + "[" + i + "]", what);
    }
    return ls;
  }

  private static List<String> toStringList(Object v, String field, String what) {
    List<?> list;
    if (v instanceof String[]) {
      list = List.of((String[]) v); // refuses nulls
    } else {
      list = list(v, ValueType.STRING_LIST, field, what);
    }
    List<String> out = new ArrayList<>(list.size());
    for (int i = 0; i < list.size(); i++) {
      Object o = element(list, i, field, what);
      if (!(o instanceof String)) {
        throw error(field + "[" + i + "]", what, ValueType.STRING, o, "send a JSON string");
      }
      out.add((String) o);
    }
    return Collections.unmodifiableList(out);
  }

  private static List<?> list(Object v, ValueType type, String field, String what) {
    if (v instanceof List) {
      return (List<?>) v;
    }
    throw error(field, what, type, v, "send a JSON array");
  }

  private static Object element(List<?> list, int i, String field, String what) {
    Object o = list.get(i);
    if (o == null) {
      throw ScorelineException.userError(
          field + "[" + i + "]",
          field + "[" + i + "]: " + what + " is a list and cannot hold null; remove the element");
    }
    return o;
  }

  private static ScorelineException error(
      String field, String what, ValueType type, Object v, String fix) {
    return ScorelineException.userError(
        field,
        field
            + ": "
            + what
            + " is "
            + EntityKeys.typeName(type)
            + "; got "
            + EntityKeys.describe(v)
            + "; "
            + fix);
  }

  /**
   * A timestamp: an ISO-8601 string with offset ({@code 2024-05-01T12:00:00Z}, {@code
   * 2024-05-01T14:00:00+02:00}) or without (taken as UTC), an integer of epoch milliseconds, or an
   * {@link Instant} / {@link OffsetDateTime} / {@link ZonedDateTime}; null stays null.
   */
  static Instant toInstant(Object v, String field, String what) {
    if (v == null || v instanceof Instant) {
      return (Instant) v;
    }
    if (v instanceof Long || v instanceof Integer) {
      return Instant.ofEpochMilli(((Number) v).longValue());
    }
    if (v instanceof OffsetDateTime) {
      return ((OffsetDateTime) v).toInstant();
    }
    if (v instanceof ZonedDateTime) {
      return ((ZonedDateTime) v).toInstant();
    }
    if (v instanceof String) {
      String s = ((String) v).trim();
      try {
        return OffsetDateTime.parse(s).toInstant();
      } catch (DateTimeParseException e) {
        // try the next form
      }
      try {
        return Instant.parse(s);
      } catch (DateTimeParseException e) {
        // try the next form
      }
      try {
        return LocalDateTime.parse(s).toInstant(ZoneOffset.UTC);
      } catch (DateTimeParseException e) {
        // fall through to the error
      }
    }
    throw ScorelineException.userError(
        field,
        field
            + ": "
            + what
            + " is a timestamp; got "
            + EntityKeys.describe(v)
            + "; send an ISO-8601 string such as \"2024-05-01T12:00:00Z\" or an integer of epoch"
            + " milliseconds");
  }
}
