package dev.scoreline.bench.batching;

import dev.scoreline.bench.BenchModel;
import dev.scoreline.cli.ServerLauncher;
import dev.scoreline.core.model.InferenceRequest;
import dev.scoreline.core.model.ModelManager;
import dev.scoreline.core.tensor.Tensor;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Issue #3's load driver: dynamic batching off against on (two queue delays, one or two model
 * instances), side by side in one run, with closed-loop clients over gRPC (and optionally REST
 * binary); then an open-loop overload at twice the measured saturation throughput against a
 * batching server with a small queue and a per-request deadline.
 *
 * <p>Each configuration gets its own model repository and server, started in this JVM on an
 * ephemeral loopback port with the distribution's composition root ({@link ServerLauncher}) and
 * closed before the next. Run from the repository root after {@code ./mvnw -B
 * -Dmaven.test.skip=true package -pl scoreline-bench -am}:
 *
 * <pre>
 * java -Xms2g -Xmx2g -cp "scoreline-bench/target/scoreline-bench.jar:scoreline-bench/target/lib/*" \
 *     dev.scoreline.bench.batching.BatchingBenchmark [--help]
 * </pre>
 *
 * <p>Progress goes to stderr, a Markdown report to stdout; the exit status is 1 when a closed-loop
 * call failed or any answer was wrong.
 */
public final class BatchingBenchmark {
  /** Deadline of closed-loop calls; none should come near it. */
  static final long CLOSED_LOOP_DEADLINE_MILLIS = 10_000;

  private BatchingBenchmark() {}

  /** Command-line options; see {@link #USAGE}. */
  record Options(
      BenchModel.Spec model,
      double warmupSeconds,
      double measureSeconds,
      int repeats,
      double globalWarmupSeconds,
      List<Integer> concurrencies,
      List<Integer> restConcurrencies,
      List<Integer> instances,
      List<Duration> delays,
      int queueSize,
      int grpcChannels,
      double overloadSeconds,
      double unloadedSeconds,
      double overloadWarmupSeconds,
      int overloadRepeats,
      int overloadQueueSize,
      int overloadInstances,
      long overloadTimeoutMicros,
      double saturation,
      long clientDeadlineMillis,
      int maxOutstanding) {

    static Options parse(String[] args) {
      Args a = new Args(args);
      Options o =
          new Options(
              a.choice("model", "small", "large").equals("large")
                  ? BenchModel.LARGE
                  : BenchModel.SMALL,
              a.number("warmup-seconds", 3),
              a.number("measure-seconds", 8),
              (int) a.number("repeats", 3),
              a.number("global-warmup-seconds", 60),
              a.ints("concurrency", "1,8,64"),
              a.ints("rest-binary-concurrency", "64"),
              a.ints("instances", "1,2"),
              a.durations("delays", "500us,2ms"),
              (int) a.number("queue-size", 4096),
              (int) a.number("grpc-channels", 1),
              a.number("overload-seconds", 20),
              a.number("unloaded-seconds", 10),
              a.number("overload-warmup-seconds", 3),
              (int) a.number("overload-repeats", 3),
              (int) a.number("overload-queue-size", 256),
              (int) a.number("overload-instances", 0),
              (long) a.number("overload-timeout-us", 20_000),
              a.number("saturation", 0),
              (long) a.number("client-deadline-ms", 1000),
              (int) a.number("max-outstanding", 20_000));
      a.checkAllUsed();
      if (o.repeats < 1
          || o.measureSeconds <= 0
          || o.grpcChannels < 1
          || o.queueSize < 1
          || o.overloadQueueSize < 1
          || o.overloadRepeats < 1
          || o.clientDeadlineMillis < 1
          || o.maxOutstanding < 1
          || o.concurrencies.contains(0)
          || o.instances.contains(0)) {
        throw new UsageException(
            "--repeats, --measure-seconds, --grpc-channels, the queue sizes, --overload-repeats,"
                + " --client-deadline-ms, --max-outstanding, --concurrency and --instances must"
                + " be > 0");
      }
      if (o.overloadInstances > 0 && !o.instances.contains(o.overloadInstances)) {
        throw new UsageException(
            "--overload-instances " + o.overloadInstances + " must be one of --instances");
      }
      return o;
    }

    /** The overload phase needs the 64-client saturation of the first delay's configs. */
    boolean overload() {
      return overloadSeconds > 0 && (saturation > 0 || concurrencies.contains(64));
    }
  }

