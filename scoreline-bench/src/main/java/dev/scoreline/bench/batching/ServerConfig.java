package dev.scoreline.bench.batching;

import java.time.Duration;

/**
 * One server configuration of the benchmark: the {@code mlp_ranker} model's {@code config.yaml}.
 *
 * @param delay {@code max-queue-delay}; null means dynamic batching off (the direct scheduler)
 * @param instances {@code instance-count}
 * @param queueSize {@code max-queue-size} of the batcher (ignored when off)
 */
record ServerConfig(Duration delay, int instances, int queueSize) {
  static final ServerConfig OFF = new ServerConfig(null, 1, 0);

  ServerConfig {
    if (instances < 1) {
      throw new IllegalArgumentException("instances must be >= 1");
    }
    if (delay != null && queueSize < 1) {
      throw new IllegalArgumentException("queueSize must be >= 1");
    }
  }

  static ServerConfig on(Duration delay, int instances, int queueSize) {
    return new ServerConfig(delay, instances, queueSize);
  }

  boolean batching() {
    return delay != null;
  }

  ServerConfig withQueueSize(int size) {
    return new ServerConfig(delay, instances, size);
  }

  /** {@code 500us}, {@code 2ms}: the config file's own notation. */
  String delayText() {
    long micros = delay.toNanos() / 1000;
    return micros % 1000 == 0 ? micros / 1000 + "ms" : micros + "us";
  }

  /** A short label for tables: {@code off}, {@code on 500us x1}. */
  String label() {
    return batching() ? "on " + delayText() + " x" + instances : "off";
  }

  String yaml() {
    StringBuilder sb = new StringBuilder();
    sb.append("max-batch-size: 64\n");
    sb.append("version-policy: {specific: [1]}\n");
    sb.append("runtime: {intra-op-threads: 1, inter-op-threads: 1}\n");
    if (batching()) {
      if (instances != 1) {
        sb.append("instance-count: ").append(instances).append('\n');
      }
      sb.append("dynamic-batching: {max-queue-delay: ")
          .append(delayText())
          .append(", max-queue-size: ")
          .append(queueSize)
          .append("}\n");
    }
    return sb.toString();
  }
}
