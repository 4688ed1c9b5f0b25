package dev.scoreline.cli;

import dev.scoreline.core.model.ModelMetadata;
import dev.scoreline.core.model.TensorSpec;

/** Builds a ready-to-paste {@code curl} inference request for a model from its metadata. */
final class CurlExample {
  private static final int MAX_ELEMENTS = 256;

  private CurlExample() {}

  static String infer(String base, ModelMetadata m) {
    StringBuilder body = new StringBuilder("{\"inputs\":[");
    for (int i = 0; i < m.inputs().size(); i++) {
      TensorSpec s = m.inputs().get(i);
      long[] shape = s.shape();
      long count = 1;
      StringBuilder dims = new StringBuilder("[");
      for (int d = 0; d < shape.length; d++) {
        long n = shape[d] < 0 ? 1 : shape[d];
        count *= n;
        dims.append(d > 0 ? "," : "").append(n);
      }
      dims.append(']');
      if (count > MAX_ELEMENTS) {
        return "(input '"
            + s.name()
            + "' has "
            + count
            + " elements; see docs/serving.md for"
            + " sending large tensors with the binary extension)";
      }
      body.append(i > 0 ? "," : "")
          .append("{\"name\":\"")
          .append(s.name())
          .append("\",\"shape\":")
          .append(dims)
          .append(",\"datatype\":\"")
          .append(s.datatype())
          .append("\",\"data\":[");
      for (int e = 0; e < count; e++) {
        body.append(e > 0 ? "," : "").append(sample(s, e));
      }
      body.append("]}");
    }
    body.append("]}");
    return "curl -s -X POST "
        + base
        + "/v2/models/"
        + m.name()
        + "/infer -H 'Content-Type: application/json' -d '"
        + body
        + "'";
  }

  private static String sample(TensorSpec s, int i) {
    switch (s.datatype()) {
      case BOOL:
        return i % 2 == 0 ? "true" : "false";
      case BYTES:
        return "\"hello\"";
      case FP16:
      case BF16:
      case FP32:
      case FP64:
        return Double.toString(((i * 7) % 10) / 10.0);
      default:
        return Integer.toString(i % 10);
    }
  }
}