  static final String USAGE =
      String.join(
          "\n",
          "usage: BatchingBenchmark [options]",
          "  --model small|large          mlp_ranker (64-32-1, 2 k parameters) or mlp_ranker_large",
          "                               (256-2048-1024-512-1, 3.2 M parameters) (small)",
          "closed loop (batching off vs on):",
          "  --warmup-seconds S           warmup of each cell before it is measured (3)",
          "  --measure-seconds S          measured period of each cell (8)",
          "  --repeats N                  runs of the whole matrix; min and median reported (3)",
          "  --global-warmup-seconds S    JVM warmup over all cells before measuring (60)",
          "  --concurrency LIST           closed-loop clients over gRPC (1,8,64)",
          "  --rest-binary-concurrency L  closed-loop clients over REST binary; 0 = none (64)",
          "  --instances LIST             instance-count of the batching configs (1,2)",
          "  --delays LIST                max-queue-delay of the batching configs (500us,2ms)",
          "  --queue-size N               max-queue-size of the batching configs (4096)",
          "  --grpc-channels N            gRPC connections of the client (1)",
          "overload (open loop, gRPC, against the first delay with its better instance count):",
          "  --overload-seconds S         measured period at 2 x saturation; 0 = no overload (20)",
          "  --unloaded-seconds S         measured period at 0.5 x saturation (10)",
          "  --overload-warmup-seconds S  warmup at the same rate before each of the two (3)",
          "  --overload-repeats N         unloaded + overload pairs (3)",
          "  --overload-queue-size N      max-queue-size of the overload server (256)",
          "  --overload-instances N       instance-count of the overload server; 0 = the one with",
          "                               the higher closed-loop calls/s at 64 clients (0)",
          "  --overload-timeout-us N      timeout parameter of every overload call (20000)",
          "  --saturation N               calls/s; default: measured closed loop at concurrency 64",
          "  --client-deadline-ms N       open-loop calls' client deadline, from the due time (1000)",
          "  --max-outstanding N          open-loop calls in flight at most (20000)");

