package dev.scoreline.demo;

import static java.util.Objects.requireNonNull;

import dev.scoreline.core.progress.ProgressListener;
import dev.scoreline.core.surface.RankedList;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Supplier;

/**
 * The quickstart demo's data and models, end to end: generate the shop, learn embeddings (implicit
 * ALS), compute every user's candidates, train the ranker, export it to ONNX, evaluate, and write
 * the project. Deterministic for a seed (any number of threads).
 */
public final class Quickstart {
  /**
   * How big a shop, and how to run.
   *
   * @param users number of users
   * @param items number of items
   * @param interactions number of interactions (at least 3 per user)
   * @param seed the seed of everything random
   * @param threads worker threads
   * @param evalUsers users sampled for the evaluation
   */
  public record Options(
      int users, int items, int interactions, long seed, int threads, int evalUsers) {
    public Options {
      if (threads < 1) {
        throw new IllegalArgumentException("threads must be >= 1");
      }
      if (evalUsers < 1) {
        throw new IllegalArgumentException("evalUsers must be >= 1");
      }
    }

    /** The demo: 50,000 users, 10,000 items, 1,200,000 interactions, 5,000 evaluated users. */
    public static Options full() {
      return new Options(
          50_000, 10_000, 1_200_000, 42, Runtime.getRuntime().availableProcessors(), 5_000);
    }

    /** A small shop for tests: 3,000 users, 800 items, 60,000 interactions. */
    public static Options small() {
      return new Options(3_000, 800, 60_000, 42, 2, 3_000);
    }

    public Options withSeed(long seed) {
      return new Options(users, items, interactions, seed, threads, evalUsers);
    }

    public Options withThreads(int threads) {
      return new Options(users, items, interactions, seed, threads, evalUsers);
    }
  }

  static final ImplicitAls.Params ALS = new ImplicitAls.Params(32, 8, 20.0, 10.0, 3, 0);
  static final RankerTrainer.Params RANKER =
      new RankerTrainer.Params(new int[] {64, 32}, 6, 2, 4, 512, 2e-3f, 0);

  private Quickstart() {}

  /**
   * Builds the demo and writes the project into {@code projectDir} (created; files the demo writes
   * are replaced).
   *
   * @param progress receives the progress of the long steps (a {@code ProgressBar})
   * @param log receives one line per step with its time, and the evaluation table
   */
  public static DemoData build(
      Path projectDir, Options options, ProgressListener progress, PrintStream log) {
    requireNonNull(projectDir, "projectDir is null");
    requireNonNull(options, "options is null");
    requireNonNull(progress, "progress is null");
    requireNonNull(log, "log is null");
    ExecutorService executor = Executors.newFixedThreadPool(options.threads());
    try {
      return new Run(projectDir, options, progress, log, executor).run();
    } finally {
      executor.shutdownNow();
    }
  }

  static ImplicitAls.Params als(Options o) {
    return new ImplicitAls.Params(
        ALS.factors(), ALS.iterations(), ALS.alpha(), ALS.lambda(), ALS.cgSteps(), o.seed());
  }

  static RankerTrainer.Params ranker(Options o) {
    RankerTrainer.Params p = RANKER;
    return new RankerTrainer.Params(
        p.hidden(),
        p.hardNegatives(),
        p.popularNegatives(),
        p.epochs(),
        p.batchSize(),
        p.learningRate(),
        o.seed());
  }

  static byte[] onnx(Mlp mlp, RankerFeatures features) {
    Map<String, String> meta = new LinkedHashMap<>();
    meta.put("scoreline.features", "see surfaces/home-feed.yaml (90 columns)");
    meta.put("scoreline.price-mean", Double.toString(features.priceMean));
    meta.put("scoreline.price-std", Double.toString(features.priceStd));
    return OnnxWriter.write(
        mlp,
        "features",
        "score",
        "home-feed ranker: MLP "
            + Arrays.toString(mlp.dims)
            + " (ReLU, sigmoid), trained by scoreline-demo on a synthetic shop",
        meta);
  }

  private static final class Run {
    private final Path dir;
    private final Options options;
    private final ProgressListener progress;
    private final PrintStream log;
    private final ExecutorService executor;
    private final Map<String, Duration> timings = new LinkedHashMap<>();

