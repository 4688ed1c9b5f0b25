package dev.scoreline.core.feature.online;

import dev.scoreline.core.error.ErrorCode;
import dev.scoreline.core.error.ScorelineException;
import dev.scoreline.core.feature.Definitions.Feature;
import dev.scoreline.core.feature.Definitions.FeatureView;
import dev.scoreline.core.feature.ValueType;
import dev.scoreline.core.kv.KvStore;
import dev.scoreline.core.kv.Stamps;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;

/**
 * The binary value of one feature view in an entity record. An entity's record (key: {@link
 * EntityKeys}, namespace {@code features/<entity>}) has one field per feature view, named by the
 * view; the field's value is laid out as below. Every reader and writer of the online store uses
 * this class.
 *
 * <h2>Layout, format version 1</h2>
 *
 * <pre>
 * view value := stamp version:u8 (0x01) count:varint feature*
 * stamp      := event:i64 created:i64       16 bytes, the KvStore LWW stamp (see Stamps):
 *                                           microseconds since the epoch, big-endian, sign bit
 *                                           flipped so unsigned byte order = time order;
 *                                           created = arrival time when the row has none
 * count      := number of features that follow (the view's feature count when written)
 * feature    := tag:u8 payload              in the view's schema order
 *   tag 0x00 NULL         (no payload)
 *   tag 0x01 INT64        8-byte big-endian two's complement
 *   tag 0x02 FP64         8-byte big-endian IEEE 754 binary64
 *   tag 0x03 FP32         4-byte big-endian IEEE 754 binary32
 *   tag 0x04 STRING       length:varint, UTF-8 bytes
 *   tag 0x05 BOOL         1 byte: 0x00 false, 0x01 true
 *   tag 0x06 BYTES        length:varint, bytes
 *   tag 0x07 FP32_LIST    n:varint, n x 4-byte big-endian binary32
 *   tag 0x08 INT64_LIST   n:varint, n x 8-byte big-endian two's complement
 *   tag 0x09 STRING_LIST  n:varint, n x (length:varint, UTF-8 bytes)
 * varint     := unsigned LEB128 (protobuf varint), at most 5 bytes, value &lt; 2^31
 * </pre>
 *
 * Example: view {@code (clicks int64, name string)}, event 1 µs, created 2 µs, values {@code (7,
 * "a")}: {@code 80 00 00 00 00 00 00 01 80 00 00 00 00 00 00 02 | 01 | 02 | 01 00 00 00 00 00 00 00
 * 07 | 04 01 61}.
 *
 * <h2>Schema evolution</h2>
 *
 * Values are decoded by position, using the stored count. A feature appended to a view after a
 * value was written lies beyond the stored count and reads as {@link FeatureStatus#NOT_FOUND}; a
 * stored feature whose tag differs from the view's current type (the type was changed) also reads
 * as NOT_FOUND. Appending features is therefore safe; removing, reordering or renaming features (or
 * renaming the view, which names the record field) needs a re-materialization of the view. Readers
 * refuse other format versions with UNSUPPORTED.
 */
public final class ViewCodec {
  /** The byte after the stamp. */
  public static final byte FORMAT_VERSION = 0x01;

  /** Offset of the format version byte (right after the stamp). */
  public static final int VERSION_OFFSET = KvStore.STAMP_BYTES;

  private ViewCodec() {}

  // ---------------------------------------------------------------- write

  /**
   * Encodes a row of {@code view}: values in the view's feature order, null for a missing value.
   *
   * @throws ScorelineException USER_ERROR naming the feature when a value has the wrong Java type
   */
  public static byte[] encode(
      FeatureView view, long eventMicros, long createdMicros, Object[] values) {
    Bytes.Writer w = new Bytes.Writer(64);
    encode(w, view, eventMicros, createdMicros, values, "values");
    return w.toByteArray();
  }

