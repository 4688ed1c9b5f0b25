package dev.scoreline.bench.surfaces;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.linecorp.armeria.client.ClientFactory;
import com.linecorp.armeria.client.WebClient;
import com.linecorp.armeria.common.AggregatedHttpResponse;
import com.linecorp.armeria.common.HttpStatus;
import com.linecorp.armeria.common.util.EventLoopGroups;
import dev.scoreline.bench.Allocation;
import dev.scoreline.cli.ServerLauncher;
import dev.scoreline.core.surface.SurfaceEngine;
import dev.scoreline.core.surface.SurfaceRequest;
import dev.scoreline.core.surface.SurfaceResult;
import io.netty.channel.EventLoopGroup;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.HdrHistogram.ConcurrentHistogram;
import org.HdrHistogram.Histogram;

/**
 * Issue 5's surface benchmark on the quickstart demo (prepare it first with {@code ./scoreline
 * quickstart DIR --no-serve}):
 *
 * <ol>
 *   <li>{@code GET /v1/surfaces/home-feed/{user}} at a fixed offered rate (open loop: call i is due
 *       at start + i/rate, latency measured from the due time, so queueing is not hidden), after a
 *       warm-up at the same rate, against {@code scoreline serve} running in its <b>own JVM</b> (as
 *       in production; the driver's garbage and JIT do not pause the server), once per JVM
 *       configuration ({@code --configs}: garbage collector and heap), interleaved per repeat:
 *       p50/p99/p99.9/max, fallbacks, the per-stage breakdown the server reports in each answer,
 *       and the server's stop-the-world pauses in the measured window (from its {@code
 *       -Xlog:safepoint} log);
 *   <li>in process, side by side in the same JVM: ranking the 200 precomputed candidates ({@code
 *       home-feed}) vs ranking the whole catalog ({@code home-feed-all}, source all-items: every
 *       item's features fetched and scored per request), latency with one caller, throughput with
 *       as many callers as cores, and bytes allocated per request.
 * </ol>
 *
 * The driver is Armeria's {@code WebClient} on one event-loop thread over HTTP/1.1 keep-alive
 * connections; it shares the machine's cores with the server. Usage: {@code SurfaceBenchmark
 * PROJECT [--rate 200] [--warmup 60] [--measure 60] [--compare 20] [--repeats 3] [--configs
 * g1,g1-1g,zgc] [--builds A=DIR,B=DIR] [--server-flags "FLAGS"]}: {@code --builds} runs the server
 * from each build's {@code DIR/scoreline-bench.jar:DIR/lib/*} (A/B comparisons of two builds with
 * one driver, interleaved per repeat and configuration); {@code --server-flags} adds JVM flags to
 * every server.
 */
public final class SurfaceBenchmark {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String[] STAGES = {
    "candidates", "features", "rules", "transform", "inference", "total"
  };

  /** Server JVM configurations by name: the flags added to {@code java} for the server. */
  static final Map<String, List<String>> CONFIGS = new LinkedHashMap<>();

  static {
    // the JVM's defaults: G1, heap 1/4 of RAM (what ./scoreline serve ran before it chose ZGC)
    CONFIGS.put("g1", List.of());
    CONFIGS.put("g1-1g", List.of("-XX:+UseG1GC", "-Xms1g", "-Xmx1g", "-XX:MaxGCPauseMillis=10"));
    // the pause target alone, heap left at the default
    CONFIGS.put("g1-p10", List.of("-XX:MaxGCPauseMillis=10"));
    // objects that live through two young collections go to the old generation at once instead of
    // being copied up to 15 times between the survivor spaces (the server's start-up working set)
    CONFIGS.put("g1-t2", List.of("-XX:MaxTenuringThreshold=2"));
    CONFIGS.put("zgc", List.of("-XX:+UseZGC", "-Xms2g", "-Xmx2g"));
    // ZGC with the heap left to the JVM's defaults: what ./scoreline serve runs with no collector
    // in SCORELINE_JAVA_OPTS
    CONFIGS.put("zgc-default-heap", List.of("-XX:+UseZGC"));
    CONFIGS.put("parallel", List.of("-XX:+UseParallelGC", "-Xms1g", "-Xmx1g", "-Xmn256m"));
  }

