package dev.scoreline.spark;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.scoreline.batch.BatchRunSummary;
import dev.scoreline.batch.SnapshotWriter;
import dev.scoreline.cli.LocalEngine;
import dev.scoreline.core.error.ErrorCode;
import dev.scoreline.core.error.ScorelineException;
import dev.scoreline.core.kv.KvStore;
import dev.scoreline.core.surface.RankedList;
import dev.scoreline.core.surface.SurfaceRequest;
import dev.scoreline.core.surface.SurfaceResult;
import dev.scoreline.redis.RedisKvStore;
import dev.scoreline.testing.RedisServerProcess;
import io.lettuce.core.KeyScanCursor;
import io.lettuce.core.RedisClient;
import io.lettuce.core.ScanArgs;
import io.lettuce.core.ScanCursor;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.codec.ByteArrayCodec;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.TreeSet;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Spark runner in {@code local[2]} on the small demo shop, with a real Redis online store, next
 * to the local engine ({@code scoreline batch}) on the same project and data.
 */
class SparkBatchJobTest {
  static final String SURFACE = "home-feed-daily";

  @TempDir static Path dir;
  static RedisServerProcess redis;
  static Path project;
  static SparkSession spark;
  static JavaSparkContext sc;
  static KvStore kv;

  @BeforeAll
  static void setUp() {
    redis = RedisServerProcess.start();
    project =
        LocalEngine.prepareDemo(
            dir.resolve("shop"), redis.uri(), new PrintStream(OutputStream.nullOutputStream()));
    spark =
        SparkSession.builder()
            .master("local[2]")
            .appName("scoreline-spark-test")
            .config("spark.ui.enabled", "false")
            .config("spark.driver.host", "127.0.0.1")
            .config("spark.driver.bindAddress", "127.0.0.1")
            .config("spark.sql.shuffle.partitions", "2")
            .getOrCreate();
    sc = JavaSparkContext.fromSparkContext(spark.sparkContext());
    kv = RedisKvStore.connect(redis.uri());
  }

  @AfterAll
  static void tearDown() {
    if (spark != null) {
      spark.stop();
    }
    if (kv != null) {
      kv.close();
    }
    if (redis != null) {
      redis.close();
    }
  }

  @AfterEach
  void clearHook() {
    PartitionScorer.beforePartition = null;
  }

  @Test
  void sparkRun_writesTheLocalEnginesSnapshot_keyByKeyByteForByte() throws IOException {
    Path users = usersFile("users-120.csv", 1, 120);
    BatchRunSummary local = LocalEngine.batch(project, SURFACE, users, 4, 2, 3);
    int opened = ScoringContext.OPENED.get();

    SparkBatchJob.Result r =
        SparkBatchJob.run(
            sc,
            SparkBatchJob.Options.of(project, SURFACE).withEntitiesFile(users).withPartitions(5));

    // one model session and store connection for the run: the driver's, shared by the 5 tasks
    assertThat(ScoringContext.OPENED.get() - opened).isEqualTo(1);
    assertThat(r.snapshotId()).isNotEqualTo(local.snapshotId());
    assertThat(kv.currentSnapshot(SURFACE)).contains(r.snapshotId());
    assertThat(r.kept()).startsWith(r.snapshotId(), local.snapshotId());
    assertThat(r.partitions()).isEqualTo(5);
    assertThat(r.resumedPartitions()).isZero();
    assertThat(r.entities()).isEqualTo(120);
    assertThat(r.computedEntities()).isEqualTo(120);
    assertThat(r.computedScores()).isEqualTo(local.computedScores()).isPositive();
    // what `scoreline batch status` lists: the executors' entities counted as a local run's are
    BatchRunSummary history = new SnapshotWriter(kv).history(SURFACE).get(0);
    assertThat(history.snapshotId()).isEqualTo(r.snapshotId());
    assertThat(history.entities()).isEqualTo(local.entities()).isEqualTo(120);
    assertThat(history.computedEntities()).isEqualTo(120);
    Map<String, String> expected = entries(local.snapshotId());
    assertThat(expected).hasSize(120);
    assertThat(entries(r.snapshotId())).containsExactlyEntriesOf(expected);
    RankedList first =
        RankedList.decode(HexFormat.of().parseHex(expected.values().iterator().next()));
    assertThat(first.size()).isEqualTo(20);
  }

