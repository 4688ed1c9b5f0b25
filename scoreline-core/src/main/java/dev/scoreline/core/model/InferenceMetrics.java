package dev.scoreline.core.model;

import static java.util.Objects.requireNonNull;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * Inference metrics, published as histograms: {@code scoreline_inference_request_seconds} (by
 * model, version, outcome; its {@code _count} is the request count), {@code
 * scoreline_inference_queue_seconds} and {@code scoreline_inference_compute_seconds}.
 */
public final class InferenceMetrics {
  /** The model label used for requests naming a model that does not exist (bounded cardinality). */
  public static final String UNKNOWN_MODEL = "_unknown";

  private final MeterRegistry registry;
  private final ConcurrentHashMap<String, Timer> timers = new ConcurrentHashMap<>();

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

  private Timer timer(String name, String model, String version, String outcome) {
    String key = name + '\0' + model + '\0' + version + '\0' + outcome;
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
