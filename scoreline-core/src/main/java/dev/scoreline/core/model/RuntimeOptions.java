package dev.scoreline.core.model;

import java.util.Locale;

/**
 * Runtime options of a model: threads, graph optimization, execution provider.
 *
 * @param intraOpThreads threads used inside one operator; 0 lets the runtime decide
 * @param interOpThreads threads used across operators; 0 lets the runtime decide
 * @param optimizationLevel {@code none}, {@code basic}, {@code extended} or {@code all}
 * @param executionProvider {@code cpu} or {@code cuda}; {@code cuda} falls back to CPU with a
 *     warning when no GPU runtime is present
 * @param deviceId the GPU ordinal for {@code cuda}
 */
public record RuntimeOptions(
    int intraOpThreads,
    int interOpThreads,
    String optimizationLevel,
    String executionProvider,
    int deviceId) {
  public static final RuntimeOptions DEFAULT = new RuntimeOptions(0, 0, "all", "cpu", 0);

  public RuntimeOptions {
    if (intraOpThreads < 0 || interOpThreads < 0) {
      throw new IllegalArgumentException("intra-op-threads and inter-op-threads must be >= 0");
    }
    optimizationLevel =
        optimizationLevel == null ? "all" : optimizationLevel.toLowerCase(Locale.ROOT);
    switch (optimizationLevel) {
      case "none":
      case "basic":
      case "extended":
      case "all":
        break;
      default:
        throw new IllegalArgumentException(
            "optimization-level '"
                + optimizationLevel
                + "' is not valid; use none, basic, extended or all");
    }
    executionProvider =
        executionProvider == null ? "cpu" : executionProvider.toLowerCase(Locale.ROOT);
    if (!executionProvider.equals("cpu") && !executionProvider.equals("cuda")) {
      throw new IllegalArgumentException(
          "execution-provider '" + executionProvider + "' is not valid; use cpu or cuda");
    }
    if (deviceId < 0) {
      throw new IllegalArgumentException("device-id must be >= 0");
    }
  }
}