  @Test
  void failingPartition_publishesNothing_andTheRerunResumesFromTheDonePartitions()
      throws IOException {
    Path users = usersFile("users-90.csv", 201, 290);
    SparkBatchJob.Options options =
        SparkBatchJob.Options.of(project, SURFACE)
            .withEntitiesFile(users)
            .withPartitions(6)
            .withConcurrency(1); // partitions run in order: 0 and 1 finish, 2 fails
    Optional<String> before = kv.currentSnapshot(SURFACE);
    List<String> kept = kv.snapshots(SURFACE);
    PartitionScorer.beforePartition =
        p -> {
          if (p == 2) {
            throw new IllegalStateException("injected failure in partition 2");
          }
        };

    assertThatThrownBy(() -> SparkBatchJob.run(sc, options))
        .isInstanceOf(ScorelineException.class)
        .hasMessageContaining("partition 2")
        .hasMessageContaining("injected failure");

    assertThat(kv.currentSnapshot(SURFACE)).isEqualTo(before);
    assertThat(kv.snapshots(SURFACE)).isEqualTo(kept);
    SnapshotWriter.PendingRun pending = new SnapshotWriter(kv).pending(SURFACE).orElseThrow();
    assertThat(pending.partitions()).isEqualTo(6);
    assertThat(pending.completed()).isEqualTo(2);
    assertThat(entries(pending.snapshotId())).hasSize(30); // partitions 0 and 1: 15 users each

    PartitionScorer.beforePartition = null;
    SparkBatchJob.Result r = SparkBatchJob.run(sc, options);

    assertThat(r.snapshotId()).isEqualTo(pending.snapshotId());
    assertThat(r.resumedPartitions()).isEqualTo(2);
    assertThat(r.computedEntities()).isEqualTo(60);
    assertThat(r.entities()).isEqualTo(90);
    assertThat(kv.currentSnapshot(SURFACE)).contains(r.snapshotId());
    assertThat(new SnapshotWriter(kv).pending(SURFACE)).isEmpty();
    BatchRunSummary local = LocalEngine.batch(project, SURFACE, users, 3, 2, 3);
    assertThat(entries(r.snapshotId()))
        .hasSize(90)
        .containsExactlyEntriesOf(entries(local.snapshotId()));
  }

  @Test
  void badEntity_failsWithItsErrorCode_andFreshLeavesNoUnpublishedData() throws IOException {
    Path users = project.resolve("users-bad.csv");
    StringBuilder csv = new StringBuilder("user_id\n");
    for (int u = 301; u <= 340; u++) {
      csv.append(u == 320 ? "not-a-user" : String.valueOf(u)).append('\n');
    }
    Files.writeString(users, csv);
    Optional<String> before = kv.currentSnapshot(SURFACE);

    assertThatThrownBy(
            () ->
                SparkBatchJob.run(
                    sc,
                    SparkBatchJob.Options.of(project, SURFACE)
                        .withEntitiesFile(users)
                        .withPartitions(4)
                        .withFresh(true)))
        .isInstanceOfSatisfying(
            ScorelineException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.USER_ERROR))
        .hasMessageContaining("not-a-user");

