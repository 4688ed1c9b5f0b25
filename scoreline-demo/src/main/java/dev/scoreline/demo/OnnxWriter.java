package dev.scoreline.demo;

import com.google.protobuf.CodedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Map;

/**
 * Writes an {@link Mlp} as an ONNX model: a {@code ModelProto} encoded by hand in the protobuf wire
 * format (no generated classes, no ONNX dependency). The graph is {@code Gemm -> Relu -> ... ->
 * Gemm -> Sigmoid} with the weights as initializers ({@code raw_data}, little-endian float32),
 * input {@code [batch, inputs]} and output {@code [batch, 1]}, both FLOAT, the batch dimension
 * symbolic. IR version 7, default-domain opset 13.
 *
 * <p>Field numbers are those of {@code onnx/onnx.proto}: ModelProto (ir_version 1, producer_name 2,
 * producer_version 3, doc_string 6, graph 7, opset_import 8, metadata_props 14), OperatorSetIdProto
 * (domain 1, version 2), GraphProto (node 1, name 2, initializer 5, input 11, output 12), NodeProto
 * (input 1, output 2, name 3, op_type 4), TensorProto (dims 1, data_type 2, name 8, raw_data 9),
 * ValueInfoProto (name 1, type 2), TypeProto (tensor_type 1), TypeProto.Tensor (elem_type 1, shape
 * 2), TensorShapeProto (dim 1), Dimension (dim_value 1, dim_param 2), StringStringEntryProto (key
 * 1, value 2).
 *
 * <p>The output is a pure function of the weights and arguments: same model, same bytes.
 */
final class OnnxWriter {
  static final long IR_VERSION = 7;
  static final long OPSET = 13;
  private static final int FLOAT = 1;

  private OnnxWriter() {}

  static byte[] write(
      Mlp mlp, String inputName, String outputName, String docString, Map<String, String> meta) {
    byte[] graph = graph(mlp, inputName, outputName);
    return message(
        out -> {
          out.writeInt64(1, IR_VERSION);
          out.writeString(2, "scoreline-demo");
          out.writeString(3, "1");
          out.writeString(6, docString);
          out.writeByteArray(7, graph);
          out.writeByteArray(
              8,
              message(
                  op -> {
                    op.writeString(1, "");
                    op.writeInt64(2, OPSET);
                  }));
          for (Map.Entry<String, String> e : new java.util.TreeMap<>(meta).entrySet()) {
            out.writeByteArray(
                14,
                message(
                    kv -> {
                      kv.writeString(1, e.getKey());
                      kv.writeString(2, e.getValue());
                    }));
          }
        });
  }

  private static byte[] graph(Mlp mlp, String inputName, String outputName) {
    return message(
        g -> {
          String in = inputName;
          int layers = mlp.layers();
          for (int l = 0; l < layers; l++) {
            String w = "W" + l;
            String b = "B" + l;
            String z = l == layers - 1 ? "logit" : "gemm" + l;
            g.writeByteArray(1, node("Gemm" + l, "Gemm", new String[] {in, w, b}, z));
            if (l < layers - 1) {
              String h = "relu" + l;
              g.writeByteArray(1, node("Relu" + l, "Relu", new String[] {z}, h));
              in = h;
            } else {
              g.writeByteArray(1, node("Sigmoid", "Sigmoid", new String[] {z}, outputName));
            }
          }
          g.writeString(2, "ranker");
          for (int l = 0; l < layers; l++) {
            g.writeByteArray(
                5, tensor("W" + l, new long[] {mlp.dims[l], mlp.dims[l + 1]}, mlp.weights(l)));
            g.writeByteArray(5, tensor("B" + l, new long[] {mlp.dims[l + 1]}, mlp.bias(l)));
          }
          g.writeByteArray(11, valueInfo(inputName, mlp.inputs()));
          g.writeByteArray(12, valueInfo(outputName, 1));
        });
  }

  private static byte[] node(String name, String op, String[] inputs, String output) {
    return message(
        n -> {
          for (String i : inputs) {
            n.writeString(1, i);
          }
          n.writeString(2, output);
          n.writeString(3, name);
          n.writeString(4, op);
        });
  }

  private static byte[] tensor(String name, long[] dims, float[] values) {
    ByteBuffer raw = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    for (float v : values) {
      raw.putFloat(v);
    }
    return message(
        t -> {
          for (long d : dims) {
            t.writeInt64(1, d);
          }
          t.writeInt32(2, FLOAT);
          t.writeString(8, name);
          t.writeByteArray(9, raw.array());
        });
  }

  /** A FLOAT tensor of shape {@code [batch, columns]}. */
  private static byte[] valueInfo(String name, int columns) {
    byte[] shape =
        message(
            s -> {
              s.writeByteArray(1, message(d -> d.writeString(2, "batch")));
              s.writeByteArray(1, message(d -> d.writeInt64(1, columns)));
            });
    byte[] tensorType =
        message(
            t -> {
              t.writeInt32(1, FLOAT);
              t.writeByteArray(2, shape);
            });
    return message(
        v -> {
          v.writeString(1, name);
          v.writeByteArray(2, message(tp -> tp.writeByteArray(1, tensorType)));
        });
  }

  @FunctionalInterface
  private interface Body {
    void write(CodedOutputStream out) throws IOException;
  }

  /** The encoded fields written by {@code body}: a message, embeddable as a bytes field. */
  private static byte[] message(Body body) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    CodedOutputStream out = CodedOutputStream.newInstance(bytes);
    try {
      body.write(out);
      out.flush();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bytes.toByteArray();
  }
}
