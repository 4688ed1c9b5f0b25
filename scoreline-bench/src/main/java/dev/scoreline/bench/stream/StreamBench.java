package dev.scoreline.bench.stream;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.scoreline.bench.Allocation;
import dev.scoreline.core.feature.FeatureRegistry;
import dev.scoreline.core.feature.online.OnlineFeatureStore;
import dev.scoreline.core.model.InferenceMetrics;
import dev.scoreline.core.model.InferenceResponse;
import dev.scoreline.core.model.ModelManager;
import dev.scoreline.core.model.ModelRepository;
import dev.scoreline.core.surface.SnapshotLists;
import dev.scoreline.core.surface.SurfaceEngine;
import dev.scoreline.core.surface.Surfaces;
import dev.scoreline.onnx.OnnxRuntime;
import dev.scoreline.rocksdb.RocksDbKvStore;
import dev.scoreline.stream.EmbeddedStreams;
import dev.scoreline.stream.StreamProcessor;
import dev.scoreline.stream.StreamService;
import dev.scoreline.stream.fraud.CardTransactions;
import dev.scoreline.stream.fraud.FraudExample;
import dev.scoreline.stream.log.EventLog;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;
import org.HdrHistogram.Histogram;

/**
 * Load driver of the embedded streaming engine: the fraud-check example surface (its trained ONNX
 * model, 8 windowed features updated per event, RocksDB stores, fsynced logs), in process.
 *
 * <ol>
 *   <li><b>max</b>: {@code --events} transactions are appended to the durable log first, then the
 *       processor starts and drains them: sustained events/s (after a warm-up backlog).
 *   <li><b>latency</b>: an open-loop feeder appends at {@code --rate} events/s (default: half of
 *       the measured max) in batches every 10 ms for {@code --seconds}; a reader follows the result
 *       log; event-to-result latency = result readable (fsynced) minus event accepted (fsynced).
 *       Over the feed window it also prints CPU per event by thread group, the GC pauses (count,
 *       total, longest) and the processor's stage times ({@link StageTimes}), so that a tail can be
 *       told apart: GC, waiting for a lane, processing, or the sinks' fsync.
 * </ol>
 *
 * <pre>
 * java -cp "scoreline-bench/target/scoreline-bench.jar:scoreline-bench/target/lib/*" \
 *   dev.scoreline.bench.stream.StreamBench --model examples/fraud/models/fraud/1/model.onnx
 * </pre>
 */
public final class StreamBench {
  private static final ObjectMapper MAPPER = new ObjectMapper();

  private StreamBench() {}

  static final class Args {
    Path model = Path.of("examples/fraud/models/fraud/1/model.onnx");
    int events = 300_000;

    /**
     * Events processed before anything is measured. 500,000: with fewer, the measured window still
     * holds the JIT compiling (measured: Kafka p99 550 ms after 50,000, 72-245 ms after 500,000).
     */
    int warmup = 500_000;

    int cards = 20_000;
    double rate = -1;
    int seconds = 20;
    int lanes = 2;
    int batch = 256;
    boolean fsync = true;
    String mode = "both";

    static Args parse(String[] a) {
      Args r = new Args();
      for (int i = 0; i < a.length; i++) {
        switch (a[i]) {
          case "--model" -> r.model = Path.of(a[++i]);
          case "--events" -> r.events = Integer.parseInt(a[++i]);
          case "--warmup" -> r.warmup = Integer.parseInt(a[++i]);
          case "--cards" -> r.cards = Integer.parseInt(a[++i]);
          case "--rate" -> r.rate = Double.parseDouble(a[++i]);
          case "--seconds" -> r.seconds = Integer.parseInt(a[++i]);
          case "--lanes" -> r.lanes = Integer.parseInt(a[++i]);
          case "--batch" -> r.batch = Integer.parseInt(a[++i]);
          case "--no-fsync" -> r.fsync = false;
          case "--mode" -> r.mode = a[++i];
          default -> throw new IllegalArgumentException("unknown argument " + a[i]);
        }
      }
      return r;
    }
  }

  /** A project with the fraud-check surface, its stores and a started engine. */
  static final class Setup implements AutoCloseable {
    final Path dir;
    final RocksDbKvStore kv;
    final OnnxRuntime runtime = new OnnxRuntime();
    final ExecutorService workers = Executors.newFixedThreadPool(2);
    final ModelManager manager;
    final SurfaceEngine engine;
    final FeatureRegistry registry;
    final OnlineFeatureStore store;
    final SimpleMeterRegistry meters = new SimpleMeterRegistry();

