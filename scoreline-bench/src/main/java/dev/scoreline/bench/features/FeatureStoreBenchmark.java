package dev.scoreline.bench.features;

import dev.scoreline.core.feature.FeatureRef;
import dev.scoreline.core.feature.FeatureRegistry;
import dev.scoreline.core.feature.materialize.Materializer;
import dev.scoreline.core.feature.online.FeatureVectors;
import dev.scoreline.core.feature.online.OnlineFeatureStore;
import dev.scoreline.core.kv.KvStore;
import dev.scoreline.core.progress.ProgressBar;
import dev.scoreline.core.progress.ProgressListener;
import dev.scoreline.duckdb.DuckDbOfflineStore;
import dev.scoreline.redis.RedisKvStore;
import dev.scoreline.rocksdb.RocksDbKvStore;
import dev.scoreline.testing.RedisServerProcess;
import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.ToDoubleFunction;
import org.HdrHistogram.Histogram;

/**
 * The online feature store's read latency for the shapes a recommender needs, RocksDB (in-process)
 * and Redis (loopback, one pipelined round trip per entity) side by side in one run, plus the rate
 * of materializing a generated Parquet file into RocksDB.
 *
 * <ul>
 *   <li><b>1 user x 100 features</b>: five views of 20 features of one user (one record, one read);
 *   <li><b>200 items x 20 features</b>: one view of 200 candidate items (one multi-get).
 * </ul>
 *
 * Each cell is a closed loop calling {@link OnlineFeatureStore#get} in-process with random keys
 * (uniform over the populated ids, pre-built requests) for a warmup and a measured period; the
 * cells run interleaved (shape, store) per repeat, and the report gives the median (and the min)
 * over the repeats. Run it from the repository root after {@code ./mvnw -B -DskipTests install}:
 *
 * <pre>
 * java -cp "scoreline-bench/target/scoreline-bench.jar:scoreline-bench/target/lib/*" \
 *   dev.scoreline.bench.features.FeatureStoreBenchmark [--users 100000] [--items 20000] \
 *   [--warmup 5] [--measure 10] [--repeats 3] [--concurrency 1] \
 *   [--materialize-rows 2000000] [--only all|materialize] [--redis-server PATH] [--out FILE]
 * </pre>
 *
 * {@code --only materialize} skips the read cells (and Redis): it only writes the Parquet file and
 * materializes it {@code --repeats} times, each into a fresh RocksDB.
 */
public final class FeatureStoreBenchmark {
  static final String ROCKSDB = "rocksdb";
  static final String REDIS = "redis";

  /** Goals of the issue: p99 in microseconds per (shape, store). */
  static final Map<String, Double> GOAL_P99_MICROS =
      Map.of(
          "1x100/" + ROCKSDB, 500.0,
          "200x20/" + ROCKSDB, 3000.0,
          "1x100/" + REDIS, 1000.0,
          "200x20/" + REDIS, 5000.0);

  static final double GOAL_MATERIALIZE_ROWS_PER_SECOND = 200_000;

  record Options(
      int users,
      int items,
      double warmupSeconds,
      double measureSeconds,
      int repeats,
      int concurrency,
      long materializeRows,
      boolean onlyMaterialize,
      String redisServer,
      Path out) {
    static Options parse(String[] args) {
      Map<String, String> m = new LinkedHashMap<>();
      for (int i = 0; i < args.length; i++) {
        String a = args[i];
        if (!a.startsWith("--") || i + 1 >= args.length) {
          throw new IllegalArgumentException("expected --name value pairs; got " + a);
        }
        m.put(a.substring(2), args[++i]);
      }
      Options o =
          new Options(
              Integer.parseInt(m.getOrDefault("users", "100000")),
              Integer.parseInt(m.getOrDefault("items", "20000")),
              Double.parseDouble(m.getOrDefault("warmup", "5")),
              Double.parseDouble(m.getOrDefault("measure", "10")),
              Integer.parseInt(m.getOrDefault("repeats", "3")),
              Integer.parseInt(m.getOrDefault("concurrency", "1")),
              Long.parseLong(m.getOrDefault("materialize-rows", "2000000")),
              only(m.getOrDefault("only", "all")),
              m.get("redis-server"),
              m.containsKey("out") ? Path.of(m.get("out")) : null);
      for (String k : m.keySet()) {
        if (!List.of(
                "users",
                "items",
                "warmup",
                "measure",
                "repeats",
                "concurrency",
                "materialize-rows",
                "only",
                "redis-server",
                "out")
            .contains(k)) {
          throw new IllegalArgumentException("unknown option --" + k);
        }
      }
      if (o.onlyMaterialize() && o.materializeRows() <= 0) {
        throw new IllegalArgumentException("--only materialize needs --materialize-rows > 0");
      }
      return o;
    }

    private static boolean only(String v) {
      switch (v) {
        case "all":
          return false;
        case "materialize":
          return true;
        default:
          throw new IllegalArgumentException("--only takes all or materialize; got " + v);
      }
    }
  }

