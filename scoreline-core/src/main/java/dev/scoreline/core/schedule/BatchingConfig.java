package dev.scoreline.core.schedule;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import dev.scoreline.core.config.Durations;
import java.time.Duration;
import java.util.List;

/**
 * The {@code dynamic-batching} section of a model's config.
 *
 * @param maxQueueDelay how long the oldest request may wait for others to join its batch
 * @param preferredBatchSizes batch sizes dispatched at once when reached (ascending)
 * @param maxQueueSize requests waiting at most; more are refused at once (429)
 * @param priorityLevels number of priority levels; 1 is the highest
 * @param defaultPriority the level of requests that name none
 * @param defaultTimeout the deadline of requests that name none; null = none
 */
public record BatchingConfig(
    Duration maxQueueDelay,
    List<Integer> preferredBatchSizes,
    int maxQueueSize,
    int priorityLevels,
    int defaultPriority,
    Duration defaultTimeout) {

  public BatchingConfig {
    if (maxQueueDelay == null || maxQueueDelay.isNegative()) {
      throw new IllegalArgumentException("dynamic-batching.max-queue-delay must be >= 0");
    }
    preferredBatchSizes =
        preferredBatchSizes == null ? List.of() : List.copyOf(preferredBatchSizes);
    for (int s : preferredBatchSizes) {
      if (s < 1) {
        throw new IllegalArgumentException("dynamic-batching.preferred-batch-sizes must be >= 1");
      }
    }
    preferredBatchSizes = preferredBatchSizes.stream().sorted().distinct().toList();
    if (maxQueueSize < 1) {
      throw new IllegalArgumentException("dynamic-batching.max-queue-size must be >= 1");
    }
    if (priorityLevels < 1) {
      throw new IllegalArgumentException("dynamic-batching.priority-levels must be >= 1");
    }
    if (defaultPriority < 1 || defaultPriority > priorityLevels) {
      throw new IllegalArgumentException(
          "dynamic-batching.default-priority must be in 1.." + priorityLevels);
    }
  }

  @JsonCreator
  static BatchingConfig fromConfig(
      @JsonProperty("max-queue-delay") String maxQueueDelay,
      @JsonProperty("preferred-batch-sizes") List<Integer> preferredBatchSizes,
      @JsonProperty("max-queue-size") Integer maxQueueSize,
      @JsonProperty("priority-levels") Integer priorityLevels,
      @JsonProperty("default-priority") Integer defaultPriority,
      @JsonProperty("default-timeout") String defaultTimeout) {
    int levels = priorityLevels == null ? 1 : priorityLevels;
    return new BatchingConfig(
        maxQueueDelay == null
            ? Duration.ofNanos(500_000)
            : Durations.parse("dynamic-batching.max-queue-delay", maxQueueDelay),
        preferredBatchSizes,
        maxQueueSize == null ? 1024 : maxQueueSize,
        levels,
        defaultPriority == null ? (levels + 1) / 2 : defaultPriority,
        Durations.parse("dynamic-batching.default-timeout", defaultTimeout));
  }
}
