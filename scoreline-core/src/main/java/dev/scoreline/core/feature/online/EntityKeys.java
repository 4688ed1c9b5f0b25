package dev.scoreline.core.feature.online;

import dev.scoreline.core.error.ErrorCode;
import dev.scoreline.core.error.ScorelineException;
import dev.scoreline.core.feature.Definitions.Entity;
import dev.scoreline.core.feature.Definitions.KeyColumn;
import dev.scoreline.core.feature.ValueType;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * The binary entity key: the record key of an entity in the online store (namespace {@code
 * features/<entity>}). Every reader and writer of the online store uses this class, so the layout
 * is specified once.
 *
 * <h2>Layout, format version 1</h2>
 *
 * <pre>
 * entity key := version:u8 (0x01) column+
 * column     := tag:u8 value              one per key column, in the entity's key-column order
 *   tag 0x01 INT64   value := 8-byte big-endian two's complement
 *   tag 0x04 STRING  value := length:varint, then that many bytes of UTF-8
 * varint     := unsigned LEB128: 7 bits per byte, least significant group first,
 *               high bit set on every byte but the last (protobuf varint)
 * </pre>
 *
 * Example: entity {@code user} with key {@code user_id int64 = 42} encodes as {@code 01 01 00 00 00
 * 00 00 00 00 2a}; a composite key {@code (42, "de")} as {@code 01 01 00 00 00 00 00 00 00 2a 04 02
 * 64 65}. The tags are those of {@link ViewCodec}. The format carries no column names: renaming a
 * key column keeps the keys, while changing a key column's type or the column order needs a
 * re-materialization.
 *
 * <h2>Java values</h2>
 *
 * {@link #encode} is strict: an INT64 column takes a {@code Long}, a STRING column a {@code
 * String}, exactly as {@link ValueType#accepts}. {@link #fromJson} converts the values of JSON
 * requests: an INT64 column also takes {@code Integer}, {@code Short}, {@code Byte}, a {@code
 * BigInteger} in range, and a string of decimal digits in canonical form ({@code "42"}, {@code
 * "-7"}; not {@code "042"}, {@code "+42"}, {@code " 42"} or {@code "4.2e1"}), because JSON clients
 * commonly send 64-bit ids as strings (JavaScript numbers lose precision above 2^53, and the proto3
 * JSON mapping writes int64 as a string). A STRING column takes only strings: a number is refused
 * rather than formatted, because the stored key {@code "007"} would silently miss for {@code 7}.
 */
public final class EntityKeys {
  /** The first byte of every entity key. */
  public static final byte FORMAT_VERSION = 0x01;

  private EntityKeys() {}

  /**
   * Encodes a key given as Java values in key-column order ({@code Long} for int64, {@code String}
   * for string).
   *
   * @throws ScorelineException USER_ERROR naming the key column and the expected type
   */
  public static byte[] encode(Entity entity, List<?> values) {
    return encode(entity, values, "key");
  }

  static byte[] encode(Entity entity, List<?> values, String field) {
    List<KeyColumn> cols = entity.keys();
    if (values == null || values.size() != cols.size()) {
      throw ScorelineException.userError(
          field,
          field
              + ": entity '"
              + entity.name()
              + "' has key columns "
              + names(cols)
              + "; got "
              + (values == null ? "no key" : values.size() + " value(s)"));
    }
    Bytes.Writer w = new Bytes.Writer(1 + 9 * cols.size());
    w.writeByte(FORMAT_VERSION);
    for (int i = 0; i < cols.size(); i++) {
      KeyColumn c = cols.get(i);
      Object v = values.get(i);
      if (v == null || !c.type().accepts(v)) {
        throw ScorelineException.userError(
            field + "." + c.name(),
            field
                + ": key column '"
                + c.name()
                + "' of entity '"
                + entity.name()
                + "' is "
                + typeName(c.type())
                + " and takes a "
                + (c.type() == ValueType.INT64 ? "Long" : "String")
                + "; got "
                + describe(v));
      }
      writeColumn(w, c.type(), v);
    }
    return w.toByteArray();
  }

  static void writeColumn(Bytes.Writer w, ValueType type, Object value) {
    if (type == ValueType.INT64) {
      w.writeByte(TypeTags.INT64);
      w.writeLong((Long) value);
    } else {
      w.writeByte(TypeTags.STRING);
      w.writeString((String) value);
    }
  }

  /**
   * Decodes a key into its values ({@code Long} or {@code String}), for tools and error messages.
   *
   * @throws IllegalArgumentException when the bytes are not a version-1 entity key
   */
  public static List<Object> decode(byte[] key) {
    if (key.length == 0 || key[0] != FORMAT_VERSION) {
      throw new IllegalArgumentException(
          "not an entity key of format version "
              + FORMAT_VERSION
              + (key.length == 0 ? ": empty" : ": version byte is " + key[0]));
    }
    List<Object> out = new ArrayList<>(2);
    Bytes.Reader r = new Bytes.Reader(key, 1);
    try {
      while (r.hasMore()) {
        byte tag = r.readByte();
        if (tag == TypeTags.INT64) {
          out.add(r.readLong());
        } else if (tag == TypeTags.STRING) {
          out.add(r.readString());
        } else {
          throw new IllegalArgumentException("entity key has unknown column tag " + tag);
        }
      }
    } catch (Bytes.CorruptException e) {
      throw new IllegalArgumentException("corrupt entity key: " + e.getMessage(), e);
    }
    if (out.isEmpty()) {
      throw new IllegalArgumentException("entity key has no columns");
    }
    return Collections.unmodifiableList(out);
  }

  /**
   * Converts one key value of a JSON-like request to its Java type ({@code Long} or {@code
   * String}); see the class comment for what is accepted.
   *
   * @param field the request field, such as {@code entityRows[3].user_id}, named in the error
   * @throws ScorelineException USER_ERROR naming the field, the key column and the expected type
   */
  public static Object fromJson(String entity, KeyColumn column, Object value, String field) {
    Object v = convert(column.type(), value);
    if (v != null) {
      return v;
    }
    throw keyTypeError(entity, column, value, field);
  }

  /** {@link #fromJson} without the error: the converted value, or null when not convertible. */
  static Object convert(ValueType type, Object value) {
    if (type == ValueType.STRING) {
      return value instanceof String ? value : null;
    }
    if (value instanceof Long) {
      return value;
    }
    if (value instanceof Integer || value instanceof Short || value instanceof Byte) {
      return ((Number) value).longValue();
    }
    if (value instanceof BigInteger && ((BigInteger) value).bitLength() < 64) {
      return ((BigInteger) value).longValue();
    }
    if (value instanceof String) {
      return parseCanonicalLong((String) value);
    }
    return null;
  }

  static ScorelineException keyTypeError(
      String entity, KeyColumn column, Object value, String field) {
    String fix =
        column.type() == ValueType.STRING
            ? "send it as a JSON string"
            : "send an integer in the int64 range, or its decimal digits as a string such as"
                + " \"42\"";
    return keyTypeError(entity, column, value, field, fix);
  }

  private static ScorelineException keyTypeError(
      String entity, KeyColumn column, Object value, String field, String fix) {
    return new ScorelineException(
        ErrorCode.USER_ERROR,
        field,
        field
            + ": key column '"
            + column.name()
            + "' of entity '"
            + entity
            + "' is "
            + typeName(column.type())
            + "; got "
            + describe(value)
            + "; "
            + fix,
        null);
  }

  /** The long of a canonical decimal string ({@code Long.toString} form), or null. */
  static Long parseCanonicalLong(String s) {
    int n = s.length();
    if (n == 0 || n > 20) {
      return null;
    }
    int start = s.charAt(0) == '-' ? 1 : 0;
    if (start == n
        || (s.charAt(start) == '0' && n > start + 1)
        || (start == 1 && s.charAt(1) == '0')) {
      return null;
    }
    for (int i = start; i < n; i++) {
      char c = s.charAt(i);
      if (c < '0' || c > '9') {
        return null;
      }
    }
    try {
      return Long.parseLong(s);
    } catch (NumberFormatException e) {
      return null; // out of range
    }
  }

  static String typeName(ValueType t) {
    return t.name().toLowerCase(java.util.Locale.ROOT);
  }

  static String describe(Object v) {
    if (v == null) {
      return "null";
    }
    if (v instanceof String) {
      String s = (String) v;
      return "string \"" + (s.length() > 40 ? s.substring(0, 40) + "..." : s) + "\"";
    }
    if (v instanceof Number) {
      return "number " + v + " (" + v.getClass().getSimpleName() + ")";
    }
    if (v instanceof Boolean) {
      return "boolean " + v;
    }
    if (v instanceof List) {
      return "a list";
    }
    if (v instanceof java.util.Map) {
      return "an object";
    }
    return "a " + v.getClass().getSimpleName();
  }

  private static List<String> names(List<KeyColumn> cols) {
    List<String> out = new ArrayList<>(cols.size());
    for (KeyColumn c : cols) {
      out.add(c.name());
    }
    return out;
  }
}