  public static void main(String[] args) throws Exception {
    if (args.length == 0 || args[0].startsWith("-")) {
      System.err.println(
          "usage: SurfaceBenchmark PROJECT [--rate 200] [--warmup 60] [--measure 60]"
              + " [--compare 20] [--repeats 3] [--configs "
              + String.join(",", CONFIGS.keySet())
              + "] [--builds A=DIR,B=DIR] [--server-flags FLAGS]");
      System.exit(2);
    }
    Path project = Path.of(args[0]).toAbsolutePath();
    Map<String, String> opt = new LinkedHashMap<>();
    for (int i = 1; i + 1 < args.length; i += 2) {
      opt.put(args[i].replaceFirst("^--", ""), args[i + 1]);
    }
    double rate = Double.parseDouble(opt.getOrDefault("rate", "200"));
    double warmup = Double.parseDouble(opt.getOrDefault("warmup", "60"));
    double measure = Double.parseDouble(opt.getOrDefault("measure", "60"));
    double compare = Double.parseDouble(opt.getOrDefault("compare", "20"));
    int repeats = Integer.parseInt(opt.getOrDefault("repeats", "3"));
    List<String> configs = Arrays.asList(opt.getOrDefault("configs", "g1,g1-1g,zgc").split(","));
    // --builds A=/tmp/a,B=/tmp/b: server classpaths (DIR/scoreline-bench.jar:DIR/lib/*) to compare,
    // interleaved with the configurations per repeat; default: this driver's own classpath
    Map<String, String> builds = new LinkedHashMap<>();
    if (opt.containsKey("builds")) {
      for (String b : opt.get("builds").split(",")) {
        String[] kv = b.split("=", 2);
        Path dir = Path.of(kv[1]);
        builds.put(
            kv[0],
            dir.resolve("scoreline-bench.jar") + java.io.File.pathSeparator + dir + "/lib/*");
      }
    } else {
      builds.put("", System.getProperty("java.class.path"));
    }
    // --server-flags "-Xlog:gc*:file=/tmp/gc-%p.log": added to every server JVM
    List<String> extraFlags =
        opt.containsKey("server-flags")
            ? Arrays.asList(opt.get("server-flags").trim().split("\\s+"))
            : List.of();
    for (String c : configs) {
      if (!CONFIGS.containsKey(c)) {
        throw new IllegalArgumentException("unknown config " + c + "; known: " + CONFIGS.keySet());
      }
    }
    writeWholeCatalogSurface(project);
    long[] users = users(project);
    System.out.printf(
        Locale.ROOT,
        "surface benchmark: %s, %d users, %d cores, java %s, load before %s%n",
        project,
        users.length,
        Runtime.getRuntime().availableProcessors(),
        System.getProperty("java.version"),
        load());
    Map<String, List<OpenLoopResult>> results = new LinkedHashMap<>();
    if (measure > 0) {
      for (int rep = 1; rep <= repeats; rep++) {
        for (String config : configs) {
          for (Map.Entry<String, String> build : builds.entrySet()) {
            String cell = build.getKey().isEmpty() ? config : build.getKey() + "/" + config;
            List<String> flags = new ArrayList<>(CONFIGS.get(config));
            flags.addAll(extraFlags);
            try (ServerProcess server =
                ServerProcess.start(project, cell, flags, build.getValue())) {
              OpenLoopResult r = openLoop(server, users, rate, warmup, measure);
              results.computeIfAbsent(cell, k -> new ArrayList<>()).add(r);
              r.print(cell + " rep " + rep);
            }
          }
        }
      }
      summarize(results, rate);
    }
    if (compare > 0) {
      try (ServerLauncher server =
          ServerLauncher.start(
              ServerLauncher.Options.defaults(project.resolve("models"))
                  .withPort(0)
                  .withProject(project))) {
        compare(server.surfaceEngine(), users, compare);
      }
    }
    System.out.printf(Locale.ROOT, "load after %s%n", load());
  }

