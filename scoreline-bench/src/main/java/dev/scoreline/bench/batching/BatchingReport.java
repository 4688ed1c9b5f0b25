package dev.scoreline.bench.batching;

import dev.scoreline.bench.Report;
import dev.scoreline.bench.batching.BatchingBenchmark.Cell;
import dev.scoreline.bench.batching.BatchingBenchmark.OverloadRun;
import dev.scoreline.bench.batching.BatchingBenchmark.Results;
import dev.scoreline.bench.batching.BatchingBenchmark.Run;
import java.time.temporal.ChronoUnit;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.ToDoubleFunction;
import org.HdrHistogram.Histogram;

/**
 * The Markdown report of a {@link BatchingBenchmark} run: medians and minimums over repeats, the
 * on/off ratios, and the goal checks of issue #3.
 */
final class BatchingReport {
  /** Goal 1: throughput with batching on at 64 clients, relative to off. */
  static final double GOAL_RATIO = 3.0;

  /** Goal 2: admitted p99 under overload, relative to unloaded p99. */
  static final double GOAL_OVERLOAD_P99_FACTOR = 2.0;

  /** Goal 2: every rejection answered within this many microseconds. */
  static final double GOAL_REJECT_MICROS = 1000;

  /** Heap after GC may move this much between two points without counting as growth. */
  static final long HEAP_NOISE_BYTES = 32L << 20;

  private final Results results;

  BatchingReport(Results results) {
    this.results = results;
  }

  /** Failed closed-loop calls, and wrong answers anywhere. */
  long harnessErrors() {
    long n = results.warmupErrors();
    for (List<Run> runs : results.cells().values()) {
      for (Run r : runs) {
        n += r.client().errors();
      }
    }
    for (OverloadRun r : results.overload()) {
      n += r.unloaded().wrong() + r.overload().wrong();
    }
    return n;
  }

  String markdown() {
    StringBuilder sb = new StringBuilder();
    BatchingBenchmark.Options o = results.options();
    sb.append("### Run of ")
        .append(results.started().truncatedTo(ChronoUnit.SECONDS))
        .append("\n\n");
    sb.append("- machine: ").append(Report.machine()).append('\n');
    sb.append("- JVM: ").append(Report.jvm()).append('\n');
    sb.append(
        String.format(
            Locale.ROOT,
            "- 1-min load average: %.2f at start, %.2f at end; elapsed %d min %d s%n",
            results.loadAtStart(),
            results.loadAtEnd(),
            results.elapsed().toMinutes(),
            results.elapsed().toSecondsPart()));
    sb.append(
        String.format(
            Locale.ROOT,
            "- closed loop: global warmup %.0f s; per cell warmup %.0f s + measure %.0f s;"
                + " %d repeats (config order rotated each repeat); gRPC channels %d%n",
            o.globalWarmupSeconds(),
            o.warmupSeconds(),
            o.measureSeconds(),
            o.repeats(),
            o.grpcChannels()));
    sb.append("- harness errors (failed closed-loop calls, wrong answers): ")
        .append(harnessErrors())
        .append("\n\n");

    sb.append("Configs (`config.yaml` of `")
        .append(o.model().name())
        .append("`, one repository and server each):\n\n");
    for (ServerConfig c : results.configs()) {
      sb.append("- `")
          .append(c.label())
          .append("`: `")
          .append(c.yaml().strip().replace("\n", "`, `"))
          .append("`\n");
    }
    sb.append('\n');

    closedLoopTable(sb);
    goalTable(sb);
    if (results.overloadConfig() != null) {
      overloadTables(sb);
    }
    return sb.toString();
  }

