package dev.scoreline.server;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import dev.scoreline.core.error.ErrorCode;
import dev.scoreline.core.error.ScorelineException;
import dev.scoreline.core.model.InferenceRequest;
import dev.scoreline.core.tensor.DataType;
import dev.scoreline.core.tensor.Shapes;
import dev.scoreline.core.tensor.Tensor;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Parses an Open Inference Protocol v2 REST inference request: JSON, optionally followed by binary
 * tensor data (the binary tensor data extension). Tensor data goes straight from the parser into
 * little-endian buffers; binary fixed-size inputs are views of the request body, not copies.
 */
final class InferRequestParser {
  static final String HEADER_LENGTH = "inference-header-content-length";

  /** A parsed request and how its outputs are to be returned (JSON or binary). */
  record Parsed(
      InferenceRequest request, boolean binaryByDefault, Map<String, Boolean> binaryByOutput) {
    boolean binary(String output) {
      Boolean b = binaryByOutput.get(output);
      return b != null ? b : binaryByDefault;
    }
  }

  private static final class Input {
    String name;
    DataType type;
    long[] shape;
    long binarySize = -1;
    Tensor tensor;
    int deferredData = -1;
  }

  private InferRequestParser() {}

  /**
   * @param body the whole request body (JSON header first when {@code headerLength} is set)
   * @param headerLength the {@code Inference-Header-Content-Length} header, or null
   */
  static Parsed parse(String model, String version, byte[] body, String headerLength) {
    int jsonLength = jsonLength(body.length, headerLength);
    if (jsonLength == 0) {
      throw ScorelineException.userError(
          null, "the request body is empty; send a JSON object {\"inputs\": [...]}");
    }
    try {
      return parse(model, version, body, jsonLength);
    } catch (JsonProcessingException e) {
      throw Json.malformed(e);
    } catch (IOException e) {
      throw ScorelineException.userError(null, "unreadable JSON: " + e.getMessage());
    }
  }

  private static int jsonLength(int bodyLength, String header) {
    if (header == null) {
      return bodyLength;
    }
    long n;
    try {
      n = Long.parseLong(header.trim());
    } catch (NumberFormatException e) {
      n = -1;
    }
    if (n < 0) {
      throw ScorelineException.userError(
          null,
          "the Inference-Header-Content-Length header is '"
              + header
              + "'; it must be the length in bytes of the JSON part of the body");
    }
    if (n > bodyLength) {
      throw ScorelineException.userError(
          null,
          "the Inference-Header-Content-Length header says "
              + n
              + " bytes of JSON but the body has only "
              + bodyLength
              + " bytes");
    }
    return (int) n;
  }

  private static Parsed parse(String model, String version, byte[] body, int jsonLength)
      throws IOException {
    String id = "";
    Map<String, Object> parameters = Map.of();
    List<Input> inputs = null;
    List<String> outputs = List.of();
    Map<String, Boolean> binaryByOutput = Map.of();
    boolean binaryByDefault = false;
    try (JsonParser p = Json.FACTORY.createParser(body, 0, jsonLength)) {
      if (p.nextToken() != JsonToken.START_OBJECT) {
        throw ScorelineException.userError(
            null, "the request body must be a JSON object {\"inputs\": [...]}");
      }
      while (p.nextToken() == JsonToken.FIELD_NAME) {
        String field = p.currentName();
        JsonToken t = p.nextToken();
        switch (field) {
          case "id":
            if (t != JsonToken.VALUE_STRING) {
              throw ScorelineException.userError("id", "id must be a string");
            }
            id = p.getText();
            break;
          case "parameters":
            parameters = readParameters(p, "parameters");
            Object bdo = parameters.get("binary_data_output");
            if (bdo != null) {
              binaryByDefault = bool("parameters.binary_data_output", bdo);
              parameters = new LinkedHashMap<>(parameters);
              parameters.remove("binary_data_output");
            }
            break;
          case "inputs":
            inputs = readInputs(p, jsonLength);
            break;
          case "outputs":
            expectArray(p, t, "outputs", "[{\"name\": \"score\"}]");
            outputs = new ArrayList<>();
            binaryByOutput = new HashMap<>();
            int i = 0;
            while (p.nextToken() != JsonToken.END_ARRAY) {
              readOutput(p, i++, outputs, binaryByOutput);
            }
            break;
          default:
            p.skipChildren();
            break;
        }
      }
      if (p.currentToken() != JsonToken.END_OBJECT) {
        throw ScorelineException.userError(null, "the request body is not a complete JSON object");
      }
      if (p.nextToken() != null) {
        throw ScorelineException.userError(
            null,
            "unexpected content after the JSON object at byte "
                + p.currentTokenLocation().getByteOffset()
                + "; for binary data set the Inference-Header-Content-Length header");
      }
    }
    if (inputs == null) {
      throw ScorelineException.userError(
          "inputs",
          "the request has no 'inputs'; send {\"inputs\": [{\"name\", \"shape\", \"datatype\","
              + " \"data\"}]}");
    }
    List<Tensor> tensors = resolveData(inputs, body, jsonLength);
    return new Parsed(
        new InferenceRequest(model, version, id, parameters, tensors, outputs),
        binaryByDefault,
        binaryByOutput);
  }

