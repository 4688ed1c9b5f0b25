package dev.scoreline.cli;

import dev.scoreline.core.error.ErrorCode;
import dev.scoreline.core.error.ScorelineException;
import dev.scoreline.core.model.ModelMetadata;
import dev.scoreline.core.model.ModelState;
import dev.scoreline.core.model.ModelStatus;
import dev.scoreline.core.model.TensorSpec;
import dev.scoreline.core.surface.SurfaceWarmup;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code scoreline serve}: the online server (Open Inference Protocol REST + gRPC, TF-Serving). */
@Command(
    name = "serve",
    mixinStandardHelpOptions = true,
    versionProvider = Main.Version.class,
    description = {
      "Serve the models of a project (PROJECT/models/<name>/<version>/model.onnx) over REST and"
          + " gRPC on one port.",
      "",
      "Open Inference Protocol v2 (KServe/Triton), TF-Serving REST, Prometheus /metrics.",
      "Stops gracefully on Ctrl-C / SIGTERM: in-flight requests finish, new ones get 503."
    })
final class ServeCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Parameters(
      index = "0",
      arity = "0..1",
      paramLabel = "PROJECT",
      description = "Project directory holding models/ (default: current directory).")
  Path project = Path.of(".");

  @Option(
      names = "--models",
      paramLabel = "DIR",
      description = "Model repository directory (default: PROJECT/models).")
  Path models;

  @Option(
      names = "--model",
      paramLabel = "NAME",
      description = "Load only this model (repeatable; default: every model in the repository).")
  List<String> only = new ArrayList<>();

  @Option(
      names = {"-p", "--port"},
      paramLabel = "PORT",
      description = "Port for REST and gRPC (default: ${DEFAULT-VALUE}; 0 picks a free port).")
  int port = 8000;

  @Option(
      names = "--workers",
      paramLabel = "N",
      description = "Inference worker threads (default: 2 x cores).")
  Integer workers;

  @Option(
      names = "--queue-size",
      paramLabel = "N",
      description =
          "Requests that may wait for a worker before new ones get 429 (default: ${DEFAULT-VALUE}).")
  int queueSize = 10_000;

  @Option(
      names = "--max-in-flight",
      paramLabel = "N",
      description =
          "Inference requests in flight at once; more are refused as soon as their headers arrive"
              + " (REST 429 + Retry-After, gRPC RESOURCE_EXHAUSTED), before the body is read"
              + " (default: 0 = 2 x the loaded versions' instance-count x max-batch-size, at least"
              + " 64; docs/serving.md).")
  int maxInFlight = 0;

  @Option(
      names = "--max-request-size",
      paramLabel = "BYTES",
      description =
          "Largest request body, e.g. 64MiB or 1048576; larger ones get 413 (default: ${DEFAULT-VALUE}).")
  String maxRequestSize = "64MiB";

  @Option(
      names = "--grace-period",
      paramLabel = "SECONDS",
      description =
          "How long in-flight requests may take to finish on shutdown (default: ${DEFAULT-VALUE}).")
  int gracePeriod = 10;

  @Option(
      names = "--model-control",
      paramLabel = "MODE",
      description =
          "explicit: models change only through the repository API; poll: watch the repository"
              + " and load new versions, unload removed ones, reload changed ones (default: ${DEFAULT-VALUE}).")
  String modelControl = "explicit";

  @Option(
      names = "--poll-interval",
      paramLabel = "SECONDS",
      description =
          "Repository poll interval with --model-control poll (default: ${DEFAULT-VALUE}).")
  int pollInterval = 5;

  @Option(
      names = "--admin-token-file",
      paramLabel = "FILE",
      description =
          "File holding the bearer token that admin calls (repository load/unload, traffic) must"
              + " carry; also read from SCORELINE_ADMIN_TOKEN. Without one, admin calls are open.")
  Path adminTokenFile;

  @Option(
      names = "--no-warmup",
      description =
          "Do not warm the surfaces up before readiness turns 200 (default: each surface runs its"
              + " warmup.requests pipeline calls first; docs/serving.md).")
  boolean noWarmup;

  @Option(
      names = "--check",
      description =
          "Load the models, print what would be served and a sample request, then exit"
              + " (exit code 2 when a model fails to load).")
  boolean check;

  @Override
  public Integer call() throws InterruptedException {
    Path repository = models != null ? models : project.resolve("models");
    if (!Files.isDirectory(repository)) {
      throw ScorelineException.userError(
          "models",
          "no model repository at "
              + repository.toAbsolutePath().normalize()
              + "; pass a project directory holding models/ or --models DIR"
              + " (try: scoreline serve examples/quickstart)");
    }
    ServerLauncher.Options defaults = ServerLauncher.Options.defaults(repository);
    ServerLauncher.Options options =
        new ServerLauncher.Options(
            repository,
            only,
            check ? 0 : port,
            workers != null ? workers : defaults.workers(),
            queueSize,
            Sizes.parseBytes("--max-request-size", maxRequestSize),
            Duration.ofSeconds(gracePeriod),
            modelControl,
            Duration.ofSeconds(Math.max(1, pollInterval)),
            adminToken(),
            project,
            maxInFlight,
            !noWarmup && !check);
    PrintWriter out = spec.commandLine().getOut();
    ServerLauncher launcher = ServerLauncher.start(options);
    List<ModelStatus> failed =
        launcher.loaded().stream()
            .filter(s -> s.state() == ModelState.UNAVAILABLE)
            .collect(Collectors.toList());
    String base = "http://127.0.0.1:" + launcher.port();
    printBanner(out, launcher, base, failed);
    if (check) {
      launcher.close();
      if (!failed.isEmpty()) {
        throw new ScorelineException(
            ErrorCode.USER_ERROR, failed.size() + " model version(s) failed to load; see above");
      }
      return ExitCodes.OK;
    }
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  out.println("Stopping: finishing in-flight requests...");
                  out.flush();
                  launcher.close();
                  stopped.countDown();
                },
                "scoreline-shutdown"));
    stopped.await();
    return ExitCodes.OK;
  }

  private String adminToken() {
    if (adminTokenFile != null) {
      try {
        String t = Files.readString(adminTokenFile).trim();
        if (t.isEmpty()) {
          throw ScorelineException.userError("admin-token-file", adminTokenFile + " is empty");
        }
        return t;
      } catch (java.io.IOException e) {
        throw ScorelineException.userError(
            "admin-token-file",
            "cannot read --admin-token-file " + adminTokenFile + ": " + e.getMessage());
      }
    }
    String env = System.getenv("SCORELINE_ADMIN_TOKEN");
    return env == null || env.isBlank() ? null : env.trim();
  }

  private void printBanner(
      PrintWriter out, ServerLauncher launcher, String base, List<ModelStatus> failed) {
    List<String> ready = launcher.manager().readyModels();
    out.printf(
        "Scoreline %s serving %d model(s) on %s (REST and gRPC)%n",
        Main.version(), ready.size(), base);
    for (String name : ready) {
      ModelMetadata m = launcher.manager().metadata(name, null);
      out.printf(
          "  %-20s versions %s  inputs %s  outputs %s%n",
          name, m.versions(), specs(m.inputs()), specs(m.outputs()));
    }
    for (ModelStatus s : failed) {
      out.printf("  %-20s FAILED version %s: %s%n", s.name(), s.version(), s.reason());
    }
    if (!ready.isEmpty()) {
      ModelMetadata first = launcher.manager().metadata(ready.get(0), null);
      out.println();
      out.println("Try it (Open Inference Protocol v2 over REST):");
      out.println("  " + CurlExample.infer(base, first));
      out.println();
      out.println("Model metadata:  curl -s " + base + "/v2/models/" + first.name());
    }
    if (launcher.servesFeatures()) {
      out.println(
          "Features:        curl -s -X POST "
              + base
              + "/v1/features -d '{\"features\": [\"<view>:*\"], \"entities\": [{\"<key>\": 1}]}'"
              + "  (see docs/features.md)");
    }
    if (launcher.surfaceEngine() != null) {
      for (var s : launcher.surfaceEngine().surfaces().all()) {
        String key =
            s.entity().keys().size() == 1 ? "<" + s.entity().keys().get(0).name() + ">" : "";
        out.println(
            "Surface:         curl -s "
                + base
                + "/v1/surfaces/"
                + s.name()
                + "/"
                + key
                + "  ("
                + s.spec().mode().label()
                + ", see docs/recommendations.md)");
      }
    }
    for (SurfaceWarmup.Report r : launcher.warmup()) {
      out.println(
          "Warm-up:         "
              + r.surface()
              + ": "
              + (r.ran() == 0
                  ? "none (" + r.outcome() + ")"
                  : String.format(
                      java.util.Locale.ROOT,
                      "%d requests in %d ms, p50 of the last ones %.2f ms%s%s",
                      r.ran(),
                      r.duration().toMillis(),
                      r.p50Millis(),
                      r.errors() == 0 ? "" : ", " + r.errors() + " failed",
                      r.outcome().equals("done") ? "" : " (" + r.outcome() + ")")));
    }
    out.println("Readiness:       curl -s " + base + "/v2/health/ready");
    out.println("Metrics:         curl -s " + base + "/metrics");
    if (!check) {
      out.println("Stop with Ctrl-C.");
    }
    out.flush();
  }

  private static String specs(List<TensorSpec> specs) {
    return specs.stream()
        .map(s -> s.name() + " " + s.datatype() + s.shapeString())
        .collect(Collectors.joining(", "));
  }
}
