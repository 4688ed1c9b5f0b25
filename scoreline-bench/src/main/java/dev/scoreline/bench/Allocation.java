package dev.scoreline.bench;

import java.lang.management.ManagementFactory;

/** Bytes allocated by this JVM's threads, from HotSpot's per-thread counters. */
public final class Allocation {
  private Allocation() {}

  /**
   * Bytes allocated so far by every live thread of this JVM (threads that ended are not counted, so
   * compare runs of the same driver); 0 on a JVM without the HotSpot counters.
   */
  public static long liveThreadsBytes() {
    if (!(ManagementFactory.getThreadMXBean() instanceof com.sun.management.ThreadMXBean threads)) {
      return 0;
    }
    long sum = 0;
    for (long b : threads.getThreadAllocatedBytes(threads.getAllThreadIds())) {
      sum += Math.max(0, b);
    }
    return sum;
  }
}
