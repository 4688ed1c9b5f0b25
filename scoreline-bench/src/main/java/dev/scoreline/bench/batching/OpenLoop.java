package dev.scoreline.bench.batching;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;
import org.HdrHistogram.ConcurrentHistogram;
import org.HdrHistogram.Histogram;

/**
 * An open-loop load: calls are sent at a fixed arrival rate whether or not earlier ones have
 * answered (call {@code i} is due at {@code start + i / rate}), from one generator thread that
 * sleeps until the next call is due and then sends every call that is due. Answers arrive on the
 * client's I/O threads.
 *
 * <p>Calls due inside the measured period are the ones counted, however late they answer. Admitted
 * latency is measured from the due time (so a generator that falls behind cannot hide queueing: no
 * coordinated omission) and also from the actual send; rejection latency from the actual send. The
 * generator's lag (send time - due time) is recorded so that a client that could not keep up is
 * visible. Each call's client deadline counts from its due time, like a user request's, and goes to
 * the server as {@code grpc-timeout}; a call whose deadline has already passed when the generator
 * gets to it is not sent ("late"). At most {@code maxOutstanding} calls are in flight; a due call
 * beyond that is not sent and counted. The run waits for stragglers at most the client's deadline
 * plus 5 s.
 */
final class OpenLoop {
  private OpenLoop() {}

  /** What one run measured; latencies in nanoseconds. */
  record Result(
      double rate,
      double seconds,
      long sent,
      long ok,
      long rejected,
      long expired,
      long timeouts,
      long errors,
      long wrong,
      long notSent,
      long late,
      long unfinished,
      Histogram admittedFromDue,
      Histogram admittedFromSend,
      Histogram rejectedFromSend,
      Histogram lag,
      String firstError,
      String firstRejection) {

    double sentPerSecond() {
      return sent / seconds;
    }

    double okPerSecond() {
      return ok / seconds;
    }
  }

  static Result run(
      AsyncClient client,
      double rate,
      double warmupSeconds,
      double measureSeconds,
      long timeoutMicros,
      int maxOutstanding,
      long clientDeadlineMillis) {
    Counters warm = new Counters();
    Counters measured = new Counters();
    AtomicInteger outstanding = new AtomicInteger();
    long start = System.nanoTime();
    long measureStart = start + (long) (warmupSeconds * 1e9);
    long end = measureStart + (long) (measureSeconds * 1e9);
    double periodNanos = 1e9 / rate;
    long deadlineNanos = TimeUnit.MILLISECONDS.toNanos(clientDeadlineMillis);
    long i = 0;
    while (true) {
      long now = System.nanoTime();
      if (now - end >= 0) {
        break;
      }
      long due = start + (long) (i * periodNanos);
      while (due - now <= 0 && due - end < 0) {
        Counters c = due - measureStart >= 0 ? measured : warm;
        long sentAt = System.nanoTime();
        if (outstanding.get() >= maxOutstanding) {
          c.notSent.increment();
        } else if (sentAt - (due + deadlineNanos) >= 0) {
          c.late.increment(); // its client would already have given up
        } else {
          outstanding.incrementAndGet();
          c.lag.recordValue(Math.max(0, sentAt - due));
          c.sent.increment();
          client.call(
              (int) (i % AsyncClient.ROWS),
              timeoutMicros,
              due + deadlineNanos,
              new Call(c, due, sentAt, outstanding));
        }
        i++;
        due = start + (long) (i * periodNanos);
      }
      long sleep = Math.min(due, end) - System.nanoTime();
      if (sleep > 0) {
        LockSupport.parkNanos(sleep);
      }
    }
    long waitUntil = end + TimeUnit.MILLISECONDS.toNanos(clientDeadlineMillis + 5_000);
    while (outstanding.get() > 0 && System.nanoTime() - waitUntil < 0) {
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5));
    }
    long unfinished = outstanding.get();
    Counters m = measured;
    return new Result(
        rate,
        measureSeconds,
        m.sent.sum(),
        m.ok.sum(),
        m.rejected.sum(),
        m.expired.sum(),
        m.timeouts.sum(),
        m.errors.sum(),
        m.wrong.sum(),
        m.notSent.sum(),
        m.late.sum(),
        unfinished,
        copy(m.admittedFromDue),
        copy(m.admittedFromSend),
        copy(m.rejectedFromSend),
        copy(m.lag),
        m.firstError.get() != null ? m.firstError.get() : warm.firstError.get(),
        m.firstRejection.get());
  }

  private static Histogram copy(ConcurrentHistogram h) {
    Histogram out = new Histogram(AsyncClosedLoop.MAX_NANOS, 3);
    out.add(h);
    return out;
  }

  private static final class Counters {
    final LongAdder sent = new LongAdder();
    final LongAdder ok = new LongAdder();
    final LongAdder rejected = new LongAdder();
    final LongAdder expired = new LongAdder();
    final LongAdder timeouts = new LongAdder();
    final LongAdder errors = new LongAdder();
    final LongAdder wrong = new LongAdder();
    final LongAdder notSent = new LongAdder();
    final LongAdder late = new LongAdder();
    final ConcurrentHistogram admittedFromDue = histogram();
    final ConcurrentHistogram admittedFromSend = histogram();
    final ConcurrentHistogram rejectedFromSend = histogram();
    final ConcurrentHistogram lag = histogram();
    final AtomicReference<String> firstError = new AtomicReference<>();
    final AtomicReference<String> firstRejection = new AtomicReference<>();

    private static ConcurrentHistogram histogram() {
      return new ConcurrentHistogram(AsyncClosedLoop.MAX_NANOS, 3);
    }
  }

  private static final class Call implements AsyncClient.Callback {
    private final Counters c;
    private final long due;
    private final long sentAt;
    private final AtomicInteger outstanding;

    Call(Counters c, long due, long sentAt, AtomicInteger outstanding) {
      this.c = c;
      this.due = due;
      this.sentAt = sentAt;
      this.outstanding = outstanding;
    }

    @Override
    public void done(AsyncClient.Outcome outcome, long endNanos, String detail) {
      long fromSend = Math.min(Math.max(0, endNanos - sentAt), AsyncClosedLoop.MAX_NANOS);
      switch (outcome) {
        case OK:
          c.ok.increment();
          c.admittedFromDue.recordValue(
              Math.min(Math.max(0, endNanos - due), AsyncClosedLoop.MAX_NANOS));
          c.admittedFromSend.recordValue(fromSend);
          break;
        case REJECTED:
          c.rejected.increment();
          c.rejectedFromSend.recordValue(fromSend);
          c.firstRejection.compareAndSet(null, detail);
          break;
        case EXPIRED:
          c.expired.increment();
          c.firstError.compareAndSet(null, outcome + " " + detail);
          break;
        case TIMEOUT:
          c.timeouts.increment();
          c.firstError.compareAndSet(null, outcome + " " + detail);
          break;
        case WRONG:
          c.wrong.increment();
          c.firstError.compareAndSet(null, outcome + " " + detail);
          break;
        default:
          c.errors.increment();
          c.firstError.compareAndSet(null, outcome + " " + detail);
      }
      outstanding.decrementAndGet();
    }
  }
}