    Setup(Args a, CardTransactions data) throws Exception {
      this(a, data, null);
    }

    /** With {@code surfaceYaml} as the fraud-check surface (null: the embedded example). */
    Setup(Args a, CardTransactions data, String surfaceYaml) throws Exception {
      StageTimes.keepHistograms(meters);
      dir = Files.createTempDirectory("scoreline-stream-bench");
      FraudExample.writeProject(dir, data, Instant.now().minusSeconds(86_400));
      Files.writeString(
          dir.resolve("surfaces/fraud-check.yaml"),
          surfaceYaml != null
              ? surfaceYaml
              : FraudExample.surfaceYaml(FraudExample.EMBEDDED_SOURCE, "")
                  .replace(
                      "  lanes: 2",
                      "  lanes: "
                          + a.lanes
                          + "\n  batch-size: "
                          + a.batch
                          + "\n  max-lag: 10000000"));
      Files.createDirectories(dir.resolve("models/fraud/1"));
      Files.copy(a.model, dir.resolve("models/fraud/1/model.onnx"));
      kv = RocksDbKvStore.open(dir.resolve(".scoreline/online"));
      registry = FeatureRegistry.load(dir);
      store = new OnlineFeatureStore(kv, registry, Clock.systemUTC());
      FraudExample.pushCards(store, data, Instant.now().minusSeconds(86_400));
      manager =
          new ModelManager(
              new ModelRepository(dir.resolve("models")),
              List.of(runtime),
              new InferenceMetrics(meters),
              workers);
      manager.loadAll(List.of("fraud"));
      engine =
          new SurfaceEngine(
              Surfaces.load(dir, registry),
              store,
              new SnapshotLists(kv),
              r -> {
                try {
                  return CompletableFuture.<InferenceResponse>completedFuture(manager.infer(r));
                } catch (RuntimeException e) {
                  return CompletableFuture.failedFuture(e);
                }
              },
              null,
              workers,
              meters);
    }

    Path data() {
      return dir.resolve(".scoreline/stream");
    }

    StreamService start(boolean fsync) {
      EventLog.Options logs = new EventLog.Options(64L << 20, fsync);
      return StreamService.start(
          engine,
          registry,
          store,
          kv,
          data(),
          meters,
          new StreamService.Options(logs, null, java.util.Set.of()));
    }

