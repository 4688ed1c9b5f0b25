package dev.scoreline.core.model;

import java.util.HashSet;
import java.util.List;
import java.util.Map;
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
 * @param versionLabels names such as {@code stable} or {@code canary} for versions
 * @param traffic how requests without a version are routed (canary split, shadow)
 * @param warmup sample requests a version must answer before it is ready
 * @param inlineComputeUs without batching, a request runs on the thread that submitted it (the
 *     server's event loop) instead of an inference worker when the version's recent compute time is
 *     below this many microseconds and a concurrency permit is free at once: two thread hand-offs
 *     fewer per call for small models; 0 never runs inline. Negative (the default when the key is
 *     absent) means {@value #DEFAULT_INLINE_COMPUTE_US}
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
    dev.scoreline.core.schedule.BatchingConfig dynamicBatching,
    Map<String, Long> versionLabels,
    TrafficPolicy traffic,
    Warmup warmup,
    Integer inlineComputeUs) {

  /** The compute time under which a request runs inline by default, in microseconds. */
  public static final int DEFAULT_INLINE_COMPUTE_US = 100;

  public static final ModelConfig DEFAULT =
      new ModelConfig(null, 0, null, null, null, null, null, 0, 0, null, null, null, null, null);

  /**
   * Warmup: {@code requests} calls with zero-filled inputs (variable dimensions set to {@code
   * batch-size} for the first, 1 for others) before a version is marked ready; 0 disables it.
   */
  public record Warmup(int requests, int batchSize) {
    public static final Warmup DEFAULT = new Warmup(1, 1);

    public Warmup {
      if (requests < 0) {
        throw new IllegalArgumentException("warmup.requests must be >= 0");
      }
      batchSize = batchSize == 0 ? 1 : batchSize;
      if (batchSize < 1) {
        throw new IllegalArgumentException("warmup.batch-size must be >= 1");
      }
    }
  }

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
        null,
        null,
        null,
        null,
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
    if (inlineComputeUs == null) {
      inlineComputeUs = DEFAULT_INLINE_COMPUTE_US;
    } else if (inlineComputeUs < 0) {
      throw new IllegalArgumentException(
          "inline-compute-us must be >= 0 (0 = never run a call on the receiving thread)");
    }
    if (dynamicBatching != null && maxBatchSize < 1) {
      throw new IllegalArgumentException(
          "dynamic-batching needs max-batch-size >= 1 (the largest batch it may form)");
    }
    versionLabels = versionLabels == null ? Map.of() : Map.copyOf(versionLabels);
    for (Map.Entry<String, Long> e : versionLabels.entrySet()) {
      if (e.getKey().matches("[0-9]+")) {
        throw new IllegalArgumentException(
            "version-labels key '"
                + e.getKey()
                + "' must not be a number (it would shadow a version)");
      }
      if (e.getValue() == null || e.getValue() < 1) {
        throw new IllegalArgumentException(
            "version-labels." + e.getKey() + " must be a version >= 1");
      }
    }
    traffic = traffic == null ? new TrafficPolicy(null, null) : traffic;
    warmup = warmup == null ? Warmup.DEFAULT : warmup;
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

  /** True when both configs execute a version the same way (routing settings aside). */
  public boolean sameExecutionAs(ModelConfig o) {
    return platform.equals(o.platform)
        && maxBatchSize == o.maxBatchSize
        && java.util.Objects.equals(inputs, o.inputs)
        && java.util.Objects.equals(outputs, o.outputs)
        && runtime.equals(o.runtime)
        && defaultModelFilename.equals(o.defaultModelFilename)
        && maxConcurrency == o.maxConcurrency
        && instanceCount == o.instanceCount
        && java.util.Objects.equals(dynamicBatching, o.dynamicBatching)
        && warmup.equals(o.warmup)
        && inlineComputeUs.equals(o.inlineComputeUs);
  }
}
