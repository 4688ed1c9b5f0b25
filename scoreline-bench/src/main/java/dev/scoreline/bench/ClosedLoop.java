package dev.scoreline.bench;

import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;

/**
 * A closed-loop load: {@code concurrency} threads, each calling again as soon as its previous call
 * returns, for a warmup period and then a measured period. Only calls that complete inside the
 * measured period count toward throughput and latency; errors count anywhere. Every loop ends at
 * its deadline; a call in flight then is bounded by the callers' own timeouts.
 */
final class ClosedLoop {
  /** Latencies above this (60 s) are clamped; no caller waits that long. */
  static final long MAX_NANOS = TimeUnit.SECONDS.toNanos(60);

  private ClosedLoop() {}

  /** What one run measured. */
  record Result(
      long calls, long errors, double seconds, Histogram latencyNanos, String firstError) {
    double callsPerSecond() {
      return calls / seconds;
    }
  }

  static Result run(Caller caller, int concurrency, double warmupSeconds, double measureSeconds) {
    long start = System.nanoTime();
    long measureStart = start + (long) (warmupSeconds * 1e9);
    long end = measureStart + (long) (measureSeconds * 1e9);
    Worker[] workers = new Worker[concurrency];
    Thread[] threads = new Thread[concurrency];
    for (int i = 0; i < concurrency; i++) {
      workers[i] = new Worker(caller, measureStart, end);
      threads[i] = new Thread(workers[i], "bench-load-" + i);
      threads[i].setDaemon(true);
    }
    for (Thread t : threads) {
      t.start();
    }
    Histogram total = new Histogram(MAX_NANOS, 3);
    long calls = 0;
    long errors = 0;
    String firstError = null;
    for (int i = 0; i < concurrency; i++) {
      long waitMillis = Math.max(1, (end - System.nanoTime()) / 1_000_000) + 30_000;
      try {
        threads[i].join(waitMillis);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while waiting for the load threads", e);
      }
      Worker w = workers[i];
      if (threads[i].isAlive()) {
        errors++;
        firstError = firstError == null ? "a load thread did not finish in time" : firstError;
        continue;
      }
      total.add(w.histogram);
      calls += w.calls;
      errors += w.errors;
      firstError = firstError == null ? w.firstError : firstError;
    }
    return new Result(calls, errors, (end - measureStart) / 1e9, total, firstError);
  }

  private static final class Worker implements Runnable {
    private final Caller caller;
    private final long measureStart;
    private final long end;
    final Histogram histogram = new Histogram(MAX_NANOS, 3);
    long calls;
    long errors;
    String firstError;

    Worker(Caller caller, long measureStart, long end) {
      this.caller = caller;
      this.measureStart = measureStart;
      this.end = end;
    }

    @Override
    public void run() {
      while (true) {
        long t0 = System.nanoTime();
        if (t0 - end >= 0) {
          return;
        }
        boolean ok;
        try {
          caller.call();
          ok = true;
        } catch (Exception | AssertionError e) {
          ok = false;
          errors++;
          if (firstError == null) {
            firstError = e.toString();
          }
        }
        long t1 = System.nanoTime();
        if (ok && t1 - measureStart >= 0 && t1 - end < 0) {
          histogram.recordValue(Math.min(t1 - t0, MAX_NANOS));
          calls++;
        }
        if (!ok) {
          // do not spin on a failing server; the run is void anyway
          try {
            Thread.sleep(1);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return;
          }
        }
      }
    }
  }
}