  static void encode(
      Bytes.Writer w,
      FeatureView view,
      long eventMicros,
      long createdMicros,
      Object[] values,
      String field) {
    List<Feature> features = view.features();
    if (values == null || values.length != features.size()) {
      throw ScorelineException.userError(
          field,
          field
              + ": view '"
              + view.name()
              + "' has "
              + features.size()
              + " features "
              + featureNames(view)
              + "; got "
              + (values == null ? "none" : values.length + " value(s)"));
    }
    w.reset();
    w.writeStamp(eventMicros, createdMicros);
    w.writeByte(FORMAT_VERSION);
    w.writeVarint(features.size());
    for (int i = 0; i < values.length; i++) {
      ValueType t = features.get(i).type();
      Object v = values[i];
      if (!accepts(t, v)) {
        String f = features.get(i).name();
        throw ScorelineException.userError(
            field + "." + f,
            field
                + "."
                + f
                + ": feature '"
                + f
                + "' of view '"
                + view.name()
                + "' is "
                + EntityKeys.typeName(t)
                + " and takes "
                + javaType(t)
                + "; got "
                + EntityKeys.describe(v));
      }
      writeValue(w, t, v);
    }
  }

  /** {@link ValueType#accepts}, and lists hold no nulls and (STRING_LIST) only strings. */
  static boolean accepts(ValueType t, Object v) {
    if (!t.accepts(v)) {
      return false;
    }
    if (t == ValueType.STRING_LIST && v != null) {
      for (Object o : (List<?>) v) {
        if (!(o instanceof String)) {
          return false;
        }
      }
    }
    return true;
  }

  static String javaType(ValueType t) {
    switch (t) {
      case INT64:
        return "a Long";
      case FP64:
        return "a Double";
      case FP32:
        return "a Float";
      case STRING:
        return "a String";
      case BOOL:
        return "a Boolean";
      case BYTES:
        return "a byte[]";
      case FP32_LIST:
        return "a float[]";
      case INT64_LIST:
        return "a long[]";
      case STRING_LIST:
        return "a List<String> without nulls";
      default:
        return t.name();
    }
  }

  private static void writeValue(Bytes.Writer w, ValueType t, Object v) {
    if (v == null) {
      w.writeByte(TypeTags.NULL);
      return;
    }
    w.writeByte(TypeTags.of(t));
    switch (t) {
      case INT64:
        w.writeLong((Long) v);
        break;
      case FP64:
        w.writeLong(Double.doubleToRawLongBits((Double) v));
        break;
      case FP32:
        w.writeInt(Float.floatToRawIntBits((Float) v));
        break;
      case STRING:
        w.writeString((String) v);
        break;
      case BOOL:
        w.writeByte(((Boolean) v) ? 1 : 0);
        break;
      case BYTES:
        byte[] b = (byte[]) v;
        w.writeVarint(b.length);
        w.writeBytes(b);
        break;
      case FP32_LIST:
        float[] fs = (float[]) v;
        w.writeVarint(fs.length);
        for (float f : fs) {
          w.writeInt(Float.floatToRawIntBits(f));
        }
        break;
      case INT64_LIST:
        long[] ls = (long[]) v;
        w.writeVarint(ls.length);
        for (long l : ls) {
          w.writeLong(l);
        }
        break;
      case STRING_LIST:
        List<?> ss = (List<?>) v;
        w.writeVarint(ss.size());
        for (Object s : ss) {
          w.writeString((String) s);
        }
        break;
      default:
        throw new IllegalStateException("unreachable");
    }
  }

  // ---------------------------------------------------------------- header

  /** The event time of a view value, microseconds since the epoch. */
  public static long eventMicros(byte[] value) {
    return Stamps.read(value, 0);
  }

  /** The created (or arrival) time of a view value, microseconds since the epoch. */
  public static long createdMicros(byte[] value) {
    return Stamps.read(value, 8);
  }

  /** The format version byte of a view value. */
  public static int formatVersion(byte[] value) {
    return value[VERSION_OFFSET] & 0xff;
  }

