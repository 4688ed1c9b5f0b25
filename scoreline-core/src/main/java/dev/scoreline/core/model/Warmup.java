package dev.scoreline.core.model;

import dev.scoreline.core.error.ErrorCode;
import dev.scoreline.core.error.ScorelineException;
import dev.scoreline.core.model.spi.LoadedModel;
import dev.scoreline.core.tensor.DataType;
import dev.scoreline.core.tensor.Shapes;
import dev.scoreline.core.tensor.Tensor;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Runs zero-filled sample requests on a freshly loaded instance, so a version is ready only when it
 * has answered (first-call latency paid before traffic arrives; a model that crashes on run never
 * becomes ready).
 */
final class Warmup {
  private Warmup() {}

  static void run(String model, long version, LoadedModel instance, ModelConfig config) {
    ModelConfig.Warmup w = config.warmup();
    if (w.requests() == 0) {
      return;
    }
    ModelSignature sig = instance.signature();
    Map<String, Tensor> inputs = new LinkedHashMap<>();
    for (TensorSpec s : sig.inputs()) {
      inputs.put(
          s.name(),
          zeros(s, sig.maxBatchSize() > 0 ? Math.min(w.batchSize(), sig.maxBatchSize()) : 1));
    }
    List<String> outputs = new ArrayList<>();
    for (TensorSpec s : sig.outputs()) {
      outputs.add(s.name());
    }
    for (int i = 0; i < w.requests(); i++) {
      try {
        instance.run(inputs, outputs);
      } catch (RuntimeException e) {
        instance.close();
        throw new ScorelineException(
            ErrorCode.USER_ERROR,
            "model '"
                + model
                + "' version "
                + version
                + " failed its warmup request with zero-filled inputs "
                + sig.inputs()
                + ": "
                + e.getMessage(),
            e);
      }
    }
  }

  static Tensor zeros(TensorSpec s, int batch) {
    long[] shape = s.shape();
    for (int d = 0; d < shape.length; d++) {
      if (shape[d] < 0) {
        shape[d] = d == 0 ? batch : 1;
      }
    }
    int n = (int) Shapes.elementCount(s.name(), shape);
    if (s.datatype() == DataType.BYTES) {
      byte[][] empty = new byte[n][];
      java.util.Arrays.fill(empty, new byte[0]);
      return Tensor.ofBytes(s.name(), shape, empty);
    }
    return Tensor.of(
        s.name(), s.datatype(), shape, ByteBuffer.allocateDirect(n * s.datatype().byteSize()));
  }
}
