package dev.scoreline.bench.batch;

import dev.scoreline.batch.BatchRunSummary;
import dev.scoreline.batch.DotProductSource;
import dev.scoreline.batch.DotProductTopK;
import dev.scoreline.batch.Exclusions;
import dev.scoreline.batch.SnapshotWriter;
import dev.scoreline.batch.TopKBlock;
import dev.scoreline.core.feature.Definitions.Entity;
import dev.scoreline.core.feature.Definitions.KeyColumn;
import dev.scoreline.core.feature.ValueType;
import dev.scoreline.core.feature.online.EntityKeys;
import dev.scoreline.core.kv.KvStore;
import dev.scoreline.core.surface.RankedList;
import dev.scoreline.rocksdb.RocksDbKvStore;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

/**
 * Scoreline's local batch engine on the benchmark factors: the whole job (prepare the item panels,
 * score every user, write the top-K lists to RocksDB as a new snapshot, publish) and, separately,
 * the scoring kernel alone; then a check of sampled lists against the brute-force reference. Which
 * kernel scored ({@link DotProductTopK#kernel()}: the Vector API one when this JVM has {@code
 * jdk.incubator.vector}) is reported as {@code local-info}.
 */
final class LocalPhase {
  static final Entity USER =
      new Entity("user", List.of(new KeyColumn("user_id", ValueType.INT64)), null);
  static final String NAME = "bench-recs";

  private LocalPhase() {}

  /**
   * Runs the phase, reporting results as {@code <prefix>-job}, {@code <prefix>-kernel} and so on
   * ({@code base} when the driver runs it on a baseline build's classes).
   */
  static void run(Map<String, String> a, String prefix) throws Exception {
    int users = BatchBenchmark.intArg(a, "users");
    int items = BatchBenchmark.intArg(a, "items");
    int dim = BatchBenchmark.intArg(a, "dim");
    int k = BatchBenchmark.intArg(a, "k");
    int reps = BatchBenchmark.intArg(a, "reps");
    int threads = BatchBenchmark.intArg(a, "threads");
    int partitions = BatchBenchmark.intArg(a, "partitions");
    Factors f = Factors.generate(users, items, dim, 42);
    long[] userIds = new long[users];
    for (int u = 0; u < users; u++) {
      userIds[u] = u;
    }
    long[] itemIds = new long[items];
    for (int i = 0; i < items; i++) {
      itemIds[i] = i;
    }
    System.out.println(
        "RESULT kind="
            + prefix
            + "-info kernel="
            + new DotProductTopK(f.item(), items, dim, k).kernel());
    PeakProbe.measure(1, 200_000); // JIT of the probes bracketing each rep
    Path db = Files.createTempDirectory("scoreline-batch-bench");
    try (KvStore store = RocksDbKvStore.open(db)) {
      SnapshotWriter writer = new SnapshotWriter(store);
      SnapshotWriter.Options options =
          SnapshotWriter.Options.defaults().withThreads(threads).withKeep(2);

      // warm-up (JIT): a fifth of the users, its own snapshot name
      int warmUsers = Math.max(1, users / 5);
      float[] warmFactors = java.util.Arrays.copyOf(f.user(), warmUsers * dim);
      writer.write(
          "warmup",
          new DotProductSource(
              USER,
              java.util.Arrays.copyOf(userIds, warmUsers),
              warmFactors,
              itemIds,
              new DotProductTopK(f.item(), items, dim, k),
              Exclusions.NONE,
              partitions),
          options);

      BatchBenchmark.reps(
          a,
          prefix + "-job",
          reps,
          () -> {
            DotProductTopK topK = new DotProductTopK(f.item(), items, dim, k);
            DotProductSource source =
                new DotProductSource(
                    USER, userIds, f.user(), itemIds, topK, Exclusions.NONE, partitions);
            BatchRunSummary s = writer.write(NAME, source, options);
            return "snapshot=" + s.snapshotId() + " entities=" + s.entities();
          },
          true);

      DotProductTopK topK = new DotProductTopK(f.item(), items, dim, k);
      BatchBenchmark.reps(
          a,
          prefix + "-kernel",
          reps,
          () -> {
            AtomicLong sink = new AtomicLong();
            topK.run(f.user(), users, Exclusions.NONE, threads, b -> sink.addAndGet(b.item(0, 0)));
            return "sink=" + sink.get();
          },
          true);

      check(store, f, k, itemIds, prefix);
      System.out.println("RESULT kind=" + prefix + "-db bytes=" + size(db));
    } finally {
      deleteTree(db);
    }
  }

  /**
   * The kernel alone ({@code DotProductTopK.run}, lists discarded) after a fifth-size warm-up, as
   * {@code kind} results: the {@code plain} phase, whose JVM lacks {@code jdk.incubator.vector}.
   */
  static void kernelOnly(Map<String, String> a, String kind) throws Exception {
    int users = BatchBenchmark.intArg(a, "users");
    int items = BatchBenchmark.intArg(a, "items");
    int dim = BatchBenchmark.intArg(a, "dim");
    int k = BatchBenchmark.intArg(a, "k");
    int threads = BatchBenchmark.intArg(a, "threads");
    Factors f = Factors.generate(users, items, dim, 42);
    DotProductTopK topK = new DotProductTopK(f.item(), items, dim, k);
    System.out.println(
        "RESULT kind=" + kind.replace("-kernel", "") + "-info kernel=" + topK.kernel());
    topK.run(f.user(), Math.max(1, users / 5), Exclusions.NONE, threads, b -> {}); // JIT warm-up
    PeakProbe.measure(1, 200_000); // JIT of the probes bracketing each rep
    BatchBenchmark.reps(
        a,
        kind,
        BatchBenchmark.intArg(a, "reps"),
        () -> {
          AtomicLong sink = new AtomicLong();
          topK.run(f.user(), users, Exclusions.NONE, threads, b -> sink.addAndGet(b.item(0, 0)));
          return "sink=" + sink.get();
        },
        true);
  }

  /** Compares 500 sampled users' published lists with the brute-force reference, exactly. */
  private static void check(KvStore store, Factors f, int k, long[] itemIds, String prefix) {
    String id = store.currentSnapshot(NAME).orElseThrow();
    Random rnd = new Random(7);
    List<Integer> sample = new ArrayList<>();
    List<byte[]> keys = new ArrayList<>();
    for (int i = 0; i < 500; i++) {
      int u = rnd.nextInt(f.users());
      sample.add(u);
      keys.add(EntityKeys.encode(USER, List.of((long) u)));
    }
    List<byte[]> values = store.multiGet(KvStore.snapshotNamespace(NAME, id), keys);
    int mismatches = 0;
    for (int i = 0; i < sample.size(); i++) {
      int u = sample.get(i);
      TopKBlock ref =
          DotProductTopK.referenceTopK(
              f.item(), f.items(), f.dim(), f.user(), u, u + 1, k, Exclusions.NONE);
      RankedList expected = ref.rankedList(0, itemIds);
      if (values.get(i) == null || !RankedList.decode(values.get(i)).equals(expected)) {
        mismatches++;
      }
    }
    System.out.println(
        "RESULT kind=" + prefix + "-check users=" + sample.size() + " mismatches=" + mismatches);
  }

  private static long size(Path dir) throws IOException {
    try (Stream<Path> s = Files.walk(dir)) {
      return s.filter(Files::isRegularFile)
          .mapToLong(
              p -> {
                try {
                  return Files.size(p);
                } catch (IOException e) {
                  return 0;
                }
              })
          .sum();
    }
  }

  static void deleteTree(Path dir) throws IOException {
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }
}