  /** The feature count stored in a version-1 view value. */
  public static int featureCount(byte[] value) {
    checkHeader(value);
    return new Bytes.Reader(value, VERSION_OFFSET + 1).readVarint();
  }

  /**
   * Checks the length and the format version.
   *
   * @throws Bytes.CorruptException when too short
   * @throws ScorelineException UNSUPPORTED for another format version
   */
  static void checkHeader(byte[] value) {
    checkHeader(value, 0, value.length);
  }

  /** {@link #checkHeader(byte[])} of the value at {@code bytes[offset, offset + length)}. */
  static void checkHeader(byte[] bytes, int offset, int length) {
    if (length < VERSION_OFFSET + 2) {
      throw new Bytes.CorruptException("view value of " + length + " bytes is too short");
    }
    if (bytes[offset + VERSION_OFFSET] != FORMAT_VERSION) {
      throw new ScorelineException(
          ErrorCode.UNSUPPORTED,
          "feature value has format version "
              + (bytes[offset + VERSION_OFFSET] & 0xff)
              + "; this Scoreline reads version "
              + FORMAT_VERSION
              + ": upgrade Scoreline or re-materialize the view");
    }
  }

  // ---------------------------------------------------------------- read

  /** A whole decoded view value (for tools and tests; the read path decodes selectively). */
  public record Decoded(
      long eventMicros, long createdMicros, Object[] values, FeatureStatus[] statuses) {}

  /**
   * Decodes every feature of {@code view} from a stored value: PRESENT with the value, NULL, or
   * NOT_FOUND (appended after the write, or stored with another type) with null.
   *
   * @throws IllegalArgumentException when the bytes are corrupt
   */
  public static Decoded decode(FeatureView view, byte[] value) {
    List<Feature> features = view.features();
    Object[] values = new Object[features.size()];
    FeatureStatus[] statuses = new FeatureStatus[features.size()];
    Arrays.fill(statuses, FeatureStatus.NOT_FOUND);
    try {
      checkHeader(value);
      Bytes.Reader r = new Bytes.Reader(value, VERSION_OFFSET + 1);
      int count = r.readVarint();
      for (int i = 0; i < count; i++) {
        byte tag = r.readByte();
        if (i >= features.size()) {
          skipPayload(r, tag);
          continue;
        }
        if (tag == TypeTags.NULL) {
          statuses[i] = FeatureStatus.NULL;
        } else if (tag != TypeTags.of(features.get(i).type())) {
          skipPayload(r, tag);
        } else {
          values[i] = readObject(r, tag);
          statuses[i] = FeatureStatus.PRESENT;
        }
      }
    } catch (Bytes.CorruptException e) {
      throw new IllegalArgumentException("corrupt value of view '" + view.name() + "': " + e, e);
    }
    return new Decoded(eventMicros(value), createdMicros(value), values, statuses);
  }

  /**
   * The read hot path: decodes only the positions of {@code vr} into row {@code row} of {@code
   * out}, skipping the others without allocation; stops after the last wanted position. The header
   * must have been checked.
   */
  static void decodeInto(
      byte[] value, ReadPlan.ViewRead vr, FeatureVectors out, int row, Bytes.Reader r) {
    decodeInto(value, 0, value.length, vr, out, row, r);
  }

