package dev.scoreline.bench.batching;

import dev.scoreline.bench.BenchModel;
import dev.scoreline.core.model.InferenceMetrics;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.distribution.CountAtBucket;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

/**
 * The server's own view of a measured period, read from its meter registry (the same meters that
 * {@code /metrics} exposes) as the difference of two snapshots: {@code
 * scoreline_inference_request_seconds{outcome="success"}} (from admission in the model manager to
 * the answer, so without the transport), {@code scoreline_inference_compute_seconds} (one sample
 * per model run: per batch with dynamic batching, per request without), {@code
 * scoreline_inference_queue_seconds}, {@code scoreline_inference_batch_size} and {@code
 * scoreline_inference_rejected_total} (the model's, and the admission control's under {@code
 * model="_server"}).
 *
 * <p>The timers are Prometheus histograms with fixed buckets, so a percentile is interpolated
 * linearly inside its bucket: the buckets are about 22 us wide between 65 and 262 us, 87 us wide up
 * to 1 ms, 350 us wide up to 4 ms.
 */
final class ServerMetrics {
  private ServerMetrics() {}

  /** Cumulative counts at one instant. */
  record Snapshot(
      Buckets request,
      Buckets compute,
      Buckets queue,
      long batches,
      double batchRows,
      Map<String, Double> rejected) {}

  /** A histogram's cumulative counts per upper bound (nanoseconds), and its total count. */
  record Buckets(double[] upperNanos, double[] cumulative, long count) {
    static final Buckets EMPTY = new Buckets(new double[0], new double[0], 0);

    static Buckets of(Timer t) {
      if (t == null) {
        return EMPTY;
      }
      CountAtBucket[] cs = t.takeSnapshot().histogramCounts();
      double[] upper = new double[cs.length];
      double[] cum = new double[cs.length];
      for (int i = 0; i < cs.length; i++) {
        upper[i] = cs[i].bucket(TimeUnit.NANOSECONDS);
        cum[i] = cs[i].count();
      }
      return new Buckets(upper, cum, t.count());
    }

    /**
     * The {@code q}-quantile (0..1) of the samples recorded after {@code before}, in microseconds;
     * NaN when there are none. Values above the last bucket report the last bound.
     */
    double quantileMicrosSince(Buckets before, double q) {
      long n = count - before.count;
      if (n <= 0 || upperNanos.length == 0) {
        return Double.NaN;
      }
      double target = q * n;
      double prevUpper = 0;
      double prevCum = 0;
      for (int i = 0; i < upperNanos.length; i++) {
        double cum = cumulative[i] - (before.cumulative.length > i ? before.cumulative[i] : 0);
        if (cum >= target) {
          double inBucket = cum - prevCum;
          double frac = inBucket <= 0 ? 1 : (target - prevCum) / inBucket;
          return (prevUpper + frac * (upperNanos[i] - prevUpper)) / 1000.0;
        }
        prevUpper = upperNanos[i];
        prevCum = cum;
      }
      return upperNanos[upperNanos.length - 1] / 1000.0;
    }
  }

  static Snapshot take(MeterRegistry registry, BenchModel.Spec model) {
    String[] tags = {"model", model.name(), "version", model.version()};
    Timer request =
        registry.find("scoreline.inference.request").tags(tags).tag("outcome", "success").timer();
    Timer compute = registry.find("scoreline.inference.compute").tags(tags).timer();
    Timer queue = registry.find("scoreline.inference.queue").tags(tags).timer();
    DistributionSummary batch =
        registry.find("scoreline.inference.batch.size").tags(tags).summary();
    Map<String, Double> rejected = new TreeMap<>();
    for (Counter c : registry.find("scoreline.inference.rejected").tags(tags).counters()) {
      rejected.merge(c.getId().getTag("reason"), c.count(), Double::sum);
    }
    // refused by the server's admission control before the model was known
    for (Counter c :
        registry
            .find("scoreline.inference.rejected")
            .tag("model", InferenceMetrics.SERVER)
            .counters()) {
      rejected.merge(c.getId().getTag("reason"), c.count(), Double::sum);
    }
    return new Snapshot(
        Buckets.of(request),
        Buckets.of(compute),
        Buckets.of(queue),
        batch == null ? 0 : batch.count(),
        batch == null ? 0 : batch.totalAmount(),
        rejected);
  }

  /** What the server saw between two snapshots. */
  record Delta(
      double requestP99Micros,
      long computeSamples,
      double computeP50Micros,
      double computeP99Micros,
      double queueP99Micros,
      long batches,
      double meanBatchRows,
      Map<String, Long> rejected) {

    static Delta between(Snapshot a, Snapshot b) {
      long batches = b.batches() - a.batches();
      Map<String, Long> rejected = new TreeMap<>();
      for (Map.Entry<String, Double> e : b.rejected().entrySet()) {
        long n = Math.round(e.getValue() - a.rejected().getOrDefault(e.getKey(), 0.0));
        if (n > 0) {
          rejected.put(e.getKey(), n);
        }
      }
      return new Delta(
          b.request().quantileMicrosSince(a.request(), 0.99),
          b.compute().count() - a.compute().count(),
          b.compute().quantileMicrosSince(a.compute(), 0.50),
          b.compute().quantileMicrosSince(a.compute(), 0.99),
          b.queue().quantileMicrosSince(a.queue(), 0.99),
          batches,
          batches == 0 ? Double.NaN : (b.batchRows() - a.batchRows()) / batches,
          rejected);
    }
  }
}
