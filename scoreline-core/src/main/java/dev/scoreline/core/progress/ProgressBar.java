package dev.scoreline.core.progress;

import static java.util.Objects.requireNonNull;

import java.io.PrintStream;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * A progress bar on a terminal. Interactive mode (a console is attached) redraws one line with
 * {@code \r}, at most 10 times per second:
 *
 * <pre>
 * materialize user_stats [########------------]  40,000/100,000  40.0%  12,345 rows/s  ETA 0:04  elapsed 0:03
 * </pre>
 *
 * Plain mode (output redirected: a log file, CI) prints one line per 10% instead (every 10 seconds
 * when the total is unknown). Both end with a summary line:
 *
 * <pre>
 * materialize user_stats: done, 100,000 rows in 0:08 (12,500 rows/s)
 * </pre>
 *
 * The rate is the average since {@link #start}; the ETA is the remaining items at that rate.
 */
public final class ProgressBar implements ProgressListener {
  private static final long REDRAW_NANOS = TimeUnit.MILLISECONDS.toNanos(100);
  private static final long PLAIN_UNKNOWN_NANOS = TimeUnit.SECONDS.toNanos(10);
  private static final int WIDTH = 20;

  private final PrintStream out;
  private final String unit;
  private final boolean interactive;
  private final LongSupplier nanoTime;

  private final AtomicLong done = new AtomicLong();
  private volatile long nextDrawNanos;
  private String task;
  private long total;
  private long startNanos;
  private volatile int lastStep;
  private int lastLength;
  private boolean running;

  /** Writes to {@code out}, interactive when a console is attached; counts rows. */
  public ProgressBar(PrintStream out) {
    this(out, "rows", System.console() != null, System::nanoTime);
  }

  /**
   * @param unit the plural name of the items ({@code rows}, {@code vectors})
   * @param interactive redraw one line with {@code \r}, or print a line per 10%
   * @param nanoTime the ticker (inject a fake one in tests)
   */
  public ProgressBar(PrintStream out, String unit, boolean interactive, LongSupplier nanoTime) {
    this.out = requireNonNull(out, "out is null");
    this.unit = requireNonNull(unit, "unit is null");
    this.interactive = interactive;
    this.nanoTime = requireNonNull(nanoTime, "nanoTime is null");
  }

  @Override
  public synchronized void start(String task, long total) {
    this.task = requireNonNull(task, "task is null");
    this.total = Math.max(0, total);
    this.done.set(0);
    this.startNanos = nanoTime.getAsLong();
    this.lastStep = 0;
    this.lastLength = 0;
    this.running = true;
    this.nextDrawNanos = startNanos + (interactive ? REDRAW_NANOS : PLAIN_UNKNOWN_NANOS);
    if (interactive) {
      draw(startNanos);
    }
  }

  @Override
  public void advance(long n) {
    long d = done.addAndGet(n);
    if (!interactive && total > 0) {
      int step = (int) Math.min(10, d * 10 / total);
      if (step > lastStep) {
        plainStep(step);
      }
      return;
    }
    long now = nanoTime.getAsLong();
    if (now - nextDrawNanos >= 0) {
      synchronized (this) {
        if (running && now - nextDrawNanos >= 0) {
          nextDrawNanos = now + (interactive ? REDRAW_NANOS : PLAIN_UNKNOWN_NANOS);
          draw(now);
        }
      }
    }
  }

  private synchronized void plainStep(int step) {
    if (!running || step <= lastStep) {
      return;
    }
    lastStep = step;
    long now = nanoTime.getAsLong();
    out.println(task + ": " + (step * 10) + "% " + status(now, false));
    out.flush();
  }

  private void draw(long now) {
    if (interactive) {
      String line =
          total > 0
              ? task + " " + bar() + "  " + status(now, true)
              : task + "  " + status(now, true);
      print("\r" + pad(line));
    } else {
      out.println(task + ": " + status(now, false));
      out.flush();
    }
  }

  @Override
  public synchronized void finish() {
    if (!running) {
      return;
    }
    running = false;
    long now = nanoTime.getAsLong();
    long d = done.get();
    long elapsed = now - startNanos;
    String summary =
        task
            + ": done, "
            + count(d)
            + " "
            + unit
            + " in "
            + duration(elapsed)
            + " ("
            + rate(d, elapsed)
            + ")";
    if (interactive) {
      print("\r" + pad(summary) + "\n");
    } else {
      out.println(summary);
      out.flush();
    }
  }

  private void print(String s) {
    out.print(s);
    out.flush();
  }

  /** Pads with spaces over the rest of the previous, longer line. */
  private String pad(String line) {
    int len = line.length();
    StringBuilder sb = new StringBuilder(line);
    for (int i = len; i < lastLength; i++) {
      sb.append(' ');
    }
    lastLength = len;
    return sb.toString();
  }

  private String bar() {
    long d = done.get();
    int filled = (int) Math.min(WIDTH, d * WIDTH / total);
    StringBuilder sb = new StringBuilder(WIDTH + 2).append('[');
    for (int i = 0; i < WIDTH; i++) {
      sb.append(i < filled ? '#' : '-');
    }
    return sb.append(']').toString();
  }

  private String status(long now, boolean wide) {
    long d = done.get();
    long elapsed = now - startNanos;
    String sep = wide ? "  " : ", ";
    StringBuilder sb = new StringBuilder();
    if (total > 0) {
      sb.append(count(d)).append('/').append(count(total));
      if (wide) {
        sb.append(sep).append(String.format(Locale.ROOT, "%5.1f%%", 100.0 * d / total));
      } else {
        sb.append(' ').append(unit);
      }
    } else {
      sb.append(count(d)).append(' ').append(unit);
    }
    sb.append(sep).append(rate(d, elapsed));
    if (total > 0) {
      sb.append(sep).append("ETA ").append(eta(d, elapsed));
    }
    sb.append(sep).append("elapsed ").append(duration(elapsed));
    return sb.toString();
  }

  private String rate(long d, long elapsedNanos) {
    if (elapsedNanos <= 0) {
      return "- " + unit + "/s";
    }
    double perSecond = d * 1e9 / elapsedNanos;
    return count(Math.round(perSecond)) + " " + unit + "/s";
  }

  private String eta(long d, long elapsedNanos) {
    if (d >= total) {
      return duration(0);
    }
    if (d <= 0 || elapsedNanos <= 0) {
      return "-:--";
    }
    double remainingNanos = (double) (total - d) * elapsedNanos / d;
    return duration((long) Math.min(Long.MAX_VALUE, remainingNanos));
  }

  private static String count(long n) {
    return String.format(Locale.ROOT, "%,d", n);
  }

  /** {@code m:ss}, or {@code h:mm:ss} from one hour. */
  static String duration(long nanos) {
    long s = Math.max(0, TimeUnit.NANOSECONDS.toSeconds(nanos));
    long h = s / 3600;
    long m = (s % 3600) / 60;
    long sec = s % 60;
    return h > 0
        ? String.format(Locale.ROOT, "%d:%02d:%02d", h, m, sec)
        : String.format(Locale.ROOT, "%d:%02d", m, sec);
  }
}
