package dev.scoreline.bench;

import java.io.IOException;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.ToDoubleFunction;

/** The Markdown report of a {@link ServerVsInProcess} run: medians and minimums over repeats. */
public final class Report {
  private final ServerVsInProcess.Options options;
  private final Map<ServerVsInProcess.Cell, List<ClosedLoop.Result>> results;
  private final long warmupErrors;
  private final Instant started;

  Report(
      ServerVsInProcess.Options options,
      Map<ServerVsInProcess.Cell, List<ClosedLoop.Result>> results,
      long warmupErrors,
      Instant started) {
    this.options = options;
    this.results = results;
    this.warmupErrors = warmupErrors;
    this.started = started;
  }

  long totalErrors() {
    long n = warmupErrors;
    for (List<ClosedLoop.Result> rs : results.values()) {
      for (ClosedLoop.Result r : rs) {
        n += r.errors();
      }
    }
    return n;
  }

  String markdown() {
    StringBuilder sb = new StringBuilder();
    ServerVsInProcess.Options o = options;
    sb.append("### Run of ").append(started.truncatedTo(ChronoUnit.SECONDS)).append("\n\n");
    sb.append("- machine: ").append(machine()).append('\n');
    sb.append("- JVM: ").append(jvm()).append('\n');
    sb.append(
        "- server: `ServerLauncher` defaults (inference workers = 2 x cores), in the driver's JVM,"
            + " 127.0.0.1, ephemeral port\n");
    sb.append("- model: `")
        .append(BenchModel.NAME)
        .append("` version ")
        .append(BenchModel.VERSION)
        .append(", `config.yaml`: `")
        .append(BenchModel.CONFIG.strip().replace("\n", "`, `"))
        .append("`\n");
    sb.append(
        String.format(
            Locale.ROOT,
            "- load: closed loop; global warmup %.0f s; per cell warmup %.0f s + measure %.0f s;"
                + " %d repeats; HTTP client `%s`; gRPC channels %d%n",
            o.globalWarmupSeconds(),
            o.warmupSeconds(),
            o.measureSeconds(),
            o.repeats(),
            o.httpClient(),
            o.grpcChannels()));
    sb.append("- errors: ").append(totalErrors()).append(" (all calls validated)\n\n");

    sb.append(
        "Cells are median (min) over the repeats; the ratio is median calls/s over `inproc`'s at"
            + " the same batch and concurrency. Latencies in microseconds.\n\n");
    sb.append(
        "| batch | conc. | mode | calls/s | rows/s (median) | x inproc | p50 us | p99 us"
            + " | p99.9 us |\n");
    sb.append("|---:|---:|---|---:|---:|---:|---:|---:|---:|\n");
    for (Map.Entry<ServerVsInProcess.Cell, List<ClosedLoop.Result>> e : results.entrySet()) {
      ServerVsInProcess.Cell c = e.getKey();
      List<ClosedLoop.Result> rs = e.getValue();
      double cps = median(rs, ClosedLoop.Result::callsPerSecond);
      double ref = inprocCalls(c.batch(), c.concurrency());
      sb.append(
          String.format(
              Locale.ROOT,
              "| %d | %d | %s | %,.0f (%,.0f) | %,.0f | %.2f | %s | %s | %s |%n",
              c.batch(),
              c.concurrency(),
              c.mode(),
              cps,
              min(rs, ClosedLoop.Result::callsPerSecond),
              cps * c.batch(),
              cps / ref,
              latency(rs, 50),
              latency(rs, 99),
              latency(rs, 99.9)));
    }

    if (options.concurrencies().contains(1)) {
      sb.append("\nServer-added latency p50 at concurrency 1 (mode p50 - `inproc` p50, medians;")
          .append(" goal <= ")
          .append((int) ServerVsInProcess.GOAL_ADDED_P50_MICROS)
          .append(" us):\n\n");
      sb.append("| batch | mode | p50 us | inproc p50 us | server-added p50 us | goal met |\n");
      sb.append("|---:|---|---:|---:|---:|---|\n");
      List<String> floorLines = new ArrayList<>();
      for (int batch : options.batches()) {
        double base = medianP50(batch, 1, ServerVsInProcess.INPROC);
        for (String mode : ServerVsInProcess.SERVER_MODES) {
          if (!options.modes().contains(mode)) {
            continue;
          }
          double p50 = medianP50(batch, 1, mode);
          double added = p50 - base;
          sb.append(
              String.format(
                  Locale.ROOT,
                  "| %d | %s | %.1f | %.1f | %.1f | %s |%n",
                  batch,
                  mode,
                  p50,
                  base,
                  added,
                  mode.equals(ServerVsInProcess.GRPC_FLOOR)
                      ? "(reference)"
                      : added <= ServerVsInProcess.GOAL_ADDED_P50_MICROS ? "yes" : "no"));
        }
        if (options.modes().contains(ServerVsInProcess.GRPC)
            && options.modes().contains(ServerVsInProcess.GRPC_FLOOR)) {
          floorLines.add(
              String.format(
                  Locale.ROOT,
                  "- batch %d: `grpc` p50 %.1f us - `grpc-floor` p50 %.1f us = %.1f us of"
                      + " Scoreline's server work, the in-process call (%.1f us) included",
                  batch,
                  medianP50(batch, 1, ServerVsInProcess.GRPC),
                  medianP50(batch, 1, ServerVsInProcess.GRPC_FLOOR),
                  medianP50(batch, 1, ServerVsInProcess.GRPC)
                      - medianP50(batch, 1, ServerVsInProcess.GRPC_FLOOR),
                  base));
        }
      }
      if (!floorLines.isEmpty()) {
        sb.append("\nAt concurrency 1, against the bare transport (`grpc-floor`, medians):\n\n");
        for (String line : floorLines) {
          sb.append(line).append('\n');
        }
      }
    }

    if (options.concurrencies().contains(16) && options.modes().contains(ServerVsInProcess.GRPC)) {
      sb.append(
              "\nThroughput at concurrency 16 relative to the in-process limit (goal for gRPC >= ")
          .append((int) (ServerVsInProcess.GOAL_GRPC_RATIO_C16 * 100))
          .append("%):\n\n");
      sb.append("| batch | mode | calls/s | inproc calls/s | ratio | goal met |\n");
      sb.append("|---:|---|---:|---:|---:|---|\n");
      for (int batch : options.batches()) {
        double base = inprocCalls(batch, 16);
        for (String mode : ServerVsInProcess.SERVER_MODES) {
          if (!options.modes().contains(mode)) {
            continue;
          }
          double cps = median(get(batch, 16, mode), ClosedLoop.Result::callsPerSecond);
          boolean isGoal = mode.equals(ServerVsInProcess.GRPC);
          boolean isFloor = mode.equals(ServerVsInProcess.GRPC_FLOOR);
          sb.append(
              String.format(
                  Locale.ROOT,
                  "| %d | %s | %,.0f | %,.0f | %.0f%% | %s |%n",
                  batch,
                  mode,
                  cps,
                  base,
                  100 * cps / base,
                  isFloor
                      ? "(reference: the transport alone)"
                      : !isGoal
                          ? "(no goal)"
                          : cps / base >= ServerVsInProcess.GOAL_GRPC_RATIO_C16 ? "yes" : "no"));
        }
      }
    }
    return sb.toString();
  }