  /** One measured cell. */
  record Result(long calls, long errors, double seconds, Histogram nanos, String firstError) {
    double opsPerSecond() {
      return calls / seconds;
    }

    double micros(double percentile) {
      return nanos.getValueAtPercentile(percentile) / 1000.0;
    }
  }

  /** A shape: features read for {@code rows} entity rows. */
  record Shape(String id, String title, List<FeatureRef> features, String keyColumn, int rows) {}

  private FeatureStoreBenchmark() {}

  public static void main(String[] args) throws Exception {
    Options o = Options.parse(args);
    String report = run(o, String.join(" ", args));
    System.out.println(report);
    if (o.out() != null) {
      Files.writeString(o.out(), report);
      System.err.println("wrote " + o.out());
    }
  }

  static String run(Options o, String argLine) throws Exception {
    Instant started = Instant.now();
    String loadBefore = loadAverage();
    Path work = Files.createTempDirectory("scoreline-feature-bench-");
    try {
      Files.createDirectories(work.resolve("features"));
      Files.createDirectories(work.resolve("data"));
      Files.writeString(work.resolve("features/features.yaml"), SyntheticFeatures.yaml());
      FeatureRegistry registry = FeatureRegistry.load(work);
      Instant eventTime = Instant.now().minus(Duration.ofHours(1));
      ProgressListener progress = new ProgressBar(System.err);

      List<Shape> shapes =
          List.of(
              new Shape(
                  "1x100", "1 user x 100 features", SyntheticFeatures.userFeatures(), "user_id", 1),
              new Shape(
                  "200x20",
                  "200 items x 20 features",
                  SyntheticFeatures.features("item_v0"),
                  "item_id",
                  200));

      Map<String, Double> populateRate = new LinkedHashMap<>();
      Map<String, List<Result>> results = new LinkedHashMap<>();
      String redisVersion = null;
      if (!o.onlyMaterialize()) {
        try (RocksDbKvStore rocks = RocksDbKvStore.open(work.resolve("online-rocksdb"));
            RedisServerProcess redisServer =
                RedisServerProcess.start(
                    o.redisServer() == null ? null : Path.of(o.redisServer()));
            RedisKvStore redis = RedisKvStore.connect(redisServer.uri())) {
          redisVersion =
              RedisServerProcess.version(o.redisServer() == null ? null : Path.of(o.redisServer()));
          Map<String, OnlineFeatureStore> stores = new LinkedHashMap<>();
          stores.put(ROCKSDB, store(rocks, registry));
          stores.put(REDIS, store(redis, registry));
          for (Map.Entry<String, OnlineFeatureStore> e : stores.entrySet()) {
            long t0 = System.nanoTime();
            SyntheticFeatures.populate(
                e.getValue(), "user", SyntheticFeatures.USER_VIEWS, o.users(), eventTime, progress);
            SyntheticFeatures.populate(e.getValue(), "item", 1, o.items(), eventTime, progress);
            double s = (System.nanoTime() - t0) / 1e9;
            long rows = (long) o.users() * SyntheticFeatures.USER_VIEWS + o.items();
            populateRate.put(e.getKey(), rows / s);
          }
          // a global warmup of every cell (JIT, caches), not reported
          for (Shape shape : shapes) {
            for (Map.Entry<String, OnlineFeatureStore> e : stores.entrySet()) {
              measure(e.getValue(), shape, o, o.warmupSeconds(), 0.5, 7);
            }
          }
          for (int r = 0; r < o.repeats(); r++) {
            for (Shape shape : shapes) {
              for (Map.Entry<String, OnlineFeatureStore> e : stores.entrySet()) {
                Result res =
                    measure(e.getValue(), shape, o, o.warmupSeconds(), o.measureSeconds(), r);
                results
                    .computeIfAbsent(shape.id() + "/" + e.getKey(), k -> new ArrayList<>())
                    .add(res);
                System.err.printf(
                    Locale.ROOT,
                    "repeat %d %s %s: %,.0f ops/s p50 %.1f us p99 %.1f us errors %d%n",
                    r + 1,
                    shape.title(),
                    e.getKey(),
                    res.opsPerSecond(),
                    res.micros(50),
                    res.micros(99),
                    res.errors());
              }
            }
          }
        }
      }

      List<Materializer.Summary> materializations = new ArrayList<>();
      if (o.materializeRows() > 0) {
        Path parquet = work.resolve("data/user_v0.parquet");
        writeParquet(parquet, o.materializeRows());
        for (int r = 0; r < o.repeats(); r++) {
          materializations.add(materialize(work, registry, r));
          Materializer.Summary s = materializations.get(r);
          System.err.printf(
              Locale.ROOT,
              "materialization %d: %,d rows in %.1f s (%,.0f rows/s)%n",
              r + 1,
              s.rowsWritten(),
              s.duration().toMillis() / 1000.0,
              s.rowsPerSecond());
        }
      }
      return report(
          o,
          argLine,
          started,
          loadBefore,
          loadAverage(),
          redisVersion,
          shapes,
          results,
          populateRate,
          materializations);
    } finally {
      deleteTree(work);
    }
  }

