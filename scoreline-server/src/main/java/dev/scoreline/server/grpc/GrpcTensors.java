package dev.scoreline.server.grpc;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import dev.scoreline.core.error.ErrorCode;
import dev.scoreline.core.error.ScorelineException;
import dev.scoreline.core.tensor.DataType;
import dev.scoreline.core.tensor.Shapes;
import dev.scoreline.core.tensor.Tensor;
import dev.scoreline.server.grpc.proto.InferParameter;
import dev.scoreline.server.grpc.proto.InferTensorContents;
import dev.scoreline.server.grpc.proto.ModelInferRequest;
import dev.scoreline.server.grpc.proto.ModelInferRequest.InferInputTensor;
import dev.scoreline.server.grpc.proto.ModelInferResponse;
import dev.scoreline.server.grpc.proto.ModelInferResponse.InferOutputTensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Converts Open Inference Protocol gRPC messages to and from Scoreline tensors. Inputs come from
 * {@code raw_input_contents} or from the typed {@code contents} of each input, never both; outputs
 * always go out as {@code raw_output_contents}, as Triton sends them. Every mistake in a request is
 * a USER_ERROR naming the field at fault.
 */
final class GrpcTensors {
  private static final String RAW = "raw_input_contents";

  /** Names of the typed contents fields, indexed like {@link #typedCounts}. */
  private static final String[] TYPED_FIELDS = {
    "bool_contents",
    "int_contents",
    "int64_contents",
    "uint_contents",
    "uint64_contents",
    "fp32_contents",
    "fp64_contents",
    "bytes_contents"
  };

  private GrpcTensors() {}

  // ---------------------------------------------------------------- request

