package dev.scoreline.bench.redis;

import dev.scoreline.batch.BatchRunSummary;
import dev.scoreline.batch.PartitionOutput;
import dev.scoreline.batch.SnapshotSource;
import dev.scoreline.batch.SnapshotWriter;
import dev.scoreline.core.kv.KvStore;
import dev.scoreline.core.surface.RankedList;
import dev.scoreline.redis.RedisKvStore;
import dev.scoreline.rocksdb.RocksDbKvStore;
import dev.scoreline.testing.RedisServerProcess;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;

/**
 * Issue 6's write-throughput benchmark: a batch job's results (one top-K {@link RankedList} per
 * entity) written as a new snapshot through {@link SnapshotWriter}, the path both batch runners
 * take, into Redis on loopback ({@link RedisKvStore}: {@code MSET} of up to 512 keys per command,
 * the commands of a write batch pipelined) and into an embedded RocksDB for reference, side by side
 * in one run. The cells vary the write batch (entries per {@code putAll}: 1 = one round trip per
 * key, i.e. no pipelining) and the writer threads; each cell writes every entity, publishes the
 * snapshot and is timed from start to publish. Lists are generated before timing, so only the
 * writes are measured. Cells run interleaved per repeat; the report gives median (min).
 *
 * <pre>
 * java -cp "scoreline-bench/target/scoreline-bench.jar:scoreline-bench/target/lib/*" \
 *   dev.scoreline.bench.redis.SnapshotWriteBenchmark [--entities 100000] [--k 50] \
 *   [--repeats 3] [--redis-server PATH]
 * </pre>
 */
public final class SnapshotWriteBenchmark {
  private static final int PARTITIONS = 64;

  record Cell(String store, int writeBatch, int threads) {
    String label() {
      return store + ", batch " + writeBatch + ", " + threads + " thread(s)";
    }
  }

  public static void main(String[] args) throws Exception {
    Map<String, String> opt = new LinkedHashMap<>();
    for (int i = 0; i + 1 < args.length; i += 2) {
      opt.put(args[i].replaceFirst("^--", ""), args[i + 1]);
    }
    if (Arrays.asList(args).contains("--help")) {
      System.out.println(
          "usage: SnapshotWriteBenchmark [--entities 100000] [--k 50] [--repeats 3]"
              + " [--redis-server PATH]");
      return;
    }
    int entities = Integer.parseInt(opt.getOrDefault("entities", "100000"));
    int k = Integer.parseInt(opt.getOrDefault("k", "50"));
    int repeats = Integer.parseInt(opt.getOrDefault("repeats", "3"));
    Path redisBinary = opt.containsKey("redis-server") ? Path.of(opt.get("redis-server")) : null;

    byte[][] keys = new byte[entities][];
    byte[][] values = new byte[entities][];
    long bytes = generate(entities, k, keys, values);
    System.out.printf(
        Locale.ROOT,
        "snapshot write benchmark: %,d entities, top-%d lists, %.1f MB of keys and values,"
            + " %d cores, java %s, load %s%n",
        entities,
        k,
        bytes / 1e6,
        Runtime.getRuntime().availableProcessors(),
        System.getProperty("java.version"),
        load());

    List<Cell> cells = new ArrayList<>();
    for (String store : List.of("redis", "rocksdb")) {
      cells.add(new Cell(store, 1024, 1));
      cells.add(new Cell(store, 1024, 2));
      cells.add(new Cell(store, 1024, 4));
    }
    cells.add(new Cell("redis", 1, 2)); // no pipelining: one round trip per key
    Path work = Files.createTempDirectory("snapshot-write-bench-");
    Map<Cell, List<Double>> rates = new LinkedHashMap<>();
    try (RedisServerProcess server = RedisServerProcess.start(redisBinary);
        RedisKvStore redis = RedisKvStore.connect(server.uri());
        RocksDbKvStore rocks = RocksDbKvStore.open(work.resolve("rocksdb"))) {
      System.out.println(
          "redis-server " + RedisServerProcess.version(redisBinary) + " on " + server.uri());
      Source source = new Source(keys, values);
      // warm-up (JIT, connections), not reported
      write(redis, source, new Cell("redis", 1024, 2), "warm");
      write(rocks, source, new Cell("rocksdb", 1024, 2), "warm");
      for (int rep = 1; rep <= repeats; rep++) {
        for (Cell cell : cells) {
          KvStore store = cell.store().equals("redis") ? redis : rocks;
          if (cell.store().equals("redis")) {
            server.flush(0); // every cell starts from an empty database (not timed)
          }
          double seconds = write(store, source, cell, "rep" + rep);
          double rate = entities / seconds;
          rates.computeIfAbsent(cell, c -> new ArrayList<>()).add(rate);
          System.out.printf(
              Locale.ROOT,
              "rep %d  %-32s %8.2f s  %,10.0f keys/s  %6.1f MB/s  (load %s)%n",
              rep,
              cell.label(),
              seconds,
              rate,
              bytes / seconds / 1e6,
              load());
        }
      }
    } finally {
      deleteTree(work);
    }
    System.out.printf(
        Locale.ROOT,
        "%n| store | write batch | threads | keys/s median (min) | MB/s median | x redis"
            + " unpipelined |%n|---|---:|---:|---:|---:|---:|%n");
    double unpipelined = median(rates.get(new Cell("redis", 1, 2)));
    for (Map.Entry<Cell, List<Double>> e : rates.entrySet()) {
      double med = median(e.getValue());
      double min = e.getValue().stream().mapToDouble(Double::doubleValue).min().orElse(0);
      System.out.printf(
          Locale.ROOT,
          "| %s | %d | %d | %,.0f (%,.0f) | %.1f | %.1fx |%n",
          e.getKey().store(),
          e.getKey().writeBatch(),
          e.getKey().threads(),
          med,
          min,
          med * bytes / entities / 1e6,
          med / unpipelined);
    }
    System.out.printf(Locale.ROOT, "load after %s%n", load());
  }