  private void closedLoopTable(StringBuilder sb) {
    sb.append(
        "Closed loop, one row per call. Cells are median (min) over the repeats (for calls/s the"
            + " min is the worst repeat, for latencies the best); \"x off\" is median calls/s over"
            + " `off`'s at the same transport and concurrency. Latencies in microseconds, measured"
            + " by the client. Server p99 (admission in the model manager to answer, without the"
            + " transport), mean batch, compute p99 and queue p99 are the server's own metrics"
            + " (deltas over the measured period; compute is per batch with batching on, per call"
            + " with it off); \"other CPU\" is the cores used by other processes during the cell"
            + " (median).\n\n");
    sb.append(
        "| config | transport | clients | calls/s | x off | p50 us | p99 us | p99.9 us"
            + " | server p99 us | mean batch | compute p99 us | queue p99 us | other CPU |\n");
    sb.append("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for (Map.Entry<Cell, List<Run>> e : results.cells().entrySet()) {
      Cell c = e.getKey();
      List<Run> rs = e.getValue();
      if (rs.isEmpty()) {
        continue;
      }
      double cps = med(rs, r -> r.client().callsPerSecond());
      double off = offCalls(c);
      sb.append(
          String.format(
              Locale.ROOT,
              "| %s | %s | %d | %,.0f (%,.0f) | %.2f | %s | %s | %s | %.0f | %s | %.0f | %s | %.2f |%n",
              c.config().label(),
              c.transport(),
              c.concurrency(),
              cps,
              min(rs, r -> r.client().callsPerSecond()),
              cps / off,
              lat(rs, 50),
              lat(rs, 99),
              lat(rs, 99.9),
              med(rs, r -> r.server().requestP99Micros()),
              c.config().batching()
                  ? String.format(Locale.ROOT, "%.1f", med(rs, r -> r.server().meanBatchRows()))
                  : "1",
              med(rs, r -> r.server().computeP99Micros()),
              c.config().batching()
                  ? String.format(Locale.ROOT, "%.0f", med(rs, r -> r.server().queueP99Micros()))
                  : "-",
              med(rs, r -> r.cpu().otherCores())));
    }
    sb.append('\n');
  }

  private void goalTable(StringBuilder sb) {
    if (!results.options().concurrencies().contains(64)) {
      return;
    }
    sb.append(
        "Goal at 64 clients: batching on >= "
            + GOAL_RATIO
            + "x the calls/s of off, and p99 <= max-queue-delay + 2 x compute p99 (the server's"
            + " batch compute p99 in the same cell). Medians over the repeats.\n\n");
    sb.append(
        "| config | transport | calls/s | off calls/s | ratio | ratio goal | p99 us"
            + " | delay + 2 x compute p99 us | p99 goal |\n");
    sb.append("|---|---|---:|---:|---:|---|---:|---:|---|\n");
    for (Map.Entry<Cell, List<Run>> e : results.cells().entrySet()) {
      Cell c = e.getKey();
      List<Run> rs = e.getValue();
      if (!c.config().batching() || c.concurrency() != 64 || rs.isEmpty()) {
        continue;
      }
      double cps = med(rs, r -> r.client().callsPerSecond());
      double off = offCalls(c);
      double p99 = med(rs, r -> r.client().micros(99));
      double bound =
          c.config().delay().toNanos() / 1000.0 + 2 * med(rs, r -> r.server().computeP99Micros());
      sb.append(
          String.format(
              Locale.ROOT,
              "| %s | %s | %,.0f | %,.0f | %.2f | %s | %.0f | %.0f | %s |%n",
              c.config().label(),
              c.transport(),
              cps,
              off,
              cps / off,
              cps / off >= GOAL_RATIO
                  ? "met"
                  : String.format(
                      Locale.ROOT, "missed (%.0f%% of it)", 100 * cps / off / GOAL_RATIO),
              p99,
              bound,
              p99 <= bound ? "met" : String.format(Locale.ROOT, "missed (%.1fx)", p99 / bound)));
    }
    sb.append('\n');
  }

