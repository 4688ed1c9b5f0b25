package dev.scoreline.bench.batching;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * CPU used during a period, from Linux's {@code /proc}: by this JVM (client and server together)
 * and by every other process, in cores. On a shared machine the second number says how much the
 * measurement was disturbed. NaN where {@code /proc} cannot be read.
 */
final class CpuSampler {
  /** {@code USER_HZ}: the unit of both files' tick counts; 100 on every common Linux. */
  private static final double TICKS_PER_SECOND = 100;

  private final long startNanos;
  private final long busy0;
  private final long self0;

  private CpuSampler(long startNanos, long busy, long self) {
    this.startNanos = startNanos;
    this.busy0 = busy;
    this.self0 = self;
  }

  /** Cores used over a period. */
  record Usage(double selfCores, double otherCores) {}

  static CpuSampler start() {
    return new CpuSampler(System.nanoTime(), machineBusyTicks(), selfTicks());
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

  /** The 1-minute load average, NaN when unknown. */
  static double loadAverage() {
    try {
      String s = Files.readString(Path.of("/proc/loadavg")).trim();
      return Double.parseDouble(s.substring(0, s.indexOf(' ')));
    } catch (IOException | RuntimeException e) {
      return Double.NaN;
    }
  }

  /** All CPUs' non-idle ticks (the first line of /proc/stat), -1 when unknown. */
  private static long machineBusyTicks() {
    try {
      String line = Files.readAllLines(Path.of("/proc/stat")).get(0);
      String[] f = line.trim().split("\\s+");
      // cpu user nice system idle iowait irq softirq steal [guest guest_nice, already in user]
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
      // f[0] is field 3 (state), so field n is f[n - 3]
      return Long.parseLong(f[11]) + Long.parseLong(f[12]);
    } catch (IOException | RuntimeException e) {
      return -1;
    }
  }
}