  static final class UsageException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    UsageException(String message) {
      super(message);
    }
  }

  /** One closed-loop cell. */
  record Cell(ServerConfig config, String transport, int concurrency) {}

  /** One measurement of a cell: the client's view, the server's view, the machine's CPU. */
  record Run(AsyncClosedLoop.Result client, ServerMetrics.Delta server, CpuSampler.Usage cpu) {}

  /** One unloaded + overload pair. */
  record OverloadRun(
      OpenLoop.Result unloaded,
      ServerMetrics.Delta unloadedServer,
      OpenLoop.Result overload,
      ServerMetrics.Delta overloadServer,
      CpuSampler.Usage overloadCpu,
      long heapBeforeBytes,
      long heapAfterBytes) {}

  /** Everything the report needs. */
  record Results(
      Options options,
      Instant started,
      double loadAtStart,
      double loadAtEnd,
      List<ServerConfig> configs,
      Map<Cell, List<Run>> cells,
      long warmupErrors,
      ServerConfig overloadConfig,
      double saturation,
      List<OverloadRun> overload,
      int overloadMaxInFlight,
      Duration elapsed) {}

  public static void main(String[] args) throws Exception {
    Options options;
    try {
      options = Options.parse(args);
    } catch (UsageException e) {
      if (!e.getMessage().isEmpty()) {
        System.err.println(e.getMessage());
      }
      System.err.println(USAGE);
      System.exit(e.getMessage().isEmpty() ? 0 : 2);
      return;
    }
    Results results = run(options);
    BatchingReport report = new BatchingReport(results);
    System.out.println(report.markdown());
    System.exit(report.harnessErrors() == 0 ? 0 : 1);
  }

  static Results run(Options o) throws Exception {
    Instant started = Instant.now();
    long t0 = System.nanoTime();
    double loadAtStart = CpuSampler.loadAverage();
    List<ServerConfig> configs = new ArrayList<>();
    configs.add(ServerConfig.OFF);
    for (int instances : o.instances()) {
      for (Duration d : o.delays()) {
        configs.add(ServerConfig.on(d, instances, o.queueSize()));
      }
    }
    List<Cell> cells = new ArrayList<>();
    for (ServerConfig c : configs) {
      cells.addAll(cellsOf(o, c));
    }
    log(
        String.format(
            Locale.ROOT,
            "%d configs, %d cells; load average %.2f",
            configs.size(),
            cells.size(),
            loadAtStart));

    long warmupErrors = 0;
    if (o.globalWarmupSeconds() > 0) {
      double each = o.globalWarmupSeconds() / cells.size();
      log(String.format(Locale.ROOT, "global JVM warmup: %.1f s per cell", each));
      for (ServerConfig c : configs) {
        warmupErrors +=
            withServer(
                o,
                c,
                CLOSED_LOOP_DEADLINE_MILLIS,
                (launcher, clients) -> {
                  long errors = 0;
                  for (Cell cell : cellsOf(o, c)) {
                    AsyncClosedLoop.Result r =
                        AsyncClosedLoop.run(
                            clients.get(cell.transport()), cell.concurrency(), 0, each);
                    errors += r.errors();
                    if (r.errors() > 0) {
                      log("  warmup " + describe(cell) + ": " + r.firstError());
                    }
                  }
                  return errors;
                });
      }
    }

    Map<Cell, List<Run>> results = new LinkedHashMap<>();
    for (Cell c : cells) {
      results.put(c, new ArrayList<>());
    }
    for (int rep = 1; rep <= o.repeats(); rep++) {
      // a different order each repeat, so that drift in the machine's load is spread over configs
      for (int k = 0; k < configs.size(); k++) {
        ServerConfig c = configs.get((k + rep - 1) % configs.size());
        int r = rep;
        withServer(
            o,
            c,
            CLOSED_LOOP_DEADLINE_MILLIS,
            (launcher, clients) -> {
              for (Cell cell : cellsOf(o, c)) {
                Run run = measure(o, launcher, clients.get(cell.transport()), cell);
                results.get(cell).add(run);
                log(String.format(Locale.ROOT, "[%d/%d] %s", r, o.repeats(), line(cell, run)));
              }
              return 0L;
            });
      }
    }

    ServerConfig overloadConfig = null;
    double saturation = 0;
    List<OverloadRun> overload = new ArrayList<>();
    int[] maxInFlight = {0};
    if (o.overload()) {
      ServerConfig chosen = overloadBase(o, configs, results);
      overloadConfig = chosen.withQueueSize(o.overloadQueueSize());
      saturation =
          o.saturation() > 0 ? o.saturation() : median(results.get(new Cell(chosen, "grpc", 64)));
      double s = saturation;
      log(
          String.format(
              Locale.ROOT,
              "overload: %s, saturation %.0f calls/s; offering %.0f and %.0f calls/s",
              overloadConfig.label(),
              s,
              0.5 * s,
              2 * s));
      withServer(
          o,
          overloadConfig,
          o.clientDeadlineMillis(),
          (launcher, clients) -> {
            maxInFlight[0] = maxInFlight(launcher);
            log("server max-in-flight " + maxInFlight[0]);
            AsyncClient grpc = clients.get("grpc");
            for (int rep = 1; rep <= o.overloadRepeats(); rep++) {
              OverloadRun run = overloadOnce(o, launcher, grpc, s);
              overload.add(run);
              log(
                  String.format(
                      Locale.ROOT,
                      "[%d/%d] %s",
                      rep,
                      o.overloadRepeats(),
                      BatchingReport.overloadLine(run)));
            }
            return 0L;
          });
    }
    return new Results(
        o,
        started,
        loadAtStart,
        CpuSampler.loadAverage(),
        configs,
        results,
        warmupErrors,
        overloadConfig,
        saturation,
        overload,
        maxInFlight[0],
        Duration.ofNanos(System.nanoTime() - t0));
  }

  private static List<Cell> cellsOf(Options o, ServerConfig c) {
    List<Cell> out = new ArrayList<>();
    for (int n : o.concurrencies()) {
      out.add(new Cell(c, "grpc", n));
    }
    for (int n : o.restConcurrencies()) {
      if (n > 0) {
        out.add(new Cell(c, "rest-binary", n));
      }
    }
    return out;
  }

  /**
   * The overload phase's config: the first delay's batching config with {@code
   * --overload-instances}, or else {@link #bestBatching}.
   */
  private static ServerConfig overloadBase(
      Options o, List<ServerConfig> configs, Map<Cell, List<Run>> results) {
    if (o.overloadInstances() > 0) {
      for (ServerConfig c : configs) {
        if (c.batching()
            && c.delay().equals(o.delays().get(0))
            && c.instances() == o.overloadInstances()) {
          return c;
        }
      }
      throw new UsageException(
          "--overload-instances " + o.overloadInstances() + " is not among --instances");
    }
    return bestBatching(o, configs, results);
  }

  /** The batching config of the first delay with the higher median gRPC calls/s at 64 clients. */
  static ServerConfig bestBatching(
      Options o, List<ServerConfig> configs, Map<Cell, List<Run>> results) {
    ServerConfig best = null;
    double bestCalls = -1;
    for (ServerConfig c : configs) {
      if (!c.batching() || !c.delay().equals(o.delays().get(0))) {
        continue;
      }
      List<Run> runs = results.get(new Cell(c, "grpc", 64));
      double calls = runs == null || runs.isEmpty() ? 0 : median(runs);
      if (calls > bestCalls) {
        best = c;
        bestCalls = calls;
      }
    }
    return best;
  }

  private static double median(List<Run> runs) {
    double[] v = new double[runs.size()];
    for (int i = 0; i < v.length; i++) {
      v[i] = runs.get(i).client().callsPerSecond();
    }
    return BatchingReport.median(v);
  }

  private static Run measure(Options o, ServerLauncher launcher, AsyncClient client, Cell cell) {
    // the warmup runs first, then the metrics snapshot, then the measured period: the server's
    // deltas then cover the measured period (plus the few calls in flight at its edges)
    AsyncClosedLoop.run(client, cell.concurrency(), 0, o.warmupSeconds());
    ServerMetrics.Snapshot before = ServerMetrics.take(launcher.registry(), o.model());
    CpuSampler cpu = CpuSampler.start();
    AsyncClosedLoop.Result r =
        AsyncClosedLoop.run(client, cell.concurrency(), 0, o.measureSeconds());
    CpuSampler.Usage usage = cpu.stop();
    ServerMetrics.Delta server =
        ServerMetrics.Delta.between(before, ServerMetrics.take(launcher.registry(), o.model()));
    return new Run(r, server, usage);
  }

  private static OverloadRun overloadOnce(
      Options o, ServerLauncher launcher, AsyncClient grpc, double saturation) {
    long heapBefore = heapAfterGc();
    ServerMetrics.Snapshot s0 = ServerMetrics.take(launcher.registry(), o.model());
    OpenLoop.Result unloaded =
        OpenLoop.run(
            grpc,
            0.5 * saturation,
            o.overloadWarmupSeconds(),
            o.unloadedSeconds(),
            o.overloadTimeoutMicros(),
            o.maxOutstanding(),
            o.clientDeadlineMillis());
    ServerMetrics.Snapshot s1 = ServerMetrics.take(launcher.registry(), o.model());
    CpuSampler cpu = CpuSampler.start();
    OpenLoop.Result over =
        OpenLoop.run(
            grpc,
            2 * saturation,
            o.overloadWarmupSeconds(),
            o.overloadSeconds(),
            o.overloadTimeoutMicros(),
            o.maxOutstanding(),
            o.clientDeadlineMillis());
    CpuSampler.Usage usage = cpu.stop();
    ServerMetrics.Snapshot s2 = ServerMetrics.take(launcher.registry(), o.model());
    long heapAfter = heapAfterGc();
    return new OverloadRun(
        unloaded,
        ServerMetrics.Delta.between(s0, s1),
        over,
        ServerMetrics.Delta.between(s1, s2),
        usage,
        heapBefore,
        heapAfter);
  }

  /** The server's in-flight limit in force (the admission control's gauge). */
  private static int maxInFlight(ServerLauncher launcher) {
    var gauge = launcher.registry().find("scoreline.server.max.in.flight").gauge();
    return gauge == null ? 0 : (int) gauge.value();
  }

  /** Heap in use after two full collections. */
  static long heapAfterGc() {
    for (int i = 0; i < 2; i++) {
      System.gc();
      try {
        Thread.sleep(200);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
    }
    return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
  }

  /** Work done against one started server and its clients. */
  @FunctionalInterface
  interface ServerWork {
    long apply(ServerLauncher launcher, Map<String, AsyncClient> clients) throws Exception;
  }

  /**
   * Starts a server for {@code config} on its own repository, checks that every client (whose calls
   * have a deadline of {@code deadlineMillis}) gets the in-process scores, runs {@code work}, and
   * closes everything.
   */
  private static long withServer(
      Options o, ServerConfig config, long deadlineMillis, ServerWork work) throws Exception {
    Path repository = o.model().createRepository(config.yaml());
    try (ServerLauncher launcher =
        ServerLauncher.start(ServerLauncher.Options.defaults(repository).withPort(0))) {
      AsyncClient.Expected expected =
          new AsyncClient.Expected(
              inProcessScores(launcher.manager(), o.model()), o.model().tolerance());
      Map<String, AsyncClient> clients = new LinkedHashMap<>();
      try {
        clients.put(
            "grpc",
            new GrpcClient(launcher.port(), o.grpcChannels(), deadlineMillis, expected, o.model()));
        if (o.restConcurrencies().stream().anyMatch(n -> n > 0)) {
          clients.put(
              "rest-binary",
              new RestBinaryClient(launcher.port(), deadlineMillis, expected, o.model()));
        }
        for (AsyncClient c : clients.values()) {
          checkEveryRow(c);
        }
        log("server " + config.label() + " on 127.0.0.1:" + launcher.port() + ", answers checked");
        return work.apply(launcher, clients);
      } finally {
        for (AsyncClient c : clients.values()) {
          c.close();
        }
      }
    } finally {
      BenchModel.deleteRepository(repository);
    }
  }

  /** Each row's score from {@link ModelManager#infer}, one row per call. */
  private static float[] inProcessScores(ModelManager manager, BenchModel.Spec model) {
    float[] x = model.features(AsyncClient.ROWS);
    float[] out = new float[AsyncClient.ROWS];
    for (int r = 0; r < out.length; r++) {
      float[] row = new float[model.features()];
      System.arraycopy(x, r * model.features(), row, 0, row.length);
      InferenceRequest request =
          new InferenceRequest(
              model.name(),
              model.version(),
              "",
              Map.of(),
              List.of(Tensor.ofFloats(model.input(), new long[] {1, model.features()}, row)),
              List.of());
      out[r] = manager.infer(request).outputs().get(0).toFloatArray()[0];
    }
    return out;
  }

  /** Before timing: one call per row, each must be answered with that row's in-process score. */
  private static void checkEveryRow(AsyncClient client) throws Exception {
    for (int r = 0; r < AsyncClient.ROWS; r++) {
      CompletableFuture<String> f = new CompletableFuture<>();
      client.call(
          r,
          0,
          System.nanoTime() + TimeUnit.SECONDS.toNanos(30),
          (outcome, end, detail) ->
              f.complete(outcome == AsyncClient.Outcome.OK ? null : outcome + " " + detail));
      String wrong = f.get(30, TimeUnit.SECONDS);
      if (wrong != null) {
        throw new IllegalStateException(client.transport() + " row " + r + ": " + wrong);
      }
    }
  }

  static String describe(Cell c) {
    return c.config().label() + " " + c.transport() + " c" + c.concurrency();
  }

  private static String line(Cell cell, Run run) {
    AsyncClosedLoop.Result r = run.client();
    return String.format(
        Locale.ROOT,
        "%-16s %-11s c %2d %9.0f calls/s  p50 %7.0f  p99 %7.0f  p99.9 %7.0f us  batch %5.1f"
            + "  compute p99 %6.0f us  other cpu %.2f  errors %d%s",
        cell.config().label(),
        cell.transport(),
        cell.concurrency(),
        r.callsPerSecond(),
        r.micros(50),
        r.micros(99),
        r.micros(99.9),
        run.server().meanBatchRows(),
        run.server().computeP99Micros(),
        run.cpu().otherCores(),
        r.errors(),
        r.firstError() == null ? "" : " (" + r.firstError() + ")");
  }

  static void log(String line) {
    System.err.println(line);
  }
}
