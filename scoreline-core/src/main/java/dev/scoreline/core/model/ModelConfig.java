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
 * @param maxConcurrency requests executed at once per version without batching; 0 means the number
 *     of cores
 * @param instanceCount parallel instances (runtime sessions) per version
 * @param dynamicBatching the dynamic batcher's settings; null runs each request on its own
 */
public record ModelConfig(
    String platform,
    int maxBatchSize,
    List<TensorSpec> inputs,
    List<TensorSpec> outputs,
    RuntimeOptions runtime,
    VersionPolicy versionPolicy,
    String defaultModelFilename,
    int maxConcurrency,
    int instanceCount,
    dev.scoreline.core.schedule.BatchingConfig dynamicBatching) {

  public static final ModelConfig DEFAULT =
      new ModelConfig(null, 0, null, null, null, null, null, 0, 0, null);

  /** A config without instances or batching settings. */
  public ModelConfig(
      String platform,
      int maxBatchSize,
      List<TensorSpec> inputs,
      List<TensorSpec> outputs,
      RuntimeOptions runtime,
      VersionPolicy versionPolicy,
      String defaultModelFilename,
      int maxConcurrency) {
    this(
        platform,
        maxBatchSize,
        inputs,
        outputs,
        runtime,
        versionPolicy,
        defaultModelFilename,
        maxConcurrency,
        0,
        null);
  }

  public ModelConfig {
    platform = platform == null ? "onnx" : platform;
    if (maxBatchSize < 0) {
      throw new IllegalArgumentException("max-batch-size must be >= 0 (0 = no limit)");
    }
    if (maxConcurrency < 0) {
      throw new IllegalArgumentException("max-concurrency must be >= 0 (0 = number of cores)");
    }
    if (instanceCount < 0) {
      throw new IllegalArgumentException("instance-count must be >= 1");
    }
    instanceCount = instanceCount == 0 ? 1 : instanceCount;
    if (dynamicBatching != null && maxBatchSize < 1) {
      throw new IllegalArgumentException(
          "dynamic-batching needs max-batch-size >= 1 (the largest batch it may form)");
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