  private void overloadTables(StringBuilder sb) {
    BatchingBenchmark.Options o = results.options();
    ServerConfig c = results.overloadConfig();
    sb.append(
        String.format(
            Locale.ROOT,
            "Overload (open loop over gRPC, fixed arrival rate): config `%s` (`%s`), server"
                + " max-in-flight %d (the default, derived from the config), every call with"
                + " `timeout` = %d us and a client deadline of %d ms from its due time (sent as"
                + " `grpc-timeout`). Saturation S = %,.0f calls/s (%s). Per repeat: %.0f s at 0.5"
                + " x S (unloaded), then %.0f s at 2 x S, each after %.0f s of warmup at the same"
                + " rate; heap after GC before and after the pair.%n%n",
            c.label(),
            c.yaml().strip().replace("\n", "`, `"),
            results.overloadMaxInFlight(),
            o.overloadTimeoutMicros(),
            o.clientDeadlineMillis(),
            results.saturation(),
            o.saturation() > 0
                ? "given with --saturation"
                : "median closed-loop gRPC calls/s at 64 clients of `"
                    + BatchingBenchmark.bestBatching(o, results.configs(), results.cells()).label()
                    + "` above",
            o.unloadedSeconds(),
            o.overloadSeconds(),
            o.overloadWarmupSeconds()));
    sb.append(
        "| rep | phase | offered/s | sent/s | admitted/s | rejected | expired | timeouts"
            + " | errors | not sent (cap / late) | admitted p50 us | admitted p99 us"
            + " | admitted p99.9 us"
            + " | server p99 us | rejection p50 / p99 / max us | generator lag p99 / max us"
            + " | server reject reasons |\n");
    sb.append(
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|---|\n");
    int rep = 0;
    for (OverloadRun r : results.overload()) {
      rep++;
      openRow(sb, rep, "0.5 x S", r.unloaded(), r.unloadedServer());
      openRow(sb, rep, "2 x S", r.overload(), r.overloadServer());
    }
    sb.append(
        "\nAdmitted latency is from each call's due time (no coordinated omission); rejection"
            + " latency from its actual send. \"timeouts\" includes calls that never finished.\n\n");

    sb.append(
        "| rep | unloaded p99 us | overload admitted p99 us | ratio (goal <= 2) | rejection max us"
            + " (goal < 1000) | timeouts | heap before MiB | heap after MiB | other CPU"
            + " during 2 x S |\n");
    sb.append("|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    rep = 0;
    for (OverloadRun r : results.overload()) {
      rep++;
      double base = micros(r.unloaded().admittedFromDue(), 99);
      double over = micros(r.overload().admittedFromDue(), 99);
      sb.append(
          String.format(
              Locale.ROOT,
              "| %d | %.0f | %.0f | %.2f | %s | %d | %.0f | %.0f | %.2f |%n",
              rep,
              base,
              over,
              over / base,
              r.overload().rejected() == 0
                  ? "(none rejected)"
                  : String.format(
                      Locale.ROOT, "%.0f", r.overload().rejectedFromSend().getMaxValue() / 1000.0),
              r.overload().timeouts() + r.overload().unfinished(),
              r.heapBeforeBytes() / 1048576.0,
              r.heapAfterBytes() / 1048576.0,
              r.overloadCpu().otherCores()));
    }
    sb.append('\n');
    sb.append(verdicts());
  }

  /** The overload goal verdicts over all repeats (each must hold in every repeat). */
  String verdicts() {
    List<OverloadRun> runs = results.overload();
    if (runs.isEmpty()) {
      return "";
    }
    double worstRatio = 0;
    double worstReject = 0;
    double worstRejectP99 = 0;
    long rejected = 0;
    long timeouts = 0;
    long expired = 0;
    long errors = 0;
    long growth = Long.MIN_VALUE;
    double minSentShare = Double.MAX_VALUE;
    for (OverloadRun r : runs) {
      worstRatio =
          Math.max(
              worstRatio,
              micros(r.overload().admittedFromDue(), 99)
                  / micros(r.unloaded().admittedFromDue(), 99));
      worstReject = Math.max(worstReject, r.overload().rejectedFromSend().getMaxValue() / 1000.0);
      if (r.overload().rejected() > 0) {
        worstRejectP99 = Math.max(worstRejectP99, micros(r.overload().rejectedFromSend(), 99));
      }
      rejected += r.overload().rejected();
      timeouts += r.overload().timeouts() + r.overload().unfinished();
      expired += r.overload().expired();
      errors += r.overload().errors() + r.overload().wrong();
      growth = Math.max(growth, r.heapAfterBytes() - r.heapBeforeBytes());
      minSentShare = Math.min(minSentShare, r.overload().sentPerSecond() / r.overload().rate());
    }
    StringBuilder sb = new StringBuilder();
    sb.append("Overload goals (worst repeat):\n\n");
    sb.append(
        String.format(
            Locale.ROOT,
            "- offered load actually sent: %.0f%% of 2 x S at worst%n",
            100 * minSentShare));
    sb.append(
        String.format(
            Locale.ROOT,
            "- admitted p99 within 2x of unloaded p99: %s (worst ratio %.2f)%n",
            worstRatio <= GOAL_OVERLOAD_P99_FACTOR ? "met" : "missed",
            worstRatio));
    sb.append(
        String.format(
            Locale.ROOT,
            "- rejections answered in < 1 ms: %s (%d rejected, p99 %.0f us, slowest %.0f us)%n",
            rejected == 0 ? "not exercised" : worstReject < GOAL_REJECT_MICROS ? "met" : "missed",
            rejected,
            worstRejectP99,
            worstReject));
    sb.append(
        String.format(
            Locale.ROOT,
            "- no timeouts: %s (%d client timeouts; %d expired in the server queue; %d other"
                + " errors)%n",
            timeouts == 0 ? "met" : "missed",
            timeouts,
            expired,
            errors));
    sb.append(
        String.format(
            Locale.ROOT,
            "- no heap growth (after GC, <= %d MiB): %s (largest change %+.1f MiB)%n",
            HEAP_NOISE_BYTES >> 20,
            growth <= HEAP_NOISE_BYTES ? "met" : "missed",
            growth / 1048576.0));
    return sb.toString();
  }

  private static void openRow(
      StringBuilder sb, int rep, String phase, OpenLoop.Result r, ServerMetrics.Delta server) {
    Histogram rej = r.rejectedFromSend();
    sb.append(
        String.format(
            Locale.ROOT,
            "| %d | %s | %,.0f | %,.0f | %,.0f | %,d | %,d | %,d | %,d | %,d / %,d | %.0f | %.0f"
                + " | %.0f"
                + " | %.0f | %s | %.0f / %.0f | %s |%n",
            rep,
            phase,
            r.rate(),
            r.sentPerSecond(),
            r.okPerSecond(),
            r.rejected(),
            r.expired(),
            r.timeouts() + r.unfinished(),
            r.errors() + r.wrong(),
            r.notSent(),
            r.late(),
            micros(r.admittedFromDue(), 50),
            micros(r.admittedFromDue(), 99),
            micros(r.admittedFromDue(), 99.9),
            server.requestP99Micros(),
            r.rejected() == 0
                ? "-"
                : String.format(
                    Locale.ROOT,
                    "%.0f / %.0f / %.0f",
                    micros(rej, 50),
                    micros(rej, 99),
                    rej.getMaxValue() / 1000.0),
            micros(r.lag(), 99),
            r.lag().getMaxValue() / 1000.0,
            server.rejected().isEmpty() ? "-" : server.rejected().toString()));
  }

  /** One line of progress for an overload pair. */
  static String overloadLine(OverloadRun r) {
    return String.format(
        Locale.ROOT,
        "unloaded %.0f/s sent, p99 %.0f us; overload %.0f/s sent, %.0f/s admitted, p99 %.0f us,"
            + " %d rejected (max %.0f us), %d expired, %d timeouts, %d errors%s; heap %.0f -> %.0f"
            + " MiB",
        r.unloaded().sentPerSecond(),
        micros(r.unloaded().admittedFromDue(), 99),
        r.overload().sentPerSecond(),
        r.overload().okPerSecond(),
        micros(r.overload().admittedFromDue(), 99),
        r.overload().rejected(),
        r.overload().rejectedFromSend().getMaxValue() / 1000.0,
        r.overload().expired(),
        r.overload().timeouts() + r.overload().unfinished(),
        r.overload().errors(),
        r.overload().firstError() == null ? "" : " (first: " + r.overload().firstError() + ")",
        r.heapBeforeBytes() / 1048576.0,
        r.heapAfterBytes() / 1048576.0);
  }

  private double offCalls(Cell c) {
    List<Run> rs = results.cells().get(new Cell(ServerConfig.OFF, c.transport(), c.concurrency()));
    return rs == null || rs.isEmpty() ? Double.NaN : med(rs, r -> r.client().callsPerSecond());
  }

  private static double micros(Histogram h, double percentile) {
    return h.getTotalCount() == 0 ? Double.NaN : h.getValueAtPercentile(percentile) / 1000.0;
  }

  private static String lat(List<Run> rs, double percentile) {
    ToDoubleFunction<Run> f = r -> r.client().micros(percentile);
    return String.format(Locale.ROOT, "%.0f (%.0f)", med(rs, f), min(rs, f));
  }

  private static double med(List<Run> rs, ToDoubleFunction<Run> f) {
    return median(values(rs, f));
  }

  private static double min(List<Run> rs, ToDoubleFunction<Run> f) {
    double[] v = values(rs, f);
    return v.length == 0 ? Double.NaN : v[0];
  }

  private static double[] values(List<Run> rs, ToDoubleFunction<Run> f) {
    double[] v = new double[rs.size()];
    for (int i = 0; i < v.length; i++) {
      v[i] = f.applyAsDouble(rs.get(i));
    }
    Arrays.sort(v);
    return v;
  }

  static double median(double[] values) {
    double[] v = values.clone();
    Arrays.sort(v);
    int n = v.length;
    if (n == 0) {
      return Double.NaN;
    }
    return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
  }
}