    assertThat(kv.currentSnapshot(SURFACE)).isEqualTo(before);
    assertThat(new SnapshotWriter(kv).pending(SURFACE)).isEmpty();
    // the only snapshot data left in Redis is that of published snapshots
    assertThat(snapshotNamespaces()).isSubsetOf(kv.snapshots(SURFACE));
  }

  @Test
  void entityListing_followsTheLocalEnginesRule() {
    List<Map<String, Object>> local = LocalEngine.scanEntities(project, SURFACE);
    try (ProjectStores stores = new ProjectStores(project)) {
      List<Map<String, Object>> spark = Entities.scan(stores, stores.surfaces().get(SURFACE));
      assertThat(local).hasSize(3_000);
      assertThat(spark).isEqualTo(local);
    }
  }

  @Test
  void embeddedStore_isRefusedWithAClusterMaster() {
    var rocks =
        new dev.scoreline.core.config.ProjectConfig(
            new dev.scoreline.core.config.ProjectConfig.OnlineStore("rocksdb", null, null),
            null,
            null);
    assertThatThrownBy(() -> SparkBatchJob.checkStore(rocks, false, "spark://master:7077"))
        .isInstanceOfSatisfying(
            ScorelineException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.USER_ERROR))
        .hasMessageContaining("redis");
    SparkBatchJob.checkStore(rocks, true, "local[2]"); // one JVM: the driver's store is shared
  }

  @Test
  void commandLine_parsesEveryOption_andRejectsUnknownOnes() {
    SparkBatchJob.Options o =
        SparkBatchJob.parse(
            new String[] {
              "--project",
              "/shared/shop",
              "--surface",
              SURFACE,
              "--partitions",
              "128",
              "--entities",
              "u.csv",
              "--keep",
              "5",
              "--write-batch",
              "4096",
              "--concurrency",
              "16",
              "--fresh"
            });
    assertThat(o)
        .isEqualTo(
            new SparkBatchJob.Options(
                Path.of("/shared/shop"), SURFACE, 128, Path.of("u.csv"), 5, 4096, 16, true));
    assertThat(SparkBatchJob.parse(new String[] {"--help"})).isNull();
    assertThatThrownBy(() -> SparkBatchJob.parse(new String[] {"--project", "x", "--bogus"}))
        .isInstanceOfSatisfying(
            ScorelineException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.USER_ERROR));
    assertThatThrownBy(() -> SparkBatchJob.parse(new String[] {"--surface", SURFACE}))
        .hasMessageContaining("--project");
  }

  // ------------------------------------------------------------------ helpers

  @Test
  void executorContext_loadsTheBroadcastModel_withoutTheSharedRepository() throws Exception {
    String runId = "bundle-test";
    try (ScoringContext driver = new ScoringContext(project, SURFACE, runId, null)) {
      ModelBundle bundle =
          ModelBundle.read(project.resolve("models"), driver.surface().spec().model().name());
      // an executor's view of the project without its models/: only the broadcast can load it
      Path elsewhere = dir.resolve("executor-view");
      copyTree(project, elsewhere, project.resolve("models"));
      assertThat(elsewhere.resolve("models")).doesNotExist();

      try (ScoringContext executor = new ScoringContext(elsewhere, SURFACE, runId, bundle)) {
        assertThat(executor.modelVersion()).isEqualTo(driver.modelVersion());
        SurfaceRequest request = SurfaceRequest.of(Map.of("user_id", 1L));
        SurfaceResult fromBundle = executor.engine().rank(SURFACE, request);
        SurfaceResult fromRepository = driver.engine().rank(SURFACE, request);
        assertThat(fromBundle.items()).isNotEmpty().isEqualTo(fromRepository.items());
      }
    }
  }

  private static void copyTree(Path from, Path to, Path skip) throws IOException {
    try (var paths = Files.walk(from)) {
      for (Path p : paths.filter(p -> !p.startsWith(skip)).toList()) {
        Path target = to.resolve(from.relativize(p).toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(target);
        } else {
          Files.copy(p, target);
        }
      }
    }
  }

  static Path usersFile(String name, int from, int to) throws IOException {
    StringBuilder csv = new StringBuilder("user_id\n");
    for (int u = from; u <= to; u++) {
      csv.append(u).append('\n');
    }
    return Files.writeString(project.resolve(name), csv);
  }

  /** Every entry of a snapshot in Redis, read by key pattern: hex key → hex value. */
  static Map<String, String> entries(String snapshotId) {
    byte[] prefix =
        ("sl1:d:" + KvStore.snapshotNamespace(SURFACE, snapshotId) + "\0")
            .getBytes(StandardCharsets.UTF_8);
    Map<String, String> out = new TreeMap<>();
    try (Redis r = new Redis()) {
      for (byte[] key : r.keys(Arrays.copyOf(prefix, prefix.length + 1), prefix.length)) {
        byte[] value = r.connection.sync().get(key);
        out.put(
            HexFormat.of().formatHex(Arrays.copyOfRange(key, prefix.length, key.length)),
            HexFormat.of().formatHex(value));
      }
    }
    return out;
  }

  /** Snapshot ids that have data in Redis. */
  static TreeSet<String> snapshotNamespaces() {
    byte[] prefix = ("sl1:d:" + SURFACE + "@").getBytes(StandardCharsets.UTF_8);
    TreeSet<String> ids = new TreeSet<>();
    try (Redis r = new Redis()) {
      for (byte[] key : r.keys(Arrays.copyOf(prefix, prefix.length + 1), prefix.length)) {
        int end = prefix.length;
        while (key[end] != 0) {
          end++;
        }
        ids.add(new String(key, prefix.length, end - prefix.length, StandardCharsets.UTF_8));
      }
    }
    return ids;
  }

  /** A raw Lettuce connection to the test Redis. */
  static final class Redis implements AutoCloseable {
    final RedisClient client = RedisClient.create(redis.uri());
    final StatefulRedisConnection<byte[], byte[]> connection =
        client.connect(ByteArrayCodec.INSTANCE);

    /** Keys starting with {@code pattern[0..prefixLength)}; the byte after it becomes '*'. */
    List<byte[]> keys(byte[] pattern, int prefixLength) {
      pattern[prefixLength] = '*';
      List<byte[]> keys = new ArrayList<>();
      ScanCursor cursor = ScanCursor.INITIAL;
      ScanArgs args = ScanArgs.Builder.matches(pattern).limit(1000);
      do {
        KeyScanCursor<byte[]> page = connection.sync().scan(cursor, args);
        keys.addAll(page.getKeys());
        cursor = page;
      } while (!cursor.isFinished());
      return keys;
    }

    @Override
    public void close() {
      connection.close();
      client.shutdown();
    }
  }
}