  private List<ClosedLoop.Result> get(int batch, int concurrency, String mode) {
    return results.get(new ServerVsInProcess.Cell(batch, concurrency, mode));
  }

  private double inprocCalls(int batch, int concurrency) {
    return median(
        get(batch, concurrency, ServerVsInProcess.INPROC), ClosedLoop.Result::callsPerSecond);
  }

  private double medianP50(int batch, int concurrency, String mode) {
    return median(get(batch, concurrency, mode), r -> ServerVsInProcess.micros(r, 50));
  }

  private static String latency(List<ClosedLoop.Result> rs, double percentile) {
    ToDoubleFunction<ClosedLoop.Result> f = r -> ServerVsInProcess.micros(r, percentile);
    return String.format(Locale.ROOT, "%.1f (%.1f)", median(rs, f), min(rs, f));
  }

  static double median(List<ClosedLoop.Result> rs, ToDoubleFunction<ClosedLoop.Result> f) {
    double[] v = values(rs, f);
    int n = v.length;
    return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
  }

  static double min(List<ClosedLoop.Result> rs, ToDoubleFunction<ClosedLoop.Result> f) {
    return values(rs, f)[0];
  }

  private static double[] values(
      List<ClosedLoop.Result> rs, ToDoubleFunction<ClosedLoop.Result> f) {
    double[] v = new double[rs.size()];
    for (int i = 0; i < v.length; i++) {
      v[i] = f.applyAsDouble(rs.get(i));
    }
    java.util.Arrays.sort(v);
    return v;
  }

  /** Cores, CPU model, RAM and OS of this machine, for a report's header. */
  public static String machine() {
    String cpu = firstValue(Path.of("/proc/cpuinfo"), "model name");
    String mem = firstValue(Path.of("/proc/meminfo"), "MemTotal");
    String memText = "";
    if (mem != null) {
      long kb = Long.parseLong(mem.replaceAll("[^0-9]", ""));
      memText = String.format(Locale.ROOT, ", %.1f GiB RAM", kb / (1024.0 * 1024.0));
    }
    return Runtime.getRuntime().availableProcessors()
        + " cores"
        + (cpu == null ? "" : " (" + cpu + ")")
        + memText
        + ", "
        + System.getProperty("os.name")
        + " "
        + System.getProperty("os.arch");
  }

  /** The JVM's name, version, max heap and garbage collectors, for a report's header. */
  public static String jvm() {
    List<String> gcs = new ArrayList<>();
    for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
      gcs.add(gc.getName());
    }
    return System.getProperty("java.vm.name")
        + " "
        + System.getProperty("java.runtime.version")
        + ", max heap "
        + Runtime.getRuntime().maxMemory() / (1 << 20)
        + " MiB, GC "
        + String.join(" + ", gcs);
  }

  private static String firstValue(Path file, String key) {
    try {
      for (String line : Files.readAllLines(file)) {
        if (line.startsWith(key)) {
          int colon = line.indexOf(':');
          return colon < 0 ? null : line.substring(colon + 1).trim();
        }
      }
    } catch (IOException | RuntimeException e) {
      // not Linux: leave it out
    }
    return null;
  }
}