  private static List<Input> readInputs(JsonParser p, int jsonLength) throws IOException {
    expectArray(p, p.currentToken(), "inputs", "[{\"name\", \"shape\", \"datatype\", \"data\"}]");
    List<Input> inputs = new ArrayList<>(4);
    int i = 0;
    while (p.nextToken() != JsonToken.END_ARRAY) {
      inputs.add(readInput(p, i++, jsonLength));
    }
    return inputs;
  }

  private static Input readInput(JsonParser p, int i, int jsonLength) throws IOException {
    String prefix = "inputs[" + i + "]";
    if (p.currentToken() != JsonToken.START_OBJECT) {
      throw ScorelineException.userError(
          prefix, prefix + " must be an object {\"name\", \"shape\", \"datatype\", \"data\"}");
    }
    Input in = new Input();
    boolean hasData = false;
    while (p.nextToken() == JsonToken.FIELD_NAME) {
      String field = p.currentName();
      JsonToken t = p.nextToken();
      switch (field) {
        case "name":
          if (t != JsonToken.VALUE_STRING) {
            throw ScorelineException.userError(prefix + ".name", prefix + ".name must be a string");
          }
          in.name = p.getText();
          break;
        case "datatype":
          if (t != JsonToken.VALUE_STRING) {
            throw ScorelineException.userError(
                prefix + ".datatype", prefix + ".datatype must be a string such as \"FP32\"");
          }
          in.type = DataType.parse(prefix + ".datatype", p.getText());
          break;
        case "shape":
          in.shape = readShape(p, prefix + ".shape");
          break;
        case "parameters":
          readInputParameters(p, prefix, in);
          break;
        case "data":
          hasData = true;
          if (in.type != null && in.shape != null && in.name != null) {
            in.tensor =
                TensorJson.read(p, prefix + ".data", in.name, in.type, in.shape, jsonLength);
          } else {
            in.deferredData = (int) p.currentTokenLocation().getByteOffset();
            p.skipChildren();
          }
          break;
        default:
          p.skipChildren();
          break;
      }
    }
    if (in.name == null) {
      throw ScorelineException.userError(prefix + ".name", prefix + ".name is missing");
    }
    if (in.type == null) {
      DataType.parse(prefix + ".datatype", null); // throws, listing the valid datatypes
    }
    if (in.shape == null) {
      throw ScorelineException.userError(
          prefix + ".shape",
          prefix + ".shape is missing; give the tensor's dimensions, such as [1, 64]");
    }
    if (hasData && in.binarySize >= 0) {
      throw ScorelineException.userError(
          prefix + ".data",
          "input '"
              + in.name
              + "' has both 'data' and parameters.binary_data_size; send one of them");
    }
    if (!hasData && in.binarySize < 0) {
      throw ScorelineException.userError(
          prefix + ".data",
          prefix
              + ".data is missing; send the elements as a JSON array, or as binary data with"
              + " parameters.binary_data_size");
    }
    return in;
  }