  static String load() {
    try {
      return Files.readString(Path.of("/proc/loadavg")).trim();
    } catch (IOException e) {
      return "?";
    }
  }

  // ---------------------------------------------------------------- the server in its own JVM

  /** {@code scoreline serve PROJECT} in a child JVM with the given flags and a safepoint log. */
  static final class ServerProcess implements AutoCloseable {
    final Process process;
    final int port;
    final Path safepointLog;
    final Path output;

    private ServerProcess(Process process, int port, Path safepointLog, Path output) {
      this.process = process;
      this.port = port;
      this.safepointLog = safepointLog;
      this.output = output;
    }

    static ServerProcess start(Path project, String name, List<String> flags, String classPath)
        throws Exception {
      int port;
      try (ServerSocket s = new ServerSocket(0)) {
        port = s.getLocalPort();
      }
      Path dir = Files.createTempDirectory("surface-bench-" + name.replace('/', '-') + "-");
      Path safepoints = dir.resolve("safepoint.log");
      Path output = dir.resolve("server.log");
      List<String> cmd = new ArrayList<>();
      cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
      cmd.addAll(flags);
      cmd.add("-Xlog:safepoint:file=" + safepoints + ":timemillis");
      cmd.add("-cp");
      cmd.add(classPath);
      cmd.add("dev.scoreline.cli.Main");
      cmd.add("serve");
      cmd.add(project.toString());
      cmd.add("--port");
      cmd.add(Integer.toString(port));
      System.out.printf(
          Locale.ROOT, "%nstarting server [%s] %s (log %s)%n", name, String.join(" ", flags), dir);
      Process p =
          new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(output.toFile()).start();
      ServerProcess sp = new ServerProcess(p, port, safepoints, output);
      try {
        sp.awaitReady();
      } catch (Exception e) {
        sp.close();
        throw new IllegalStateException("server did not start; its log: " + output, e);
      }
      return sp;
    }

    private void awaitReady() throws Exception {
      WebClient probe = WebClient.of("h1c://127.0.0.1:" + port);
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(180);
      while (System.nanoTime() < deadline) {
        if (!process.isAlive()) {
          throw new IllegalStateException("server exited with " + process.exitValue());
        }
        try {
          AggregatedHttpResponse r = probe.get("/v2/health/ready").aggregate().join();
          if (r.status().equals(HttpStatus.OK)) {
            return;
          }
        } catch (RuntimeException e) {
          // not listening yet
        }
        Thread.sleep(200);
      }
      throw new IllegalStateException("not ready within 180 s");
    }

    /** Stop-the-world pauses (safepoint totals, ns) logged between two wall-clock instants. */
    long[] pausesBetween(long fromMillis, long toMillis) throws IOException {
      Pattern line = Pattern.compile("^\\[(\\d+)ms\\].*Total: (\\d+) ns");
      List<Long> out = new ArrayList<>();
      for (String l : Files.readAllLines(safepointLog)) {
        Matcher m = line.matcher(l);
        if (m.find()) {
          long at = Long.parseLong(m.group(1));
          if (at >= fromMillis && at <= toMillis) {
            out.add(Long.parseLong(m.group(2)));
          }
        }
      }
      return out.stream().mapToLong(Long::longValue).toArray();
    }

    @Override
    public void close() throws Exception {
      process.destroy();
      if (!process.waitFor(30, TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      }
    }
  }

  /** A copy of home-feed that ranks every item per request. */
  static void writeWholeCatalogSurface(Path project) throws Exception {
    String yaml = Files.readString(project.resolve("surfaces/home-feed.yaml"));
    String all =
        yaml.replace("name: home-feed", "name: home-feed-all")
            .replace("source: precomputed", "source: all-items")
            .replaceAll("(?m)^  snapshot: .*\\n", "");
    if (all.equals(yaml)) {
      throw new IllegalStateException("unexpected surfaces/home-feed.yaml layout");
    }
    Files.writeString(project.resolve("surfaces/home-feed-all.yaml"), all);
    Path config = project.resolve("scoreline.yaml");
    String c = Files.readString(config);
    if (!c.contains("max-entities-per-request")) {
      Files.writeString(config, c + "features:\n  max-entities-per-request: 100000\n");
    }
  }

