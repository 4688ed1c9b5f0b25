package dev.scoreline.duckdb;

import dev.scoreline.core.feature.ValueType;
import java.sql.Array;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Arrays;
import java.util.Collections;
import java.util.Locale;
import java.util.Set;

/**
 * How {@link ValueType}s map to DuckDB types and back to Java.
 *
 * <table>
 *   <caption>type mapping</caption>
 *   <tr><th>ValueType</th><th>DuckDB (cast to)</th><th>source types accepted</th><th>Java</th></tr>
 *   <tr><td>INT64</td><td>BIGINT</td><td>integers</td><td>Long</td></tr>
 *   <tr><td>FP64</td><td>DOUBLE</td><td>numbers</td><td>Double</td></tr>
 *   <tr><td>FP32</td><td>FLOAT</td><td>numbers</td><td>Float</td></tr>
 *   <tr><td>STRING</td><td>VARCHAR</td><td>any scalar</td><td>String</td></tr>
 *   <tr><td>BOOL</td><td>BOOLEAN</td><td>BOOLEAN</td><td>Boolean</td></tr>
 *   <tr><td>BYTES</td><td>BLOB</td><td>BLOB</td><td>byte[]</td></tr>
 *   <tr><td>FP32_LIST</td><td>FLOAT[]</td><td>lists/arrays of numbers</td><td>float[]</td></tr>
 *   <tr><td>INT64_LIST</td><td>BIGINT[]</td><td>lists/arrays of integers</td><td>long[]</td></tr>
 *   <tr><td>STRING_LIST</td><td>VARCHAR[]</td><td>lists/arrays of scalars</td><td>List&lt;String&gt;</td></tr>
 * </table>
 *
 * <p>A VARCHAR source column (typical of CSV) is accepted for every type and cast when read, so
 * {@code "[0.1, 0.2]"} becomes a {@code float[]}; a value that does not parse fails the query with
 * {@code USER_ERROR}. A null element of an fp32 list reads as NaN; an int64 list with a null
 * element reads as a missing value (null), since {@code long[]} has no hole.
 */
final class DuckTypes {
  private static final Set<String> INTEGERS =
      Set.of(
          "TINYINT",
          "SMALLINT",
          "INTEGER",
          "BIGINT",
          "HUGEINT",
          "UTINYINT",
          "USMALLINT",
          "UINTEGER",
          "UBIGINT",
          "UHUGEINT");
  private static final Set<String> FLOATS = Set.of("FLOAT", "DOUBLE");

  private DuckTypes() {}

  /** The DuckDB type a value of {@code t} is cast to. */
  static String sqlType(ValueType t) {
    switch (t) {
      case INT64:
        return "BIGINT";
      case FP64:
        return "DOUBLE";
      case FP32:
        return "FLOAT";
      case STRING:
        return "VARCHAR";
      case BOOL:
        return "BOOLEAN";
      case BYTES:
        return "BLOB";
      case FP32_LIST:
        return "FLOAT[]";
      case INT64_LIST:
        return "BIGINT[]";
      case STRING_LIST:
        return "VARCHAR[]";
      default:
        throw new AssertionError(t);
    }
  }

  /** True when a source column of DuckDB type {@code sourceType} can hold values of {@code t}. */
  static boolean accepts(ValueType t, String sourceType) {
    String s = sourceType.trim().toUpperCase(Locale.ROOT);
    if (s.equals("VARCHAR")) {
      return true;
    }
    String element = elementType(s);
    switch (t) {
      case INT64:
        return isInteger(s);
      case FP64:
      case FP32:
        return isNumber(s);
      case STRING:
        return element == null && !isNested(s);
      case BOOL:
        return s.equals("BOOLEAN");
      case BYTES:
        return s.equals("BLOB");
      case FP32_LIST:
        return element != null && isNumber(element);
      case INT64_LIST:
        return element != null && isInteger(element);
      case STRING_LIST:
        return element != null && element.indexOf('[') < 0 && !isNested(element);
      default:
        return false;
    }
  }

  /** True for types usable as an event or created time (see {@link SourceScan#timestamp}). */
  static boolean isTimestampLike(String sourceType) {
    String s = sourceType.trim().toUpperCase(Locale.ROOT);
    return s.startsWith("TIMESTAMP") || s.equals("DATE") || s.equals("VARCHAR") || isInteger(s);
  }

  static boolean isInteger(String type) {
    return INTEGERS.contains(type);
  }

  private static boolean isNumber(String type) {
    return INTEGERS.contains(type) || FLOATS.contains(type) || type.startsWith("DECIMAL");
  }

  private static boolean isNested(String type) {
    return type.startsWith("STRUCT")
        || type.startsWith("MAP")
        || type.startsWith("UNION")
        || type.endsWith("]");
  }

  /** The element type of a LIST ({@code T[]}) or ARRAY ({@code T[n]}) type, else null. */
  private static String elementType(String type) {
    if (!type.endsWith("]")) {
      return null;
    }
    int open = type.lastIndexOf('[');
    String size = type.substring(open + 1, type.length() - 1);
    if (open <= 0 || !size.chars().allMatch(Character::isDigit)) {
      return null;
    }
    return type.substring(0, open).trim();
  }

  /**
   * Reads column {@code col} (cast to {@link #sqlType}) as the Java representation of {@code t}.
   */
  static Object read(ResultSet rs, int col, ValueType t) throws SQLException {
    switch (t) {
      case INT64:
        {
          long v = rs.getLong(col);
          return rs.wasNull() ? null : Long.valueOf(v);
        }
      case FP64:
        {
          double v = rs.getDouble(col);
          return rs.wasNull() ? null : Double.valueOf(v);
        }
      case FP32:
        {
          float v = rs.getFloat(col);
          return rs.wasNull() ? null : Float.valueOf(v);
        }
      case STRING:
        return rs.getString(col);
      case BOOL:
        {
          boolean v = rs.getBoolean(col);
          return rs.wasNull() ? null : Boolean.valueOf(v);
        }
      case BYTES:
        return rs.getBytes(col);
      case FP32_LIST:
        {
          Object[] a = elements(rs, col);
          if (a == null) {
            return null;
          }
          float[] out = new float[a.length];
          for (int i = 0; i < a.length; i++) {
            out[i] = a[i] == null ? Float.NaN : ((Number) a[i]).floatValue();
          }
          return out;
        }
      case INT64_LIST:
        {
          Object[] a = elements(rs, col);
          if (a == null) {
            return null;
          }
          long[] out = new long[a.length];
          for (int i = 0; i < a.length; i++) {
            if (a[i] == null) {
              return null;
            }
            out[i] = ((Number) a[i]).longValue();
          }
          return out;
        }
      case STRING_LIST:
        {
          Object[] a = elements(rs, col);
          if (a == null) {
            return null;
          }
          String[] out = new String[a.length];
          for (int i = 0; i < a.length; i++) {
            out[i] = a[i] == null ? null : a[i].toString();
          }
          return Collections.unmodifiableList(Arrays.asList(out));
        }
      default:
        throw new AssertionError(t);
    }
  }

  private static Object[] elements(ResultSet rs, int col) throws SQLException {
    Array array = rs.getArray(col);
    return array == null ? null : (Object[]) array.getArray();
  }
}
