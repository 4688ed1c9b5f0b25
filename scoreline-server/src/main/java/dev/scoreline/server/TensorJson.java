package dev.scoreline.server;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import dev.scoreline.core.error.ScorelineException;
import dev.scoreline.core.tensor.DataType;
import dev.scoreline.core.tensor.Fp16;
import dev.scoreline.core.tensor.Shapes;
import dev.scoreline.core.tensor.Tensor;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * Tensor data to and from JSON, element by element with Jackson's streaming API: a request's {@code
 * data} goes straight into a little-endian buffer, never through boxed numbers. Integers are read
 * as longs (exactly), never through a double.
 */
final class TensorJson {
  private static final int MAX_DEPTH = 64;

  private TensorJson() {}

  /**
   * Reads the data of one tensor; the parser's current token is the first token of the value (an
   * array, nested or flat, or a single scalar). Afterwards the current token is the value's last.
   *
   * @param field the request field for errors, such as {@code inputs[0].data}
   * @param maxElements an upper bound for the element count (the JSON length), so that a large
   *     shape with little data fails before anything is allocated
   */
  static Tensor read(
      JsonParser p, String field, String name, DataType type, long[] shape, long maxElements)
      throws IOException {
    long count = Shapes.elementCount(shapeField(field), shape);
    if (count > maxElements || count * Math.max(1, type.byteSize()) > Integer.MAX_VALUE - 16) {
      throw ScorelineException.userError(
          field,
          "input '"
              + name
              + "' has shape "
              + Shapes.format(shape)
              + " ("
              + count
              + " elements), more than the request can hold; send exactly as many elements as"
              + " the shape says");
    }
    int n = (int) count;
    if (type == DataType.BYTES) {
      byte[][] values = new byte[n][];
      int got = walk(p, field, name, shape, type, null, values, n);
      checkCount(field, name, shape, n, got);
      return Tensor.ofBytes(name, shape, values);
    }
    ByteBuffer buf = Tensor.allocate(n * type.byteSize());
    int got = walk(p, field, name, shape, type, buf, null, n);
    checkCount(field, name, shape, n, got);
    buf.flip();
    return Tensor.of(name, type, shape, buf);
  }

  private static String shapeField(String dataField) {
    return dataField.endsWith(".data")
        ? dataField.substring(0, dataField.length() - 5) + ".shape"
        : dataField + ".shape";
  }

  private static void checkCount(String field, String name, long[] shape, int expected, int got) {
    if (got != expected) {
      throw countMismatch(field, name, shape, expected, Integer.toString(got));
    }
  }

  private static ScorelineException countMismatch(
      String field, String name, long[] shape, long expected, String got) {
    return ScorelineException.userError(
        field,
        "input '"
            + name
            + "' has shape "
            + Shapes.format(shape)
            + " ("
            + expected
            + " elements) but its data has "
            + got
            + " elements; send exactly as many elements as the shape says");
  }

  private static int walk(
      JsonParser p,
      String field,
      String name,
      long[] shape,
      DataType type,
      ByteBuffer buf,
      byte[][] values,
      int n)
      throws IOException {
    JsonToken t = p.currentToken();
    if (t != JsonToken.START_ARRAY) {
      if (n < 1) {
        throw countMismatch(field, name, shape, n, "1");
      }
      put(p, t, field, type, buf, values, 0);
      return 1;
    }
    int i = 0;
    int depth = 1;
    while (depth > 0) {
      t = p.nextToken();
      if (t == JsonToken.START_ARRAY) {
        if (++depth > MAX_DEPTH) {
          throw ScorelineException.userError(field, field + " is nested too deeply");
        }
      } else if (t == JsonToken.END_ARRAY) {
        depth--;
      } else if (t == null) {
        throw ScorelineException.userError(field, field + " ends before its array is closed");
      } else {
        if (i >= n) {
          throw countMismatch(field, name, shape, n, "more than " + n);
        }
        put(p, t, field, type, buf, values, i++);
      }
    }
    return i;
  }