    Run(
        Path dir,
        Options options,
        ProgressListener progress,
        PrintStream log,
        ExecutorService executor) {
      this.dir = dir;
      this.options = options;
      this.progress = progress;
      this.log = log;
      this.executor = executor;
    }

    DemoData run() {
      long start = System.nanoTime();
      Shop shop =
          step(
              "generate shop",
              () ->
                  new ShopGenerator(
                          options.users(), options.items(), options.interactions(), options.seed())
                      .generate(executor, progress),
              s ->
                  String.format(
                      Locale.ROOT,
                      "%,d users, %,d items, %,d interactions",
                      s.users,
                      s.items,
                      s.interactions()));
      ImplicitAls.Model als =
          step(
              "train embeddings (implicit ALS)",
              () -> ImplicitAls.train(Csr.trainMatrix(shop), als(options), executor, progress),
              m ->
                  String.format(
                      Locale.ROOT,
                      "rank %d, %d iterations, loss %.4g -> %.4g",
                      m.factors(),
                      m.loss().length,
                      m.loss()[0],
                      m.loss()[m.loss().length - 1]));
      Candidates candidates =
          step(
              "candidates (top-" + DemoData.CANDIDATES + " by ALS per user)",
              () -> Candidates.compute(shop, als, DemoData.CANDIDATES, executor, progress),
              c -> String.format(Locale.ROOT, "%,d lists", c.users));
      RankerFeatures features = new RankerFeatures(shop, als);
      RankerTrainer.Result ranker =
          step(
              "train ranker (MLP " + Arrays.toString(RankerTrainer.dims(RANKER.hidden())) + ")",
              () -> RankerTrainer.train(features, candidates, ranker(options), executor, progress),
              r ->
                  String.format(
                      Locale.ROOT,
                      "%,d rows, %d epochs, log loss %.4f -> %.4f",
                      r.examples(),
                      r.loss().length,
                      r.loss()[0],
                      r.loss()[r.loss().length - 1]));
      byte[] model =
          step(
              "export ranker to ONNX",
              () -> onnx(ranker.model(), features),
              b -> String.format(Locale.ROOT, "%,d bytes", b.length));
      Evaluation.Report report =
          step(
              "evaluate (recall@10, NDCG@10)",
              () ->
                  Evaluation.standard(
                      new Evaluation(shop, options.evalUsers(), options.seed(), executor),
                      features,
                      candidates,
                      new JavaRanker(features, candidates, ranker.model())),
              r -> String.format(Locale.ROOT, "%,d users", r.rows().get(0).users()));
      log.print(report.table());
      step(
          "write project " + dir,
          () -> {
            new ProjectWriter(dir, features).write(model, report, progress);
            return dir;
          },
          d -> "");
      timings.put("total", Duration.ofNanos(System.nanoTime() - start));
      log.printf(Locale.ROOT, "demo data ready in %s%n", seconds(timings.get("total")));
      return new DemoData(
          dir,
          options,
          shop,
          als,
          candidates,
          features,
          ranker.model(),
          popular(features),
          report,
          timings);
    }

    private <T> T step(
        String name, Supplier<T> body, java.util.function.Function<T, String> summary) {
      long t0 = System.nanoTime();
      T result = body.get();
      Duration d = Duration.ofNanos(System.nanoTime() - t0);
      timings.put(name, d);
      String s = summary.apply(result);
      log.printf(Locale.ROOT, "%-40s %7s  %s%n", name, seconds(d), s);
      log.flush();
      return result;
    }
  }

  static String seconds(Duration d) {
    return String.format(Locale.ROOT, "%.1fs", d.toNanos() / 1e9);
  }

  static RankedList popular(RankerFeatures features) {
    int[] order = Evaluation.byPopularity(features.itemPopularity);
    int n = Math.min(DemoData.POPULAR, order.length);
    long[] ids = new long[n];
    float[] scores = new float[n];
    for (int i = 0; i < n; i++) {
      ids[i] = Shop.itemId(order[i]);
      scores[i] = features.itemPopularity[order[i]];
    }
    return new RankedList(ids, scores);
  }
}