  /**
   * {@link #decodeInto(byte[], ReadPlan.ViewRead, FeatureVectors, int, Bytes.Reader)} of the value
   * at {@code bytes[offset, offset + length)}, read in place (the value inside the record a store
   * read): the same statuses, values and errors as decoding a copy of it.
   */
  static void decodeInto(
      byte[] bytes,
      int offset,
      int length,
      ReadPlan.ViewRead vr,
      FeatureVectors out,
      int row,
      Bytes.Reader r) {
    r.reset(bytes, offset, offset + VERSION_OFFSET + 1, offset + length);
    int count = r.readVarint();
    int pos = 0;
    int[] positions = vr.positions;
    for (int k = 0; k < positions.length; k++) {
      int want = positions[k];
      int[] cols = vr.columns[k];
      if (want >= count) {
        setStatus(out, cols, row, FeatureStatus.NOT_FOUND);
        continue;
      }
      while (pos < want) {
        skipPayload(r, r.readByte());
        pos++;
      }
      byte tag = r.readByte();
      pos++;
      if (tag == TypeTags.NULL) {
        setStatus(out, cols, row, FeatureStatus.NULL);
      } else if (tag != vr.tags[k]) {
        skipPayload(r, tag);
        setStatus(out, cols, row, FeatureStatus.NOT_FOUND);
      } else if (tag <= TypeTags.FP32 || tag == TypeTags.BOOL) {
        long bits = readBits(r, tag);
        for (int c : cols) {
          out.prims[c][row] = bits;
          out.statuses[c][row] = 0; // PRESENT
        }
      } else {
        Object o = readObject(r, tag);
        for (int c : cols) {
          out.objects[c][row] = o;
          out.statuses[c][row] = 0; // PRESENT
        }
      }
    }
  }

  private static void setStatus(FeatureVectors out, int[] cols, int row, FeatureStatus s) {
    byte code = s.code();
    for (int c : cols) {
      out.statuses[c][row] = code;
    }
  }

  private static long readBits(Bytes.Reader r, byte tag) {
    switch (tag) {
      case TypeTags.INT64:
      case TypeTags.FP64:
        return r.readLong();
      case TypeTags.FP32:
        return r.readInt();
      case TypeTags.BOOL:
        return r.readByte() != 0 ? 1L : 0L;
      default:
        throw new Bytes.CorruptException("tag " + tag + " is not a scalar");
    }
  }

  private static Object readObject(Bytes.Reader r, byte tag) {
    switch (tag) {
      case TypeTags.INT64:
        return r.readLong();
      case TypeTags.FP64:
        return Double.longBitsToDouble(r.readLong());
      case TypeTags.FP32:
        return Float.intBitsToFloat(r.readInt());
      case TypeTags.BOOL:
        return r.readByte() != 0;
      case TypeTags.STRING:
        return r.readString();
      case TypeTags.BYTES:
        return r.readBytes();
      case TypeTags.FP32_LIST:
        {
          float[] fs = new float[r.readCount(4)];
          r.readFloats(fs);
          return fs;
        }
      case TypeTags.INT64_LIST:
        {
          long[] ls = new long[r.readCount(8)];
          r.readLongs(ls);
          return ls;
        }
      case TypeTags.STRING_LIST:
        {
          int n = r.readCount(1);
          String[] ss = new String[n];
          for (int i = 0; i < n; i++) {
            ss[i] = r.readString();
          }
          return Collections.unmodifiableList(Arrays.asList(ss));
        }
      default:
        throw new Bytes.CorruptException("unknown type tag " + tag);
    }
  }

  private static void skipPayload(Bytes.Reader r, byte tag) {
    switch (tag) {
      case TypeTags.NULL:
        return;
      case TypeTags.INT64:
      case TypeTags.FP64:
        r.skip(8);
        return;
      case TypeTags.FP32:
        r.skip(4);
        return;
      case TypeTags.BOOL:
        r.skip(1);
        return;
      case TypeTags.STRING:
      case TypeTags.BYTES:
        r.skip(r.readVarint());
        return;
      case TypeTags.FP32_LIST:
        r.skip(r.readCount(4) * 4);
        return;
      case TypeTags.INT64_LIST:
        r.skip(r.readCount(8) * 8);
        return;
      case TypeTags.STRING_LIST:
        {
          int n = r.readCount(1);
          for (int i = 0; i < n; i++) {
            r.skip(r.readVarint());
          }
          return;
        }
      default:
        throw new Bytes.CorruptException("unknown type tag " + tag);
    }
  }

  private static List<String> featureNames(FeatureView view) {
    String[] names = new String[view.features().size()];
    for (int i = 0; i < names.length; i++) {
      names[i] = view.features().get(i).name();
    }
    return Arrays.asList(names);
  }
}