  private static OnlineFeatureStore store(KvStore kv, FeatureRegistry registry) {
    return new OnlineFeatureStore(
        kv, registry, Clock.systemUTC(), new OnlineFeatureStore.Options(1000, false));
  }

  // ------------------------------------------------------------------ the closed loop

  private static Result measure(
      OnlineFeatureStore store, Shape shape, Options o, double warmup, double measure, long seed)
      throws InterruptedException {
    int n = shape.keyColumn().equals("user_id") ? o.users() : o.items();
    List<List<Map<String, Object>>> requests =
        SyntheticFeatures.requests(shape.keyColumn(), n, shape.rows(), 4096, 31 * seed + 7);
    long start = System.nanoTime();
    long measureStart = start + (long) (warmup * 1e9);
    long end = measureStart + (long) (measure * 1e9);
    Worker[] workers = new Worker[o.concurrency()];
    Thread[] threads = new Thread[o.concurrency()];
    for (int i = 0; i < workers.length; i++) {
      workers[i] = new Worker(store, shape.features(), requests, i * 997, measureStart, end);
      threads[i] = new Thread(workers[i], "feature-bench-" + i);
      threads[i].start();
    }
    Histogram total = new Histogram(TimeUnit.SECONDS.toNanos(60), 3);
    long calls = 0;
    long errors = 0;
    String firstError = null;
    for (int i = 0; i < workers.length; i++) {
      threads[i].join();
      total.add(workers[i].histogram);
      calls += workers[i].calls;
      errors += workers[i].errors;
      firstError = firstError != null ? firstError : workers[i].firstError;
    }
    return new Result(calls, errors, (end - measureStart) / 1e9, total, firstError);
  }

  private static final class Worker implements Runnable {
    private final OnlineFeatureStore store;
    private final List<FeatureRef> features;
    private final List<List<Map<String, Object>>> requests;
    private final long measureStart;
    private final long end;
    private int next;
    final Histogram histogram = new Histogram(TimeUnit.SECONDS.toNanos(60), 3);
    long calls;
    long errors;
    String firstError;

    Worker(
        OnlineFeatureStore store,
        List<FeatureRef> features,
        List<List<Map<String, Object>>> requests,
        int offset,
        long measureStart,
        long end) {
      this.store = store;
      this.features = features;
      this.requests = requests;
      this.next = offset;
      this.measureStart = measureStart;
      this.end = end;
    }

