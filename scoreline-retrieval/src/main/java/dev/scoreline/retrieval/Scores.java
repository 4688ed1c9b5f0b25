package dev.scoreline.retrieval;

import dev.scoreline.core.error.ScorelineException;
import dev.scoreline.core.retrieval.Neighbor;
import dev.scoreline.core.retrieval.Similarity;
import java.util.ArrayList;
import java.util.List;

/**
 * Exact scores over rows stored in primitive arrays, bit-for-bit equal to {@link
 * Similarity#score(float[], float[])} (same operations in the same order), and a bounded top-k
 * heap.
 */
final class Scores {
  private Scores() {}

  /** The similarity of {@code query} to {@code data[off, off + dim)}. */
  static float score(Similarity similarity, float[] query, float[] data, int off, int dim) {
    switch (similarity) {
      case DOT_PRODUCT:
        return dot(query, data, off, dim);
      case COSINE:
        return cosine(
            dot(query, data, off, dim), norm(query, 0, query.length), norm(data, off, dim));
      case EUCLIDEAN:
        return negativeSquaredDistance(query, data, off, dim);
      default:
        throw new AssertionError(similarity);
    }
  }

  /** {@code a . data[off, off + dim)}, accumulated left to right in float. */
  static float dot(float[] a, float[] data, int off, int dim) {
    float s = 0;
    for (int i = 0; i < dim; i++) {
      s += a[i] * data[off + i];
    }
    return s;
  }

  /** The Euclidean norm, as {@link Similarity#COSINE} computes it. */
  static double norm(float[] data, int off, int dim) {
    float s = 0;
    for (int i = 0; i < dim; i++) {
      float v = data[off + i];
      s += v * v;
    }
    return Math.sqrt(s);
  }

  /** The cosine from a dot product and the two norms, as {@link Similarity#COSINE} computes it. */
  static float cosine(float dot, double queryNorm, double itemNorm) {
    return queryNorm == 0 || itemNorm == 0 ? 0f : (float) (dot / (queryNorm * itemNorm));
  }

  static float negativeSquaredDistance(float[] a, float[] data, int off, int dim) {
    float s = 0;
    for (int i = 0; i < dim; i++) {
      float d = a[i] - data[off + i];
      s += d * d;
    }
    return -s;
  }

  /** Fails with USER_ERROR unless {@code query} has {@code dimension} finite values. */
  static void checkQuery(float[] query, int dimension) {
    if (query == null) {
      throw ScorelineException.userError("query", "query: the query vector is null");
    }
    if (query.length != dimension) {
      throw ScorelineException.userError(
          "query",
          "query: the vector has "
              + query.length
              + " values but the index dimension is "
              + dimension
              + "; use the embedding model the index was built with");
    }
    for (int i = 0; i < query.length; i++) {
      if (!Float.isFinite(query[i])) {
        throw ScorelineException.userError(
            "query", "query: value " + i + " is " + query[i] + "; every value must be finite");
      }
    }
  }

  /** Fails with USER_ERROR when {@code k} is negative. */
  static void checkK(int k) {
    if (k < 0) {
      throw ScorelineException.userError("k", "k: must be 0 or more, was " + k);
    }
  }

  /**
   * The best {@code k} (ordinal, score) pairs offered so far: a min-heap on (score, then higher
   * ordinal is worse), so ties resolve to the lower ordinal and results are deterministic.
   */
  static final class TopK {
    private final int k;
    private final int[] ords;
    private final float[] scores;
    private int size;

    TopK(int k) {
      this.k = k;
      this.ords = new int[k];
      this.scores = new float[k];
    }

    /** Whether a pair with this score could enter the heap (a cheap test before offering). */
    boolean accepts(float score) {
      return size < k || score >= scores[0];
    }

    void offer(int ord, float score) {
      if (size < k) {
        ords[size] = ord;
        scores[size] = score;
        siftUp(size++);
      } else if (k > 0 && !worse(ord, score, ords[0], scores[0])) {
        ords[0] = ord;
        scores[0] = score;
        siftDown(0);
      }
    }

    int size() {
      return size;
    }

    /** Empties the heap into neighbors, best first. */
    List<Neighbor> drain(long[] ids) {
      Neighbor[] out = new Neighbor[size];
      for (int i = size - 1; i >= 0; i--) {
        out[i] = new Neighbor(ids[ords[0]], scores[0]);
        size--;
        if (size > 0) {
          ords[0] = ords[size];
          scores[0] = scores[size];
          siftDown(0);
        }
      }
      List<Neighbor> list = new ArrayList<>(out.length);
      for (Neighbor n : out) {
        list.add(n);
      }
      return list;
    }

    /** Whether (ordA, scoreA) ranks below (ordB, scoreB). */
    private static boolean worse(int ordA, float scoreA, int ordB, float scoreB) {
      int c = Float.compare(scoreA, scoreB);
      return c < 0 || (c == 0 && ordA > ordB);
    }

    private void siftUp(int i) {
      int ord = ords[i];
      float score = scores[i];
      while (i > 0) {
        int parent = (i - 1) >>> 1;
        if (!worse(ord, score, ords[parent], scores[parent])) {
          break;
        }
        ords[i] = ords[parent];
        scores[i] = scores[parent];
        i = parent;
      }
      ords[i] = ord;
      scores[i] = score;
    }

    private void siftDown(int i) {
      int ord = ords[i];
      float score = scores[i];
      int half = size >>> 1;
      while (i < half) {
        int child = 2 * i + 1;
        int right = child + 1;
        if (right < size && worse(ords[right], scores[right], ords[child], scores[child])) {
          child = right;
        }
        if (!worse(ords[child], scores[child], ord, score)) {
          break;
        }
        ords[i] = ords[child];
        scores[i] = scores[child];
        i = child;
      }
      ords[i] = ord;
      scores[i] = score;
    }
  }
}
