package dev.scoreline.stream.fraud;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * Writes a multilayer perceptron as an ONNX model (IR version 8, opset 17): {@code Gemm -> Relu ->
 * ... -> Gemm -> Sigmoid}, input {@code [batch, dims[0]]} FP32, output {@code [batch, 1]} FP32. The
 * protobuf wire format is written by hand (a few message types of {@code onnx.proto}), so no ONNX
 * or protobuf library is needed.
 */
public final class OnnxMlp {
  private OnnxMlp() {}

  /**
   * @param weights per layer, {@code W[in][out]} row-major
   * @param biases per layer, {@code [out]}
   */
  public static byte[] write(
      int[] dims, float[][] weights, float[][] biases, String input, String output, String doc) {
    if (dims[dims.length - 1] != 1) {
      throw new IllegalArgumentException("the last layer must have one output");
    }
    Pb graph = new Pb();
    String x = input;
    for (int l = 0; l < dims.length - 1; l++) {
      String w = "W" + l;
      String b = "B" + l;
      graph.message(5, tensor(w, new long[] {dims[l], dims[l + 1]}, weights[l]));
      graph.message(5, tensor(b, new long[] {dims[l + 1]}, biases[l]));
      String y = "gemm" + l;
      graph.message(1, node("Gemm" + l, "Gemm", new String[] {x, w, b}, y));
      x = y;
      boolean last = l == dims.length - 2;
      String a = last ? output : "relu" + l;
      graph.message(
          1, node((last ? "Sigmoid" : "Relu") + l, last ? "Sigmoid" : "Relu", new String[] {x}, a));
      x = a;
    }
    graph.string(2, "mlp");
    graph.message(11, valueInfo(input, dims[0]));
    graph.message(12, valueInfo(output, 1));
    Pb opset = new Pb();
    opset.string(1, "");
    opset.varintField(2, 17);
    Pb model = new Pb();
    model.varintField(1, 8); // ir_version
    model.string(2, "scoreline");
    model.string(3, "1");
    if (doc != null) {
      model.string(6, doc);
    }
    model.message(7, graph);
    model.message(8, opset);
    return model.bytes();
  }

  private static Pb tensor(String name, long[] dims, float[] data) {
    Pb t = new Pb();
    for (long d : dims) {
      t.varintField(1, d);
    }
    t.varintField(2, 1); // FLOAT
    t.string(8, name);
    ByteBuffer raw = ByteBuffer.allocate(data.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    for (float f : data) {
      raw.putFloat(f);
    }
    t.bytesField(9, raw.array());
    return t;
  }

  private static Pb node(String name, String op, String[] inputs, String output) {
    Pb n = new Pb();
    for (String i : inputs) {
      n.string(1, i);
    }
    n.string(2, output);
    n.string(3, name);
    n.string(4, op);
    return n;
  }

  private static Pb valueInfo(String name, int columns) {
    Pb batch = new Pb();
    batch.string(2, "batch"); // dim_param
    Pb cols = new Pb();
    cols.varintField(1, columns); // dim_value
    Pb shape = new Pb();
    shape.message(1, batch);
    shape.message(1, cols);
    Pb tensorType = new Pb();
    tensorType.varintField(1, 1); // FLOAT
    tensorType.message(2, shape);
    Pb type = new Pb();
    type.message(1, tensorType);
    Pb v = new Pb();
    v.string(1, name);
    v.message(2, type);
    return v;
  }

  /** A protobuf message being written. */
  private static final class Pb {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    void varint(long v) {
      while ((v & ~0x7FL) != 0) {
        out.write((int) ((v & 0x7F) | 0x80));
        v >>>= 7;
      }
      out.write((int) v);
    }

    void tag(int field, int wire) {
      varint(((long) field << 3) | wire);
    }

    void varintField(int field, long v) {
      tag(field, 0);
      varint(v);
    }

    void bytesField(int field, byte[] b) {
      tag(field, 2);
      varint(b.length);
      out.writeBytes(b);
    }

    void string(int field, String s) {
      bytesField(field, s.getBytes(StandardCharsets.UTF_8));
    }

    void message(int field, Pb m) {
      bytesField(field, m.bytes());
    }

    byte[] bytes() {
      return out.toByteArray();
    }
  }
}