  /** Writes every entity as a new snapshot of {@code bench}, publishes it; seconds taken. */
  static double write(KvStore store, Source source, Cell cell, String id) {
    SnapshotWriter writer = new SnapshotWriter(store);
    long t0 = System.nanoTime();
    BatchRunSummary s =
        writer.write(
            "bench-" + cell.writeBatch() + "-" + cell.threads(),
            source,
            SnapshotWriter.Options.defaults()
                .withSnapshotId(id)
                .withKeep(1)
                .withThreads(cell.threads())
                .withWriteBatch(cell.writeBatch()));
    double seconds = (System.nanoTime() - t0) / 1e9;
    if (s.partitions() != PARTITIONS || s.computedEntities() != source.keys.length) {
      throw new IllegalStateException("unexpected summary " + s);
    }
    // every key of the last partition must be readable from the published snapshot
    String ns = KvStore.snapshotNamespace("bench-" + cell.writeBatch() + "-" + cell.threads(), id);
    List<byte[]> probe = new ArrayList<>();
    for (int i = source.keys.length - 100; i < source.keys.length; i++) {
      probe.add(source.keys[i]);
    }
    List<byte[]> got = store.multiGet(ns, probe);
    for (int i = 0; i < probe.size(); i++) {
      if (!Arrays.equals(got.get(i), source.values[source.keys.length - 100 + i])) {
        throw new IllegalStateException("snapshot " + ns + " lost entity " + i);
      }
    }
    return seconds;
  }

  /** Pre-encoded entries in {@link #PARTITIONS} contiguous partitions. */
  record Source(byte[][] keys, byte[][] values) implements SnapshotSource {
    @Override
    public int partitions() {
      return PARTITIONS;
    }

    @Override
    public long entities(int p) {
      return to(p) - from(p);
    }

    @Override
    public String fingerprint() {
      return "bench-" + keys.length;
    }

    @Override
    public void write(int p, PartitionOutput out) {
      for (int i = from(p); i < to(p); i++) {
        out.put(keys[i], values[i]);
      }
      out.scored(to(p) - from(p));
    }

    private int from(int p) {
      return (int) ((long) keys.length * p / PARTITIONS);
    }

    private int to(int p) {
      return (int) ((long) keys.length * (p + 1) / PARTITIONS);
    }
  }

  /** Random top-k lists over 20,000 items with descending scores; returns the total bytes. */
  static long generate(int entities, int k, byte[][] keys, byte[][] values) {
    SplittableRandom rnd = new SplittableRandom(42);
    long total = 0;
    for (int e = 0; e < entities; e++) {
      long[] items = new long[k];
      float[] scores = new float[k];
      float s = 10f;
      for (int j = 0; j < k; j++) {
        items[j] = rnd.nextInt(20_000);
        s -= (float) rnd.nextDouble(0.1);
        scores[j] = s;
      }
      keys[e] = ByteBuffer.allocate(8).putLong(e).array();
      values[e] = new RankedList(items, scores).encode();
      total += keys[e].length + values[e].length;
    }
    return total;
  }

  static double median(List<Double> v) {
    double[] a = v.stream().mapToDouble(Double::doubleValue).sorted().toArray();
    return a.length % 2 == 1 ? a[a.length / 2] : (a[a.length / 2 - 1] + a[a.length / 2]) / 2;
  }

  static String load() {
    try {
      return Files.readString(Path.of("/proc/loadavg")).trim();
    } catch (IOException e) {
      return "?";
    }
  }

  static void deleteTree(Path dir) throws IOException {
    try (Stream<Path> paths = Files.walk(dir)) {
      for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }
}
