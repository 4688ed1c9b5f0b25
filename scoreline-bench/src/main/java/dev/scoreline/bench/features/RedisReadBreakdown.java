package dev.scoreline.bench.features;

import static java.nio.charset.StandardCharsets.UTF_8;

import dev.scoreline.core.feature.Definitions.Entity;
import dev.scoreline.core.feature.FeatureRef;
import dev.scoreline.core.feature.FeatureRegistry;
import dev.scoreline.core.feature.online.EntityKeys;
import dev.scoreline.core.feature.online.FeatureVectors;
import dev.scoreline.core.feature.online.OnlineFeatureStore;
import dev.scoreline.core.kv.FieldWrite;
import dev.scoreline.core.kv.KvEntry;
import dev.scoreline.core.kv.KvStore;
import dev.scoreline.core.progress.ProgressListener;
import dev.scoreline.redis.RedisKvStore;
import dev.scoreline.testing.RedisServerProcess;
import io.lettuce.core.KeyValue;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisFuture;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.async.RedisAsyncCommands;
import io.lettuce.core.codec.ByteArrayCodec;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;
import redis.clients.jedis.Connection;
import redis.clients.jedis.Protocol;

/**
 * Where the time of a 200-entity Redis read goes: the same 200 random items read several ways, in
 * interleaved rounds on one loopback {@code redis-server}, one caller thread, closed loop:
 *
 * <ol>
 *   <li>{@code lettuce-mget}: the floor: one Lettuce {@code MGET} of 200 plain keys holding copies
 *       of the items' stored view values (one command, one reply, one future);
 *   <li>{@code lettuce-hgetall}: 200 {@code HGETALL} of the item records pipelined by hand on a
 *       connection of its own (auto-flush off, one flush), waiting for the last reply;
 *   <li>{@code lettuce-lua}: one {@code EVALSHA} of a script that loops {@code HGETALL} over the
 *       keys;
 *   <li>{@code jedis-hgetall}: the same 200 {@code HGETALL}s written on one blocking Jedis
 *       connection in one flush, every reply read on the calling thread: the floor of the store's
 *       read path (no decoding into records);
 *   <li>{@code kv-records}: {@link RedisKvStore#multiGetRecords} of the 200 keys (no decoding);
 *   <li>{@code get-redis}: {@link OnlineFeatureStore#get} on Redis (what the benchmark measures);
 *   <li>{@code get-memory}: {@link OnlineFeatureStore#get} on the same records held in memory
 *       (decoding and result assembly alone).
 * </ol>
 *
 * Reports p50/p90/p99/p99.9 per way and the bytes allocated per call (all threads, Lettuce's event
 * loop included) and the GC time per second. Not part of the issue's benchmark table; a diagnostic:
 *
 * <pre>
 * java -cp "scoreline-bench/target/scoreline-bench.jar:scoreline-bench/target/lib/*" \
 *   dev.scoreline.bench.features.RedisReadBreakdown [--items 20000] [--rows 200] [--round 3] \
 *   [--rounds 8] [--ways lettuce-mget,lettuce-hgetall,lettuce-lua,jedis-hgetall,kv-records,...]
 * </pre>
 */
public final class RedisReadBreakdown {
  static final List<String> ALL_WAYS =
      List.of(
          "lettuce-mget",
          "lettuce-hgetall",
          "lettuce-lua",
          "jedis-hgetall",
          "kv-records",
          "get-redis",
          "get-memory");

  private RedisReadBreakdown() {}

