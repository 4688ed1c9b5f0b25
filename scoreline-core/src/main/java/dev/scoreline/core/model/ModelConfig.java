package dev.scoreline.core.model;

import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * A model's {@code config.yaml}. Every key is optional: inputs and outputs default to what the
 * model file declares; when given they are checked against it at load.
 *
 * @param platform the runtime that loads the model ({@code onnx})
 * @param maxBatchSize the largest batch accepted; 0 means the model has no batch dimension limit
 * @param defaultModelFilename the file inside each version directory
 * @param maxConcurrency requests executed at once per version; 0 means the number of cores
 */
public record ModelConfig(
    String platform,
    int maxBatchSize,
    List<TensorSpec> inputs,
    List<TensorSpec> outputs,
    RuntimeOptions runtime,
    VersionPolicy versionPolicy,
    String defaultModelFilename,
    int maxConcurrency) {

  public static final ModelConfig DEFAULT =
      new ModelConfig(null, 0, null, null, null, null, null, 0);

  public ModelConfig {
    platform = platform == null ? "onnx" : platform;
    if (maxBatchSize < 0) {
      throw new IllegalArgumentException("max-batch-size must be >= 0 (0 = no limit)");
    }
    if (maxConcurrency < 0) {
      throw new IllegalArgumentException("max-concurrency must be >= 0 (0 = number of cores)");
    }
    inputs = inputs == null ? null : List.copyOf(inputs);
    outputs = outputs == null ? null : List.copyOf(outputs);
    checkUnique("inputs", inputs);
    checkUnique("outputs", outputs);
    runtime = runtime == null ? RuntimeOptions.DEFAULT : runtime;
    versionPolicy = versionPolicy == null ? VersionPolicy.DEFAULT : versionPolicy;
    defaultModelFilename = defaultModelFilename == null ? "model.onnx" : defaultModelFilename;
  }

  private static void checkUnique(String what, List<TensorSpec> specs) {
    if (specs == null) {
      return;
    }
    Set<String> seen = new HashSet<>();
    for (TensorSpec s : specs) {
      if (!seen.add(s.name())) {
        throw new IllegalArgumentException(what + " names '" + s.name() + "' twice");
      }
    }
  }
}
