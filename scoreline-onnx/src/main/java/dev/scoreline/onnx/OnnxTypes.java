package dev.scoreline.onnx;

import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.TensorInfo.OnnxTensorType;
import dev.scoreline.core.tensor.DataType;

/** Maps between Scoreline datatypes and ONNX Runtime's element types. */
final class OnnxTypes {
  private OnnxTypes() {}

  /** The Scoreline datatype of an ONNX element type, or null when Scoreline has none. */
  static DataType dataType(OnnxTensorType type) {
    switch (type) {
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT:
        return DataType.FP32;
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_DOUBLE:
        return DataType.FP64;
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT16:
        return DataType.FP16;
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_BFLOAT16:
        return DataType.BF16;
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT8:
        return DataType.INT8;
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT16:
        return DataType.INT16;
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT32:
        return DataType.INT32;
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64:
        return DataType.INT64;
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT8:
        return DataType.UINT8;
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT16:
        return DataType.UINT16;
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT32:
        return DataType.UINT32;
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT64:
        return DataType.UINT64;
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_BOOL:
        return DataType.BOOL;
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_STRING:
        return DataType.BYTES;
      default:
        return null;
    }
  }

  /**
   * The ONNX Runtime Java type that carries a fixed-size datatype's bytes. ORT's Java API has no
   * UINT16/32/64, so those travel as the signed type of the same width (see {@link UnsignedCasts}).
   */
  static OnnxJavaType carrier(DataType type) {
    switch (type) {
      case FP32:
        return OnnxJavaType.FLOAT;
      case FP64:
        return OnnxJavaType.DOUBLE;
      case FP16:
        return OnnxJavaType.FLOAT16;
      case BF16:
        return OnnxJavaType.BFLOAT16;
      case INT8:
        return OnnxJavaType.INT8;
      case UINT8:
        return OnnxJavaType.UINT8;
      case INT16:
      case UINT16:
        return OnnxJavaType.INT16;
      case INT32:
      case UINT32:
        return OnnxJavaType.INT32;
      case INT64:
      case UINT64:
        return OnnxJavaType.INT64;
      case BOOL:
        return OnnxJavaType.BOOL;
      default:
        throw new IllegalArgumentException(type + " has no fixed-size ONNX Runtime carrier");
    }
  }

  /** True for the datatypes ORT's Java API cannot create tensors of directly. */
  static boolean isWideUnsigned(DataType type) {
    return type == DataType.UINT16 || type == DataType.UINT32 || type == DataType.UINT64;
  }

  /** The {@code TensorProto.DataType} number of a datatype, as written in ONNX files. */
  static int onnxElementType(DataType type) {
    switch (type) {
      case FP32:
        return 1;
      case UINT8:
        return 2;
      case INT8:
        return 3;
      case UINT16:
        return 4;
      case INT16:
        return 5;
      case INT32:
        return 6;
      case INT64:
        return 7;
      case BYTES:
        return 8;
      case BOOL:
        return 9;
      case FP16:
        return 10;
      case FP64:
        return 11;
      case UINT32:
        return 12;
      case UINT64:
        return 13;
      case BF16:
        return 16;
      default:
        throw new IllegalArgumentException("no ONNX element type for " + type);
    }
  }
}
