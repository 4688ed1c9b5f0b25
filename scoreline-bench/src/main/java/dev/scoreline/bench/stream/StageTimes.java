package dev.scoreline.bench.stream;

import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.config.MeterFilter;
import io.micrometer.core.instrument.distribution.CountAtBucket;
import io.micrometer.core.instrument.distribution.DistributionStatisticConfig;
import io.micrometer.core.instrument.distribution.HistogramSnapshot;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The processor's per-stage times ({@code scoreline.stream.stage}: source, queue, process,
 * pipeline-wait, sink, commit) over a measured window: bucket counts of the timers' histograms at
 * the start and the end of the window, so that the warm-up is not counted. Percentiles are bucket
 * upper bounds (buckets 12% apart, set for the run with {@link #keepHistograms}).
 */
final class StageTimes {
  private static final String METER = "scoreline.stream.stage";

  /** Bucket bounds in nanoseconds: 10 us to 60 s, 12% apart. */
  private static final double[] BOUNDS = bounds();

  private static double[] bounds() {
    List<Double> b = new ArrayList<>();
    for (double v = 10_000; v <= 60e9; v *= 1.12) {
      b.add(Math.rint(v));
    }
    double[] out = new double[b.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = b.get(i);
    }
    return out;
  }

  private final MeterRegistry registry;
  private final Map<String, long[]> start;
  private final Map<String, double[]> bounds = new LinkedHashMap<>();

  /**
   * Makes the registry's histograms cumulative for the run (one time window of an hour instead of
   * Micrometer's rotating two-minute windows); call before the processor registers its meters.
   */
  static void keepHistograms(MeterRegistry registry) {
    registry
        .config()
        .meterFilter(
            new MeterFilter() {
              @Override
              public DistributionStatisticConfig configure(
                  Meter.Id id, DistributionStatisticConfig config) {
                if (!id.getName().equals(METER)) {
                  return config;
                }
                // a SimpleMeterRegistry keeps no percentile-histogram buckets, only these
                return DistributionStatisticConfig.builder()
                    .expiry(Duration.ofHours(1))
                    .bufferLength(1)
                    .serviceLevelObjectives(BOUNDS)
                    .build()
                    .merge(config);
              }
            });
  }

  StageTimes(MeterRegistry registry) {
    this.registry = registry;
    this.start = counts();
  }

  private Map<String, long[]> counts() {
    Map<String, long[]> out = new LinkedHashMap<>();
    for (Timer t : registry.find(METER).timers()) {
      HistogramSnapshot s = t.takeSnapshot();
      CountAtBucket[] b = s.histogramCounts();
      // one more slot: every value, those above the last bucket included
      long[] c = new long[b.length + 1];
      double[] ub = new double[b.length + 1];
      c[b.length] = s.count();
      ub[b.length] = Double.POSITIVE_INFINITY;
      boolean cumulative = true;
      for (int i = 0; i < b.length; i++) {
        c[i] = (long) b[i].count();
        ub[i] = b[i].bucket(TimeUnit.MICROSECONDS);
        if (i > 0 && c[i] < c[i - 1]) {
          cumulative = false;
        }
      }
      if (!cumulative) {
        for (int i = 1; i < b.length; i++) {
          c[i] += c[i - 1];
        }
      }
      String stage = t.getId().getTag("stage");
      out.put(stage, c);
      bounds.put(stage, ub);
    }
    return out;
  }

  /** One line per stage: count, p50, p99 and p99.9 over the window. */
  List<String> report() {
    Map<String, long[]> end = counts();
    List<String> out = new ArrayList<>();
    for (Map.Entry<String, long[]> e : end.entrySet()) {
      long[] c = e.getValue().clone();
      long[] c0 = start.get(e.getKey());
      if (c0 != null && c0.length == c.length) {
        for (int i = 0; i < c.length; i++) {
          c[i] -= c0[i];
        }
      }
      long n = c.length == 0 ? 0 : c[c.length - 1];
      double[] ub = bounds.get(e.getKey());
      out.add(
          String.format(
              Locale.ROOT,
              "%-14s %9d   p50 <= %8.2f ms   p99 <= %8.2f ms   p99.9 <= %8.2f ms",
              e.getKey(),
              n,
              at(c, ub, n, 0.5),
              at(c, ub, n, 0.99),
              at(c, ub, n, 0.999)));
    }
    return out;
  }

  private static double at(long[] cumulative, double[] ub, long n, double q) {
    if (n == 0) {
      return Double.NaN;
    }
    long rank = (long) Math.ceil(q * n);
    for (int i = 0; i < cumulative.length; i++) {
      if (cumulative[i] >= rank) {
        return ub[i] / 1000.0;
      }
    }
    return Double.POSITIVE_INFINITY;
  }
}
