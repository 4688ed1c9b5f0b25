package dev.scoreline.bench.batch;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The batch benchmark: every user's top-K items by dot product, Scoreline's local engine side by
 * side with Spark MLlib ALS {@code recommendForAllUsers}, on the same factors, in one run.
 *
 * <pre>
 * java -cp "scoreline-bench/target/scoreline-bench.jar:scoreline-bench/target/lib/*" \
 *   dev.scoreline.bench.batch.BatchBenchmark [users=100000] [items=20000] [dim=64] [k=50] \
 *   [reps=3] [sparkReps=3] [threads=2] [partitions=64] [phases=peak,local,spark] [quiet=0.15]
 * </pre>
 *
 * Each phase runs in its own JVM (started by this driver with the same classpath), so JIT state,
 * heap and Spark's threads of one phase do not disturb another: {@code peak} measures the FP32 peak
 * Java reaches on this machine (a JIT-vectorized FMA loop, 1 and N threads), {@code local} times
 * Scoreline's job end to end (score, write the lists to RocksDB as a snapshot, publish) and its
 * kernel alone, in a JVM with {@code --add-modules jdk.incubator.vector} as the {@code scoreline}
 * launcher starts it (so {@code DotProductTopK} uses its Vector API kernel), {@code plain} (not in
 * the defaults) times the kernel alone in a JVM without that module (the plain Java kernel), {@code
 * spark} times ALS in {@code local[N]} with the JVM options Spark's launcher adds. Before each rep
 * the phase waits until other processes use less than {@code quiet} cores, and it reports the other
 * processes' CPU during the rep. The driver prints a markdown report: min and median time,
 * scores/s, GFLOP/s and the fraction of peak.
 */
public final class BatchBenchmark {
  private static final Map<String, String> DEFAULTS = new LinkedHashMap<>();

  static {
    DEFAULTS.put("users", "100000");
    DEFAULTS.put("items", "20000");
    DEFAULTS.put("dim", "64");
    DEFAULTS.put("k", "50");
    DEFAULTS.put("reps", "3");
    DEFAULTS.put("sparkReps", "3");
    DEFAULTS.put("runnerReps", "3");
    DEFAULTS.put("threads", "2");
    DEFAULTS.put("partitions", "64");
    DEFAULTS.put("phases", "peak,local,spark");
    DEFAULTS.put("quiet", "0.15");
    DEFAULTS.put("disturbed", "0.25");
    DEFAULTS.put("extraReps", "6");
    DEFAULTS.put("baseline", "");
    DEFAULTS.put("bracket", "3");
  }

  private BatchBenchmark() {}