  public static void main(String[] args) throws Exception {
    Map<String, String> m = new LinkedHashMap<>();
    for (int i = 0; i + 1 < args.length; i += 2) {
      m.put(args[i].replaceFirst("^--", ""), args[i + 1]);
    }
    int items = Integer.parseInt(m.getOrDefault("items", "20000"));
    int rows = Integer.parseInt(m.getOrDefault("rows", "200"));
    double roundSeconds = Double.parseDouble(m.getOrDefault("round", "3"));
    int rounds = Integer.parseInt(m.getOrDefault("rounds", "8"));
    List<String> ways = List.of(m.getOrDefault("ways", String.join(",", ALL_WAYS)).split(","));

    Path work = Files.createTempDirectory("scoreline-redis-breakdown-");
    Files.createDirectories(work.resolve("features"));
    Files.writeString(work.resolve("features/features.yaml"), SyntheticFeatures.yaml());
    FeatureRegistry registry = FeatureRegistry.load(work);
    List<FeatureRef> features = SyntheticFeatures.features("item_v0");
    Entity item = registry.entity("item");
    String namespace = OnlineFeatureStore.namespace("item");
    byte[] prefix = ("sl1:d:" + namespace + "\0").getBytes(UTF_8);

    try (RedisServerProcess server = RedisServerProcess.start();
        RedisKvStore kv = RedisKvStore.connect(server.uri())) {
      OnlineFeatureStore redisStore = store(kv, registry);
      SyntheticFeatures.populate(
          redisStore,
          "item",
          1,
          items,
          Instant.now().minus(Duration.ofHours(1)),
          ProgressListener.NONE);

      // entity keys, Redis hash keys, and plain copies of the stored view values for MGET
      byte[][] entityKeys = new byte[items][];
      byte[][] hashKeys = new byte[items][];
      byte[][] plainKeys = new byte[items][];
      List<byte[]> all = new ArrayList<>();
      for (int i = 0; i < items; i++) {
        entityKeys[i] = EntityKeys.encode(item, List.of((long) i));
        hashKeys[i] = concat(prefix, entityKeys[i]);
        plainKeys[i] = ("floor:" + i).getBytes(UTF_8);
        all.add(entityKeys[i]);
      }
      List<Map<String, byte[]>> records = kv.multiGetRecords(namespace, all);
      Map<ByteBuffer, Map<String, byte[]>> memory = new HashMap<>();
      RedisClient client = RedisClient.create(server.uri());
      StatefulRedisConnection<byte[], byte[]> mgetConnection =
          client.connect(ByteArrayCodec.INSTANCE);
      StatefulRedisConnection<byte[], byte[]> pipeConnection =
          client.connect(ByteArrayCodec.INSTANCE);
      pipeConnection.setAutoFlushCommands(false);
      long valueBytes = 0;
      for (int i = 0; i < items; i++) {
        byte[] v = records.get(i).get("item_v0");
        valueBytes += v.length;
        memory.put(ByteBuffer.wrap(entityKeys[i]), records.get(i));
        mgetConnection.sync().set(plainKeys[i], v);
      }
      OnlineFeatureStore memoryStore = store(new MemoryRecords(memory), registry);
      System.err.printf(
          Locale.ROOT,
          "%,d items, %.0f bytes per stored view value%n",
          items,
          (double) valueBytes / items);

      int count = 4096;
      SplittableRandom rnd = new SplittableRandom(42);
      int[][] ids = new int[count][rows];
      List<List<Map<String, Object>>> requests = new ArrayList<>(count);
      List<List<byte[]>> keyLists = new ArrayList<>(count);
      for (int r = 0; r < count; r++) {
        List<Map<String, Object>> request = new ArrayList<>(rows);
        List<byte[]> keys = new ArrayList<>(rows);
        for (int j = 0; j < rows; j++) {
          ids[r][j] = rnd.nextInt(items);
          request.add(Map.of("item_id", (long) ids[r][j]));
          keys.add(entityKeys[ids[r][j]]);
        }
        requests.add(List.copyOf(request));
        keyLists.add(keys);
      }

      RedisAsyncCommands<byte[], byte[]> mget = mgetConnection.async();
      RedisAsyncCommands<byte[], byte[]> pipe = pipeConnection.async();
      Map<String, Call> calls = new LinkedHashMap<>();
      calls.put(
          "lettuce-mget",
          r -> {
            byte[][] keys = new byte[rows][];
            for (int j = 0; j < rows; j++) {
              keys[j] = plainKeys[ids[r][j]];
            }
            List<KeyValue<byte[], byte[]>> got = mget.mget(keys).get(10, TimeUnit.SECONDS);
            return got.get(rows - 1).hasValue();
          });
      calls.put(
          "lettuce-hgetall",
          r -> {
            List<RedisFuture<Map<byte[], byte[]>>> futures = new ArrayList<>(rows);
            for (int j = 0; j < rows; j++) {
              futures.add(pipe.hgetall(hashKeys[ids[r][j]]));
            }
            pipeConnection.flushCommands();
            futures.get(rows - 1).get(10, TimeUnit.SECONDS);
            boolean ok = true;
            for (RedisFuture<Map<byte[], byte[]>> f : futures) {
              ok &= !f.get().isEmpty();
            }
            return ok;
          });
      String lua =
          "local out = {} for i, k in ipairs(KEYS) do out[i] = redis.call('HGETALL', k) end"
              + " return out";
      String luaSha = mget.scriptLoad(lua).get();
      calls.put(
          "lettuce-lua",
          r -> {
            byte[][] keys = new byte[rows][];
            for (int j = 0; j < rows; j++) {
              keys[j] = hashKeys[ids[r][j]];
            }
            List<Object> got =
                mget.<List<Object>>evalsha(luaSha, io.lettuce.core.ScriptOutputType.MULTI, keys)
                    .get(10, TimeUnit.SECONDS);
            return ((List<?>) got.get(rows - 1)).size() == 2;
          });
      URI u = URI.create(server.uri());
      Connection jedis = new Connection(u.getHost(), u.getPort());
      calls.put(
          "jedis-hgetall",
          r -> {
            for (int j = 0; j < rows; j++) {
              jedis.sendCommand(Protocol.Command.HGETALL, hashKeys[ids[r][j]]);
            }
            boolean ok = true;
            for (Object reply : jedis.getMany(rows)) {
              ok &= ((List<?>) reply).size() == 2;
            }
            return ok;
          });
      calls.put(
          "kv-records",
          r -> {
            List<Map<String, byte[]>> got = kv.multiGetRecords(namespace, keyLists.get(r));
            return got.get(rows - 1).containsKey("item_v0");
          });
      int last = features.size() - 1;
      calls.put(
          "get-redis",
          r -> {
            FeatureVectors v = redisStore.get(features, requests.get(r));
            return v.isPresent(0, 0) && v.isPresent(last, rows - 1);
          });
      calls.put(
          "get-memory",
          r -> {
            FeatureVectors v = memoryStore.get(features, requests.get(r));
            return v.isPresent(0, 0) && v.isPresent(last, rows - 1);
          });

      Map<String, Stats> stats = new LinkedHashMap<>();
      for (String way : ways) {
        if (!calls.containsKey(way)) {
          throw new IllegalArgumentException("unknown way " + way + "; one of " + ALL_WAYS);
        }
        stats.put(way, new Stats());
        run(calls.get(way), count, 1.0, null); // warmup
      }
      for (int round = 0; round < rounds; round++) {
        for (int k = 0; k < ways.size(); k++) {
          String way = ways.get((k + round) % ways.size());
          run(calls.get(way), count, roundSeconds, round == 0 ? null : stats.get(way));
        }
        System.err.printf(Locale.ROOT, "round %d of %d done%n", round + 1, rounds);
      }
      jedis.close();
      mgetConnection.close();
      pipeConnection.close();
      client.shutdown();

      StringBuilder sb = new StringBuilder();
      sb.append(
          String.format(
              Locale.ROOT,
              "%d rows per call, %d rounds of %.0f s per way (first discarded), load %s%n%n",
              rows,
              rounds,
              roundSeconds,
              loadAverage()));
      sb.append(
          "| way | calls | p50 us | p90 us | p99 us | p99.9 us | KiB alloc/call | GC ms/s |\n");
      sb.append("|---|---:|---:|---:|---:|---:|---:|---:|\n");
      for (Map.Entry<String, Stats> e : stats.entrySet()) {
        Stats s = e.getValue();
        Histogram h = s.histogram;
        sb.append(
            String.format(
                Locale.ROOT,
                "| %s | %,d | %.0f | %.0f | %.0f | %.0f | %.1f | %.1f |%n",
                e.getKey(),
                h.getTotalCount(),
                h.getValueAtPercentile(50) / 1e3,
                h.getValueAtPercentile(90) / 1e3,
                h.getValueAtPercentile(99) / 1e3,
                h.getValueAtPercentile(99.9) / 1e3,
                s.allocatedBytes / 1024.0 / Math.max(1, s.calls),
                s.gcMillis / Math.max(1e-9, s.seconds)));
      }
      System.out.println(sb);
    } finally {
      try (var paths = Files.walk(work)) {
        paths.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }

  interface Call {
    boolean call(int request) throws Exception;
  }

  static final class Stats {
    final Histogram histogram = new Histogram(TimeUnit.SECONDS.toNanos(60), 3);
    long calls;
    long allocatedBytes;
    double gcMillis;
    double seconds;
  }

  private static void run(Call call, int count, double seconds, Stats stats) throws Exception {
    long allocated0 = allocatedBytes();
    long gc0 = gcMillis();
    long t0 = System.nanoTime();
    long end = t0 + (long) (seconds * 1e9);
    int next = 0;
    long n = 0;
    while (true) {
      long s = System.nanoTime();
      if (s - end >= 0) {
        break;
      }
      boolean ok = call.call(next++ & (count - 1));
      long e = System.nanoTime();
      if (!ok) {
        throw new IllegalStateException("a read came back incomplete");
      }
      n++;
      if (stats != null) {
        stats.histogram.recordValue(e - s);
      }
    }
    if (stats != null) {
      stats.calls += n;
      stats.allocatedBytes += allocatedBytes() - allocated0;
      stats.gcMillis += gcMillis() - gc0;
      stats.seconds += (System.nanoTime() - t0) / 1e9;
    }
  }

  /** Bytes allocated so far by all live threads. */
  private static long allocatedBytes() {
    com.sun.management.ThreadMXBean threads =
        (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    long sum = 0;
    for (long b : threads.getThreadAllocatedBytes(threads.getAllThreadIds())) {
      sum += Math.max(0, b);
    }
    return sum;
  }

  private static long gcMillis() {
    long sum = 0;
    for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
      sum += Math.max(0, gc.getCollectionTime());
    }
    return sum;
  }

  private static OnlineFeatureStore store(KvStore kv, FeatureRegistry registry) {
    return new OnlineFeatureStore(
        kv, registry, Clock.systemUTC(), new OnlineFeatureStore.Options(1000, false));
  }

  private static byte[] concat(byte[] a, byte[] b) {
    byte[] out = new byte[a.length + b.length];
    System.arraycopy(a, 0, out, 0, a.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }

  private static String loadAverage() {
    try {
      return Files.readString(Path.of("/proc/loadavg")).trim();
    } catch (java.io.IOException e) {
      return "unknown";
    }
  }

  /** Records held in memory: reads only. */
  private static final class MemoryRecords implements KvStore {
    private final Map<ByteBuffer, Map<String, byte[]>> records;

    MemoryRecords(Map<ByteBuffer, Map<String, byte[]>> records) {
      this.records = records;
    }

    @Override
    public String kind() {
      return "memory";
    }

    @Override
    public List<Map<String, byte[]>> multiGetRecords(String namespace, List<byte[]> keys) {
      List<Map<String, byte[]>> out = new ArrayList<>(keys.size());
      for (byte[] k : keys) {
        out.add(records.getOrDefault(ByteBuffer.wrap(k), Map.of()));
      }
      return out;
    }

    @Override
    public List<byte[]> multiGet(String namespace, List<byte[]> keys) {
      throw new UnsupportedOperationException();
    }

    @Override
    public void putAll(String namespace, List<KvEntry> entries) {
      throw new UnsupportedOperationException();
    }

    @Override
    public void deleteAll(String namespace, List<byte[]> keys) {
      throw new UnsupportedOperationException();
    }

    @Override
    public void dropNamespace(String namespace) {
      throw new UnsupportedOperationException();
    }

    @Override
    public int mergeRecords(String namespace, List<FieldWrite> writes) {
      throw new UnsupportedOperationException();
    }

    @Override
    public void publish(String name, String snapshotId, int keep) {
      throw new UnsupportedOperationException();
    }

    @Override
    public Optional<String> currentSnapshot(String name) {
      throw new UnsupportedOperationException();
    }

    @Override
    public List<String> snapshots(String name) {
      throw new UnsupportedOperationException();
    }

    @Override
    public String rollback(String name) {
      throw new UnsupportedOperationException();
    }

    @Override
    public void dropSnapshot(String name, String snapshotId) {
      throw new UnsupportedOperationException();
    }

    @Override
    public void close() {}
  }
}
