package dev.scoreline.rocksdb;

import static java.nio.charset.StandardCharsets.UTF_8;

import dev.scoreline.core.error.ErrorCode;
import dev.scoreline.core.error.ScorelineException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The value encodings of {@link RocksDbKvStore}, versioned by their first byte.
 *
 * <pre>
 * record          [0x01] varint(fieldCount) { varint(len) UTF-8(field) varint(len) value }*
 * snapshot list   [0x01] varint(count) { varint(len) UTF-8(id) }*        newest first
 * </pre>
 *
 * Varints are unsigned LEB128 (7 bits a byte, low bits first). A record field value includes its
 * 16-byte stamp.
 */
final class Codec {
  static final byte RECORD_FORMAT = 1;
  static final byte SNAPSHOT_LIST_FORMAT = 1;

  private Codec() {}

  // ------------------------------------------------------------------ records

  /** Encodes fields in map order. */
  static byte[] encodeRecord(Map<String, byte[]> fields) {
    int size = 1 + varintSize(fields.size());
    List<byte[]> names = new ArrayList<>(fields.size());
    for (Map.Entry<String, byte[]> f : fields.entrySet()) {
      byte[] name = f.getKey().getBytes(UTF_8);
      names.add(name);
      size += varintSize(name.length) + name.length;
      size += varintSize(f.getValue().length) + f.getValue().length;
    }
    byte[] out = new byte[size];
    out[0] = RECORD_FORMAT;
    int at = writeVarint(out, 1, fields.size());
    int i = 0;
    for (byte[] value : fields.values()) {
      byte[] name = names.get(i++);
      at = writeVarint(out, at, name.length);
      System.arraycopy(name, 0, out, at, name.length);
      at += name.length;
      at = writeVarint(out, at, value.length);
      System.arraycopy(value, 0, out, at, value.length);
      at += value.length;
    }
    return out;
  }

  /**
   * The record of one field: the same bytes as {@link #encodeRecord} of a one-entry map, without
   * the map (the write path of a key that has no record yet).
   */
  static byte[] encodeSingleFieldRecord(String field, byte[] value) {
    byte[] name = field.getBytes(UTF_8);
    int size = 1 + 1 + varintSize(name.length) + name.length + varintSize(value.length);
    byte[] out = new byte[size + value.length];
    out[0] = RECORD_FORMAT;
    int at = writeVarint(out, 1, 1);
    at = writeVarint(out, at, name.length);
    System.arraycopy(name, 0, out, at, name.length);
    at += name.length;
    at = writeVarint(out, at, value.length);
    System.arraycopy(value, 0, out, at, value.length);
    return out;
  }

  /**
   * Where the value of the field whose UTF-8 name is {@code name} lies in an encoded record,
   * scanning it without decoding: {@code (start << 32) | length} of the value (after its length
   * varint). -1 when the record has no such field, has it more than once, or is not a well-formed
   * record (wrong format byte, truncated, trailing bytes): the caller then takes the decoding path,
   * which reports a malformed record. Only for ASCII names, whose byte equality is exactly the
   * equality of the decoded names.
   */
  static long locateField(byte[] data, byte[] name) {
    if (data == null || data.length == 0 || data[0] != RECORD_FORMAT) {
      return -1;
    }
    long found = -1;
    try {
      Reader r = new Reader(data, 1);
      int count = r.varint();
      for (int i = 0; i < count; i++) {
        int nameLen = r.varint();
        if (nameLen > data.length - r.at) {
          return -1;
        }
        boolean match = Arrays.equals(data, r.at, r.at + nameLen, name, 0, name.length);
        r.at += nameLen;
        int lenAt = r.at;
        int valueLen = r.varint();
        if (valueLen > data.length - r.at || r.at - lenAt != varintSize(valueLen)) {
          return -1; // (a non-minimal length varint: Codec never writes one)
        }
        if (match) {
          if (found >= 0) {
            return -1;
          }
          found = ((long) r.at << 32) | valueLen;
        }
        r.at += valueLen;
      }
      return r.at == data.length ? found : -1;
    } catch (ScorelineException e) {
      return -1;
    }
  }

  /**
   * Where the values of the fields named {@code names} (UTF-8 bytes of ASCII names) lie in an
   * encoded record, in one scan without decoding: {@code found[f] = (start << 32) | length} of the
   * value of {@code names[f]} (after its length varint), or -1 when the record has no such field;
   * for a name stored twice, the last one, as {@link #decodeRecord} keeps it. Returns false, and
   * leaves {@code found} undefined, when {@code data} is not a well-formed record (wrong format
   * byte, truncated, trailing bytes): the caller then takes the decoding path, which reports it.
   */
  static boolean locateFields(byte[] data, byte[][] names, long[] found) {
    Arrays.fill(found, 0, names.length, -1L);
    if (data.length == 0 || data[0] != RECORD_FORMAT) {
      return false;
    }
    try {
      Reader r = new Reader(data, 1);
      int count = r.varint();
      for (int i = 0; i < count; i++) {
        int nameLen = r.varint();
        if (nameLen > data.length - r.at) {
          return false;
        }
        int nameAt = r.at;
        r.at += nameLen;
        int valueLen = r.varint();
        if (valueLen > data.length - r.at) {
          return false;
        }
        for (int f = 0; f < names.length; f++) {
          byte[] name = names[f];
          if (name.length == nameLen
              && Arrays.equals(data, nameAt, nameAt + nameLen, name, 0, nameLen)) {
            found[f] = ((long) r.at << 32) | valueLen;
          }
        }
        r.at += valueLen;
      }
      return r.at == data.length;
    } catch (ScorelineException e) {
      return false;
    }
  }