  static long[] users(Path project) throws Exception {
    // the demo's users (all have candidates)
    List<Long> out = new ArrayList<>();
    try (var lines = Files.lines(project.resolve("data/user_ids.txt"))) {
      lines.map(String::trim).filter(l -> !l.isEmpty()).forEach(l -> out.add(Long.parseLong(l)));
    }
    return out.stream().mapToLong(Long::longValue).toArray();
  }

  // ---------------------------------------------------------------- open loop over HTTP

  /** What one open-loop run saw. */
  record OpenLoopResult(
      long sent,
      long ok,
      long fallbacks,
      long errors,
      long unfinished,
      double seconds,
      Histogram latency,
      Map<String, Histogram> stages,
      long[] pausesNs,
      long driverGcCount,
      long driverGcMillis,
      String load) {
    double p(double percentile) {
      return ms(latency, percentile);
    }

    long pauseMaxNs() {
      return Arrays.stream(pausesNs).max().orElse(0);
    }

    long pauseSumNs() {
      return Arrays.stream(pausesNs).sum();
    }

    void print(String title) {
      System.out.printf(
          Locale.ROOT,
          "%s: sent %d, ok %d (%.1f/s), fallbacks %d, errors %d, unfinished %d (load %s)%n",
          title,
          sent,
          ok,
          ok / seconds,
          fallbacks,
          errors,
          unfinished,
          load);
      System.out.printf(
          Locale.ROOT,
          "  latency from due time: p50 %.2f ms  p90 %.2f  p99 %.2f  p99.9 %.2f  max %.2f%n",
          p(50),
          p(90),
          p(99),
          p(99.9),
          latency.getMaxValue() / 1e6);
      System.out.printf(
          Locale.ROOT,
          "  server stop-the-world pauses: %d, total %.1f ms, max %.2f ms%n",
          pausesNs.length,
          pauseSumNs() / 1e6,
          pauseMaxNs() / 1e6);
      System.out.printf(
          Locale.ROOT,
          "  driver's own collections in the window: %d, %d ms (they delay what it records)%n",
          driverGcCount,
          driverGcMillis);
      System.out.println("  server-side stages (ms):   mean     p50     p99");
      for (String s : STAGES) {
        Histogram h = stages.get(s);
        System.out.printf(
            Locale.ROOT,
            "    %-12s %12.3f %7.3f %7.3f%n",
            s,
            h.getMean() / 1e6,
            ms(h, 50),
            ms(h, 99));
      }
    }
  }

