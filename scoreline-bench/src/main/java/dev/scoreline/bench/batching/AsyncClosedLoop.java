package dev.scoreline.bench.batching;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;

/**
 * A closed loop of {@code concurrency} virtual clients, each sending its next call as soon as its
 * previous one answers (no think time), for a warmup period and then a measured period. The calls
 * are asynchronous, so concurrency 64 costs 64 calls in flight, not 64 client threads: on a small
 * machine that leaves the cores to the server rather than to client context switches.
 *
 * <p>Only calls that complete inside the measured period count toward throughput and latency;
 * errors count anywhere. After a failure a client waits 1 ms before its next call (no spinning on a
 * failing server). Every client stops at the deadline; a call in flight then is bounded by the
 * client's own deadline.
 */
final class AsyncClosedLoop {
  static final long MAX_NANOS = TimeUnit.SECONDS.toNanos(60);

  private AsyncClosedLoop() {}

  /** What one run measured. */
  record Result(
      long calls, long errors, double seconds, Histogram latencyNanos, String firstError) {
    double callsPerSecond() {
      return calls / seconds;
    }

    double micros(double percentile) {
      return latencyNanos.getValueAtPercentile(percentile) / 1000.0;
    }
  }

  static Result run(
      AsyncClient client, int concurrency, double warmupSeconds, double measureSeconds) {
    long start = System.nanoTime();
    long measureStart = start + (long) (warmupSeconds * 1e9);
    long end = measureStart + (long) (measureSeconds * 1e9);
    CountDownLatch finished = new CountDownLatch(concurrency);
    ScheduledExecutorService pause =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "bench-closed-loop-pause");
              t.setDaemon(true);
              return t;
            });
    Slot[] slots = new Slot[concurrency];
    try {
      for (int i = 0; i < concurrency; i++) {
        slots[i] = new Slot(client, i % AsyncClient.ROWS, measureStart, end, finished, pause);
      }
      for (Slot s : slots) {
        s.next();
      }
      long waitMillis = Math.max(1, (end - System.nanoTime()) / 1_000_000) + 30_000;
      boolean done = finished.await(waitMillis, TimeUnit.MILLISECONDS);
      Histogram total = new Histogram(MAX_NANOS, 3);
      long calls = 0;
      long errors = done ? 0 : finished.getCount();
      String firstError = done ? null : "a client did not finish in time";
      for (Slot s : slots) {
        synchronized (s) {
          total.add(s.histogram);
          calls += s.calls;
          errors += s.errors;
          firstError = firstError == null ? s.firstError : firstError;
        }
      }
      return new Result(calls, errors, (end - measureStart) / 1e9, total, firstError);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while waiting for the closed loop", e);
    } finally {
      pause.shutdownNow();
    }
  }

  /**
   * One virtual client. Its calls never overlap; the synchronized blocks only make its counters
   * visible to whichever I/O thread runs its next callback and to the final read.
   */
  private static final class Slot implements AsyncClient.Callback {
    private final AsyncClient client;
    private final int row;
    private final long measureStart;
    private final long end;
    private final CountDownLatch finished;
    private final ScheduledExecutorService pause;
    final Histogram histogram = new Histogram(MAX_NANOS, 3);
    long calls;
    long errors;
    String firstError;
    private long sent;

    Slot(
        AsyncClient client,
        int row,
        long measureStart,
        long end,
        CountDownLatch finished,
        ScheduledExecutorService pause) {
      this.client = client;
      this.row = row;
      this.measureStart = measureStart;
      this.end = end;
      this.finished = finished;
      this.pause = pause;
    }

    void next() {
      long now = System.nanoTime();
      if (now - end >= 0) {
        finished.countDown();
        return;
      }
      synchronized (this) {
        sent = now;
      }
      client.call(row, 0, this);
    }

    @Override
    public void done(AsyncClient.Outcome outcome, long endNanos, String detail) {
      boolean ok = outcome == AsyncClient.Outcome.OK;
      synchronized (this) {
        if (ok) {
          if (endNanos - measureStart >= 0 && endNanos - end < 0) {
            histogram.recordValue(Math.min(endNanos - sent, MAX_NANOS));
            calls++;
          }
        } else {
          errors++;
          if (firstError == null) {
            firstError = outcome + " " + detail;
          }
        }
      }
      if (ok) {
        next();
      } else {
        try {
          pause.schedule(this::next, 1, TimeUnit.MILLISECONDS);
        } catch (RuntimeException e) {
          finished.countDown(); // the run is over and the pause thread gone
        }
      }
    }
  }
}
