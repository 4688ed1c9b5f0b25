package dev.scoreline.bench.batch;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * CPU accounting from Linux's {@code /proc}: cores used by this JVM and by every other process over
 * a period, so a rep disturbed by another build can be recognized, and a wait for a quiet machine.
 * NaN where {@code /proc} cannot be read.
 */
final class Cpu {
  private static final double TICKS_PER_SECOND = 100; // USER_HZ

  private final long startNanos;
  private final long busy0;
  private final long self0;

  private Cpu(long startNanos, long busy, long self) {
    this.startNanos = startNanos;
    this.busy0 = busy;
    this.self0 = self;
  }

  record Usage(double selfCores, double otherCores) {}

  static Cpu start() {
    return new Cpu(System.nanoTime(), machineBusyTicks(), selfTicks());
  }

  Usage stop() {
    double seconds = (System.nanoTime() - startNanos) / 1e9;
    long busy = machineBusyTicks();
    long self = selfTicks();
    if (busy < 0 || self < 0 || busy0 < 0 || self0 < 0 || seconds <= 0) {
      return new Usage(Double.NaN, Double.NaN);
    }
    double selfCores = (self - self0) / TICKS_PER_SECOND / seconds;
    double allCores = (busy - busy0) / TICKS_PER_SECOND / seconds;
    return new Usage(selfCores, Math.max(0, allCores - selfCores));
  }

  /**
   * Waits until other processes use less than {@code maxOtherCores} over a 3-second sample, at most
   * {@code maxWaitSeconds}; returns the last sample's other-process cores.
   */
  static double awaitQuiet(double maxOtherCores, long maxWaitSeconds) throws InterruptedException {
    long deadline = System.nanoTime() + maxWaitSeconds * 1_000_000_000L;
    double other;
    boolean announced = false;
    while (true) {
      Cpu c = start();
      Thread.sleep(3000);
      other = c.stop().otherCores();
      if (Double.isNaN(other) || other < maxOtherCores || System.nanoTime() > deadline) {
        return other;
      }
      if (!announced) {
        System.out.printf("waiting for a quiet machine (other processes use %.2f cores)%n", other);
        announced = true;
      }
    }
  }

  /** The 1-minute load average, NaN when unknown. */
  static double loadAverage() {
    try {
      String s = Files.readString(Path.of("/proc/loadavg")).trim();
      return Double.parseDouble(s.substring(0, s.indexOf(' ')));
    } catch (IOException | RuntimeException e) {
      return Double.NaN;
    }
  }

  /** All CPUs' non-idle ticks (first line of /proc/stat), -1 when unknown. */
  private static long machineBusyTicks() {
    try {
      String[] f = Files.readAllLines(Path.of("/proc/stat")).get(0).trim().split("\\s+");
      long total = 0;
      for (int i = 1; i <= Math.min(8, f.length - 1); i++) {
        total += Long.parseLong(f[i]);
      }
      long idle = Long.parseLong(f[4]) + (f.length > 5 ? Long.parseLong(f[5]) : 0);
      return total - idle;
    } catch (IOException | RuntimeException e) {
      return -1;
    }
  }

  /** This process's user + system ticks (/proc/self/stat fields 14 and 15), -1 when unknown. */
  private static long selfTicks() {
    try {
      String s = Files.readString(Path.of("/proc/self/stat"));
      String[] f = s.substring(s.lastIndexOf(')') + 2).trim().split("\\s+");
      return Long.parseLong(f[11]) + Long.parseLong(f[12]);
    } catch (IOException | RuntimeException e) {
      return -1;
    }
  }
}
