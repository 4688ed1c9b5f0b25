package dev.scoreline.bench.ann;

import dev.scoreline.core.retrieval.Neighbor;
import dev.scoreline.core.retrieval.Similarity;
import dev.scoreline.core.retrieval.VectorIndex;
import dev.scoreline.retrieval.IndexBuilder;
import dev.scoreline.retrieval.JVectorIndex;
import dev.scoreline.retrieval.JVectorOptions;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Single-thread ANN search of Scoreline's jvector index: recall@k against the exact index and
 * queries per second, for several search beam widths (HNSW's {@code ef}), plus the exact scan as
 * the reference row. The companion {@code scoreline-bench/ann/hnsw_faiss.py} measures hnswlib and
 * faiss HNSW on the same {@code .fvecs} files with the same settings, and {@code
 * scoreline-bench/ann/run.sh} runs all three and prints one table.
 *
 * <p>Item ids are the vectors' positions in the base file. Every setting runs warmup passes over
 * all queries for {@code --seconds}, then {@code --repeats} measured periods of at least {@code
 * --seconds} each (whole passes over the queries, one query at a time, one thread); the table gives
 * the median QPS, per wall-clock second and per CPU second of the searching thread (the latter is
 * steadier on a machine shared with other work). The graph is built with {@code --build-threads}
 * threads (all processors by default); its build time is reported separately. Rows {@code
 * scoreline-jvector} search the graph as built (on the heap); rows {@code scoreline-jvector-mmap}
 * search the same index saved and reopened, its graph memory-mapped as a served index is ({@code
 * --no-disk} skips them).
 *
 * <pre>
 * java -cp "scoreline-bench/target/scoreline-bench.jar:scoreline-bench/target/lib/*" \
 *   dev.scoreline.bench.ann.AnnBenchmark --base base.fvecs --queries query.fvecs \
 *   [--similarity dot-product] [--k 10] [--ef 10,20,40,80,160,320] [--max-degree 32] \
 *   [--beam-width 100] [--build-threads 0] [--repeats 3] [--seconds 1] [--no-disk] [--csv out.csv]
 *
 * # synthetic data (gaussian clusters, unnormalized like factorization embeddings), written as
 * # fvecs for the Python side:
 * ... AnnBenchmark --generate 10000x32 --generate-queries 1000 --write-fvecs DIR
 * </pre>
 */
public final class AnnBenchmark {

  /** The command line. */
  record Options(
      Path base,
      Path queries,
      int generateItems,
      int generateDim,
      int generateQueries,
      Path writeFvecs,
      Similarity similarity,
      int k,
      int[] efs,
      int maxDegree,
      int beamWidth,
      int buildThreads,
      int repeats,
      double seconds,
      boolean disk,
      Path csv) {

    static Options parse(String[] args) {
      Path base = null;
      Path queries = null;
      int genN = 0;
      int genDim = 0;
      int genQ = 1000;
      Path write = null;
      Similarity similarity = Similarity.DOT_PRODUCT;
      int k = 10;
      int[] efs = {10, 20, 40, 80, 160, 320};
      int maxDegree = 32;
      int beamWidth = 100;
      int buildThreads = 0;
      int repeats = 3;
      double seconds = 1;
      boolean disk = true;
      Path csv = null;
      for (int i = 0; i < args.length; i++) {
        String a = args[i];
        String v = i + 1 < args.length ? args[i + 1] : null;
        switch (a) {
          case "--base" -> base = Path.of(need(a, v));
          case "--queries" -> queries = Path.of(need(a, v));
          case "--generate" -> {
            String[] parts = need(a, v).toLowerCase(Locale.ROOT).split("x");
            if (parts.length != 2) {
              throw new IllegalArgumentException("--generate: use ITEMSxDIM, e.g. 10000x32");
            }
            genN = Integer.parseInt(parts[0]);
            genDim = Integer.parseInt(parts[1]);
          }
          case "--generate-queries" -> genQ = Integer.parseInt(need(a, v));
          case "--write-fvecs" -> write = Path.of(need(a, v));
          case "--similarity" -> similarity = Similarity.parse(need(a, v));
          case "--k" -> k = Integer.parseInt(need(a, v));
          case "--ef" ->
              efs = Arrays.stream(need(a, v).split(",")).mapToInt(Integer::parseInt).toArray();
          case "--max-degree" -> maxDegree = Integer.parseInt(need(a, v));
          case "--beam-width" -> beamWidth = Integer.parseInt(need(a, v));
          case "--build-threads" -> buildThreads = Integer.parseInt(need(a, v));
          case "--repeats" -> repeats = Integer.parseInt(need(a, v));
          case "--seconds" -> seconds = Double.parseDouble(need(a, v));
          case "--csv" -> csv = Path.of(need(a, v));
          case "--no-disk" -> {
            disk = false;
            i--;
          }
          default ->
              throw new IllegalArgumentException(
                  "unknown option " + a + "; see the class comment of " + AnnBenchmark.class);
        }
        i++;
      }
      if ((base == null) == (genN == 0)) {
        throw new IllegalArgumentException("give --base and --queries, or --generate ITEMSxDIM");
      }
      if (base != null && queries == null) {
        throw new IllegalArgumentException("--queries is required with --base");
      }
      return new Options(
          base,
          queries,
          genN,
          genDim,
          genQ,
          write,
          similarity,
          k,
          efs,
          maxDegree,
          beamWidth,
          buildThreads,
          repeats,
          seconds,
          disk,
          csv);
    }

    private static String need(String option, String value) {
      if (value == null) {
        throw new IllegalArgumentException(option + " needs a value");
      }
      return value;
    }
  }

  /** One row of the result table. */
  record Row(
      String engine,
      String params,
      String ef,
      double recall,
      double qps,
      double cpuQps,
      double buildSeconds) {}

  /** Median queries per wall-clock second and per CPU second of the searching thread. */
  record Rate(double wall, double cpu) {}

  private AnnBenchmark() {}

  public static void main(String[] args) throws IOException {
    Options o = Options.parse(args);
    float[][] base;
    float[][] queries;
    if (o.base() != null) {
      base = Fvecs.read(o.base());
      queries = Fvecs.read(o.queries());
    } else {
      base = clustered(o.generateItems(), o.generateDim(), 1);
      queries = clustered(o.generateQueries(), o.generateDim(), 2);
    }
    if (o.writeFvecs() != null) {
      Files.createDirectories(o.writeFvecs());
      Fvecs.write(o.writeFvecs().resolve("base.fvecs"), base);
      Fvecs.write(o.writeFvecs().resolve("query.fvecs"), queries);
      System.out.println("wrote base.fvecs and query.fvecs to " + o.writeFvecs());
    }
    List<Row> rows = run(o, base, queries, System.out);
    String title =
        String.format(
            Locale.ROOT,
            "ANN %s: %d items x %d dims, %d queries, recall@%d, single-thread search, Java %s",
            name(o.similarity()),
            base.length,
            base[0].length,
            queries.length,
            o.k(),
            Runtime.version());
    System.out.println();
    System.out.print(markdown(title, o.k(), rows));
    if (o.csv() != null) {
      Files.writeString(o.csv(), csv(rows), StandardCharsets.UTF_8);
      System.out.println("wrote " + o.csv());
    }
  }

  /** Builds both indexes over {@code base}, measures every setting, returns the table rows. */
  static List<Row> run(Options o, float[][] base, float[][] queries, PrintStream log) {
    int dim = base[0].length;
    long[] ids = new long[base.length];
    for (int i = 0; i < ids.length; i++) {
      ids[i] = i;
    }
    List<Row> rows = new ArrayList<>();
    try (VectorIndex exact = IndexBuilder.exact(dim, o.similarity()).addAll(ids, base).build()) {
      long[][] truth = new long[queries.length][];
      for (int q = 0; q < queries.length; q++) {
        truth[q] = ids(exact.search(queries[q], o.k(), null));
      }
      Rate exactRate = measure(o, queries, q -> exact.search(queries[q], o.k(), null));
      rows.add(
          new Row(
              "scoreline-exact", "brute force", "-", 1.0, exactRate.wall(), exactRate.cpu(), 0));
      log.printf(Locale.ROOT, "exact: %.0f queries/s%n", exactRate.wall());

      JVectorOptions options =
          JVectorOptions.DEFAULTS
              .withGraph(o.maxDegree(), o.beamWidth())
              .withBuildThreads(o.buildThreads());
      long t0 = System.nanoTime();
      try (JVectorIndex graph =
          (JVectorIndex)
              IndexBuilder.jvector(dim, o.similarity(), options).addAll(ids, base).build()) {
        double buildSeconds = (System.nanoTime() - t0) / 1e9;
        log.printf(Locale.ROOT, "jvector build: %.2f s%n", buildSeconds);
        String params = "max-degree=" + o.maxDegree() + " beam=" + o.beamWidth();
        measureGraph(
            o, queries, truth, graph, "scoreline-jvector", params, buildSeconds, rows, log);
        if (o.disk()) {
          // what serving uses: the saved index reopened, its graph memory-mapped
          Path dir = Files.createTempDirectory("ann-index");
          try {
            graph.save(dir);
            try (JVectorIndex loaded = JVectorIndex.load(dir, options)) {
              measureGraph(
                  o,
                  queries,
                  truth,
                  loaded,
                  "scoreline-jvector-mmap",
                  params,
                  buildSeconds,
                  rows,
                  log);
            }
          } finally {
            deleteRecursively(dir);
          }
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return rows;
  }

  private static void measureGraph(
      Options o,
      float[][] queries,
      long[][] truth,
      JVectorIndex graph,
      String engine,
      String params,
      double buildSeconds,
      List<Row> rows,
      PrintStream log) {
    for (int ef : o.efs()) {
      int beam = Math.max(ef, o.k());
      double recall = recall(truth, q -> graph.search(queries[q], o.k(), null, beam), o.k());
      Rate rate = measure(o, queries, q -> graph.search(queries[q], o.k(), null, beam));
      rows.add(
          new Row(
              engine, params, Integer.toString(ef), recall, rate.wall(), rate.cpu(), buildSeconds));
      log.printf(
          Locale.ROOT,
          "%s ef=%d: recall %.4f, %.0f queries/s, %.0f queries/CPU-s%n",
          engine,
          ef,
          recall,
          rate.wall(),
          rate.cpu());
    }
  }

  private static void deleteRecursively(Path dir) throws IOException {
    try (var paths = Files.walk(dir)) {
      for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }

  /** A search of query number {@code q}. */
  @FunctionalInterface
  interface Search {
    List<Neighbor> run(int q);
  }

  private static double recall(long[][] truth, Search search, int k) {
    long found = 0;
    for (int q = 0; q < truth.length; q++) {
      long[] got = ids(search.run(q));
      for (long id : got) {
        for (long t : truth[q]) {
          if (t == id) {
            found++;
            break;
          }
        }
      }
    }
    return found / (double) (truth.length * (long) k);
  }

  /**
   * Warmup (passes for o.seconds()), then the median over repeats of passes lasting o.seconds().
   */
  private static Rate measure(Options o, float[][] queries, Search search) {
    ThreadMXBean threads = ManagementFactory.getThreadMXBean();
    long sink = 0;
    long warmupStart = System.nanoTime();
    do {
      for (int q = 0; q < queries.length; q++) {
        sink += search.run(q).size();
      }
    } while (System.nanoTime() - warmupStart < o.seconds() * 1e9);
    double[] qps = new double[o.repeats()];
    double[] cpuQps = new double[o.repeats()];
    for (int r = 0; r < o.repeats(); r++) {
      long done = 0;
      long cpuStart = threads.getCurrentThreadCpuTime();
      long start = System.nanoTime();
      long elapsed;
      do {
        for (int q = 0; q < queries.length; q++) {
          sink += search.run(q).size();
        }
        done += queries.length;
        elapsed = System.nanoTime() - start;
      } while (elapsed < o.seconds() * 1e9);
      qps[r] = done * 1e9 / elapsed;
      cpuQps[r] = done * 1e9 / Math.max(1, threads.getCurrentThreadCpuTime() - cpuStart);
    }
    if (sink == 42) {
      System.out.print("");
    }
    Arrays.sort(qps);
    Arrays.sort(cpuQps);
    return new Rate(qps[qps.length / 2], cpuQps[cpuQps.length / 2]);
  }

  private static long[] ids(List<Neighbor> neighbors) {
    long[] out = new long[neighbors.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = neighbors.get(i).id();
    }
    return out;
  }

  static String markdown(String title, int k, List<Row> rows) {
    StringBuilder sb = new StringBuilder();
    sb.append(title).append("\n\n");
    sb.append("| engine | graph | ef | recall@")
        .append(k)
        .append(" | QPS | QPS per CPU-s | build s |\n");
    sb.append("|---|---|---:|---:|---:|---:|---:|\n");
    for (Row r : rows) {
      sb.append(
          String.format(
              Locale.ROOT,
              "| %s | %s | %s | %.4f | %.0f | %.0f | %.2f |%n",
              r.engine(),
              r.params(),
              r.ef(),
              r.recall(),
              r.qps(),
              r.cpuQps(),
              r.buildSeconds()));
    }
    return sb.toString();
  }

  /** The CSV shared with hnsw_faiss.py: engine,params,ef,recall,qps,cpu_qps,build_s. */
  static String csv(List<Row> rows) {
    StringBuilder sb = new StringBuilder("engine,params,ef,recall,qps,cpu_qps,build_s\n");
    for (Row r : rows) {
      sb.append(
          String.format(
              Locale.ROOT,
              "%s,%s,%s,%.4f,%.1f,%.1f,%.3f%n",
              r.engine(),
              r.params(),
              r.ef(),
              r.recall(),
              r.qps(),
              r.cpuQps(),
              r.buildSeconds()));
    }
    return sb.toString();
  }

  /**
   * Gaussian clusters with per-vector norms spread over [0.25, 4) (like factorization embeddings,
   * where the norm carries popularity); {@code seed} 1 for items, 2 for queries, same centers.
   */
  static float[][] clustered(int n, int dim, long seed) {
    int clusters = 64;
    SplittableRandom centersRandom = new SplittableRandom(42);
    float[][] centers = new float[clusters][dim];
    for (float[] c : centers) {
      for (int j = 0; j < dim; j++) {
        c[j] = (float) gaussian(centersRandom);
      }
    }
    SplittableRandom random = new SplittableRandom(seed);
    float[][] out = new float[n][dim];
    for (int i = 0; i < n; i++) {
      float[] c = centers[random.nextInt(clusters)];
      double scale = Math.pow(2, random.nextDouble(-2, 2));
      for (int j = 0; j < dim; j++) {
        out[i][j] = (float) ((c[j] + gaussian(random)) * scale);
      }
    }
    return out;
  }

  private static double gaussian(SplittableRandom r) {
    double u = 1 - r.nextDouble();
    double v = r.nextDouble();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** The similarity as the Python side prints it ({@code dot-product}, ...). */
  private static String name(Similarity s) {
    return s.name().toLowerCase(Locale.ROOT).replace('_', '-');
  }
}