  /**
   * The record {@code data} with the value at {@code start} ({@code length} bytes, as {@link
   * #locateField} found it) replaced by {@code value}: the same bytes as decoding the record,
   * putting the field and encoding it again, with one copy.
   */
  static byte[] replaceField(byte[] data, int start, int length, byte[] value) {
    int lenAt = start - varintSize(length);
    int tail = data.length - (start + length);
    byte[] out = new byte[lenAt + varintSize(value.length) + value.length + tail];
    System.arraycopy(data, 0, out, 0, lenAt);
    int at = writeVarint(out, lenAt, value.length);
    System.arraycopy(value, 0, out, at, value.length);
    System.arraycopy(data, start + length, out, at + value.length, tail);
    return out;
  }

  /** Decodes a record into a mutable map in stored order; an empty map for null. */
  static LinkedHashMap<String, byte[]> decodeRecord(byte[] data) {
    if (data == null) {
      return new LinkedHashMap<>();
    }
    if (data.length == 0 || data[0] != RECORD_FORMAT) {
      throw notARecord(data.length == 0 ? "empty value" : "format byte " + (data[0] & 0xff));
    }
    try {
      Reader r = new Reader(data, 1);
      int count = r.varint();
      LinkedHashMap<String, byte[]> fields = new LinkedHashMap<>(Math.max(4, count * 2));
      for (int i = 0; i < count; i++) {
        String name = r.string();
        fields.put(name, r.bytes());
      }
      r.end();
      return fields;
    } catch (ScorelineException e) {
      throw notARecord(e.getMessage());
    }
  }

  /**
   * Decodes a record for a reader: unmodifiable, in stored order, empty for null. A record of one
   * field (an entity with one view, the common case on the read path: 200 candidate items per
   * ranked request) becomes a {@code Map.of} without the LinkedHashMap and its wrapper.
   */
  static Map<String, byte[]> readRecord(byte[] data) {
    if (data == null) {
      return Map.of();
    }
    if (data.length > 1 && data[0] == RECORD_FORMAT && data[1] == 1) {
      try {
        Reader r = new Reader(data, 2);
        String name = r.string();
        byte[] value = r.bytes();
        r.end();
        return Map.of(name, value);
      } catch (ScorelineException e) {
        throw notARecord(e.getMessage());
      }
    }
    return Collections.unmodifiableMap(decodeRecord(data));
  }

  private static ScorelineException notARecord(String why) {
    return new ScorelineException(
        ErrorCode.USER_ERROR,
        "the value under this key is not a record ("
            + why
            + "): plain values (putAll) and records (mergeRecords) must live in different"
            + " namespaces");
  }

  // ------------------------------------------------------------------ snapshot lists

  static byte[] encodeSnapshotList(List<String> ids) {
    int size = 1 + varintSize(ids.size());
    List<byte[]> encoded = new ArrayList<>(ids.size());
    for (String id : ids) {
      byte[] b = id.getBytes(UTF_8);
      encoded.add(b);
      size += varintSize(b.length) + b.length;
    }
    byte[] out = new byte[size];
    out[0] = SNAPSHOT_LIST_FORMAT;
    int at = writeVarint(out, 1, ids.size());
    for (byte[] b : encoded) {
      at = writeVarint(out, at, b.length);
      System.arraycopy(b, 0, out, at, b.length);
      at += b.length;
    }
    return out;
  }

  /** Decodes a snapshot list (unmodifiable); empty for null. */
  static List<String> decodeSnapshotList(byte[] data) {
    if (data == null) {
      return List.of();
    }
    if (data.length == 0 || data[0] != SNAPSHOT_LIST_FORMAT) {
      throw corrupt("snapshot list with an unknown format");
    }
    Reader r = new Reader(data, 1);
    int count = r.varint();
    List<String> ids = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      ids.add(r.string());
    }
    r.end();
    return List.copyOf(ids);
  }

  // ------------------------------------------------------------------ varints

  static int varintSize(int v) {
    int n = 1;
    while ((v & ~0x7f) != 0) {
      v >>>= 7;
      n++;
    }
    return n;
  }

  static int writeVarint(byte[] out, int at, int v) {
    while ((v & ~0x7f) != 0) {
      out[at++] = (byte) ((v & 0x7f) | 0x80);
      v >>>= 7;
    }
    out[at++] = (byte) v;
    return at;
  }

  private static ScorelineException corrupt(String what) {
    return new ScorelineException(
        ErrorCode.INTERNAL, "corrupt RocksDB store value: " + what + " (written by another tool?)");
  }

  private static final class Reader {
    private final byte[] data;
    private int at;

    Reader(byte[] data, int at) {
      this.data = data;
      this.at = at;
    }

    int varint() {
      int v = 0;
      for (int shift = 0; shift < 35; shift += 7) {
        if (at >= data.length) {
          throw corrupt("truncated varint");
        }
        byte b = data[at++];
        v |= (b & 0x7f) << shift;
        if (b >= 0) {
          if (v < 0) {
            throw corrupt("negative length");
          }
          return v;
        }
      }
      throw corrupt("varint longer than 5 bytes");
    }

    byte[] bytes() {
      int len = varint();
      if (len > data.length - at) {
        throw corrupt("length beyond the end of the value");
      }
      byte[] b = new byte[len];
      System.arraycopy(data, at, b, 0, len);
      at += len;
      return b;
    }

    String string() {
      int len = varint();
      if (len > data.length - at) {
        throw corrupt("length beyond the end of the value");
      }
      String s = new String(data, at, len, UTF_8);
      at += len;
      return s;
    }

    void end() {
      if (at != data.length) {
        throw corrupt("trailing bytes");
      }
    }
  }
}
