package dev.scoreline.cli;

import dev.scoreline.core.feature.materialize.Materializer;
import dev.scoreline.core.kv.KvEntry;
import dev.scoreline.core.kv.KvStore;
import dev.scoreline.core.progress.ProgressBar;
import dev.scoreline.core.retrieval.Similarity;
import dev.scoreline.core.surface.CandidateJob;
import dev.scoreline.core.surface.SurfaceEngine;
import dev.scoreline.core.surface.SurfaceRequest;
import dev.scoreline.core.surface.SurfaceResult;
import dev.scoreline.demo.DemoData;
import dev.scoreline.demo.Evaluation;
import dev.scoreline.demo.Quickstart;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code scoreline quickstart}: builds the demo shop project, prepares its stores and serves it.
 */
@Command(
    name = "quickstart",
    mixinStandardHelpOptions = true,
    versionProvider = Main.Version.class,
    description = {
      "Create a runnable two-stage recommender and serve it: a deterministic synthetic shop"
          + " (50,000 users, 10,000 items, 1.2M interactions), ALS embeddings and an MLP ranker"
          + " trained on it (ONNX), then materialize the features, build the item index,"
          + " precompute every user's 200 candidates, publish the popularity fallback, measure"
          + " the served recommender on held-out interactions, and serve /v1/surfaces/home-feed.",
      "",
      "See docs/quickstart-demo.md and docs/recommendations.md."
    })