  private static long[] readShape(JsonParser p, String field) throws IOException {
    if (p.currentToken() != JsonToken.START_ARRAY) {
      throw ScorelineException.userError(
          field, field + " must be an array of dimensions, such as [1, 64]");
    }
    long[] dims = new long[4];
    int n = 0;
    JsonToken t;
    while ((t = p.nextToken()) != JsonToken.END_ARRAY) {
      if (t != JsonToken.VALUE_NUMBER_INT
          || p.getNumberType() == JsonParser.NumberType.BIG_INTEGER
          || p.getLongValue() < 0) {
        throw ScorelineException.userError(
            field, field + " must hold non-negative integers, such as [1, 64]; got " + p.getText());
      }
      if (n == dims.length) {
        if (n >= 32) {
          throw ScorelineException.userError(field, field + " has more than 32 dimensions");
        }
        dims = Arrays.copyOf(dims, n * 2);
      }
      dims[n++] = p.getLongValue();
    }
    return Arrays.copyOf(dims, n);
  }

  private static void readInputParameters(JsonParser p, String prefix, Input in)
      throws IOException {
    Map<String, Object> params = readParameters(p, prefix + ".parameters");
    Object size = params.get("binary_data_size");
    if (size != null) {
      String field = prefix + ".parameters.binary_data_size";
      if (!(size instanceof Long) || (Long) size < 0) {
        throw ScorelineException.userError(
            field, field + " must be a non-negative integer (bytes of binary data)");
      }
      in.binarySize = (Long) size;
    }
    if (params.containsKey("shared_memory_region")) {
      throw unsupportedSharedMemory(prefix);
    }
  }

  private static void readOutput(
      JsonParser p, int i, List<String> outputs, Map<String, Boolean> binaryByOutput)
      throws IOException {
    String prefix = "outputs[" + i + "]";
    if (p.currentToken() != JsonToken.START_OBJECT) {
      throw ScorelineException.userError(prefix, prefix + " must be an object {\"name\": ...}");
    }
    String name = null;
    Boolean binary = null;
    while (p.nextToken() == JsonToken.FIELD_NAME) {
      String field = p.currentName();
      JsonToken t = p.nextToken();
      if (field.equals("name")) {
        if (t != JsonToken.VALUE_STRING) {
          throw ScorelineException.userError(prefix + ".name", prefix + ".name must be a string");
        }
        name = p.getText();
      } else if (field.equals("parameters")) {
        Map<String, Object> params = readParameters(p, prefix + ".parameters");
        Object b = params.get("binary_data");
        if (b != null) {
          binary = bool(prefix + ".parameters.binary_data", b);
        }
        if (params.containsKey("classification")) {
          throw new ScorelineException(
              ErrorCode.UNSUPPORTED,
              prefix + ".parameters.classification",
              "the classification extension is not supported; request the raw output and take"
                  + " the top-k on the client",
              null);
        }
        if (params.containsKey("shared_memory_region")) {
          throw unsupportedSharedMemory(prefix);
        }
      } else {
        p.skipChildren();
      }
    }
    if (name == null) {
      throw ScorelineException.userError(prefix + ".name", prefix + ".name is missing");
    }
    outputs.add(name);
    if (binary != null) {
      binaryByOutput.put(name, binary);
    }
  }

  private static ScorelineException unsupportedSharedMemory(String prefix) {
    return new ScorelineException(
        ErrorCode.UNSUPPORTED,
        prefix + ".parameters.shared_memory_region",
        "shared memory is not supported; send the data in the request (JSON or binary)",
        null);
  }

  /** Reads a {@code $parameters} object: string, number or boolean values. */
  static Map<String, Object> readParameters(JsonParser p, String field) throws IOException {
    if (p.currentToken() != JsonToken.START_OBJECT) {
      throw ScorelineException.userError(field, field + " must be an object");
    }
    Map<String, Object> out = new LinkedHashMap<>();
    while (p.nextToken() == JsonToken.FIELD_NAME) {
      String key = p.currentName();
      JsonToken t = p.nextToken();
      Object value;
      switch (t) {
        case VALUE_STRING:
          value = p.getText();
          break;
        case VALUE_NUMBER_INT:
          value =
              p.getNumberType() == JsonParser.NumberType.BIG_INTEGER
                  ? p.getBigIntegerValue()
                  : (Object) p.getLongValue();
          break;
        case VALUE_NUMBER_FLOAT:
          value = p.getDoubleValue();
          break;
        case VALUE_TRUE:
          value = Boolean.TRUE;
          break;
        case VALUE_FALSE:
          value = Boolean.FALSE;
          break;
        default:
          throw ScorelineException.userError(
              field + "." + key, field + "." + key + " must be a string, number or boolean");
      }
      out.put(key, value);
    }
    return out;
  }

