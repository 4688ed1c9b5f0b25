package dev.scoreline.onnx;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * A minimal protobuf writer for the few tiny ONNX graphs Scoreline builds itself (no protobuf
 * dependency needed). Field numbers are those of {@code onnx.proto}.
 */
final class OnnxProto {
  private static final int VARINT = 0;
  private static final int LENGTH_DELIMITED = 2;

  private final ByteArrayOutputStream out = new ByteArrayOutputStream();

  OnnxProto varint(int field, long value) {
    tag(field, VARINT);
    rawVarint(value);
    return this;
  }

  OnnxProto string(int field, String value) {
    return bytes(field, value.getBytes(StandardCharsets.UTF_8));
  }

  OnnxProto message(int field, OnnxProto message) {
    return bytes(field, message.toByteArray());
  }

  byte[] toByteArray() {
    return out.toByteArray();
  }

  private OnnxProto bytes(int field, byte[] value) {
    tag(field, LENGTH_DELIMITED);
    rawVarint(value.length);
    out.write(value, 0, value.length);
    return this;
  }

  private void tag(int field, int wireType) {
    rawVarint(((long) field << 3) | wireType);
  }

  private void rawVarint(long value) {
    long v = value;
    while ((v & ~0x7fL) != 0) {
      out.write((int) ((v & 0x7f) | 0x80));
      v >>>= 7;
    }
    out.write((int) v);
  }

  // ------------------------------------------------------------------ ONNX messages

  /**
   * {@code TypeProto} of a tensor with the given element type and no shape, meaning any rank. ONNX
   * Runtime accepts this for graph inputs and outputs (only {@code onnx.checker}'s full check
   * insists on a shape).
   */
  static OnnxProto tensorType(int elementType) {
    return new OnnxProto().message(1, new OnnxProto().varint(1, elementType));
  }

  /** {@code ValueInfoProto}. */
  static OnnxProto valueInfo(String name, OnnxProto type) {
    return new OnnxProto().string(1, name).message(2, type);
  }

  /** {@code NodeProto} with one input, one output and no attributes. */
  static OnnxProto node(String opType, String input, String output) {
    return new OnnxProto().string(1, input).string(2, output).string(3, opType).string(4, opType);
  }

  /** {@code AttributeProto} holding one INT. */
  static OnnxProto intAttribute(String name, long value) {
    return new OnnxProto().string(1, name).varint(3, value).varint(20, 2);
  }

  /** {@code ModelProto} (IR version 8, default-domain opset 17) around one graph. */
  static byte[] model(String graphName, OnnxProto node, OnnxProto input, OnnxProto output) {
    OnnxProto graph =
        new OnnxProto()
            .message(1, node)
            .string(2, graphName)
            .message(11, input)
            .message(12, output);
    OnnxProto opset = new OnnxProto().string(1, "").varint(2, 17);
    return new OnnxProto()
        .varint(1, 8)
        .string(2, "scoreline")
        .message(7, graph)
        .message(8, opset)
        .toByteArray();
  }

  /** A model {@code y = Cast(x, to)} from one element type to another, any shape. */
  static byte[] castModel(int fromElementType, int toElementType) {
    OnnxProto cast = node("Cast", "x", "y").message(5, intAttribute("to", toElementType));
    return model(
        "scoreline_cast",
        cast,
        valueInfo("x", tensorType(fromElementType)),
        valueInfo("y", tensorType(toElementType)));
  }
}