  /** The input tensors of a request, in request order. */
  static List<Tensor> inputs(ModelInferRequest request) {
    int n = request.getInputsCount();
    int rawCount = request.getRawInputContentsCount();
    boolean raw = rawCount > 0;
    if (raw && rawCount != n) {
      throw ScorelineException.userError(
          RAW,
          "the request has "
              + n
              + " inputs but "
              + rawCount
              + " raw_input_contents entries; send one entry per input, in the order of inputs");
    }
    List<Tensor> out = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      InferInputTensor in = request.getInputs(i);
      String field = "inputs[" + i + "]";
      String name = in.getName();
      if (name.isEmpty()) {
        throw ScorelineException.userError(
            field + ".name", field + ".name is missing; name every input");
      }
      DataType type = DataType.parse(field + ".datatype", in.getDatatype());
      long[] shape = new long[in.getShapeCount()];
      for (int d = 0; d < shape.length; d++) {
        shape[d] = in.getShape(d);
      }
      long count = Shapes.elementCount(field + ".shape", shape);
      if (raw) {
        if (in.hasContents() && totalTyped(in.getContents()) > 0) {
          throw ScorelineException.userError(
              field + ".contents",
              "input '"
                  + name
                  + "' sets contents but the request also sets raw_input_contents; send all"
                  + " inputs raw or all inputs as typed contents, not both");
        }
        out.add(fromRaw(name, type, shape, count, request.getRawInputContents(i), i));
      } else {
        out.add(fromContents(name, type, shape, count, in.getContents(), field));
      }
    }
    return out;
  }

  private static Tensor fromRaw(
      String name, DataType type, long[] shape, long count, ByteString raw, int i) {
    String field = RAW + "[" + i + "]";
    if (type == DataType.BYTES) {
      return Tensor.ofBytes(name, shape, splitBytes(name, shape, count, raw, field));
    }
    long expected = count * type.byteSize();
    if (raw.size() != expected) {
      throw ScorelineException.userError(
          field,
          "expected "
              + expected
              + " bytes for shape "
              + Shapes.format(shape)
              + " "
              + type
              + " (input '"
              + name
              + "') but got "
              + raw.size());
    }
    // A view of the received bytes, no copy; the tensor is read-only by contract.
    return Tensor.of(name, type, shape, raw.asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN));
  }

  /** Splits raw BYTES data: each element is a 4-byte little-endian length and then its bytes. */
  private static byte[][] splitBytes(
      String name, long[] shape, long count, ByteString raw, String field) {
    if (count > Integer.MAX_VALUE) {
      throw ScorelineException.userError(
          field, "input '" + name + "' has " + count + " elements; at most 2^31-1 are supported");
    }
    ByteBuffer b = raw.asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
    byte[][] out = new byte[(int) count][];
    int e = 0;
    while (b.hasRemaining()) {
      if (e == out.length) {
        throw ScorelineException.userError(
            field,
            "input '"
                + name
                + "' has shape "
                + Shapes.format(shape)
                + " ("
                + count
                + " elements) but "
                + field
                + " holds more elements; each BYTES element is a 4-byte little-endian length"
                + " followed by that many bytes");
      }
      if (b.remaining() < 4) {
        throw ScorelineException.userError(
            field,
            "element "
                + e
                + " of input '"
                + name
                + "' is cut short: "
                + b.remaining()
                + " bytes left where a 4-byte little-endian length belongs");
      }
      long len = Integer.toUnsignedLong(b.getInt());
      if (len > b.remaining()) {
        throw ScorelineException.userError(
            field,
            "element "
                + e
                + " of input '"
                + name
                + "' says it has "
                + len
                + " bytes but only "
                + b.remaining()
                + " are left");
      }
      byte[] v = new byte[(int) len];
      b.get(v);
      out[e++] = v;
    }
    if (e != out.length) {
      throw ScorelineException.userError(
          field,
          "input '"
              + name
              + "' has shape "
              + Shapes.format(shape)
              + " ("
              + count
              + " elements) but "
              + field
              + " holds "
              + e
              + " elements");
    }
    return out;
  }

  private static Tensor fromContents(
      String name, DataType type, long[] shape, long count, InferTensorContents c, String field) {
    int want = typedField(type);
    if (want < 0) {
      throw ScorelineException.userError(
          field + ".contents",
          "input '"
              + name
              + "' is "
              + type
              + ", which has no typed contents field; send it in raw_input_contents"
              + " (2 bytes per element, little-endian)");
    }
    int[] counts = typedCounts(c);
    for (int f = 0; f < counts.length; f++) {
      if (f != want && counts[f] > 0) {
        throw ScorelineException.userError(
            field + ".contents." + TYPED_FIELDS[f],
            "input '"
                + name
                + "' is "
                + type
                + ", so its data goes in contents."
                + TYPED_FIELDS[want]
                + ", but the request sets contents."
                + TYPED_FIELDS[f]);
      }
    }
    String dataField = field + ".contents." + TYPED_FIELDS[want];
    int got = counts[want];
    if (got != count) {
      throw ScorelineException.userError(
          dataField,
          "input '"
              + name
              + "' has shape "
              + Shapes.format(shape)
              + " ("
              + count
              + " elements) but contents."
              + TYPED_FIELDS[want]
              + " has "
              + got
              + " elements"
              + (got == 0 && totalTyped(c) == 0
                  ? "; send the data in contents or in raw_input_contents"
                  : "; send exactly as many elements as the shape says"));
    }
    if (type == DataType.BYTES) {
      byte[][] v = new byte[got][];
      for (int j = 0; j < got; j++) {
        v[j] = c.getBytesContents(j).toByteArray();
      }
      return Tensor.ofBytes(name, shape, v);
    }
    ByteBuffer b = Tensor.allocate(got * type.byteSize());
    switch (type) {
      case BOOL:
        for (int j = 0; j < got; j++) {
          b.put((byte) (c.getBoolContents(j) ? 1 : 0));
        }
        break;
      case INT8:
        for (int j = 0; j < got; j++) {
          b.put(
              (byte)
                  checkRange(
                      c.getIntContents(j), Byte.MIN_VALUE, Byte.MAX_VALUE, dataField, j, type));
        }
        break;
      case INT16:
        for (int j = 0; j < got; j++) {
          b.putShort(
              (short)
                  checkRange(
                      c.getIntContents(j), Short.MIN_VALUE, Short.MAX_VALUE, dataField, j, type));
        }
        break;
      case INT32:
        for (int j = 0; j < got; j++) {
          b.putInt(c.getIntContents(j));
        }
        break;
      case INT64:
        for (int j = 0; j < got; j++) {
          b.putLong(c.getInt64Contents(j));
        }
        break;
      case UINT8:
        for (int j = 0; j < got; j++) {
          b.put(
              (byte)
                  checkRange(
                      Integer.toUnsignedLong(c.getUintContents(j)), 0, 0xFF, dataField, j, type));
        }
        break;
      case UINT16:
        for (int j = 0; j < got; j++) {
          b.putShort(
              (short)
                  checkRange(
                      Integer.toUnsignedLong(c.getUintContents(j)), 0, 0xFFFF, dataField, j, type));
        }
        break;
      case UINT32:
        for (int j = 0; j < got; j++) {
          b.putInt(c.getUintContents(j));
        }
        break;
      case UINT64:
        for (int j = 0; j < got; j++) {
          b.putLong(c.getUint64Contents(j));
        }
        break;
      case FP32:
        for (int j = 0; j < got; j++) {
          b.putFloat(c.getFp32Contents(j));
        }
        break;
      case FP64:
        for (int j = 0; j < got; j++) {
          b.putDouble(c.getFp64Contents(j));
        }
        break;
      default:
        throw new IllegalStateException("no typed contents for " + type);
    }
    b.flip();
    return Tensor.of(name, type, shape, b);
  }

  private static long checkRange(long v, long min, long max, String field, int j, DataType type) {
    if (v < min || v > max) {
      throw ScorelineException.userError(
          field + "[" + j + "]",
          "value " + v + " does not fit " + type + " (" + min + " to " + max + ")");
    }
    return v;
  }

  /** Index into {@link #TYPED_FIELDS} of the field that carries {@code type}, or -1 (raw only). */
  private static int typedField(DataType type) {
    switch (type) {
      case BOOL:
        return 0;
      case INT8:
      case INT16:
      case INT32:
        return 1;
      case INT64:
        return 2;
      case UINT8:
      case UINT16:
      case UINT32:
        return 3;
      case UINT64:
        return 4;
      case FP32:
        return 5;
      case FP64:
        return 6;
      case BYTES:
        return 7;
      default:
        return -1;
    }
  }

  private static int[] typedCounts(InferTensorContents c) {
    return new int[] {
      c.getBoolContentsCount(),
      c.getIntContentsCount(),
      c.getInt64ContentsCount(),
      c.getUintContentsCount(),
      c.getUint64ContentsCount(),
      c.getFp32ContentsCount(),
      c.getFp64ContentsCount(),
      c.getBytesContentsCount()
    };
  }

  private static long totalTyped(InferTensorContents c) {
    long n = 0;
    for (int k : typedCounts(c)) {
      n += k;
    }
    return n;
  }

  /** The output names requested, in order (empty means all outputs). */
  static List<String> requestedOutputs(ModelInferRequest request) {
    int n = request.getOutputsCount();
    List<String> out = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      ModelInferRequest.InferRequestedOutputTensor o = request.getOutputs(i);
      if (o.containsParameters("classification")) {
        throw new ScorelineException(
            ErrorCode.UNSUPPORTED,
            "outputs[" + i + "].parameters.classification",
            "the classification extension is not supported; request the raw output and take the"
                + " top-K on the client",
            null);
      }
      out.add(o.getName());
    }
    return out;
  }

  /** Request parameters as Java values: String, Long, Boolean or Double. */
  static Map<String, Object> parameters(Map<String, InferParameter> params, String field) {
    if (params.isEmpty()) {
      return Map.of();
    }
    Map<String, Object> out = new LinkedHashMap<>(params.size() * 2);
    for (Map.Entry<String, InferParameter> e : params.entrySet()) {
      InferParameter p = e.getValue();
      switch (p.getParameterChoiceCase()) {
        case BOOL_PARAM:
          out.put(e.getKey(), p.getBoolParam());
          break;
        case INT64_PARAM:
          out.put(e.getKey(), p.getInt64Param());
          break;
        case STRING_PARAM:
          out.put(e.getKey(), p.getStringParam());
          break;
        case DOUBLE_PARAM:
          out.put(e.getKey(), p.getDoubleParam());
          break;
        case UINT64_PARAM:
          long u = p.getUint64Param();
          if (u < 0) {
            throw ScorelineException.userError(
                field + "." + e.getKey(),
                "parameter '"
                    + e.getKey()
                    + "' is "
                    + Long.toUnsignedString(u)
                    + ", larger than the largest supported value "
                    + Long.MAX_VALUE);
          }
          out.put(e.getKey(), u);
          break;
        case PARAMETERCHOICE_NOT_SET:
        default:
          throw ScorelineException.userError(
              field + "." + e.getKey(),
              "parameter '"
                  + e.getKey()
                  + "' has no value; set bool_param, int64_param, string_param, double_param or"
                  + " uint64_param");
      }
    }
    return Map.copyOf(out);
  }

  // ---------------------------------------------------------------- response

  /** Adds the outputs to {@code response}: metadata in {@code outputs}, data as raw contents. */
  static void addOutputs(ModelInferResponse.Builder response, List<Tensor> outputs) {
    for (int i = 0, n = outputs.size(); i < n; i++) {
      Tensor t = outputs.get(i);
      InferOutputTensor.Builder o =
          response.addOutputsBuilder().setName(t.name()).setDatatype(t.type().name());
      for (int d = 0, r = t.rank(); d < r; d++) {
        o.addShape(t.dim(d));
      }
      response.addRawOutputContents(raw(t));
    }
  }

  /** The raw protocol bytes of a tensor; a view of its buffer for fixed-size types, no copy. */
  static ByteString raw(Tensor t) {
    if (t.type() != DataType.BYTES) {
      return UnsafeByteOperations.unsafeWrap(t.data());
    }
    byte[][] elements = t.bytesData();
    long size = 4L * elements.length;
    for (byte[] e : elements) {
      size += e.length;
    }
    if (size > Integer.MAX_VALUE) {
      throw ScorelineException.userError(
          "outputs",
          "output '" + t.name() + "' is " + size + " bytes; at most 2 GiB fit a message");
    }
    ByteBuffer b = Tensor.allocate((int) size);
    for (byte[] e : elements) {
      b.putInt(e.length).put(e);
    }
    return UnsafeByteOperations.unsafeWrap(b.array());
  }

  /** Response parameters as protocol values. */
  static Map<String, InferParameter> toProto(Map<String, Object> params) {
    if (params.isEmpty()) {
      return Map.of();
    }
    Map<String, InferParameter> out = new LinkedHashMap<>(params.size() * 2);
    for (Map.Entry<String, Object> e : params.entrySet()) {
      Object v = e.getValue();
      InferParameter.Builder p = InferParameter.newBuilder();
      if (v instanceof Boolean) {
        p.setBoolParam((Boolean) v);
      } else if (v instanceof Long
          || v instanceof Integer
          || v instanceof Short
          || v instanceof Byte) {
        p.setInt64Param(((Number) v).longValue());
      } else if (v instanceof Number) {
        p.setDoubleParam(((Number) v).doubleValue());
      } else {
        p.setStringParam(String.valueOf(v));
      }
      out.put(e.getKey(), p.build());
    }
    return out;
  }
}
