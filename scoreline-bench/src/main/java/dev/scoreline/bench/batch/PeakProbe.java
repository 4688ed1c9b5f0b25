package dev.scoreline.bench.batch;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The machine's FP32 peak as plain Java reaches it: a loop C2 turns into SIMD FMAs with no memory
 * traffic to speak of (each element of a small, L1-resident array goes through 16 dependent fused
 * multiply-adds; the unrolled loop keeps many elements in flight), on 1 and N threads.
 */
final class PeakProbe {
  private static final int LENGTH = 1024;
  private static final int FMAS = 16;

  private PeakProbe() {}

  /**
   * One pass: per element, two independent chains of 8 dependent FMAs (so the unrolled, vectorized
   * loop keeps enough chains in flight to cover the FMA latency), summed at the end. The chains
   * converge to 0.5, so values stay normal (no denormal slow path).
   */
  static void pass(float[] x, float a, float b) {
    for (int j = 0; j < x.length; j++) {
      float v = x[j];
      float w = v;
      v = Math.fma(v, a, b);
      w = Math.fma(w, a, b);
      v = Math.fma(v, a, b);
      w = Math.fma(w, a, b);
      v = Math.fma(v, a, b);
      w = Math.fma(w, a, b);
      v = Math.fma(v, a, b);
      w = Math.fma(w, a, b);
      v = Math.fma(v, a, b);
      w = Math.fma(w, a, b);
      v = Math.fma(v, a, b);
      w = Math.fma(w, a, b);
      v = Math.fma(v, a, b);
      w = Math.fma(w, a, b);
      v = Math.fma(v, a, b);
      w = Math.fma(w, a, b);
      x[j] = v + w;
    }
  }

  /** GFLOP/s of {@code threads} threads running {@code passes} passes each. */
  static double measure(int threads, int passes) throws InterruptedException {
    float[] sink = new float[threads];
    List<Thread> ts = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      int id = t;
      ts.add(
          new Thread(
              () -> {
                float[] x = new float[LENGTH];
                Arrays.fill(x, 1f + id);
                for (int p = 0; p < passes; p++) {
                  pass(x, 0.5f, 0.25f);
                }
                sink[id] = x[7];
              }));
    }
    long t0 = System.nanoTime();
    for (Thread t : ts) {
      t.start();
    }
    for (Thread t : ts) {
      t.join();
    }
    double seconds = (System.nanoTime() - t0) / 1e9;
    if (sink[0] == 42f) {
      System.out.print("");
    }
    return 2.0 * FMAS * LENGTH * (double) passes * threads / seconds / 1e9;
  }
}
