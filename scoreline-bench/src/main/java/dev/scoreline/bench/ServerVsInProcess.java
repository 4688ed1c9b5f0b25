package dev.scoreline.bench;

import dev.scoreline.cli.ServerLauncher;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Issue #2's load driver: the same model scored in process and through the server (REST JSON, REST
 * binary, gRPC), side by side in one run, at several batch sizes and concurrencies. The server runs
 * in this JVM on an ephemeral loopback port, so client and server share the machine's cores. The
 * mode {@code grpc-floor} calls a bare Armeria gRPC server that answers from a prepared response
 * ({@link GrpcFloor}): the transport's own cost on this machine, which no server can go below.
 *
 * <p>Run from the repository root after {@code ./mvnw -B -Dmaven.test.skip=true package -pl
 * scoreline-bench -am}:
 *
 * <pre>
 * java -Xms2g -Xmx2g -cp "scoreline-bench/target/scoreline-bench.jar:scoreline-bench/target/lib/*" \
 *     dev.scoreline.bench.ServerVsInProcess [--warmup-seconds 10] [--measure-seconds 15] [--repeats 3]
 * </pre>
 *
 * <p>It prints progress to stderr and a Markdown report to stdout; it exits with 1 when any call
 * failed or returned a wrong answer.
 */
public final class ServerVsInProcess {
  static final String ORT = "ort";
  static final String INPROC = "inproc";
  static final String REST_JSON = "rest-json";
  static final String REST_BINARY = "rest-binary";
  static final String GRPC = "grpc";

  /** The transport alone: a bare Armeria gRPC server with prepared answers ({@link GrpcFloor}). */
  static final String GRPC_FLOOR = "grpc-floor";

  static final List<String> ALL_MODES =
      List.of(ORT, INPROC, REST_JSON, REST_BINARY, GRPC, GRPC_FLOOR);
  static final List<String> SERVER_MODES = List.of(REST_JSON, REST_BINARY, GRPC, GRPC_FLOOR);

  /** The goals of issue #2. */
  static final double GOAL_ADDED_P50_MICROS = 300;

  static final double GOAL_GRPC_RATIO_C16 = 0.5;

  /** Command-line options; see {@link #USAGE}. */
  record Options(
      double warmupSeconds,
      double measureSeconds,
      int repeats,
      double globalWarmupSeconds,
      List<Integer> batches,
      List<Integer> concurrencies,
      List<String> modes,
      String httpClient,
      int grpcChannels,
      int inlineComputeUs) {

    static Options parse(String[] args) {
      Map<String, String> m = new LinkedHashMap<>();
      for (int i = 0; i < args.length; i++) {
        String a = args[i];
        if (a.equals("--help") || a.equals("-h")) {
          throw new UsageException("");
        }
        if (!a.startsWith("--")) {
          throw new UsageException("unexpected argument '" + a + "'");
        }
        int eq = a.indexOf('=');
        if (eq > 0) {
          m.put(a.substring(2, eq), a.substring(eq + 1));
        } else if (i + 1 < args.length) {
          m.put(a.substring(2), args[++i]);
        } else {
          throw new UsageException(a + " needs a value");
        }
      }
      Options o =
          new Options(
              seconds(m, "warmup-seconds", 10),
              seconds(m, "measure-seconds", 15),
              (int) seconds(m, "repeats", 3),
              seconds(m, "global-warmup-seconds", 60),
              ints(m, "batches", "1,64"),
              ints(m, "concurrency", "1,16"),
              modes(m.getOrDefault("modes", String.join(",", ALL_MODES))),
              m.getOrDefault("http-client", "armeria"),
              (int) seconds(m, "grpc-channels", 1),
              m.containsKey("inline-compute-us") ? (int) seconds(m, "inline-compute-us", 0) : -1);
      m.keySet()
          .removeAll(
              List.of(
                  "warmup-seconds",
                  "measure-seconds",
                  "repeats",
                  "global-warmup-seconds",
                  "batches",
                  "concurrency",
                  "modes",
                  "http-client",
                  "grpc-channels",
                  "inline-compute-us"));
      if (!m.isEmpty()) {
        throw new UsageException("unknown option --" + m.keySet().iterator().next());
      }
      if (o.repeats < 1 || o.measureSeconds <= 0 || o.grpcChannels < 1) {
        throw new UsageException("--repeats, --measure-seconds and --grpc-channels must be > 0");
      }
      return o;
    }

    private static double seconds(Map<String, String> m, String key, double dflt) {
      String v = m.get(key);
      try {
        double d = v == null ? dflt : Double.parseDouble(v);
        if (d < 0) {
          throw new UsageException("--" + key + " must be >= 0");
        }
        return d;
      } catch (NumberFormatException e) {
        throw new UsageException("--" + key + " must be a number, got '" + v + "'");
      }
    }

    private static List<Integer> ints(Map<String, String> m, String key, String dflt) {
      List<Integer> out = new ArrayList<>();
      for (String s : m.getOrDefault(key, dflt).split(",")) {
        try {
          int v = Integer.parseInt(s.trim());
          if (v < 1 || v > 64) {
            throw new UsageException("--" + key + " values must be in 1..64, got " + v);
          }
          out.add(v);
        } catch (NumberFormatException e) {
          throw new UsageException("--" + key + " must be a comma-separated list of integers");
        }
      }
      return List.copyOf(out);
    }

    private static List<String> modes(String csv) {
      List<String> out = new ArrayList<>();
      for (String s : csv.split(",")) {
        String mode = s.trim().toLowerCase(Locale.ROOT);
        if (!ALL_MODES.contains(mode)) {
          throw new UsageException("unknown mode '" + mode + "'; modes are " + ALL_MODES);
        }
        out.add(mode);
      }
      if (!out.contains(INPROC)) {
        out.add(0, INPROC); // ratios and the server-added latency are relative to it
      }
      return List.copyOf(out);
    }
  }

