package dev.scoreline.core.surface;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * Surface metrics: {@code scoreline_surface_stage_seconds{surface,stage}} (histogram; stages
 * candidates, features, rules, transform, inference, total), {@code
 * scoreline_surface_requests_total{surface,outcome}} (ranked, fallback, error) and {@code
 * scoreline_surface_fallbacks_total{surface,reason}}.
 */
final class SurfaceMetrics {
  private final MeterRegistry registry;
  // surface -> stage -> timer, and name -> surface -> tag value -> counter: looked up per request
  // without building a key string
  private final ConcurrentHashMap<String, ConcurrentHashMap<String, Timer>> timers =
      new ConcurrentHashMap<>();
  private final ConcurrentHashMap<
          String, ConcurrentHashMap<String, ConcurrentHashMap<String, Counter>>>
      counters = new ConcurrentHashMap<>();

  SurfaceMetrics(MeterRegistry registry) {
    this.registry = registry;
  }

  void stage(String surface, String stage, long micros) {
    if (registry == null) {
      return;
    }
    timers
        .computeIfAbsent(surface, k -> new ConcurrentHashMap<>())
        .computeIfAbsent(
            stage,
            k ->
                Timer.builder("scoreline.surface.stage")
                    .description("Wall time of one pipeline stage of a surface request")
                    .tag("surface", surface)
                    .tag("stage", stage)
                    .publishPercentileHistogram()
                    .minimumExpectedValue(Duration.ofNanos(10_000))
                    .maximumExpectedValue(Duration.ofSeconds(10))
                    .register(registry))
        .record(micros, TimeUnit.MICROSECONDS);
  }

  void request(String surface, String outcome) {
    count("scoreline.surface.requests", surface, "outcome", outcome);
  }

  void fallback(String surface, String reason) {
    count("scoreline.surface.fallbacks", surface, "reason", reason);
  }

  private void count(String name, String surface, String tag, String value) {
    if (registry == null) {
      return;
    }
    counters
        .computeIfAbsent(name, k -> new ConcurrentHashMap<>())
        .computeIfAbsent(surface, k -> new ConcurrentHashMap<>())
        .computeIfAbsent(
            value,
            k -> Counter.builder(name).tag("surface", surface).tag(tag, value).register(registry))
        .increment();
  }
}
