package dev.scoreline.bench.batch;

import java.util.Random;

/**
 * The benchmark's factorization: {@code java.util.Random(seed)}, users first then items, row-major,
 * N(0, 0.1) — the same factors as the Spark ALS anchor (shared/reference/spark-als-anchor.md), so
 * every phase (in its own JVM) scores the same numbers.
 */
record Factors(int users, int items, int dim, float[] user, float[] item) {
  static Factors generate(int users, int items, int dim, long seed) {
    Random rnd = new Random(seed);
    float[] u = new float[users * dim];
    for (int i = 0; i < u.length; i++) {
      u[i] = (float) (rnd.nextGaussian() * 0.1);
    }
    float[] v = new float[items * dim];
    for (int i = 0; i < v.length; i++) {
      v[i] = (float) (rnd.nextGaussian() * 0.1);
    }
    return new Factors(users, items, dim, u, v);
  }

  /** 2 FLOP (one multiply, one add) per dimension per user × item pair. */
  double flops() {
    return 2.0 * users * items * dim;
  }

  double scores() {
    return (double) users * items;
  }
}
