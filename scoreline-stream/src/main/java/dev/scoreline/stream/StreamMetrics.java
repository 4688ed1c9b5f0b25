package dev.scoreline.stream;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * The metrics of one streaming surface (Prometheus names):
 *
 * <ul>
 *   <li>{@code scoreline_stream_events_in_total{surface}}: events read from the source;
 *   <li>{@code scoreline_stream_events_out_total{surface,outcome}}: events finished, by outcome
 *       {@code result}, {@code dead-letter}, {@code duplicate};
 *   <li>{@code scoreline_stream_dead_letters_total{surface,stage}};
 *   <li>{@code scoreline_stream_alerts_total{surface,alert}};
 *   <li>{@code scoreline_stream_lag{surface}}: events accepted and not yet committed;
 *   <li>{@code scoreline_stream_latency_seconds{surface}}: event-to-result latency (accepted by the
 *       source to acknowledged by every sink), histogram;
 *   <li>{@code scoreline_stream_sink_errors_total{surface,sink}}: failed sink writes (retried);
 *   <li>{@code scoreline_stream_stage_seconds{surface,stage}}: where an event's time goes,
 *       histogram per stage: {@code source} (accepted by the source to polled by the processor: for
 *       Kafka, the produce, the broker and the fetch), {@code queue} (polled to picked up by its
 *       lane), {@code process} (picked up to its batch's results ready for the sinks: state,
 *       feature updates, scoring), {@code pipeline-wait} (waiting for the lane's oldest batch when
 *       {@code batches-in-flight} batches are unacknowledged), {@code sink} (sink writes started to
 *       acknowledged by every sink, as the lane sees it; a synchronous sink such as KV writes in
 *       this stage), and per commit {@code commit} (the source's commit, requested to durable).
 * </ul>
 */
final class StreamMetrics {
  private final MeterRegistry registry;
  private final String surface;
  private final Counter in;
  private final Counter results;
  private final Counter deadLetters;
  private final Counter duplicates;
  private final Timer latency;
  private final Timer[] stages = new Timer[STAGES.length];

  /** The stages of {@code scoreline.stream.stage}, indexed by the constants below. */
  static final String[] STAGES = {"source", "queue", "process", "pipeline-wait", "sink", "commit"};

  static final int SOURCE = 0;
  static final int QUEUE = 1;
  static final int PROCESS = 2;
  static final int PIPELINE_WAIT = 3;
  static final int SINK = 4;
  static final int COMMIT = 5;
  private final ConcurrentHashMap<String, Counter> counters = new ConcurrentHashMap<>();

  StreamMetrics(MeterRegistry registry, String surface, LongSupplier lag) {
    this.registry = registry == null ? new SimpleMeterRegistry() : registry;
    this.surface = surface;
    this.in =
        Counter.builder("scoreline.stream.events.in")
            .description("Events read from the source")
            .tag("surface", surface)
            .register(this.registry);
    this.results = out("result");
    this.deadLetters = out("dead-letter");
    this.duplicates = out("duplicate");
    this.latency =
        Timer.builder("scoreline.stream.latency")
            .description(
                "Event-to-result latency: accepted by the source to acknowledged by the sinks")
            .tag("surface", surface)
            .publishPercentileHistogram()
            .minimumExpectedValue(Duration.ofNanos(100_000))
            .maximumExpectedValue(Duration.ofSeconds(60))
            .register(this.registry);
    for (int i = 0; i < STAGES.length; i++) {
      stages[i] =
          Timer.builder("scoreline.stream.stage")
              .description("Where an event's time goes, by stage (see docs/streaming.md)")
              .tag("surface", surface)
              .tag("stage", STAGES[i])
              .publishPercentileHistogram()
              .minimumExpectedValue(Duration.ofNanos(10_000))
              .maximumExpectedValue(Duration.ofSeconds(60))
              .register(this.registry);
    }
    Gauge.builder("scoreline.stream.lag", lag, s -> (double) s.getAsLong())
        .description("Events accepted by the source and not yet committed")
        .tag("surface", surface)
        .register(this.registry);
  }

  private Counter out(String outcome) {
    return Counter.builder("scoreline.stream.events.out")
        .description("Events finished, by outcome")
        .tag("surface", surface)
        .tag("outcome", outcome)
        .register(registry);
  }

  MeterRegistry registry() {
    return registry;
  }

  void in(int n) {
    in.increment(n);
  }

  void results(int n) {
    results.increment(n);
  }

  void duplicates(int n) {
    duplicates.increment(n);
  }

  void deadLetter(String stage) {
    deadLetters.increment();
    counter("scoreline.stream.dead.letters", "stage", stage).increment();
  }

  void alert(String name) {
    counter("scoreline.stream.alerts", "alert", name).increment();
  }

  void sinkError(String sink) {
    counter("scoreline.stream.sink.errors", "sink", sink).increment();
  }

  void latencyMicros(long micros) {
    latency.record(Math.max(0, micros), TimeUnit.MICROSECONDS);
  }

  /** Records {@code n} events (or commits) that spent {@code nanos} in {@code stage}. */
  void stage(int stage, long nanos, int n) {
    Timer t = stages[stage];
    long v = Math.max(0, nanos);
    for (int i = 0; i < n; i++) {
      t.record(v, TimeUnit.NANOSECONDS);
    }
  }

  Timer latency() {
    return latency;
  }

  double count(String outcome) {
    switch (outcome) {
      case "in":
        return in.count();
      case "result":
        return results.count();
      case "dead-letter":
        return deadLetters.count();
      default:
        return duplicates.count();
    }
  }

  private Counter counter(String name, String tag, String value) {
    return counters.computeIfAbsent(
        name + '\0' + tag + '\0' + value,
        k -> Counter.builder(name).tag("surface", surface).tag(tag, value).register(registry));
  }
}