final class QuickstartCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Parameters(
      index = "0",
      arity = "0..1",
      paramLabel = "DIR",
      description = "Where to write the demo project (default: ${DEFAULT-VALUE}).")
  Path dir = Path.of("scoreline-demo-shop");

  @Option(names = "--port", defaultValue = "8000", description = "HTTP/gRPC port (default: 8000).")
  int port;

  @Option(names = "--no-serve", description = "Prepare the project and exit instead of serving it.")
  boolean noServe;

  @Option(
      names = "--small",
      description = "A small shop (3,000 users, 800 items) that builds in seconds.")
  boolean small;

  @Option(
      names = "--threads",
      paramLabel = "N",
      description = "Worker threads for training and the jobs (default: the number of cores).")
  int threads = Runtime.getRuntime().availableProcessors();

  @Override
  public Integer call() throws InterruptedException {
    PrintWriter out = spec.commandLine().getOut();
    PrintStream log = System.out;
    Prepared p = prepare(dir, small, threads, log);
    ServerLauncher launcher =
        ServerLauncher.start(
            ServerLauncher.Options.defaults(p.dir().resolve("models"))
                .withPort(noServe ? 0 : port)
                .withProject(p.dir()));
    try {
      evaluateServed(p.data(), launcher.surfaceEngine(), log);
    } catch (RuntimeException e) {
      launcher.close();
      throw e;
    }
    if (noServe) {
      launcher.close();
      out.printf("%nProject ready in %s; serve it with: scoreline serve %s%n", p.dir(), p.dir());
      out.flush();
      return ExitCodes.OK;
    }
    String base = "http://127.0.0.1:" + launcher.port();
    long user = p.data().exampleUsers()[0];
    long category = p.data().contextCategory(user);
    out.printf("%nScoreline is serving the demo shop on %s (REST and gRPC)%n%n", base);
    out.println("Recommendations for user " + user + ":");
    out.printf("  curl -s '%s/v1/surfaces/home-feed/%d'%n", base, user);
    out.println(
        "With request context (the category the user is browsing) and the pipeline's details:");
    out.printf(
        "  curl -s '%s/v1/surfaces/home-feed/%d?context.category=%d&debug=true'%n",
        base, user, category);
    out.println("Per-request rules (no diversity cap, pin item 7 first, 5 results):");
    out.printf(
        "  curl -s -X POST %s/v1/surfaces/home-feed/%d -d '{\"size\": 5, \"rules\":"
            + " {\"diversity\": false, \"pin\": {\"items\": [7]}}}'%n",
        base, user);
    out.println("Record that the user just saw items 1 and 2 (the seen-filter uses it at once):");
    out.printf(
        "  curl -s -X POST %s/v1/features/push -d '{\"feature_view\": \"user_recent\", \"rows\":"
            + " [{\"user_id\": %d, \"event_ts\": \"%s\", \"recent_items\": [1, 2]}]}'%n",
        base, user, Instant.now());
    out.printf("Metrics: curl -s %s/metrics | grep scoreline_surface%n", base);
    out.println("Stop with Ctrl-C. Serve it again later with: scoreline serve " + p.dir());
    out.flush();
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  launcher.close();
                  stopped.countDown();
                },
                "scoreline-shutdown"));
    stopped.await();
    return ExitCodes.OK;
  }

  /** The demo project after its stores are prepared. */
  record Prepared(Path dir, DemoData data) {}

  /** Builds the demo project and prepares its stores: materialize, index, candidates, popular. */
  static Prepared prepare(Path dir, boolean small, int threads, PrintStream log) {
    Quickstart.Options o =
        (small ? Quickstart.Options.small() : Quickstart.Options.full()).withThreads(threads);
    boolean tty = System.console() != null;
    log.printf(
        "Building the demo shop in %s (%,d users, %,d items, %,d interactions)%n",
        dir, o.users(), o.items(), o.interactions());
    DemoData data =
        Quickstart.build(dir, o, new ProgressBar(System.err, "items", tty, System::nanoTime), log);
    Path project = data.projectDir();
    try (Project p = new Project(project)) {
      long t0 = System.nanoTime();
      Materializer m =
          new Materializer(
              p.offlineStore(),
              p.onlineFeatures(),
              p.dir().resolve(".scoreline"),
              Clock.systemUTC(),
              new ProgressBar(System.err, "rows", tty, System::nanoTime));
      Materializer.Summary ms =
          m.materialize(List.of(), data.dataStart().minus(Duration.ofDays(1)), Instant.now());
      log.printf("materialized %,d feature rows in %.1f s%n", ms.rowsWritten(), seconds(t0));
      t0 = System.nanoTime();
      IndexCommand.Summary is =
          IndexCommand.build(
              p, "item_profile:embedding", DemoData.INDEX_DIR, "jvector", Similarity.DOT_PRODUCT);
      log.printf(
          "built the jvector index of %,d item embeddings in %.1f s%n", is.size(), seconds(t0));
      CandidateJob.Summary cs = CandidatesCommand.run(p, DemoData.SURFACE, threads);
      log.printf(
          "precomputed %,d users' top-%d candidates in %.1f s (snapshot %s)%n",
          cs.entities(), DemoData.CANDIDATES, cs.duration().toMillis() / 1000.0, cs.snapshotId());
      publishPopular(p.kvStore(), data);
      log.printf("published the popularity fallback (%d items)%n", data.popular().size());
    }
    return new Prepared(project, data);
  }

  static void publishPopular(KvStore kv, DemoData data) {
    String id = "p" + System.currentTimeMillis();
    kv.putAll(
        KvStore.snapshotNamespace(DemoData.POPULAR_SNAPSHOT, id),
        List.of(
            new KvEntry(
                DemoData.POPULAR_KEY.getBytes(StandardCharsets.UTF_8), data.popular().encode())));
    kv.publish(DemoData.POPULAR_SNAPSHOT, id, CandidateJob.KEEP);
  }

  /** Evaluates the served two-stage pipeline (in process, no deadline) next to the baselines. */
  static Evaluation.Metrics evaluateServed(DemoData data, SurfaceEngine engine, PrintStream log) {
    long t0 = System.nanoTime();
    Evaluation.Metrics served =
        data.evaluate(
            "two-stage, served (ANN top-200 -> ONNX ranker -> rules)",
            (user, category) -> {
              SurfaceResult r =
                  engine.rank(
                      DemoData.SURFACE,
                      SurfaceRequest.of(Map.of("user_id", user))
                          .withContext(Map.of("category", category)));
              return r.items().stream().mapToLong(SurfaceResult.Item::id).toArray();
            });
    log.printf(
        "%nHeld-out evaluation (%,d users, next item after the training period):%n",
        served.users());
    log.printf("  %-58s %9s %9s%n", "recommender", "recall@10", "NDCG@10");
    for (Evaluation.Metrics m : data.evaluation().rows()) {
      log.printf("  %-58s %9.4f %9.4f%n", m.name(), m.recall(), m.ndcg());
    }
    log.printf(
        "  %-58s %9.4f %9.4f   (%.1f s)%n",
        served.name(), served.recall(), served.ndcg(), seconds(t0));
    return served;
  }

  private static double seconds(long t0) {
    return (System.nanoTime() - t0) / 1e9;
  }
}