    @Override
    public void close() throws Exception {
      manager.close();
      workers.shutdownNow();
      runtime.close();
      kv.close();
      try (Stream<Path> s = Files.walk(dir)) {
        for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
          Files.deleteIfExists(p);
        }
      }
    }
  }

  static List<byte[]> events(CardTransactions data, int n) {
    List<byte[]> out = new ArrayList<>(n);
    List<CardTransactions.Txn> t = data.transactions();
    for (int i = 0; i < n; i++) {
      out.add(t.get(i % t.size()).toJson());
    }
    return out;
  }

  /** Logback's default is DEBUG on the console: the drivers log warnings only. */
  static void quietLogs() {
    ((ch.qos.logback.classic.Logger)
            org.slf4j.LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME))
        .setLevel(ch.qos.logback.classic.Level.WARN);
  }

  public static void main(String[] argv) throws Exception {
    quietLogs();
    Args a = Args.parse(argv);
    CardTransactions data = data(a, a.events + a.warmup);
    System.out.printf(
        Locale.ROOT,
        "stream bench: fraud-check, %d cards, %d lanes, batch %d, fsync %s, %d cores%n",
        a.cards,
        a.lanes,
        a.batch,
        a.fsync,
        Runtime.getRuntime().availableProcessors());
    double max = -1;
    if (!a.mode.equals("latency")) {
      max = maxThroughput(a, data);
    }
    if (!a.mode.equals("max")) {
      double rate = a.rate > 0 ? a.rate : max / 2;
      latency(a, data, rate);
    }
  }

  /**
   * Synthetic transactions, at least {@code events} of them (about 3 per card and day), so that no
   * event is sent twice: a repeated event id would be skipped as a duplicate, not scored.
   */
  static CardTransactions data(Args a, long events) {
    long end = Instant.now().getEpochSecond() * 1_000_000L;
    int days = Math.max(1, (int) Math.ceil(events / (a.cards * 3.0)));
    while (true) {
      CardTransactions data = CardTransactions.generate(42, a.cards, days, end, 0.03);
      if (data.transactions().size() >= events) {
        return data;
      }
      days++;
    }
  }

  /** Appends the backlog first, then measures how fast the processor drains it. */
  static double maxThroughput(Args a, CardTransactions data) throws Exception {
    try (Setup s = new Setup(a, data)) {
      List<byte[]> events = events(data, a.warmup + a.events);
      long t0 = System.nanoTime();
      try (EmbeddedStreams streams =
          EmbeddedStreams.open(
              s.data().resolve("streams"), new EventLog.Options(64L << 20, a.fsync))) {
        EventLog log = streams.declare("transactions", Long.MAX_VALUE);
        for (int i = 0; i < events.size(); i += 500) {
          log.appendSync(events.subList(i, Math.min(events.size(), i + 500)));
        }
      }
      double ingest = events.size() / ((System.nanoTime() - t0) / 1e9);
      try (StreamService svc = s.start(a.fsync)) {
        StreamProcessor p = svc.processor("fraud-check");
        waitFor(p, a.warmup);
        long w = p.status().results() + p.status().deadLetters();
        long t1 = System.nanoTime();
        long cpu0 = cpuNanos();
        java.util.Map<String, Long> threads0 = threadCpu();
        long alloc0 = Allocation.liveThreadsBytes();
        long gc0 = gcMillis();
        if (!p.awaitIdle(Duration.ofMinutes(10))) {
          throw new IllegalStateException("did not drain");
        }
        double secs = (System.nanoTime() - t1) / 1e9;
        long cpu = cpuNanos() - cpu0;
        java.util.Map<String, Long> byGroup = threadCpuSince(threads0);
        long allocated = Allocation.liveThreadsBytes() - alloc0;
        long gcMillis = gcMillis() - gc0;
        long done = p.status().results() + p.status().deadLetters() - w;
        double rate = done / secs;
        System.out.printf(
            Locale.ROOT,
            "max: %d events drained in %.2f s = %.0f events/s (after %d warm-up events), %.0f us"
                + " of CPU per event (%.2f cores busy); durable ingest (500-event batches, one"
                + " thread) %.0f events/s%n",
            done,
            secs,
            rate,
            w,
            cpu / 1000.0 / done,
            cpu / 1e9 / secs,
            ingest);
        String groups = microsPerEvent(byGroup, done);
        System.out.printf(
            Locale.ROOT,
            "  CPU us per event by thread:%s; GC pauses %d ms in the window; %.0f bytes allocated"
                + " per event (all live threads)%n",
            groups.length() == 0 ? " (no /proc)" : groups.substring(0, groups.length() - 1),
            gcMillis,
            allocated / (double) done);
        return rate;
      }
    }
  }

  private static void waitFor(StreamProcessor p, long n) throws InterruptedException {
    while (p.status().results() + p.status().deadLetters() < n) {
      Thread.sleep(5);
    }
  }

  /** Open-loop feed at {@code rate}; latency = result readable - event accepted. */
  static void latency(Args a, CardTransactions data, double rate) throws Exception {
    int needed = a.warmup + (int) Math.ceil(rate * (a.seconds + 3)) + 1;
    if (data.transactions().size() < needed) {
      data = data(a, needed);
    }
    try (Setup s = new Setup(a, data)) {
      List<byte[]> events = events(data, needed);
      // the driver's own events (about 190 MB by default) are made old before anything runs: left
      // young, the part not yet promoted was a 60-67 MB cohort in the survivor space that every
      // young pause of the feed window copied again, a cost of the driver and not of the engine
      System.gc();
      try (StreamService svc = s.start(a.fsync)) {
        StreamProcessor p = svc.processor("fraud-check");
        EventLog results = svc.resultLog("fraud-check");
        // warm-up (JIT, caches): a backlog of --warmup events, drained before the measured feed
        for (int i = 0; i < a.warmup; i += 500) {
          svc.append("transactions", events.subList(i, Math.min(a.warmup, i + 500))).join();
        }
        p.awaitIdle(Duration.ofMinutes(5));
        events = events.subList(a.warmup, events.size());
        Histogram h = new Histogram(60_000_000L, 3);
        AtomicBoolean stop = new AtomicBoolean();
        long warmEnd = micros(Instant.now()) + 3_000_000L;
        Thread reader =
            new Thread(
                () -> {
                  try (EventLog.Reader r = results.reader(results.endOffset())) {
                    while (!stop.get()) {
                      List<EventLog.Entry> es = r.poll(4096, 50, TimeUnit.MILLISECONDS);
                      long now = micros(Instant.now());
                      for (EventLog.Entry e : es) {
                        JsonNode n = MAPPER.readTree(e.payload());
                        long accepted = micros(Instant.parse(n.get("accepted_at").asText()));
                        if (accepted >= warmEnd) {
                          h.recordValue(Math.max(0, Math.min(now - accepted, 59_000_000L)));
                        }
                      }
                    }
                  } catch (Exception e) {
                    throw new RuntimeException(e);
                  }
                },
                "bench-results");
        reader.start();
        StageTimes stages = new StageTimes(s.meters);
        GcPauses pauses = GcPauses.start();
        long cpu0 = cpuNanos();
        java.util.Map<String, Long> threads0 = threadCpu();
        long feedStart = System.nanoTime();
        int perTick = Math.max(1, (int) Math.round(rate / 100));
        long tick = 10_000_000L;
        long next = System.nanoTime();
        long stopAt = next + TimeUnit.SECONDS.toNanos(a.seconds + 3);
        int i = 0;
        long behind = 0;
        while (System.nanoTime() < stopAt && i < events.size()) {
          int to = Math.min(events.size(), i + perTick);
          svc.append(
              "transactions", events.subList(i, to)); // async: the durable ack is not awaited
          i = to;
          next += tick;
          long sleep = next - System.nanoTime();
          if (sleep > 0) {
            TimeUnit.NANOSECONDS.sleep(sleep);
          } else {
            behind++;
          }
        }
        p.awaitIdle(Duration.ofMinutes(2));
        double feedSecs = (System.nanoTime() - feedStart) / 1e9;
        long cpu = cpuNanos() - cpu0;
        java.util.Map<String, Long> byGroup = threadCpuSince(threads0);
        List<String> stageLines = stages.report();
        pauses.stop();
        Thread.sleep(200);
        stop.set(true);
        reader.join();
        if (p.status().duplicates() > 0) {
          System.out.printf(
              Locale.ROOT,
              "warning: %d events were duplicates (not scored)%n",
              p.status().duplicates());
        }
        System.out.printf(
            Locale.ROOT,
            "latency at %.0f events/s for %d s (%d events, feeder late on %d ticks): p50 %.1f ms,"
                + " p99 %.1f ms, p99.9 %.1f ms, max %.1f ms (%d measured)%n",
            rate,
            a.seconds,
            i,
            behind,
            h.getValueAtPercentile(50) / 1000.0,
            h.getValueAtPercentile(99) / 1000.0,
            h.getValueAtPercentile(99.9) / 1000.0,
            h.getMaxValue() / 1000.0,
            h.getTotalCount());
        String groups = microsPerEvent(byGroup, i);
        System.out.printf(
            Locale.ROOT,
            "  feed window %.1f s: %.2f cores busy, %.0f us of CPU per event (by thread:%s); GC"
                + " pauses %d, %d ms in all, longest %d ms%n",
            feedSecs,
            cpu / 1e9 / feedSecs,
            cpu / 1000.0 / i,
            groups.length() == 0 ? " no /proc" : groups.substring(0, groups.length() - 1),
            pauses.count(),
            pauses.totalMillis(),
            pauses.maxMillis());
        System.out.println("  stages over the feed window (processor's timers):");
        for (String line : stageLines) {
          System.out.println("    " + line);
        }
      }
    }
  }

  /**
   * CPU time (user + system, in clock ticks) of each thread of this process so far, by thread id
   * and name, from {@code /proc/self/task} (Linux; empty elsewhere): Java threads, GC and JIT
   * threads and the native threads of RocksDB alike.
   */
  static java.util.Map<String, Long> threadCpu() {
    java.util.Map<String, Long> out = new java.util.HashMap<>();
    Path tasks = Path.of("/proc/self/task");
    if (!Files.isDirectory(tasks)) {
      return out;
    }
    try (Stream<Path> s = Files.list(tasks)) {
      for (Path t : s.toList()) {
        try {
          String stat = Files.readString(t.resolve("stat"));
          int open = stat.indexOf('(');
          int close = stat.lastIndexOf(')');
          String name = stat.substring(open + 1, close);
          String[] f = stat.substring(close + 2).split(" ");
          // fields after the name: state is [0]; utime [11], stime [12]
          out.put(t.getFileName() + " " + name, Long.parseLong(f[11]) + Long.parseLong(f[12]));
        } catch (java.io.IOException | RuntimeException e) {
          // the thread ended
        }
      }
    } catch (java.io.IOException e) {
      return out;
    }
    return out;
  }

  /**
   * CPU nanoseconds of the threads since {@code before}, by group: the stream's lanes and
   * dispatcher, its log writers, GC, JIT, RocksDB's background threads, the rest.
   */
  static java.util.Map<String, Long> threadCpuSince(java.util.Map<String, Long> before) {
    java.util.Map<String, Long> out = new java.util.TreeMap<>();
    long tickNanos = 10_000_000L; // USER_HZ is 100 on Linux
    threadCpu()
        .forEach(
            (k, v) -> {
              String name = k.substring(k.indexOf(' ') + 1);
              String group =
                  name.startsWith("scoreline-strea")
                      ? "lanes+dispatcher"
                      : name.startsWith("scoreline-log")
                          ? "log writers"
                          : name.startsWith("GC Thread") || name.startsWith("G1 ")
                              ? "GC"
                              : name.startsWith("C1 Compiler") || name.startsWith("C2 Compiler")
                                  ? "JIT"
                                  : name.startsWith("rocksdb") ? "rocksdb" : "other";
              out.merge(group, (v - before.getOrDefault(k, 0L)) * tickNanos, Long::sum);
            });
    return out;
  }

  /**
   * GC pauses from the collectors' notifications while started: their count, total and longest
   * duration (G1's young and mixed pauses; a concurrent cycle's own notification is not a pause).
   */
  static final class GcPauses {
    private final java.util.concurrent.atomic.AtomicLong count =
        new java.util.concurrent.atomic.AtomicLong();
    private final java.util.concurrent.atomic.AtomicLong total =
        new java.util.concurrent.atomic.AtomicLong();
    private final java.util.concurrent.atomic.AtomicLong max =
        new java.util.concurrent.atomic.AtomicLong();
    private final List<Runnable> removers = new ArrayList<>();

    static GcPauses start() {
      GcPauses g = new GcPauses();
      for (java.lang.management.GarbageCollectorMXBean b :
          java.lang.management.ManagementFactory.getGarbageCollectorMXBeans()) {
        if (!(b instanceof javax.management.NotificationEmitter emitter)) {
          continue;
        }
        javax.management.NotificationListener l =
            (n, hb) -> {
              if (!n.getType()
                  .equals(
                      com.sun.management.GarbageCollectionNotificationInfo
                          .GARBAGE_COLLECTION_NOTIFICATION)) {
                return;
              }
              com.sun.management.GarbageCollectionNotificationInfo info =
                  com.sun.management.GarbageCollectionNotificationInfo.from(
                      (javax.management.openmbean.CompositeData) n.getUserData());
              if (info.getGcName().contains("Concurrent")) {
                return;
              }
              long ms = info.getGcInfo().getDuration();
              g.count.incrementAndGet();
              g.total.addAndGet(ms);
              g.max.accumulateAndGet(ms, Math::max);
            };
        emitter.addNotificationListener(l, null, null);
        g.removers.add(
            () -> {
              try {
                emitter.removeNotificationListener(l);
              } catch (javax.management.ListenerNotFoundException e) {
                // already gone
              }
            });
      }
      return g;
    }

    void stop() {
      removers.forEach(Runnable::run);
    }

    long count() {
      return count.get();
    }

    long totalMillis() {
      return total.get();
    }

    long maxMillis() {
      return max.get();
    }
  }

  /** Total GC pause time so far (collector MXBeans), in milliseconds. */
  static long gcMillis() {
    long ms = 0;
    for (java.lang.management.GarbageCollectorMXBean b :
        java.lang.management.ManagementFactory.getGarbageCollectorMXBeans()) {
      ms += Math.max(0, b.getCollectionTime());
    }
    return ms;
  }

  /** CPU time of this process so far. */
  static long cpuNanos() {
    return ProcessHandle.current().info().totalCpuDuration().map(Duration::toNanos).orElse(0L);
  }

  static long micros(Instant t) {
    return t.getEpochSecond() * 1_000_000L + t.getNano() / 1000;
  }

  /** " group µs," for each thread group: its CPU nanoseconds over {@code events} events. */
  private static String microsPerEvent(java.util.Map<String, Long> byGroup, long events) {
    StringBuilder groups = new StringBuilder();
    for (java.util.Map.Entry<String, Long> e : byGroup.entrySet()) {
      groups.append(
          String.format(Locale.ROOT, " %s %.1f,", e.getKey(), e.getValue() / 1000.0 / events));
    }
    return groups.toString();
  }
}
