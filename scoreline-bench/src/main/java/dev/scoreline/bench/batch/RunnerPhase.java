package dev.scoreline.bench.batch;

import dev.scoreline.batch.BatchRunSummary;
import dev.scoreline.batch.SnapshotWriter;
import dev.scoreline.cli.Main;
import dev.scoreline.core.feature.Definitions.Entity;
import dev.scoreline.core.feature.FeatureRegistry;
import dev.scoreline.core.feature.online.EntityKeys;
import dev.scoreline.core.kv.KvStore;
import dev.scoreline.core.progress.ProgressListener;
import dev.scoreline.redis.RedisKvStore;
import dev.scoreline.spark.SparkBatchJob;
import dev.scoreline.testing.RedisServerProcess;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;

/**
 * The {@code runner} phase: the two runners of a general batch surface side by side on the same
 * project, both writing to the same Redis: {@code scoreline batch home-feed-daily} (the local
 * engine, in this JVM) against the Spark runner ({@code SparkBatchJob}, Spark {@code local[2]} in
 * this JVM). The project is the quickstart's small demo shop (3,000 users; per user the 200
 * precomputed candidates ranked by the ONNX MLP with ~100 features per row, rules, top 20), with
 * its online store on a {@code redis-server} this phase starts. The runs alternate; after them 200
 * sampled users' lists of the last local and the last Spark snapshot are compared byte for byte.
 */
final class RunnerPhase {
  static final String SURFACE = "home-feed-daily";

  private RunnerPhase() {}

  static void run(Map<String, String> a) throws Exception {
    int reps = BatchBenchmark.intArg(a, "runnerReps");
    int threads = BatchBenchmark.intArg(a, "threads");
    Path work = Files.createTempDirectory("scoreline-runner-bench");
    SparkSession spark = null;
    try (RedisServerProcess redis = RedisServerProcess.start()) {
      Path project = work.resolve("shop");
      exec("quickstart", project.toString(), "--small", "--no-serve");
      Files.writeString(
          project.resolve("scoreline.yaml"),
          "online-store:\n  type: redis\n  uri: "
              + redis.uri()
              + "\noffline-store:\n  type: duckdb\n  threads: 2\n  memory-limit: 1GB\n");
      exec("materialize", project.toString(), "--start", "2000-01-01T00:00:00Z");
      exec("candidates", "home-feed", project.toString());

      spark =
          SparkSession.builder()
              .master("local[" + threads + "]")
              .appName("scoreline-runner-bench")
              .config("spark.ui.enabled", "false")
              .config("spark.driver.host", "127.0.0.1")
              .config("spark.driver.bindAddress", "127.0.0.1")
              .getOrCreate();
      JavaSparkContext sc = JavaSparkContext.fromSparkContext(spark.sparkContext());
      SparkBatchJob.Options sparkOptions = SparkBatchJob.Options.of(project, SURFACE).withKeep(10);
      String[] localArgs = {
        "batch", SURFACE, project.toString(), "--threads", Integer.toString(threads), "--keep", "10"
      };

      // warm-up of both (JIT, connections, Spark's first job), not reported
      exec(localArgs);
      SparkBatchJob.run(sc, sparkOptions, ProgressListener.NONE);

      String[] last = new String[2];
      try (KvStore kv = RedisKvStore.connect(redis.uri())) {
        SnapshotWriter history = new SnapshotWriter(kv);
        for (int rep = 0; rep < reps; rep++) {
          BatchBenchmark.reps(
              a,
              "runner-local",
              1,
              () -> {
                exec(localArgs);
                BatchRunSummary s = history.history(SURFACE).get(0);
                last[0] = s.snapshotId();
                return "snapshot=" + s.snapshotId() + " entities=" + s.entities();
              });
          BatchBenchmark.reps(
              a,
              "runner-spark",
              1,
              () -> {
                SparkBatchJob.Result r = SparkBatchJob.run(sc, sparkOptions, ProgressListener.NONE);
                last[1] = r.snapshotId();
                return "snapshot=" + r.snapshotId() + " entities=" + r.entities();
              });
        }
        compare(kv, project, last[0], last[1]);
      }
    } finally {
      if (spark != null) {
        spark.stop();
      }
      LocalPhase.deleteTree(work);
    }
  }

  /** The lists of 200 users (1..200) in the two snapshots must be byte-identical. */
  private static void compare(KvStore kv, Path project, String local, String spark) {
    Entity user = FeatureRegistry.load(project).entity("user");
    List<byte[]> keys = new ArrayList<>();
    for (long u = 1; u <= 200; u++) {
      keys.add(EntityKeys.encode(user, List.of(u)));
    }
    List<byte[]> a = kv.multiGet(KvStore.snapshotNamespace(SURFACE, local), keys);
    List<byte[]> b = kv.multiGet(KvStore.snapshotNamespace(SURFACE, spark), keys);
    int present = 0;
    int mismatches = 0;
    for (int i = 0; i < keys.size(); i++) {
      if (a.get(i) != null) {
        present++;
      }
      if (!Arrays.equals(a.get(i), b.get(i))) {
        mismatches++;
      }
    }
    System.out.println(
        "RESULT kind=runner-check users="
            + keys.size()
            + " present="
            + present
            + " mismatches="
            + mismatches);
  }

  private static void exec(String... args) {
    int rc = Main.execute(args);
    if (rc != 0) {
      throw new IllegalStateException("scoreline " + String.join(" ", args) + " exited with " + rc);
    }
  }
}
