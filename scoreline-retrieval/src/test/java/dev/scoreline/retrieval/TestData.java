package dev.scoreline.retrieval;

import dev.scoreline.core.retrieval.Neighbor;
import dev.scoreline.core.retrieval.Similarity;
import dev.scoreline.core.retrieval.VectorIndex;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;

/** Deterministic test vectors and the recall measure. */
final class TestData {
  static final int N = 10_000;
  static final int DIM = 32;
  static final int QUERIES = 200;

  private TestData() {}

  /** Arbitrary, non-contiguous item ids (some negative). */
  static long[] ids(int n) {
    long[] ids = new long[n];
    for (int i = 0; i < n; i++) {
      ids[i] = i * 7_919L - 5_000_003L;
    }
    return ids;
  }

  /**
   * {@code n} points around {@code clusters} gaussian centers. With {@code varyNorms}, every point
   * is scaled by a factor in [0.25, 4) (like unnormalized factorization embeddings, where the norm
   * carries popularity).
   */
  static float[][] clustered(int n, int dim, int clusters, long seed, boolean varyNorms) {
    return clustered(n, dim, clusters, seed, varyNorms, 0.35);
  }

  static float[][] clustered(
      int n, int dim, int clusters, long seed, boolean varyNorms, double sigma) {
    SplittableRandom centersRandom = new SplittableRandom(42);
    float[][] centers = new float[clusters][dim];
    for (float[] c : centers) {
      for (int j = 0; j < dim; j++) {
        c[j] = (float) gaussian(centersRandom);
      }
    }
    SplittableRandom random = new SplittableRandom(seed);
    float[][] out = new float[n][dim];
    for (int i = 0; i < n; i++) {
      float[] c = centers[random.nextInt(clusters)];
      double scale = varyNorms ? Math.pow(2, random.nextDouble(-2, 2)) : 1;
      for (int j = 0; j < dim; j++) {
        out[i][j] = (float) ((c[j] + sigma * gaussian(random)) * scale);
      }
    }
    return out;
  }

  private static double gaussian(SplittableRandom r) {
    // Box-Muller; SplittableRandom has no nextGaussian on Java 17
    double u = 1 - r.nextDouble();
    double v = r.nextDouble();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** Mean recall@k of {@code approximate} against {@code exact} over the queries. */
  static double recall(VectorIndex approximate, VectorIndex exact, float[][] queries, int k) {
    long found = 0;
    for (float[] q : queries) {
      Set<Long> truth = idSet(exact.search(q, k, null));
      for (Neighbor n : approximate.search(q, k, null)) {
        if (truth.contains(n.id())) {
          found++;
        }
      }
    }
    return found / (double) (queries.length * k);
  }

  static Set<Long> idSet(List<Neighbor> neighbors) {
    Set<Long> ids = new HashSet<>();
    for (Neighbor n : neighbors) {
      ids.add(n.id());
    }
    return ids;
  }

  /** Builds an index of {@code kind} over the items. */
  static VectorIndex build(
      String kind, Similarity similarity, long[] ids, float[][] vectors, JVectorOptions options) {
    return IndexBuilder.of(kind, vectors[0].length, similarity, options)
        .addAll(ids, vectors)
        .build();
  }
}