    @Override
    public void run() {
      int lastFeature = features.size() - 1;
      while (true) {
        List<Map<String, Object>> rows = requests.get(next++ & (requests.size() - 1));
        long t0 = System.nanoTime();
        if (t0 - end >= 0) {
          return;
        }
        boolean ok;
        try {
          FeatureVectors v = store.get(features, rows);
          // validate (and consume) the result: every value was written, none may be missing
          ok = v.isPresent(0, 0) && v.isPresent(lastFeature, rows.size() - 1);
          if (!ok && firstError == null) {
            firstError = "a value was " + v.status(lastFeature, rows.size() - 1);
          }
        } catch (RuntimeException e) {
          ok = false;
          if (firstError == null) {
            firstError = e.toString();
          }
        }
        long t1 = System.nanoTime();
        if (!ok) {
          errors++;
        } else if (t1 - measureStart >= 0 && t1 - end < 0) {
          histogram.recordValue(Math.min(t1 - t0, histogram.getHighestTrackableValue()));
          calls++;
        }
      }
    }
  }

  // ------------------------------------------------------------------ materialization

  /** Writes {@code rows} rows of view user_v0 (distinct users, one row each) with DuckDB. */
  private static void writeParquet(Path file, long rows) throws SQLException {
    StringBuilder select = new StringBuilder("SELECT i AS user_id,");
    select.append(" TIMESTAMP '2026-01-01 00:00:00' + to_seconds(i % 86400) AS event_ts,");
    select.append(" list_transform(range(16), x -> random()::FLOAT) AS f0");
    for (int f = 1; f < SyntheticFeatures.FEATURES_PER_VIEW; f++) {
      select.append(", ");
      switch (SyntheticFeatures.type(f)) {
        case "fp64":
          select.append("random() * 100");
          break;
        case "int64":
          select.append("(random() * 1000000)::BIGINT");
          break;
        case "fp32":
          select.append("random()::FLOAT");
          break;
        case "string":
          select.append("'seg-' || (i % 97)::VARCHAR");
          break;
        default:
          select.append("random() < 0.5");
          break;
      }
      select.append(" AS f").append(f);
    }
    select.append(" FROM range(").append(rows).append(") t(i)");
    long t0 = System.nanoTime();
    try (Connection c = DriverManager.getConnection("jdbc:duckdb:");
        Statement s = c.createStatement()) {
      s.execute(
          "COPY (" + select + ") TO '" + file.toString().replace("'", "''") + "' (FORMAT PARQUET)");
    }
    System.err.printf(
        Locale.ROOT,
        "wrote %,d rows to %s in %.1f s%n",
        rows,
        file.getFileName(),
        (System.nanoTime() - t0) / 1e9);
  }

  private static Materializer.Summary materialize(Path work, FeatureRegistry registry, int run) {
    Path dir = work.resolve("materialize-rocksdb-" + run);
    try (RocksDbKvStore kv = RocksDbKvStore.open(dir);
        DuckDbOfflineStore offline = new DuckDbOfflineStore(registry)) {
      Materializer m =
          new Materializer(
              offline,
              store(kv, registry),
              work.resolve(".scoreline-" + run),
              Clock.systemUTC(),
              ProgressListener.NONE);
      return m.materialize(
          List.of("user_v0"),
          Instant.parse("2025-12-31T00:00:00Z"),
          Instant.parse("2026-01-03T00:00:00Z"));
    } finally {
      deleteTree(dir);
    }
  }

  // ------------------------------------------------------------------ report

