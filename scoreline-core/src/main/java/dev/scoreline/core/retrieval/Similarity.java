package dev.scoreline.core.retrieval;

import dev.scoreline.core.error.ScorelineException;
import java.util.Locale;

/** How an index scores a query against an item vector; larger scores are better. */
public enum Similarity {
  /** Inner product (two-tower / factorization embeddings). */
  DOT_PRODUCT,
  /** Cosine of the angle. */
  COSINE,
  /** Negative squared Euclidean distance (so larger is better). */
  EUCLIDEAN;

  /** Parses {@code dot-product}, {@code dot}, {@code cosine}, {@code euclidean}. */
  public static Similarity parse(String text) {
    String t = text.trim().toLowerCase(Locale.ROOT).replace('_', '-');
    switch (t) {
      case "dot":
      case "dot-product":
      case "inner-product":
        return DOT_PRODUCT;
      case "cosine":
        return COSINE;
      case "euclidean":
      case "l2":
        return EUCLIDEAN;
      default:
        throw ScorelineException.userError(
            "similarity",
            "similarity: unknown value '" + text + "'; use dot-product, cosine or euclidean");
    }
  }

  /** The score of {@code a} against {@code b} under this similarity (reference implementation). */
  public float score(float[] a, float[] b) {
    switch (this) {
      case DOT_PRODUCT:
        return dot(a, b);
      case COSINE:
        {
          double na = Math.sqrt(dot(a, a));
          double nb = Math.sqrt(dot(b, b));
          return na == 0 || nb == 0 ? 0f : (float) (dot(a, b) / (na * nb));
        }
      case EUCLIDEAN:
        {
          float s = 0;
          for (int i = 0; i < a.length; i++) {
            float d = a[i] - b[i];
            s += d * d;
          }
          return -s;
        }
      default:
        throw new AssertionError(this);
    }
  }

  private static float dot(float[] a, float[] b) {
    float s = 0;
    for (int i = 0; i < a.length; i++) {
      s += a[i] * b[i];
    }
    return s;
  }
}