  static final String USAGE =
      String.join(
          "\n",
          "usage: ServerVsInProcess [options]",
          "  --warmup-seconds S         warmup of each cell before it is measured (default 10)",
          "  --measure-seconds S        measured period of each cell (default 15)",
          "  --repeats N                runs of the whole matrix; min and median reported (3)",
          "  --global-warmup-seconds S  JVM warmup over all cells before any measurement (60)",
          "  --batches LIST             batch sizes (default 1,64)",
          "  --concurrency LIST         closed-loop client threads (default 1,16)",
          "  --modes LIST               of " + ALL_MODES + " (default all)",
          "  --http-client NAME         armeria (default) or jdk",
          "  --grpc-channels N          gRPC channels shared by the client threads (default 1)",
          "  --inline-compute-us N      the model's inline-compute-us (default: not set, so the",
          "                             server's default; 0 hands every call to a worker)");

  static final class UsageException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    UsageException(String message) {
      super(message);
    }
  }

  /** One cell of the matrix. */
  record Cell(int batch, int concurrency, String mode) {}

  private ServerVsInProcess() {}

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
    Path repository =
        BenchModel.createRepository(
            options.inlineComputeUs() < 0
                ? BenchModel.CONFIG
                : BenchModel.CONFIG + "inline-compute-us: " + options.inlineComputeUs() + "\n");
    log(
        "model config.yaml:\n"
            + Files.readString(repository.resolve(BenchModel.NAME).resolve("config.yaml")));
    int status;
    try {
      status = run(options, repository);
    } finally {
      BenchModel.deleteRepository(repository);
    }
    System.exit(status);
  }

  private static int run(Options o, Path repository) throws Exception {
    Instant started = Instant.now();
    Map<Cell, List<ClosedLoop.Result>> results = new LinkedHashMap<>();
    long warmupErrors = 0;
    try (ServerLauncher server =
            ServerLauncher.start(ServerLauncher.Options.defaults(repository).withPort(0));
        InProcessCallers.Ort ort = new InProcessCallers.Ort(repository);
        RestCallers.Transport http = RestCallers.transport(o.httpClient(), server.port());
        GrpcCallers grpc = new GrpcCallers(server.port(), o.grpcChannels());
        GrpcFloor floor = new GrpcFloor();
        GrpcCallers floorClient = new GrpcCallers(floor.port(), o.grpcChannels())) {
      log("server listening on 127.0.0.1:" + server.port() + ", model " + BenchModel.NAME);

      Map<String, Caller> callers = new LinkedHashMap<>();
      for (int batch : o.batches()) {
        for (String mode : o.modes()) {
          Caller c;
          switch (mode) {
            case ORT:
              c = ort.caller(batch);
              break;
            case INPROC:
              c = InProcessCallers.manager(server.manager(), batch);
              break;
            case REST_JSON:
              c = RestCallers.json(http, batch);
              break;
            case REST_BINARY:
              c = RestCallers.binary(http, batch);
              break;
            case GRPC:
              c = grpc.caller(batch);
              break;
            case GRPC_FLOOR:
              floor.prepare(batch, InProcessCallers.manager(server.manager(), batch).call());
              c = floorClient.caller(batch);
              break;
            default:
              throw new IllegalStateException(mode);
          }
          callers.put(key(mode, batch), c);
        }
        checkSameScores(o, callers, batch);
      }

      List<Cell> cells = new ArrayList<>();
      for (int batch : o.batches()) {
        for (int concurrency : o.concurrencies()) {
          for (String mode : o.modes()) {
            cells.add(new Cell(batch, concurrency, mode));
          }
        }
      }

      if (o.globalWarmupSeconds() > 0) {
        double each = o.globalWarmupSeconds() / cells.size();
        log(
            String.format(
                Locale.ROOT,
                "global JVM warmup: %.0f s over %d cells (%.1f s each)",
                o.globalWarmupSeconds(),
                cells.size(),
                each));
        for (Cell cell : cells) {
          ClosedLoop.Result r =
              ClosedLoop.run(
                  callers.get(key(cell.mode(), cell.batch())), cell.concurrency(), 0, each);
          warmupErrors += r.errors();
          if (r.errors() > 0) {
            log("  warmup " + cell + ": " + r.errors() + " errors, first: " + r.firstError());
          }
        }
      }

      for (int rep = 1; rep <= o.repeats(); rep++) {
        for (Cell cell : cells) {
          ClosedLoop.Result r =
              ClosedLoop.run(
                  callers.get(key(cell.mode(), cell.batch())),
                  cell.concurrency(),
                  o.warmupSeconds(),
                  o.measureSeconds());
          results.computeIfAbsent(cell, k -> new ArrayList<>()).add(r);
          log(
              String.format(
                  Locale.ROOT,
                  "[%d/%d] batch %2d  c %2d  %-11s %9.0f calls/s  p50 %8.1f us  p99 %8.1f us"
                      + "  errors %d%s",
                  rep,
                  o.repeats(),
                  cell.batch(),
                  cell.concurrency(),
                  cell.mode(),
                  r.callsPerSecond(),
                  micros(r, 50),
                  micros(r, 99),
                  r.errors(),
                  r.firstError() == null ? "" : " (" + r.firstError() + ")"));
        }
      }
    }
    Report report = new Report(o, results, warmupErrors, started);
    System.out.println(report.markdown());
    return report.totalErrors() == 0 ? 0 : 1;
  }

  /**
   * Before timing anything: every mode must give the in-process scores for the same input (the
   * server round-trips FP32 exactly, JSON included, so the tolerance is only for float printing).
   */
  private static void checkSameScores(Options o, Map<String, Caller> callers, int batch)
      throws Exception {
    float[] expected = callers.get(key(INPROC, batch)).call();
    for (String mode : o.modes()) {
      float[] got = callers.get(key(mode, batch)).call();
      for (int i = 0; i < batch; i++) {
        if (Math.abs(got[i] - expected[i]) > 1e-6f) {
          throw new IllegalStateException(
              mode
                  + " scores differ from inproc at batch "
                  + batch
                  + ": "
                  + Arrays.toString(got)
                  + " vs "
                  + Arrays.toString(expected));
        }
      }
    }
    log("batch " + batch + ": all modes return the in-process scores");
  }

  private static String key(String mode, int batch) {
    return mode + "/" + batch;
  }

  static double micros(ClosedLoop.Result r, double percentile) {
    return r.latencyNanos().getValueAtPercentile(percentile) / 1000.0;
  }

  private static void log(String line) {
    System.err.println(line);
  }
}
