package dev.scoreline.core.tensor;

import static java.util.Objects.requireNonNull;

import dev.scoreline.core.error.ScorelineException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * A named, typed, shaped array. Fixed-size datatypes keep their elements in one little-endian,
 * row-major {@link ByteBuffer} (heap or direct: a direct buffer goes to the runtime without a
 * copy); {@link DataType#BYTES} keeps one {@code byte[]} per element.
 *
 * <p>A tensor is immutable by convention: nobody writes to its buffer after construction.
 */
public final class Tensor {
  private final String name;
  private final DataType type;
  private final long[] shape;
  private final ByteBuffer data;
  private final byte[][] bytes;
  private final int elementCount;

  private Tensor(String name, DataType type, long[] shape, ByteBuffer data, byte[][] bytes) {
    this.name = requireNonNull(name, "name is null");
    this.type = requireNonNull(type, "type is null");
    this.shape = shape.clone();
    long count = Shapes.elementCount(name + ".shape", shape);
    if (count > Integer.MAX_VALUE) {
      throw ScorelineException.userError(
          name, "tensor '" + name + "' has " + count + " elements; at most 2^31-1 are supported");
    }
    this.elementCount = (int) count;
    if (type == DataType.BYTES) {
      requireNonNull(bytes, "bytes is null");
      if (bytes.length != elementCount) {
        throw elementMismatch(name, shape, elementCount, bytes.length);
      }
      this.data = null;
      this.bytes = bytes;
    } else {
      requireNonNull(data, "data is null");
      long expected = (long) elementCount * type.byteSize();
      if (data.remaining() != expected) {
        throw ScorelineException.userError(
            name,
            "tensor '"
                + name
                + "' of shape "
                + Shapes.format(shape)
                + " and datatype "
                + type
                + " needs "
                + expected
                + " bytes of data but got "
                + data.remaining());
      }
      this.data = data.slice().order(ByteOrder.LITTLE_ENDIAN);
      this.bytes = null;
    }
  }

  static ScorelineException elementMismatch(String name, long[] shape, long expected, long got) {
    return ScorelineException.userError(
        name,
        "tensor '"
            + name
            + "' has shape "
            + Shapes.format(shape)
            + " ("
            + expected
            + " elements) but its data has "
            + got
            + " elements; send exactly as many elements as the shape says");
  }

  /** A fixed-size tensor over little-endian bytes; {@code data}'s remaining bytes are used. */
  public static Tensor of(String name, DataType type, long[] shape, ByteBuffer data) {
    if (type == DataType.BYTES) {
      throw new IllegalArgumentException("use ofBytes for BYTES tensors");
    }
    return new Tensor(name, type, shape, data, null);
  }

  public static Tensor ofBytes(String name, long[] shape, byte[][] values) {
    return new Tensor(name, DataType.BYTES, shape, null, values);
  }

  public static Tensor ofStrings(String name, long[] shape, String... values) {
    byte[][] b = new byte[values.length][];
    for (int i = 0; i < values.length; i++) {
      b[i] = values[i].getBytes(StandardCharsets.UTF_8);
    }
    return ofBytes(name, shape, b);
  }

  public static Tensor ofFloats(String name, long[] shape, float... values) {
    ByteBuffer b = allocate(values.length * 4);
    b.asFloatBuffer().put(values);
    return checked(name, DataType.FP32, shape, b, values.length);
  }

  public static Tensor ofDoubles(String name, long[] shape, double... values) {
    ByteBuffer b = allocate(values.length * 8);
    b.asDoubleBuffer().put(values);
    return checked(name, DataType.FP64, shape, b, values.length);
  }

  public static Tensor ofLongs(String name, long[] shape, long... values) {
    ByteBuffer b = allocate(values.length * 8);
    b.asLongBuffer().put(values);
    return checked(name, DataType.INT64, shape, b, values.length);
  }

  public static Tensor ofInts(String name, long[] shape, int... values) {
    ByteBuffer b = allocate(values.length * 4);
    b.asIntBuffer().put(values);
    return checked(name, DataType.INT32, shape, b, values.length);
  }

  public static Tensor ofBooleans(String name, long[] shape, boolean... values) {
    ByteBuffer b = allocate(values.length);
    for (boolean v : values) {
      b.put((byte) (v ? 1 : 0));
    }
    b.flip();
    return checked(name, DataType.BOOL, shape, b, values.length);
  }

  /**
   * Builds a tensor of any numeric datatype from doubles, converting each element (FP16/BF16 round
   * to nearest even; integers must be integral and in range).
   */
  public static Tensor ofNumbers(String name, DataType type, long[] shape, double[] values) {
    ByteBuffer b = allocate(values.length * type.byteSize());
    for (int i = 0; i < values.length; i++) {
      TensorWriter.put(b, type, values[i], name, i);
    }
    b.flip();
    return checked(name, type, shape, b, values.length);
  }

  private static Tensor checked(
      String name, DataType type, long[] shape, ByteBuffer b, int elements) {
    long expected = Shapes.elementCount(name + ".shape", shape);
    if (expected != elements) {
      throw elementMismatch(name, shape, expected, elements);
    }
    return new Tensor(name, type, shape, b, null);
  }

  /** A little-endian heap buffer of {@code bytes} bytes, position 0. */
  public static ByteBuffer allocate(int bytes) {
    return ByteBuffer.allocate(bytes).order(ByteOrder.LITTLE_ENDIAN);
  }

  public String name() {
    return name;
  }

  public DataType type() {
    return type;
  }

  public long[] shape() {
    return shape.clone();
  }

  public int rank() {
    return shape.length;
  }

  public long dim(int i) {
    return shape[i];
  }

  public int elementCount() {
    return elementCount;
  }

  /** The raw little-endian bytes (a fresh read-only view, position 0); not for BYTES. */
  public ByteBuffer data() {
    if (data == null) {
      throw new IllegalStateException("BYTES tensor '" + name + "' has no fixed-size data");
    }
    return data.asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN);
  }

  /** The elements of a BYTES tensor (the array itself: do not modify). */
  public byte[][] bytesData() {
    if (bytes == null) {
      throw new IllegalStateException("tensor '" + name + "' is " + type + ", not BYTES");
    }
    return bytes;
  }

  /** Size in bytes of the data (for BYTES: the sum of the element lengths). */
  public long byteSize() {
    if (bytes != null) {
      long n = 0;
      for (byte[] b : bytes) {
        n += b.length;
      }
      return n;
    }
    return data.remaining();
  }

  /** The same data under another name. */
  public Tensor withName(String newName) {
    return new Tensor(newName, type, shape, data, bytes);
  }

  /** The same data with another shape of the same element count. */
  public Tensor reshape(long[] newShape) {
    return new Tensor(name, type, newShape, data, bytes);
  }

  /** Element {@code i} (row-major) as a double; for any numeric or BOOL datatype. */
  public double getDouble(int i) {
    return TensorWriter.get(data, type, i);
  }

  /** All elements as doubles (a copy); for any numeric or BOOL datatype. */
  public double[] toDoubleArray() {
    double[] out = new double[elementCount];
    for (int i = 0; i < elementCount; i++) {
      out[i] = TensorWriter.get(data, type, i);
    }
    return out;
  }

  /** All elements as floats (a copy). */
  public float[] toFloatArray() {
    float[] out = new float[elementCount];
    if (type == DataType.FP32) {
      data.asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(out);
      return out;
    }
    for (int i = 0; i < elementCount; i++) {
      out[i] = (float) TensorWriter.get(data, type, i);
    }
    return out;
  }

  /** All elements as longs (a copy); for integer and BOOL datatypes. */
  public long[] toLongArray() {
    long[] out = new long[elementCount];
    if (type == DataType.INT64) {
      data.asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN).asLongBuffer().get(out);
      return out;
    }
    if (type.isFloatingPoint() || type == DataType.BYTES) {
      throw new IllegalStateException("tensor '" + name + "' is " + type + ", not an integer type");
    }
    for (int i = 0; i < elementCount; i++) {
      out[i] = TensorWriter.getLong(data, type, i);
    }
    return out;
  }

  /** The elements of a BYTES tensor decoded as UTF-8. */
  public List<String> toStrings() {
    byte[][] b = bytesData();
    String[] out = new String[b.length];
    for (int i = 0; i < b.length; i++) {
      out[i] = new String(b[i], StandardCharsets.UTF_8);
    }
    return List.of(out);
  }

  /** Index of the first NaN element, or -1; only floating-point datatypes can hold NaN. */
  public int firstNaN() {
    if (!type.isFloatingPoint()) {
      return -1;
    }
    if (type == DataType.FP32) { // the common case, checked on every request: no per-element switch
      ByteBuffer b = data;
      for (int i = 0; i < elementCount; i++) {
        if ((b.getInt(i << 2) & 0x7fffffff) > 0x7f800000) { // exponent all ones, mantissa not 0
          return i;
        }
      }
      return -1;
    }
    for (int i = 0; i < elementCount; i++) {
      if (Double.isNaN(TensorWriter.get(data, type, i))) {
        return i;
      }
    }
    return -1;
  }

  @Override
  public String toString() {
    return "Tensor{" + name + ", " + type + ", " + Shapes.format(shape) + "}";
  }
}
