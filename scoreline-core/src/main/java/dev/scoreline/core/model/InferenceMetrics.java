package dev.scoreline.core.model;

import static java.util.Objects.requireNonNull;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.ToDoubleFunction;

/**
 * Inference metrics, published as histograms: {@code scoreline_inference_request_seconds} (by
 * model, version, outcome; its {@code _count} is the request count), {@code
 * scoreline_inference_queue_seconds} and {@code scoreline_inference_compute_seconds}; with dynamic
 * batching also {@code scoreline_inference_batch_size} (histogram), {@code
 * scoreline_inference_queue_depth} (gauge) and {@code scoreline_inference_rejected_total} (by
 * reason: queue_full, deadline, expired, cancelled; the server's admission control adds
 * max_in_flight and expired_on_arrival under the model label {@value #SERVER}).
 */
public final class InferenceMetrics {
  /** The model label used for requests naming a model that does not exist (bounded cardinality). */
  public static final String UNKNOWN_MODEL = "_unknown";

  /**
   * The model label of requests refused by the server before their body was decoded, when the model
   * they name is not known yet.
   */
  public static final String SERVER = "_server";

  private final MeterRegistry registry;
  private final ConcurrentHashMap<TimerKey, Timer> timers = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, Meter> meters = new ConcurrentHashMap<>();

  public InferenceMetrics(MeterRegistry registry) {
    this.registry = requireNonNull(registry, "registry is null");
  }

  public MeterRegistry registry() {
    return registry;
  }

  public void request(String model, String version, String outcome, long nanos) {
    timer("scoreline.inference.request", model, version, outcome)
        .record(nanos, TimeUnit.NANOSECONDS);
  }

  public void queue(String model, String version, long nanos) {
    timer("scoreline.inference.queue", model, version, null).record(nanos, TimeUnit.NANOSECONDS);
  }

  public void compute(String model, String version, long nanos) {
    timer("scoreline.inference.compute", model, version, null).record(nanos, TimeUnit.NANOSECONDS);
  }

  /** A shadow call: its latency and outcome, never part of the response. */
  public void shadow(String model, String version, String outcome, long nanos) {
    timer("scoreline.shadow.request", model, version, outcome).record(nanos, TimeUnit.NANOSECONDS);
  }

  /** Largest absolute difference between a shadow's outputs and the served outputs. */
  public void shadowDivergence(String model, String version, double maxAbsDiff) {
    DistributionSummary d =
        (DistributionSummary)
            meters.computeIfAbsent(
                "divergence\0" + model + '\0' + version,
                k ->
                    DistributionSummary.builder("scoreline.shadow.divergence")
                        .tag("model", model)
                        .tag("version", version)
                        .serviceLevelObjectives(1e-6, 1e-4, 1e-2, 0.1, 1)
                        .register(registry));
    d.record(maxAbsDiff);
  }

  public void batch(String model, String version, long rows) {
    DistributionSummary d =
        (DistributionSummary)
            meters.computeIfAbsent(
                "batch\0" + model + '\0' + version,
                k ->
                    DistributionSummary.builder("scoreline.inference.batch.size")
                        .tag("model", model)
                        .tag("version", version)
                        .serviceLevelObjectives(1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024)
                        .register(registry));
    d.record(rows);
  }

  public void rejected(String model, String version, String reason) {
    Counter c =
        (Counter)
            meters.computeIfAbsent(
                "rejected\0" + model + '\0' + version + '\0' + reason,
                k ->
                    Counter.builder("scoreline.inference.rejected")
                        .tag("model", model)
                        .tag("version", version)
                        .tag("reason", reason)
                        .register(registry));
    c.increment();
  }

  /** Registers the queue-depth gauge of one version's scheduler. */
  public <T> void queueDepth(String model, String version, T obj, ToDoubleFunction<T> depth) {
    Gauge g =
        Gauge.builder("scoreline.inference.queue.depth", obj, depth)
            .tag("model", model)
            .tag("version", version)
            .strongReference(true)
            .register(registry);
    meters.put("depth\0" + model + '\0' + version, g);
  }

  public void removeQueueDepth(String model, String version) {
    Meter m = meters.remove("depth\0" + model + '\0' + version);
    if (m != null) {
      registry.remove(m);
    }
  }

  /**
   * A timer's identity. A record rather than a concatenated string: three timers are looked up per
   * call, and a new string per lookup cost an allocation and a hash over its every character, where
   * the record hashes the metric name and outcome (constants, their hash cached) and the short
   * model and version names.
   */
  private record TimerKey(String name, String model, String version, String outcome) {}

  private Timer timer(String name, String model, String version, String outcome) {
    TimerKey key = new TimerKey(name, model, version, outcome);
    Timer t = timers.get(key);
    if (t != null) {
      return t;
    }
    return timers.computeIfAbsent(
        key,
        k -> {
          Timer.Builder b =
              Timer.builder(name)
                  .tag("model", model)
                  .tag("version", version)
                  .publishPercentileHistogram()
                  .minimumExpectedValue(Duration.ofNanos(50_000))
                  .maximumExpectedValue(Duration.ofSeconds(30));
          if (outcome != null) {
            b.tag("outcome", outcome);
          }
          return b.register(registry);
        });
  }
}