  static OpenLoopResult openLoop(
      ServerProcess server, long[] users, double rate, double warmup, double measure)
      throws Exception {
    EventLoopGroup loop = EventLoopGroups.newEventLoopGroup(1);
    ClientFactory factory = ClientFactory.builder().workerGroup(loop, true).build();
    WebClient client =
        WebClient.builder("h1c://127.0.0.1:" + server.port)
            .factory(factory)
            .responseTimeout(Duration.ofSeconds(10))
            .build();
    ConcurrentHistogram latency = new ConcurrentHistogram(TimeUnit.SECONDS.toNanos(60), 3);
    Map<String, Histogram> stages = new ConcurrentHashMap<>();
    for (String s : STAGES) {
      stages.put(s, new ConcurrentHistogram(TimeUnit.SECONDS.toNanos(60), 3));
    }
    AtomicLong ok = new AtomicLong();
    AtomicLong fallbacks = new AtomicLong();
    AtomicLong errors = new AtomicLong();
    AtomicInteger outstanding = new AtomicInteger();
    SplittableRandom rnd = new SplittableRandom(7);
    long start = System.nanoTime();
    long measureStart = start + (long) (warmup * 1e9);
    long end = measureStart + (long) (measure * 1e9);
    long measureStartMillis = System.currentTimeMillis() + (long) (warmup * 1e3);
    double period = 1e9 / rate;
    long sent = 0;
    long[] gcAtMeasureStart = null;
    for (long i = 0; ; i++) {
      long due = start + (long) (i * period);
      if (due - end >= 0) {
        break;
      }
      long wait = due - System.nanoTime();
      if (wait > 0) {
        LockSupport.parkNanos(wait);
      }
      boolean counted = due - measureStart >= 0;
      if (counted && gcAtMeasureStart == null) {
        gcAtMeasureStart = driverGc();
      }
      long user = users[rnd.nextInt(users.length)];
      int category = rnd.nextInt(20);
      outstanding.incrementAndGet();
      if (counted) {
        sent++;
      }
      client
          .get("/v1/surfaces/home-feed/" + user + "?context.category=" + category)
          .aggregate()
          .whenComplete(
              (r, t) -> {
                long lat = System.nanoTime() - due;
                outstanding.decrementAndGet();
                if (!counted) {
                  return;
                }
                if (t != null || !r.status().equals(HttpStatus.OK)) {
                  errors.incrementAndGet();
                  return;
                }
                latency.recordValue(lat);
                ok.incrementAndGet();
                try {
                  JsonNode n = JSON.readTree(r.content().array());
                  if (n.get("fallback").asBoolean()) {
                    fallbacks.incrementAndGet();
                  }
                  JsonNode tm = n.get("timings_ms");
                  for (String s : STAGES) {
                    if (tm != null && tm.has(s)) {
                      stages.get(s).recordValue((long) (tm.get(s).asDouble() * 1e6));
                    }
                  }
                } catch (Exception e) {
                  errors.incrementAndGet();
                }
              });
    }
    long measureEndMillis = System.currentTimeMillis();
    while (outstanding.get() > 0 && System.nanoTime() - end < 15e9) {
      Thread.sleep(5);
    }
    long[] gcAtEnd = driverGc();
    if (gcAtMeasureStart == null) {
      gcAtMeasureStart = gcAtEnd;
    }
    String load = load();
    factory.closeAsync().join();
    Thread.sleep(200); // let the server's log writer catch up
    return new OpenLoopResult(
        sent,
        ok.get(),
        fallbacks.get(),
        errors.get(),
        outstanding.get(),
        measure,
        latency,
        stages,
        server.pausesBetween(measureStartMillis, measureEndMillis),
        gcAtEnd[0] - gcAtMeasureStart[0],
        gcAtEnd[1] - gcAtMeasureStart[1],
        load);
  }

  /** This JVM's collections so far: count and milliseconds (all collectors). */
  static long[] driverGc() {
    long count = 0;
    long millis = 0;
    for (var gc : ManagementFactory.getGarbageCollectorMXBeans()) {
      count += Math.max(0, gc.getCollectionCount());
      millis += Math.max(0, gc.getCollectionTime());
    }
    return new long[] {count, millis};
  }

  /** Median (min) per configuration over the repeats. */
  static void summarize(Map<String, List<OpenLoopResult>> results, double rate) {
    System.out.printf(
        Locale.ROOT,
        "%nsummary at %.0f req/s offered, median (min) over repeats, ms:%n"
            + "| server JVM | p50 | p99 | p99.9 | max | fallbacks | errors | pauses | pause max"
            + " | pause total |%n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|%n",
        rate);
    for (Map.Entry<String, List<OpenLoopResult>> e : results.entrySet()) {
      List<OpenLoopResult> rs = e.getValue();
      System.out.printf(
          Locale.ROOT,
          "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |%n",
          e.getKey(),
          medMin(rs, r -> r.p(50)),
          medMin(rs, r -> r.p(99)),
          medMin(rs, r -> r.p(99.9)),
          medMin(rs, r -> r.latency().getMaxValue() / 1e6),
          medMin(rs, r -> r.fallbacks()),
          medMin(rs, r -> r.errors()),
          medMin(rs, r -> r.pausesNs().length),
          medMin(rs, r -> r.pauseMaxNs() / 1e6),
          medMin(rs, r -> r.pauseSumNs() / 1e6));
    }
  }

