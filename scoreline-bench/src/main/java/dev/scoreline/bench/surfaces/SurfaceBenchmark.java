package dev.scoreline.bench.surfaces;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.scoreline.cli.ServerLauncher;
import dev.scoreline.core.surface.SurfaceEngine;
import dev.scoreline.core.surface.SurfaceRequest;
import dev.scoreline.core.surface.SurfaceResult;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.HdrHistogram.ConcurrentHistogram;
import org.HdrHistogram.Histogram;

/**
 * Issue 5's surface benchmark on the quickstart demo (prepare it first with {@code ./scoreline
 * quickstart DIR --no-serve}):
 *
 * <ol>
 *   <li>{@code GET /v1/surfaces/home-feed/{user}} at a fixed offered rate (open loop: call i is due
 *       at start + i/rate, latency measured from the due time, so queueing is not hidden), after a
 *       warm-up at the same rate; p50/p99/p99.9/max, fallbacks, and the per-stage breakdown the
 *       server reports in each answer;
 *   <li>in process, side by side in the same JVM: ranking the 200 precomputed candidates ({@code
 *       home-feed}) vs ranking the whole catalog ({@code home-feed-all}, source all-items: every
 *       item's features fetched and scored per request), latency with one caller and throughput
 *       with as many callers as cores.
 * </ol>
 *
 * The server runs in this JVM (the driver shares the 2 cores with it, as a load balancer's client
 * would not). Usage: {@code SurfaceBenchmark PROJECT [rate=200] [warmupSeconds=60]
 * [measureSeconds=60] [compareSeconds=20]}.
 */
public final class SurfaceBenchmark {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String[] STAGES = {
    "candidates", "features", "rules", "transform", "inference", "total"
  };

  public static void main(String[] args) throws Exception {
    Path project = Path.of(args[0]).toAbsolutePath();
    double rate = args.length > 1 ? Double.parseDouble(args[1]) : 200;
    double warmup = args.length > 2 ? Double.parseDouble(args[2]) : 60;
    double measure = args.length > 3 ? Double.parseDouble(args[3]) : 60;
    double compare = args.length > 4 ? Double.parseDouble(args[4]) : 20;
    writeWholeCatalogSurface(project);
    long[] users = users(project);
    System.out.printf(
        Locale.ROOT,
        "surface benchmark: %s, %d users, %d cores, java %s%n",
        project,
        users.length,
        Runtime.getRuntime().availableProcessors(),
        System.getProperty("java.version"));
    try (ServerLauncher server =
        ServerLauncher.start(
            ServerLauncher.Options.defaults(project.resolve("models"))
                .withPort(0)
                .withProject(project))) {
      openLoop(server.port(), users, rate, warmup, measure);
      compare(server.surfaceEngine(), users, compare);
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

  static void openLoop(int port, long[] users, double rate, double warmup, double measure)
      throws Exception {
    ExecutorService io = Executors.newFixedThreadPool(4);
    HttpClient client =
        HttpClient.newBuilder().executor(io).connectTimeout(Duration.ofSeconds(5)).build();
    String base = "http://127.0.0.1:" + port + "/v1/surfaces/home-feed/";
    ConcurrentHistogram latency = new ConcurrentHistogram(TimeUnit.SECONDS.toNanos(60), 3);
    Map<String, ConcurrentHistogram> stages = new ConcurrentHashMap<>();
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
    double period = 1e9 / rate;
    long sent = 0;
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
      long user = users[rnd.nextInt(users.length)];
      int category = rnd.nextInt(20);
      HttpRequest req =
          HttpRequest.newBuilder(URI.create(base + user + "?context.category=" + category))
              .timeout(Duration.ofSeconds(10))
              .build();
      outstanding.incrementAndGet();
      if (counted) {
        sent++;
      }
      client
          .sendAsync(req, HttpResponse.BodyHandlers.ofByteArray())
          .whenComplete(
              (r, t) -> {
                long lat = System.nanoTime() - due;
                outstanding.decrementAndGet();
                if (!counted) {
                  return;
                }
                if (t != null || r.statusCode() != 200) {
                  errors.incrementAndGet();
                  return;
                }
                latency.recordValue(lat);
                ok.incrementAndGet();
                try {
                  JsonNode n = JSON.readTree(r.body());
                  if (n.get("fallback").asBoolean()) {
                    fallbacks.incrementAndGet();
                  }
                  JsonNode tm = n.get("timings_ms");
                  for (String s : STAGES) {
                    if (tm.has(s)) {
                      stages.get(s).recordValue((long) (tm.get(s).asDouble() * 1e6));
                    }
                  }
                } catch (Exception e) {
                  errors.incrementAndGet();
                }
              });
    }
    while (outstanding.get() > 0 && System.nanoTime() - end < 15e9) {
      Thread.sleep(5);
    }
    io.shutdown();
    System.out.printf(
        Locale.ROOT,
        "%nopen loop GET /v1/surfaces/home-feed/{user}: offered %.0f req/s for %.0f s after %.0f s"
            + " warm-up%n",
        rate,
        measure,
        warmup);
    System.out.printf(
        Locale.ROOT,
        "  sent %d, ok %d (%.1f/s), fallbacks %d, errors %d, unfinished %d%n",
        sent,
        ok.get(),
        ok.get() / measure,
        fallbacks.get(),
        errors.get(),
        outstanding.get());
    System.out.printf(
        Locale.ROOT,
        "  latency from due time: p50 %.2f ms  p90 %.2f  p99 %.2f  p99.9 %.2f  max %.2f%n",
        ms(latency, 50),
        ms(latency, 90),
        ms(latency, 99),
        ms(latency, 99.9),
        latency.getMaxValue() / 1e6);
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
      Histogram one = run(engine, s, users, 1, seconds);
      int threads = Runtime.getRuntime().availableProcessors();
      Histogram many = run(engine, s, users, threads, seconds);
      double tput = many.getTotalCount() / seconds;
      r.put(s, new double[] {one.getMean() / 1e6, tput});
      System.out.printf(
          Locale.ROOT,
          "  %-15s %8d  %17.2f %8.2f | %12.1f%n",
          s,
          rows,
          one.getMean() / 1e6,
          ms(one, 99),
          tput);
    }
    double[] a = r.get("home-feed");
    double[] b = r.get("home-feed-all");
    System.out.printf(
        Locale.ROOT,
        "  whole catalog / 200 candidates: latency %.1fx, throughput %.1fx lower%n",
        b[0] / a[0],
        a[1] / b[1]);
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
                while (System.nanoTime() < end) {
                  long t0 = System.nanoTime();
                  engine.rank(surface, request(users[rnd.nextInt(users.length)], rnd.nextInt(20)));
                  h.recordValue(System.nanoTime() - t0);
                }
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