  private static void put(
      JsonParser p,
      JsonToken t,
      String field,
      DataType type,
      ByteBuffer buf,
      byte[][] values,
      int i)
      throws IOException {
    switch (type) {
      case FP32:
        buf.putFloat(floatValue(p, t, field, type, i));
        return;
      case FP64:
        buf.putDouble(doubleValue(p, t, field, type, i));
        return;
      case FP16:
        buf.putShort(Fp16.fromFloat(floatValue(p, t, field, type, i)));
        return;
      case BF16:
        buf.putShort(Fp16.floatToBf16(floatValue(p, t, field, type, i)));
        return;
      case BOOL:
        buf.put(boolValue(p, t, field, i) ? (byte) 1 : (byte) 0);
        return;
      case INT8:
        buf.put((byte) longValue(p, t, field, type, i, Byte.MIN_VALUE, Byte.MAX_VALUE));
        return;
      case UINT8:
        buf.put((byte) longValue(p, t, field, type, i, 0, 255));
        return;
      case INT16:
        buf.putShort((short) longValue(p, t, field, type, i, Short.MIN_VALUE, Short.MAX_VALUE));
        return;
      case UINT16:
        buf.putShort((short) longValue(p, t, field, type, i, 0, 65535));
        return;
      case INT32:
        buf.putInt((int) longValue(p, t, field, type, i, Integer.MIN_VALUE, Integer.MAX_VALUE));
        return;
      case UINT32:
        buf.putInt((int) longValue(p, t, field, type, i, 0, 0xffffffffL));
        return;
      case INT64:
        buf.putLong(longValue(p, t, field, type, i, Long.MIN_VALUE, Long.MAX_VALUE));
        return;
      case UINT64:
        buf.putLong(uint64Value(p, t, field, i));
        return;
      case BYTES:
        if (t != JsonToken.VALUE_STRING) {
          throw wrongType(p, t, field, type, i, "strings");
        }
        values[i] = p.getText().getBytes(StandardCharsets.UTF_8);
        return;
      default:
        throw new IllegalStateException("unexpected datatype " + type);
    }
  }

  private static float floatValue(JsonParser p, JsonToken t, String field, DataType type, int i)
      throws IOException {
    if (t == JsonToken.VALUE_NUMBER_FLOAT || t == JsonToken.VALUE_NUMBER_INT) {
      return p.getFloatValue();
    }
    throw wrongType(p, t, field, type, i, "numbers");
  }

  private static double doubleValue(JsonParser p, JsonToken t, String field, DataType type, int i)
      throws IOException {
    if (t == JsonToken.VALUE_NUMBER_FLOAT || t == JsonToken.VALUE_NUMBER_INT) {
      return p.getDoubleValue();
    }
    throw wrongType(p, t, field, type, i, "numbers");
  }

  private static boolean boolValue(JsonParser p, JsonToken t, String field, int i)
      throws IOException {
    if (t == JsonToken.VALUE_TRUE) {
      return true;
    }
    if (t == JsonToken.VALUE_FALSE) {
      return false;
    }
    if (t == JsonToken.VALUE_NUMBER_INT && p.getNumberType() != JsonParser.NumberType.BIG_INTEGER) {
      long v = p.getLongValue();
      if (v == 0 || v == 1) {
        return v == 1;
      }
    }
    throw wrongType(p, t, field, DataType.BOOL, i, "true or false");
  }

  private static long longValue(
      JsonParser p, JsonToken t, String field, DataType type, int i, long min, long max)
      throws IOException {
    if (t != JsonToken.VALUE_NUMBER_INT) {
      throw wrongType(p, t, field, type, i, "integers");
    }
    if (p.getNumberType() == JsonParser.NumberType.BIG_INTEGER) {
      throw outOfRange(p, field, type, i, min, Long.toString(max));
    }
    long v = p.getLongValue();
    if (v < min || v > max) {
      throw outOfRange(p, field, type, i, min, Long.toString(max));
    }
    return v;
  }

  private static long uint64Value(JsonParser p, JsonToken t, String field, int i)
      throws IOException {
    if (t != JsonToken.VALUE_NUMBER_INT) {
      throw wrongType(p, t, field, DataType.UINT64, i, "integers");
    }
    if (p.getNumberType() != JsonParser.NumberType.BIG_INTEGER) {
      long v = p.getLongValue();
      if (v >= 0) {
        return v;
      }
    } else {
      BigInteger b = p.getBigIntegerValue();
      if (b.signum() >= 0 && b.bitLength() <= 64) {
        return b.longValue();
      }
    }
    throw outOfRange(p, field, DataType.UINT64, i, 0, Long.toUnsignedString(-1L));
  }

  private static ScorelineException wrongType(
      JsonParser p, JsonToken t, String field, DataType type, int i, String expected)
      throws IOException {
    return ScorelineException.userError(
        field,
        field
            + " element "
            + i
            + " is "
            + describe(p, t)
            + " but datatype "
            + type
            + " needs "
            + expected);
  }