  static String medMin(
      List<OpenLoopResult> rs, java.util.function.ToDoubleFunction<OpenLoopResult> f) {
    double[] v = rs.stream().mapToDouble(f).sorted().toArray();
    double median =
        v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
    return String.format(Locale.ROOT, "%.2f (%.2f)", median, v[0]);
  }

  // ---------------------------------------------------------------- 200 vs whole catalog

  static void compare(SurfaceEngine engine, long[] users, double seconds) throws Exception {
    System.out.printf(
        Locale.ROOT,
        "%nin process, ranking 200 candidates vs the whole catalog (%.0f s each, after 5 s"
            + " warm-up)%n",
        seconds);
    System.out.println(
        "  surface         rows/req  1 caller: mean ms   p99 ms | "
            + Runtime.getRuntime().availableProcessors()
            + " callers: req/s");
    Map<String, double[]> r = new LinkedHashMap<>();
    for (String s : new String[] {"home-feed", "home-feed-all"}) {
      int rows = rowsOf(engine, s, users);
      run(engine, s, users, 1, 5);
      long allocated = Allocation.liveThreadsBytes();
      WORKER_ALLOCATED.set(0);
      Histogram one = run(engine, s, users, 1, seconds);
      long bytes = Allocation.liveThreadsBytes() - allocated + WORKER_ALLOCATED.get();
      double kbPerRequest = bytes / 1024.0 / one.getTotalCount();
      int threads = Runtime.getRuntime().availableProcessors();
      Histogram many = run(engine, s, users, threads, seconds);
      double tput = many.getTotalCount() / seconds;
      r.put(s, new double[] {one.getMean() / 1e6, tput});
      System.out.printf(
          Locale.ROOT,
          "  %-15s %8d  %17.2f %8.2f | %12.1f | %10.1f KB allocated per request%n",
          s,
          rows,
          one.getMean() / 1e6,
          ms(one, 99),
          tput,
          kbPerRequest);
    }
    double[] a = r.get("home-feed");
    double[] b = r.get("home-feed-all");
    System.out.printf(
        Locale.ROOT,
        "  whole catalog / 200 candidates: latency %.1fx, throughput %.1fx lower%n",
        b[0] / a[0],
        a[1] / b[1]);
  }

  /**
   * Bytes the (finished) callers of {@link #run} allocated, which dead threads no longer report.
   */
  static final AtomicLong WORKER_ALLOCATED = new AtomicLong();

  static long threadAllocatedBytes() {
    return ((com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean())
        .getThreadAllocatedBytes(Thread.currentThread().getId());
  }

  static int rowsOf(SurfaceEngine engine, String surface, long[] users) {
    SurfaceResult res = engine.rank(surface, request(users[0], 0).withDebug(true));
    return res.debug().candidates();
  }

  static SurfaceRequest request(long user, int category) {
    return SurfaceRequest.of(Map.of("user_id", user)).withContext(Map.of("category", category));
  }

  static Histogram run(SurfaceEngine engine, String surface, long[] users, int threads, double s)
      throws Exception {
    ConcurrentHistogram h = new ConcurrentHistogram(TimeUnit.SECONDS.toNanos(60), 3);
    long end = System.nanoTime() + (long) (s * 1e9);
    List<Thread> ts = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      SplittableRandom rnd = new SplittableRandom(11 + t);
      Thread th =
          new Thread(
              () -> {
                long before = threadAllocatedBytes();
                while (System.nanoTime() < end) {
                  long t0 = System.nanoTime();
                  engine.rank(surface, request(users[rnd.nextInt(users.length)], rnd.nextInt(20)));
                  h.recordValue(System.nanoTime() - t0);
                }
                WORKER_ALLOCATED.addAndGet(threadAllocatedBytes() - before);
              });
      th.start();
      ts.add(th);
    }
    for (Thread th : ts) {
      th.join();
    }
    return h;
  }

  static double ms(Histogram h, double p) {
    return h.getValueAtPercentile(p) / 1e6;
  }
}
