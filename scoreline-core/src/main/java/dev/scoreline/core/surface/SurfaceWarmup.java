package dev.scoreline.core.surface;

import static java.util.Objects.requireNonNull;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Warms the surfaces of a {@link SurfaceEngine} up before a server reports ready: for each online,
 * two-stage and streaming surface, {@code warmup.requests} real calls of the ranked path (so the
 * JIT compiles it, ONNX Runtime allocates, indexes and stores are opened and paged in), over the
 * surface's {@code warmup.entities} or over keys the {@link KeySampler} gives.
 *
 * <p>Warm-up calls read only (the pipeline writes nothing: no push, no event), run on the engine's
 * pool with no deadline and no fallback, and are not user traffic: they are not recorded in the
 * surface metrics but in {@code scoreline_surface_warmup_requests_total{surface,outcome}} (outcome
 * ranked, empty or error). Each surface's warm-up stops at its {@code warmup.max-duration} (a call
 * still running then is cancelled) or after {@value #MAX_CONSECUTIVE_ERRORS} errors in a row;
 * errors are logged and never fail the caller. Batch surfaces answer from their snapshot, so they
 * are not warmed up.
 */
public final class SurfaceWarmup {
  private static final Logger log = LoggerFactory.getLogger(SurfaceWarmup.class);

  /** Warm-up of a surface gives up after this many failed calls in a row. */
  public static final int MAX_CONSECUTIVE_ERRORS = 20;

  /** How many distinct entity keys are asked of the sampler at most. */
  public static final int MAX_SAMPLED_KEYS = 100;

  /** The p50 reported is that of the last calls, at most this many. */
  static final int LAST_CALLS = 50;

  /** Entity keys to warm a surface up with when it names none. */
  @FunctionalInterface
  public interface KeySampler {
    /**
     * Up to {@code max} entity keys of the surface's entity (maps of key columns), or an empty list
     * when none can be found.
     */
    List<Map<String, Object>> sample(Surface surface, int max);

    /** A sampler that finds none: surfaces warm up only with their explicit {@code entities}. */
    KeySampler NONE = (surface, max) -> List.of();
  }

  /**
   * What a surface's warm-up did.
   *
   * @param surface the surface
   * @param planned the calls configured ({@code warmup.requests})
   * @param ran the calls run (finished, failed or cancelled)
   * @param ranked calls that ranked candidates
   * @param empty calls for entities without candidates
   * @param errors calls that failed
   * @param duration how long the warm-up took
   * @param p50Millis the median latency of the last (up to 50) finished calls; NaN when none
   * @param outcome {@code done}, {@code max-duration}, {@code errors}, {@code disabled}, {@code
   *     batch} or {@code no-keys}
   */
  public record Report(
      String surface,
      int planned,
      int ran,
      int ranked,
      int empty,
      int errors,
      Duration duration,
      double p50Millis,
      String outcome) {}

  private final SurfaceEngine engine;
  private final KeySampler sampler;
  private final MeterRegistry meters;

  /**
   * @param sampler entity keys for surfaces without {@code warmup.entities}
   * @param meters where the warm-up counters go; null for none
   */
  public SurfaceWarmup(SurfaceEngine engine, KeySampler sampler, MeterRegistry meters) {
    this.engine = requireNonNull(engine, "engine is null");
    this.sampler = requireNonNull(sampler, "sampler is null");
    this.meters = meters;
  }

  /** Warms every surface up, one after another; never throws for a failing call. */
  public List<Report> run() {
    List<Report> out = new ArrayList<>();
    for (Surface s : engine.surfaces().all()) {
      out.add(run(s));
    }
    return List.copyOf(out);
  }

  /** Warms one surface up. */
  public Report run(Surface s) {
    SurfaceSpec.Warmup w = s.spec.warmup();
    if (w.requests() == 0) {
      log.info("surface {}: warm-up disabled (warmup.requests: 0)", s.name());
      return skipped(s, "disabled");
    }
    if (s.spec.mode() == SurfaceSpec.Mode.BATCH) {
      log.debug("surface {}: batch surfaces answer from their snapshot; no warm-up", s.name());
      return skipped(s, "batch");
    }
    List<Map<String, Object>> keys = s.warmupKeys;
    if (keys.isEmpty()) {
      try {
        keys = sampler.sample(s, Math.min(w.requests(), MAX_SAMPLED_KEYS));
      } catch (RuntimeException e) {
        log.warn(
            "surface {}: cannot sample entity keys for the warm-up ({}); set warmup.entities in {}",
            s.name(),
            e.toString(),
            s.origin());
        return skipped(s, "no-keys");
      }
      if (keys.isEmpty()) {
        log.warn(
            "surface {}: no entity keys to warm up with; set warmup.entities in {} (or"
                + " warmup.requests: 0 to switch warm-up off)",
            s.name(),
            s.origin());
        return skipped(s, "no-keys");
      }
    }
    return warm(s, w, keys);
  }

  private Report warm(Surface s, SurfaceSpec.Warmup w, List<Map<String, Object>> keys) {
    long start = System.nanoTime();
    long end = start + w.maxDuration().toNanos();
    long[] last = new long[Math.min(LAST_CALLS, w.requests())];
    int finished = 0;
    int ran = 0;
    int ranked = 0;
    int empty = 0;
    int errors = 0;
    int errorsInARow = 0;
    String outcome = "done";
    for (int i = 0; i < w.requests(); i++) {
      long budget = end - System.nanoTime();
      if (budget <= 0) {
        outcome = "max-duration";
        break;
      }
      SurfaceRequest request =
          new SurfaceRequest(keys.get(i % keys.size()), w.context(), null, Map.of(), false, null);
      long t0 = System.nanoTime();
      Future<Boolean> f;
      try {
        f = engine.executor().submit(() -> engine.warmupCall(s, request));
      } catch (RejectedExecutionException e) {
        if (engine.executor().isShutdown()) {
          outcome = "stopped";
          break;
        }
        // the pool is full (user traffic already arriving): run on this thread instead
        f = null;
      }
      ran++;
      try {
        boolean hadCandidates =
            f == null ? engine.warmupCall(s, request) : f.get(budget, TimeUnit.NANOSECONDS);
        last[finished % last.length] = System.nanoTime() - t0;
        finished++;
        errorsInARow = 0;
        if (hadCandidates) {
          ranked++;
          count(s, "ranked");
        } else {
          empty++;
          count(s, "empty");
        }
      } catch (TimeoutException e) {
        f.cancel(true);
        errors++;
        count(s, "error");
        outcome = "max-duration";
        break;
      } catch (InterruptedException e) {
        f.cancel(true);
        Thread.currentThread().interrupt();
        outcome = "interrupted";
        break;
      } catch (ExecutionException | RuntimeException e) {
        Throwable c = e instanceof ExecutionException ? e.getCause() : e;
        errors++;
        errorsInARow++;
        count(s, "error");
        if (errors == 1) {
          log.warn(
              "surface {}: warm-up request for key {} failed (warm-up goes on): {}",
              s.name(),
              request.key(),
              c.toString());
        } else {
          log.debug("surface {}: warm-up request failed: {}", s.name(), c.toString());
        }
        if (errorsInARow >= MAX_CONSECUTIVE_ERRORS) {
          outcome = "errors";
          break;
        }
      }
    }
    Duration took = Duration.ofNanos(System.nanoTime() - start);
    double p50 = median(last, Math.min(finished, last.length));
    Report r = new Report(s.name(), w.requests(), ran, ranked, empty, errors, took, p50, outcome);
    String line =
        "surface {}: warm-up ran {} of {} requests in {} ms ({} ranked, {} without candidates, {}"
            + " failed); p50 of the last {}: {} ms; {}";
    Object[] args = {
      s.name(),
      ran,
      w.requests(),
      took.toMillis(),
      ranked,
      empty,
      errors,
      Math.min(finished, last.length),
      Double.isNaN(p50) ? "-" : String.format(java.util.Locale.ROOT, "%.2f", p50),
      switch (outcome) {
        case "done" -> "done";
        case "max-duration" -> "stopped at warmup.max-duration " + w.maxDuration();
        case "errors" -> "gave up after " + MAX_CONSECUTIVE_ERRORS + " failed requests in a row";
        default -> outcome;
      }
    };
    if (errors > 0 || !outcome.equals("done")) {
      log.warn(line, args);
    } else {
      log.info(line, args);
    }
    return r;
  }

  private static double median(long[] nanos, int n) {
    if (n == 0) {
      return Double.NaN;
    }
    long[] a = Arrays.copyOf(nanos, n);
    Arrays.sort(a);
    double m = n % 2 == 1 ? a[n / 2] : (a[n / 2 - 1] + a[n / 2]) / 2.0;
    return m / 1e6;
  }

  private static Report skipped(Surface s, String outcome) {
    return new Report(
        s.name(), s.spec.warmup().requests(), 0, 0, 0, 0, Duration.ZERO, Double.NaN, outcome);
  }

  private void count(Surface s, String outcome) {
    if (meters == null) {
      return;
    }
    Counter.builder("scoreline.surface.warmup.requests")
        .description(
            "Warm-up calls of a surface's pipeline before the server is ready (not user traffic)")
        .tag("surface", s.name())
        .tag("outcome", outcome)
        .register(meters)
        .increment();
  }
}