  private static String report(
      Options o,
      String argLine,
      Instant started,
      String loadBefore,
      String loadAfter,
      String redisVersion,
      List<Shape> shapes,
      Map<String, List<Result>> results,
      Map<String, Double> populateRate,
      List<Materializer.Summary> materializations) {
    StringBuilder sb = new StringBuilder();
    sb.append("### Run of ").append(started.truncatedTo(ChronoUnit.SECONDS)).append("\n\n");
    sb.append("- machine: ").append(machine()).append('\n');
    sb.append("- load average (1, 5, 15 min): before ")
        .append(loadBefore)
        .append(", after ")
        .append(loadAfter)
        .append('\n');
    sb.append("- JVM: ")
        .append(System.getProperty("java.vm.name"))
        .append(' ')
        .append(System.getProperty("java.runtime.version"))
        .append(", max heap ")
        .append(Runtime.getRuntime().maxMemory() >> 20)
        .append(" MiB\n");
    if (redisVersion != null) {
      sb.append("- Redis: ").append(redisVersion).append(", 127.0.0.1, no persistence\n");
    }
    sb.append("- command: `java -cp \"scoreline-bench/target/scoreline-bench.jar:")
        .append("scoreline-bench/target/lib/*\" ")
        .append(FeatureStoreBenchmark.class.getName())
        .append(argLine.isEmpty() ? "" : " " + argLine)
        .append("`\n");
    if (!results.isEmpty()) {
      sb.append(
          String.format(
              Locale.ROOT,
              "- data: %,d users x %d views x %d features, %,d items x 1 view x %d features"
                  + " (per view: a 16-dim fp32 embedding, 7 fp64, 6 int64, 4 fp32, a string, a"
                  + " bool); random keys, uniform%n",
              o.users(),
              SyntheticFeatures.USER_VIEWS,
              SyntheticFeatures.FEATURES_PER_VIEW,
              o.items(),
              SyntheticFeatures.FEATURES_PER_VIEW));
      sb.append(
          String.format(
              Locale.ROOT,
              "- load: closed loop, %d thread(s), in-process `OnlineFeatureStore.get`; warmup %.0f s"
                  + " + measure %.0f s per cell, %d repeats, cells interleaved%n",
              o.concurrency(),
              o.warmupSeconds(),
              o.measureSeconds(),
              o.repeats()));
      long errors = 0;
      String firstError = null;
      for (List<Result> rs : results.values()) {
        for (Result r : rs) {
          errors += r.errors();
          firstError = firstError != null ? firstError : r.firstError();
        }
      }
      sb.append("- errors: ")
          .append(errors)
          .append(firstError == null ? "" : " (first: " + firstError + ")")
          .append(" (every result checked)\n\n");

      sb.append("Median (min) over the repeats; latencies in microseconds.\n\n");
      sb.append("| shape | store | ops/s | p50 us | p99 us | p99.9 us |\n");
      sb.append("|---|---|---:|---:|---:|---:|\n");
      for (Shape shape : shapes) {
        for (String store : List.of(ROCKSDB, REDIS)) {
          List<Result> rs = results.get(shape.id() + "/" + store);
          sb.append(
              String.format(
                  Locale.ROOT,
                  "| %s | %s | %,.0f (%,.0f) | %s | %s | %s |%n",
                  shape.title(),
                  store,
                  median(rs, Result::opsPerSecond),
                  min(rs, Result::opsPerSecond),
                  cell(rs, 50),
                  cell(rs, 99),
                  cell(rs, 99.9)));
        }
      }

      sb.append("\nRedis / RocksDB (medians):\n\n");
      sb.append("| shape | p50 | p99 | p99.9 | ops/s |\n");
      sb.append("|---|---:|---:|---:|---:|\n");
      for (Shape shape : shapes) {
        List<Result> rocks = results.get(shape.id() + "/" + ROCKSDB);
        List<Result> redis = results.get(shape.id() + "/" + REDIS);
        sb.append(
            String.format(
                Locale.ROOT,
                "| %s | %.1fx | %.1fx | %.1fx | %.2fx |%n",
                shape.title(),
                ratio(redis, rocks, r -> r.micros(50)),
                ratio(redis, rocks, r -> r.micros(99)),
                ratio(redis, rocks, r -> r.micros(99.9)),
                ratio(redis, rocks, Result::opsPerSecond)));
      }

      sb.append("\nGoals (p99, median over the repeats):\n\n");
      sb.append("| shape | store | goal p99 | measured p99 | met |\n");
      sb.append("|---|---|---:|---:|---|\n");
      for (Shape shape : shapes) {
        for (String store : List.of(ROCKSDB, REDIS)) {
          double goal = GOAL_P99_MICROS.get(shape.id() + "/" + store);
          double p99 = median(results.get(shape.id() + "/" + store), r -> r.micros(99));
          sb.append(
              String.format(
                  Locale.ROOT,
                  "| %s | %s | %.0f us | %.0f us | %s |%n",
                  shape.title(),
                  store,
                  goal,
                  p99,
                  p99 <= goal ? "yes" : "no"));
        }
      }
    }
    sb.append("\nWrites:\n\n");
    sb.append("| what | rows/s |\n|---|---:|\n");
    for (Map.Entry<String, Double> e : populateRate.entrySet()) {
      sb.append(
          String.format(
              Locale.ROOT,
              "| populate %s (`OnlineFeatureStore.write`, 5,000-row batches, 1 thread) | %,.0f |%n",
              e.getKey(),
              e.getValue()));
    }
    if (!materializations.isEmpty()) {
      double[] rates = new double[materializations.size()];
      for (int i = 0; i < rates.length; i++) {
        rates[i] = materializations.get(i).rowsPerSecond();
      }
      Arrays.sort(rates);
      double med = medianOf(rates);
      sb.append(
          String.format(
              Locale.ROOT,
              "| materialize %,d Parquet rows into RocksDB (`Materializer`, DuckDB scan, median"
                  + " of %d; min %,.0f, max %,.0f) | %,.0f |%n",
              materializations.get(0).rowsWritten(),
              rates.length,
              rates[0],
              rates[rates.length - 1],
              med));
      sb.append(
          String.format(
              Locale.ROOT,
              "%nMaterialization goal >= %,.0f rows/s: %s.%n",
              GOAL_MATERIALIZE_ROWS_PER_SECOND,
              med >= GOAL_MATERIALIZE_ROWS_PER_SECOND ? "met" : "not met"));
    }
    return sb.toString();
  }