  private static boolean bool(String field, Object value) {
    if (value instanceof Boolean) {
      return (Boolean) value;
    }
    throw ScorelineException.userError(field, field + " must be true or false");
  }

  private static void expectArray(JsonParser p, JsonToken t, String field, String example) {
    if (t != JsonToken.START_ARRAY) {
      throw ScorelineException.userError(field, field + " must be an array, such as " + example);
    }
  }

  // ------------------------------------------------------------ data after the JSON object

  private static List<Tensor> resolveData(List<Input> inputs, byte[] body, int jsonLength)
      throws IOException {
    List<Tensor> tensors = new ArrayList<>(inputs.size());
    long cursor = jsonLength;
    for (int i = 0; i < inputs.size(); i++) {
      Input in = inputs.get(i);
      String prefix = "inputs[" + i + "]";
      if (in.binarySize >= 0) {
        if (cursor + in.binarySize > body.length) {
          throw ScorelineException.userError(
              prefix + ".parameters.binary_data_size",
              "input '"
                  + in.name
                  + "' has binary_data_size "
                  + in.binarySize
                  + " but only "
                  + (body.length - cursor)
                  + " bytes of binary data are left in the body");
        }
        in.tensor = binaryTensor(prefix, in, body, (int) cursor);
        cursor += in.binarySize;
      } else if (in.deferredData >= 0) {
        try (JsonParser p =
            Json.FACTORY.createParser(body, in.deferredData, jsonLength - in.deferredData)) {
          p.nextToken();
          in.tensor = TensorJson.read(p, prefix + ".data", in.name, in.type, in.shape, jsonLength);
        }
      }
      tensors.add(in.tensor);
    }
    if (cursor != body.length) {
      throw ScorelineException.userError(
          null,
          "the body has "
              + (body.length - jsonLength)
              + " bytes after the JSON header but the inputs' binary_data_size add up to "
              + (cursor - jsonLength)
              + "; check Inference-Header-Content-Length and binary_data_size");
    }
    return tensors;
  }

  private static Tensor binaryTensor(String prefix, Input in, byte[] body, int offset) {
    String field = prefix + ".parameters.binary_data_size";
    int size = (int) in.binarySize;
    long count = Shapes.elementCount(prefix + ".shape", in.shape);
    if (in.type.isFixedSize()) {
      long expected = count * in.type.byteSize();
      if (count > Integer.MAX_VALUE || expected != size) {
        throw ScorelineException.userError(
            field,
            "input '"
                + in.name
                + "' of shape "
                + Shapes.format(in.shape)
                + " and datatype "
                + in.type
                + " needs "
                + expected
                + " bytes but binary_data_size is "
                + size);
      }
      return Tensor.of(in.name, in.type, in.shape, ByteBuffer.wrap(body, offset, size));
    }
    // BYTES: per element a 4-byte little-endian length, then the bytes
    if (count > size / 4) {
      throw ScorelineException.userError(
          field,
          "input '"
              + in.name
              + "' has shape "
              + Shapes.format(in.shape)
              + " ("
              + count
              + " elements) but binary_data_size "
              + size
              + " cannot hold that many length-prefixed elements");
    }
    ByteBuffer b = ByteBuffer.wrap(body, offset, size).order(ByteOrder.LITTLE_ENDIAN);
    byte[][] values = new byte[(int) count][];
    for (int k = 0; k < values.length; k++) {
      if (b.remaining() < 4) {
        throw bytesMismatch(field, in, k);
      }
      int len = b.getInt();
      if (len < 0 || len > b.remaining()) {
        throw bytesMismatch(field, in, k);
      }
      values[k] = new byte[len];
      b.get(values[k]);
    }
    if (b.hasRemaining()) {
      throw ScorelineException.userError(
          field,
          "input '"
              + in.name
              + "' has "
              + b.remaining()
              + " bytes left after its "
              + count
              + " elements; binary_data_size must be the exact size of the data");
    }
    return Tensor.ofBytes(in.name, in.shape, values);
  }

  private static ScorelineException bytesMismatch(String field, Input in, int k) {
    return ScorelineException.userError(
        field,
        "input '"
            + in.name
            + "' ends inside element "
            + k
            + "; each BYTES element is a 4-byte little-endian length followed by that many bytes,"
            + " and binary_data_size is their total");
  }
}