  private static ScorelineException outOfRange(
      JsonParser p, String field, DataType type, int i, long min, String max) throws IOException {
    return ScorelineException.userError(
        field,
        field
            + " element "
            + i
            + " is "
            + p.getText()
            + ", out of range for datatype "
            + type
            + " ["
            + min
            + ", "
            + max
            + "]");
  }

  private static String describe(JsonParser p, JsonToken t) throws IOException {
    switch (t) {
      case VALUE_STRING:
        String s = p.getText();
        return "the string \"" + (s.length() > 40 ? s.substring(0, 40) + "..." : s) + "\"";
      case VALUE_NUMBER_INT:
      case VALUE_NUMBER_FLOAT:
        return "the number " + p.getText();
      case VALUE_TRUE:
      case VALUE_FALSE:
        return "the boolean " + p.getText();
      case VALUE_NULL:
        return "null";
      case START_OBJECT:
        return "an object";
      default:
        return t.toString();
    }
  }

  // ------------------------------------------------------------------ writing

  /** Writes a tensor's elements as one flat JSON array (row-major). */
  static void writeFlat(JsonGenerator g, Tensor t) throws IOException {
    int n = t.elementCount();
    g.writeStartArray();
    if (t.type() == DataType.BYTES) {
      for (byte[] b : t.bytesData()) {
        g.writeString(new String(b, StandardCharsets.UTF_8));
      }
    } else {
      ByteBuffer b = t.data();
      for (int i = 0; i < n; i++) {
        writeElement(g, t.type(), b, i);
      }
    }
    g.writeEndArray();
  }

  /**
   * Writes the elements from index {@code from} nested by {@code shape[dim..]} (TF Serving style).
   * {@code bytesAsBase64} writes BYTES elements as {@code {"b64": "..."}}.
   */
  static void writeNested(
      JsonGenerator g, Tensor t, long[] shape, int dim, int from, boolean bytesAsBase64)
      throws IOException {
    ByteBuffer data = t.type() == DataType.BYTES ? null : t.data();
    byte[][] bytes = t.type() == DataType.BYTES ? t.bytesData() : null;
    writeNested(g, t.type(), data, bytes, shape, dim, from, bytesAsBase64);
  }

  private static void writeNested(
      JsonGenerator g,
      DataType type,
      ByteBuffer data,
      byte[][] bytes,
      long[] shape,
      int dim,
      int from,
      boolean bytesAsBase64)
      throws IOException {
    if (dim == shape.length) {
      if (bytes == null) {
        writeElement(g, type, data, from);
      } else if (bytesAsBase64) {
        g.writeStartObject();
        g.writeFieldName("b64");
        g.writeBinary(bytes[from]);
        g.writeEndObject();
      } else {
        g.writeString(new String(bytes[from], StandardCharsets.UTF_8));
      }
      return;
    }
    int stride = 1;
    for (int d = dim + 1; d < shape.length; d++) {
      stride *= (int) shape[d];
    }
    g.writeStartArray();
    for (int k = 0; k < shape[dim]; k++) {
      writeNested(g, type, data, bytes, shape, dim + 1, from + k * stride, bytesAsBase64);
    }
    g.writeEndArray();
  }

  static void writeElement(JsonGenerator g, DataType type, ByteBuffer b, int i) throws IOException {
    switch (type) {
      case FP32:
        g.writeNumber(b.getFloat(i * 4));
        return;
      case FP64:
        g.writeNumber(b.getDouble(i * 8));
        return;
      case FP16:
        g.writeNumber(Fp16.toFloat(b.getShort(i * 2)));
        return;
      case BF16:
        g.writeNumber(Fp16.bf16ToFloat(b.getShort(i * 2)));
        return;
      case BOOL:
        g.writeBoolean(b.get(i) != 0);
        return;
      case INT8:
        g.writeNumber(b.get(i));
        return;
      case UINT8:
        g.writeNumber(b.get(i) & 0xff);
        return;
      case INT16:
        g.writeNumber(b.getShort(i * 2));
        return;
      case UINT16:
        g.writeNumber(b.getShort(i * 2) & 0xffff);
        return;
      case INT32:
        g.writeNumber(b.getInt(i * 4));
        return;
      case UINT32:
        g.writeNumber(b.getInt(i * 4) & 0xffffffffL);
        return;
      case INT64:
        g.writeNumber(b.getLong(i * 8));
        return;
      case UINT64:
        long v = b.getLong(i * 8);
        if (v >= 0) {
          g.writeNumber(v);
        } else {
          g.writeNumber(Long.toUnsignedString(v));
        }
        return;
      default:
        throw new IllegalStateException("unexpected datatype " + type);
    }
  }
}