  private static String cell(List<Result> rs, double percentile) {
    return String.format(
        Locale.ROOT,
        "%.1f (%.1f)",
        median(rs, r -> r.micros(percentile)),
        min(rs, r -> r.micros(percentile)));
  }

  private static double ratio(List<Result> a, List<Result> b, ToDoubleFunction<Result> f) {
    return median(a, f) / median(b, f);
  }

  static double median(List<Result> rs, ToDoubleFunction<Result> f) {
    double[] v = new double[rs.size()];
    for (int i = 0; i < v.length; i++) {
      v[i] = f.applyAsDouble(rs.get(i));
    }
    Arrays.sort(v);
    return medianOf(v);
  }

  private static double medianOf(double[] sorted) {
    int n = sorted.length;
    return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
  }

  static double min(List<Result> rs, ToDoubleFunction<Result> f) {
    double m = Double.MAX_VALUE;
    for (Result r : rs) {
      m = Math.min(m, f.applyAsDouble(r));
    }
    return m;
  }

  private static String machine() {
    String cpu = "unknown CPU";
    try {
      for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
        if (line.startsWith("model name")) {
          cpu = line.substring(line.indexOf(':') + 1).trim();
          break;
        }
      }
    } catch (IOException e) {
      // not Linux
    }
    String memory = "";
    try {
      for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
        if (line.startsWith("MemTotal:")) {
          long kb = Long.parseLong(line.replaceAll("[^0-9]", ""));
          memory = String.format(Locale.ROOT, ", %.0f GiB memory", kb / 1024.0 / 1024.0);
          break;
        }
      }
    } catch (IOException | NumberFormatException e) {
      // not Linux
    }
    return Runtime.getRuntime().availableProcessors()
        + " vCPU ("
        + cpu
        + ")"
        + memory
        + ", "
        + System.getProperty("os.name")
        + " "
        + System.getProperty("os.version");
  }

  private static String loadAverage() {
    try {
      String[] parts = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
      return parts[0] + ", " + parts[1] + ", " + parts[2];
    } catch (IOException e) {
      return "unknown";
    }
  }

  private static void deleteTree(Path root) {
    if (!Files.exists(root)) {
      return;
    }
    try {
      Files.walkFileTree(
          root,
          new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs)
                throws IOException {
              Files.delete(file);
              return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path dir, IOException e) throws IOException {
              Files.delete(dir);
              return FileVisitResult.CONTINUE;
            }
          });
    } catch (IOException e) {
      System.err.println("could not delete " + root + ": " + e);
    }
  }
}