  public static void main(String[] args) throws Exception {
    Map<String, String> a = new LinkedHashMap<>(DEFAULTS);
    String phase = null;
    for (String arg : args) {
      int eq = arg.indexOf('=');
      if (eq <= 0) {
        usage("expected key=value, got '" + arg + "'");
      }
      String key = arg.substring(0, eq);
      if (key.equals("phase")) {
        phase = arg.substring(eq + 1);
      } else if (!DEFAULTS.containsKey(key)) {
        usage("unknown option '" + key + "'");
      } else {
        a.put(key, arg.substring(eq + 1));
      }
    }
    if (phase != null) {
      // phases log warnings only (Spark logs every task at INFO)
      ((ch.qos.logback.classic.Logger)
              org.slf4j.LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME))
          .setLevel(ch.qos.logback.classic.Level.WARN);
      switch (phase) {
        case "peak" -> peakPhase(a);
        case "local" -> LocalPhase.run(a, "local");
        case "base" -> LocalPhase.run(a, "base");
        case "plain" -> LocalPhase.kernelOnly(a, "plain-kernel");
        case "spark" -> SparkPhase.run(a);
        case "runner" -> RunnerPhase.run(a);
        default -> usage("unknown phase " + phase);
      }
      return;
    }
    drive(a);
  }

  private static void usage(String problem) {
    System.err.println(problem);
    System.err.println(
        "usage: BatchBenchmark [users=100000] [items=20000] [dim=64] [k=50] [reps=3]"
            + " [sparkReps=3] [threads=2] [partitions=64] [phases=peak,local,spark] [quiet=0.15]"
            + " [disturbed=0.25] [extraReps=6] [baseline=CLASSPATH, for the base phase]"
            + " [bracket=3, FMA probes before and after each local rep; 0: none]");
    System.exit(2);
  }

  static int intArg(Map<String, String> a, String key) {
    return Integer.parseInt(a.get(key));
  }

  /** A timed body; returns extra fields for the result line. */
  interface Body {
    String run() throws Exception;
  }

  /**
   * Runs {@code reps} clean reps of {@code body}: before each, a GC and a wait for a quiet machine;
   * a rep during which other processes used more than {@code disturbed} cores is reported as {@code
   * <kind>-discarded} and repeated, at most {@code extraReps} times in all.
   */
  static void reps(Map<String, String> a, String kind, int reps, Body body) throws Exception {
    reps(a, kind, reps, body, false);
  }

  /**
   * {@link #reps(Map, String, int, Body)}, and when {@code bracketed}, the peak this machine gives
   * right then measured around each rep: the best of {@code bracket} short FMA probes ({@link
   * PeakProbe}, {@code threads} threads) just before the timed body and the best of as many just
   * after, reported as {@code peakBefore} and {@code peakAfter} (GFLOP/s). On a shared virtual
   * machine the cores' speed changes from minute to minute (other tenants on the host), so a rep is
   * compared with the peak of its own moment as well as with the nominal one. The probes are not
   * part of the timed body. The phase must have run {@link PeakProbe#measure} once before (JIT).
   */
  static void reps(Map<String, String> a, String kind, int reps, Body body, boolean bracketed)
      throws Exception {
    double quiet = Double.parseDouble(a.get("quiet"));
    double disturbed = Double.parseDouble(a.get("disturbed"));
    int extra = intArg(a, "extraReps");
    int probes = bracketed ? intArg(a, "bracket") : 0;
    int threads = intArg(a, "threads");
    int clean = 0;
    for (int attempt = 1; clean < reps && attempt <= reps + extra; attempt++) {
      System.gc();
      Cpu.awaitQuiet(quiet, 1800);
      double before = bestProbe(threads, probes);
      Cpu cpu = Cpu.start();
      long t0 = System.nanoTime();
      String fields = body.run();
      double seconds = (System.nanoTime() - t0) / 1e9;
      Cpu.Usage usage = cpu.stop();
      double after = bestProbe(threads, probes);
      boolean ok = !(usage.otherCores() > disturbed);
      if (ok) {
        clean++;
      }
      if (probes > 0) {
        fields += String.format(Locale.ROOT, " peakBefore=%.1f peakAfter=%.1f", before, after);
      }
      result(ok ? kind : kind + "-discarded", attempt, seconds, usage, fields);
    }
  }

  /** Passes of one bracketing probe: about 0.1 s on two threads of this machine. */
  private static final int BRACKET_PASSES = 500_000;

  /** The best GFLOP/s of {@code probes} FMA probes on {@code threads} threads, or NaN for none. */
  private static double bestProbe(int threads, int probes) throws InterruptedException {
    double best = Double.NaN;
    for (int i = 0; i < probes; i++) {
      double g = PeakProbe.measure(threads, BRACKET_PASSES);
      best = Double.isNaN(best) ? g : Math.max(best, g);
    }
    return best;
  }

  /** One timed rep, as a line the driver collects. */
  static void result(String kind, int rep, double seconds, Cpu.Usage usage, String extra) {
    System.out.printf(
        Locale.ROOT,
        "RESULT kind=%s rep=%d seconds=%.3f selfCores=%.2f otherCores=%.2f %s%n",
        kind,
        rep,
        seconds,
        usage.selfCores(),
        usage.otherCores(),
        extra);
    System.out.flush();
  }

  private static void peakPhase(Map<String, String> a) throws InterruptedException {
    int threads = intArg(a, "threads");
    double quiet = Double.parseDouble(a.get("quiet"));
    // JIT warm-up, long enough for C2's final code of the loop on every thread; what still varies
    // from rep to rep (up to 2x) is the host's speed
    for (int i = 0; i < 3; i++) {
      PeakProbe.measure(threads, 2_000_000);
    }
    for (int t : threads == 1 ? new int[] {1} : new int[] {1, threads}) {
      for (int rep = 1; rep <= 5; rep++) {
        Cpu.awaitQuiet(quiet, 1800);
        double gflops = PeakProbe.measure(t, 300_000);
        System.out.printf(Locale.ROOT, "RESULT kind=peak threads=%d gflops=%.1f%n", t, gflops);
      }
    }
  }

  // ------------------------------------------------------------------ driver

  private static void drive(Map<String, String> a) throws Exception {
    List<String> phases = Arrays.asList(a.get("phases").split(","));
    List<Map<String, String>> results = new ArrayList<>();
    System.out.println("# batch benchmark " + a);
    System.out.println("java " + System.getProperty("java.vm.version") + ", " + cpuModel());
    for (String phase : phases) {
      List<String> cmd = new ArrayList<>();
      cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
      switch (phase) {
        case "peak" -> cmd.add("-Xmx512m");
        case "local", "base" -> {
          cmd.add("-Xmx4g");
          // as the scoreline launcher: DotProductTopK's Vector API kernel
          cmd.add("--add-modules");
          cmd.add("jdk.incubator.vector");
        }
        case "plain" -> cmd.add("-Xmx4g"); // without the module: the plain Java kernel
        case "spark", "runner" -> {
          cmd.add("-Xmx8g");
          cmd.addAll(SparkPhase.JVM_FLAGS);
        }
        default -> usage("unknown phase " + phase);
      }
      cmd.add("-cp");
      if (phase.equals("base")) {
        if (a.get("baseline").isEmpty()) {
          usage("the base phase needs baseline=<classes of the build to compare with>");
        }
        // the baseline build's classes first: the same phase on the code being compared with
        cmd.add(
            a.get("baseline") + java.io.File.pathSeparator + System.getProperty("java.class.path"));
      } else {
        cmd.add(System.getProperty("java.class.path"));
      }
      cmd.add(BatchBenchmark.class.getName());
      cmd.add("phase=" + phase);
      for (Map.Entry<String, String> e : a.entrySet()) {
        cmd.add(e.getKey() + "=" + e.getValue());
      }
      System.out.println("## phase " + phase);
      ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
      pb.environment().put("SPARK_LOCAL_IP", "127.0.0.1");
      Process p = pb.start();
      try (BufferedReader r =
          new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
        String line;
        while ((line = r.readLine()) != null) {
          if (line.startsWith("RESULT ")) {
            System.out.println(line);
            results.add(parse(line));
          } else if (!line.contains(" INFO ") && !line.contains(" DEBUG ")) {
            System.out.println("  | " + line);
          }
        }
      }
      int rc = p.waitFor();
      if (rc != 0) {
        System.out.println("phase " + phase + " exited with " + rc);
      }
    }
    report(a, results);
  }

  private static Map<String, String> parse(String line) {
    Map<String, String> m = new LinkedHashMap<>();
    for (String f : line.substring("RESULT ".length()).trim().split("\\s+")) {
      int eq = f.indexOf('=');
      if (eq > 0) {
        m.put(f.substring(0, eq), f.substring(eq + 1));
      }
    }
    return m;
  }

  private static List<Double> values(List<Map<String, String>> rs, String kind, String field) {
    List<Double> out = new ArrayList<>();
    for (Map<String, String> r : rs) {
      if (kind.equals(r.get("kind")) && r.containsKey(field)) {
        out.add(Double.parseDouble(r.get(field)));
      }
    }
    return out;
  }

  private static double min(List<Double> v) {
    return v.stream().mapToDouble(Double::doubleValue).min().orElse(Double.NaN);
  }

  private static double max(List<Double> v) {
    return v.stream().mapToDouble(Double::doubleValue).max().orElse(Double.NaN);
  }

  private static double median(List<Double> v) {
    if (v.isEmpty()) {
      return Double.NaN;
    }
    double[] s = v.stream().mapToDouble(Double::doubleValue).sorted().toArray();
    return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  }

  private static void report(Map<String, String> a, List<Map<String, String>> rs) throws Exception {
    int threads = intArg(a, "threads");
    double scores = (double) intArg(a, "users") * intArg(a, "items");
    double flops = 2.0 * scores * intArg(a, "dim");

    List<Double> peak1 = new ArrayList<>();
    List<Double> peakN = new ArrayList<>();
    for (Map<String, String> r : rs) {
      if ("peak".equals(r.get("kind"))) {
        (Integer.parseInt(r.get("threads")) == 1 ? peak1 : peakN)
            .add(Double.parseDouble(r.get("gflops")));
      }
    }
    Nominal nominal = nominal(threads);
    double measuredPeak = threads == 1 ? max(peak1) : max(peakN);
    // the honest denominator: the larger of the nominal and the measured peak
    double peak = Math.max(nominal.gflops(), Double.isNaN(measuredPeak) ? 0 : measuredPeak);

    StringBuilder md = new StringBuilder();
    md.append("\n## Report\n\n");
    md.append(
        String.format(
            Locale.ROOT,
            "Peak FP32, %d threads: nominal %.0f GFLOP/s (%s); measured by the Java FMA probe"
                + " %.0f GFLOP/s (1 thread: max %.0f, median %.0f; %d threads: max %.0f, median"
                + " %.0f). Fractions below use %.0f GFLOP/s.%n%n",
            threads,
            nominal.gflops(),
            nominal.how(),
            measuredPeak,
            max(peak1),
            median(peak1),
            threads,
            max(peakN),
            median(peakN),
            peak));
    md.append(
        "| run | reps (s) | other cores | min s | median s | scores/s (min) | GFLOP/s (min) |"
            + " % of peak (min / median) | % of the probes around each rep (best / median) |\n"
            + "|---|---|---|---:|---:|---:|---:|---:|---:|\n");
    String[][] kinds = {
      {"local-job", "Scoreline local engine: score + write RocksDB snapshot + publish"},
      {"local-kernel", "Scoreline kernel only (DotProductTopK.run, lists discarded)"},
      {"base-job", "baseline build: score + write RocksDB snapshot + publish"},
      {"base-kernel", "baseline build: kernel only"},
      {"plain-kernel", "Scoreline plain Java kernel only (JVM without jdk.incubator.vector)"},
      {"spark-als", "Spark MLlib ALSModel.recommendForAllUsers, local[" + threads + "], noop sink"},
    };
    for (String[] k : kinds) {
      List<Double> secs = values(rs, k[0], "seconds");
      if (secs.isEmpty()) {
        continue;
      }
      List<Double> other = values(rs, k[0], "otherCores");
      double best = min(secs);
      List<Double> ofMoment = fractionsOfBracket(rs, k[0], flops);
      md.append(
          String.format(
              Locale.ROOT,
              "| %s | %s | %s | %.2f | %.2f | %.3g | %.1f | %.1f %% / %.1f %% | %s |%n",
              k[1],
              join(secs, "%.2f"),
              join(other, "%.2f"),
              best,
              median(secs),
              scores / best,
              flops / best / 1e9,
              100 * flops / best / 1e9 / peak,
              100 * flops / median(secs) / 1e9 / peak,
              ofMoment.isEmpty()
                  ? "–"
                  : String.format(
                      Locale.ROOT,
                      "%.1f %% / %.1f %% (%s)",
                      100 * max(ofMoment),
                      100 * median(ofMoment),
                      join(ofMoment, "%.3f"))));
    }
    md.append(
        "\nThe last column divides each rep's GFLOP/s by the larger of the two probes run just"
            + " before and just after it (peakBefore, peakAfter: the best of `bracket` short FMA"
            + " probes each): the peak of that moment on this shared machine, whose speed changes"
            + " from minute to minute.\n");
    double local = min(values(rs, "local-job", "seconds"));
    double spark = min(values(rs, "spark-als", "seconds"));
    if (!Double.isNaN(local) && !Double.isNaN(spark)) {
      md.append(
          String.format(
              Locale.ROOT,
              "%nSpeed-up of the local engine over Spark ALS: %.1f× (min vs min), %.1f× (median vs"
                  + " median).%n",
              spark / local,
              median(values(rs, "spark-als", "seconds"))
                  / median(values(rs, "local-job", "seconds"))));
    }
    for (String what : new String[] {"job", "kernel"}) {
      double base = median(values(rs, "base-" + what, "seconds"));
      double now = median(values(rs, "local-" + what, "seconds"));
      if (!Double.isNaN(base) && !Double.isNaN(now)) {
        md.append(
            String.format(
                Locale.ROOT,
                "%n%s: baseline build's median over this build's: %.2f×.%n",
                what,
                base / now));
      }
    }
    double plain = median(values(rs, "plain-kernel", "seconds"));
    double kernel = median(values(rs, "local-kernel", "seconds"));
    if (!Double.isNaN(plain) && !Double.isNaN(kernel)) {
      md.append(
          String.format(
              Locale.ROOT,
              "%nKernel with jdk.incubator.vector over the plain Java kernel: %.1f× (median vs"
                  + " median).%n",
              plain / kernel));
    }
    List<Double> runnerLocal = values(rs, "runner-local", "seconds");
    List<Double> runnerSpark = values(rs, "runner-spark", "seconds");
    if (!runnerLocal.isEmpty() && !runnerSpark.isEmpty()) {
      double entities = values(rs, "runner-local", "entities").get(0);
      md.append(
          String.format(
              Locale.ROOT,
              "%n| runner of %s (%.0f entities, Redis) | reps (s) | min s | median s | entities/s"
                  + " (median) |%n|---|---|---:|---:|---:|%n",
              RunnerPhase.SURFACE,
              entities));
      for (String[] k :
          new String[][] {
            {"runner-local", "scoreline batch (local engine)"},
            {"runner-spark", "Spark runner, local[" + threads + "]"}
          }) {
        List<Double> secs = values(rs, k[0], "seconds");
        md.append(
            String.format(
                Locale.ROOT,
                "| %s | %s | %.2f | %.2f | %.0f |%n",
                k[1],
                join(secs, "%.2f"),
                min(secs),
                median(secs),
                entities / median(secs)));
      }
      md.append(
          String.format(
              Locale.ROOT,
              "%nSpark runner time over the local engine's: %.1f× (median vs median).%n",
              median(runnerSpark) / median(runnerLocal)));
    }
    for (Map<String, String> r : rs) {
      String kind = r.get("kind");
      if (kind.endsWith("-check") || kind.endsWith("-info") || kind.endsWith("-db")) {
        md.append("\n").append(r);
      }
    }
    System.out.println(md);
  }

  /**
   * Each rep's GFLOP/s over the larger of the probes bracketing it ({@code peakBefore}, {@code
   * peakAfter}); empty when the reps were not bracketed.
   */
  private static List<Double> fractionsOfBracket(
      List<Map<String, String>> rs, String kind, double flops) {
    List<Double> out = new ArrayList<>();
    for (Map<String, String> r : rs) {
      if (kind.equals(r.get("kind")) && r.containsKey("peakBefore")) {
        double moment =
            Math.max(
                Double.parseDouble(r.get("peakBefore")), Double.parseDouble(r.get("peakAfter")));
        out.add(flops / Double.parseDouble(r.get("seconds")) / 1e9 / moment);
      }
    }
    return out;
  }

  private static String join(List<Double> v, String fmt) {
    StringBuilder sb = new StringBuilder();
    for (double d : v) {
      sb.append(sb.length() == 0 ? "" : " · ").append(String.format(Locale.ROOT, fmt, d));
    }
    return sb.toString();
  }

  record Nominal(double gflops, String how) {}

  /**
   * cores × GHz × FLOP/cycle from {@code lscpu}-like sources: the clock in the model name (or
   * /proc/cpuinfo's MHz), SIMD width from the CPU flags (AVX-512: 16 FP32 lanes, AVX2: 8), 2 FLOP
   * per FMA and 2 FMA units per core (Xeon Gold/Platinum; an assumption, stated in the report).
   */
  static Nominal nominal(int threads) {
    try {
      String info = Files.readString(Path.of("/proc/cpuinfo"));
      double ghz = Double.NaN;
      java.util.regex.Matcher m = java.util.regex.Pattern.compile("@ ([0-9.]+)GHz").matcher(info);
      if (m.find()) {
        ghz = Double.parseDouble(m.group(1));
      } else {
        m = java.util.regex.Pattern.compile("cpu MHz\\s*:\\s*([0-9.]+)").matcher(info);
        if (m.find()) {
          ghz = Double.parseDouble(m.group(1)) / 1000;
        }
      }
      int lanes = info.contains(" avx512f") ? 16 : info.contains(" avx2") ? 8 : 4;
      int units = 2;
      double perCore = ghz * lanes * 2 * units;
      return new Nominal(
          perCore * threads,
          String.format(
              Locale.ROOT,
              "%d cores × %.2f GHz × %d lanes × 2 FLOP/FMA × %d FMA units",
              threads,
              ghz,
              lanes,
              units));
    } catch (Exception e) {
      return new Nominal(Double.NaN, "unknown: " + e);
    }
  }

  private static String cpuModel() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
        if (line.startsWith("model name")) {
          return line.substring(line.indexOf(':') + 1).trim()
              + ", "
              + Runtime.getRuntime().availableProcessors()
              + " CPUs";
        }
      }
    } catch (Exception e) {
      // fall through
    }
    return "unknown CPU";
  }
}
