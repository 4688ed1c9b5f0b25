package dev.scoreline.server;

import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonGenerator;
import com.linecorp.armeria.common.HttpData;
import com.linecorp.armeria.common.HttpResponse;
import com.linecorp.armeria.common.HttpStatus;
import com.linecorp.armeria.common.MediaType;
import com.linecorp.armeria.common.ResponseHeaders;
import dev.scoreline.core.model.InferenceResponse;
import dev.scoreline.core.tensor.DataType;
import dev.scoreline.core.tensor.Tensor;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Map;

/**
 * Writes an Open Inference Protocol v2 inference response: JSON, or a JSON header followed by raw
 * tensor data for the outputs returned in binary (binary tensor data extension). The body is
 * written once, into one pooled buffer that goes to the network without another copy.
 */
final class InferResponseWriter {
  private InferResponseWriter() {}

  static HttpResponse write(
      ByteBufAllocator alloc, InferenceResponse response, InferRequestParser.Parsed request) {
    List<Tensor> outputs = response.outputs();
    int n = outputs.size();
    boolean[] binary = new boolean[n];
    long[] binarySize = new long[n];
    boolean anyBinary = false;
    long estimate = 256;
    for (int i = 0; i < n; i++) {
      Tensor t = outputs.get(i);
      binary[i] = request.binary(t.name());
      if (binary[i]) {
        anyBinary = true;
        binarySize[i] = binarySize(t);
        estimate += 96 + binarySize[i];
      } else {
        estimate += 96 + (long) t.elementCount() * (t.type() == DataType.BYTES ? 16 : 12);
      }
    }
    ByteBuf buf = alloc.buffer((int) Math.min(estimate, 1 << 24));
    try {
      try (JsonGenerator g =
          Json.FACTORY.createGenerator(
              (java.io.OutputStream) new ByteBufOutputStream(buf), JsonEncoding.UTF8)) {
        g.writeStartObject();
        g.writeStringField("model_name", response.model());
        g.writeStringField("model_version", response.version());
        if (!response.id().isEmpty()) {
          g.writeStringField("id", response.id());
        }
        if (!response.parameters().isEmpty()) {
          g.writeFieldName("parameters");
          writeParameters(g, response.parameters());
        }
        g.writeArrayFieldStart("outputs");
        for (int i = 0; i < n; i++) {
          Tensor t = outputs.get(i);
          g.writeStartObject();
          g.writeStringField("name", t.name());
          g.writeStringField("datatype", t.type().name());
          g.writeArrayFieldStart("shape");
          for (int d = 0; d < t.rank(); d++) {
            g.writeNumber(t.dim(d));
          }
          g.writeEndArray();
          if (binary[i]) {
            g.writeObjectFieldStart("parameters");
            g.writeNumberField("binary_data_size", binarySize[i]);
            g.writeEndObject();
          } else {
            g.writeFieldName("data");
            TensorJson.writeFlat(g, t);
          }
          g.writeEndObject();
        }
        g.writeEndArray();
        g.writeEndObject();
      }
      int jsonLength = buf.writerIndex();
      if (anyBinary) {
        for (int i = 0; i < n; i++) {
          if (binary[i]) {
            writeBinary(buf, outputs.get(i));
          }
        }
      }
      ResponseHeaders headers =
          anyBinary
              ? ResponseHeaders.builder(HttpStatus.OK)
                  .contentType(MediaType.OCTET_STREAM)
                  .setInt(InferRequestParser.HEADER_LENGTH, jsonLength)
                  .build()
              : ResponseHeaders.builder(HttpStatus.OK).contentType(MediaType.JSON).build();
      return HttpResponse.of(headers, HttpData.wrap(buf));
    } catch (IOException e) {
      buf.release();
      throw new UncheckedIOException(e);
    } catch (RuntimeException | Error e) {
      buf.release();
      throw e;
    }
  }

  static long binarySize(Tensor t) {
    if (t.type() != DataType.BYTES) {
      return t.byteSize();
    }
    long size = 0;
    for (byte[] b : t.bytesData()) {
      size += 4 + b.length;
    }
    return size;
  }

  private static void writeBinary(ByteBuf buf, Tensor t) {
    if (t.type() != DataType.BYTES) {
      buf.writeBytes(t.data());
      return;
    }
    for (byte[] b : t.bytesData()) {
      buf.writeIntLE(b.length);
      buf.writeBytes(b);
    }
  }

  static void writeParameters(JsonGenerator g, Map<String, Object> parameters) throws IOException {
    g.writeStartObject();
    for (Map.Entry<String, Object> e : parameters.entrySet()) {
      g.writeFieldName(e.getKey());
      Object v = e.getValue();
      if (v instanceof Boolean) {
        g.writeBoolean((Boolean) v);
      } else if (v instanceof Long || v instanceof Integer) {
        g.writeNumber(((Number) v).longValue());
      } else if (v instanceof Number) {
        g.writeNumber(((Number) v).doubleValue());
      } else {
        g.writeString(String.valueOf(v));
      }
    }
    g.writeEndObject();
  }
}
