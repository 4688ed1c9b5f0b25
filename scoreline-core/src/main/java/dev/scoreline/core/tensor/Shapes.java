package dev.scoreline.core.tensor;

import dev.scoreline.core.error.ScorelineException;

/** Small helpers for tensor shapes ({@code long[]}, -1 meaning a variable dimension in specs). */
public final class Shapes {
  private Shapes() {}

  /**
   * The number of elements of a concrete shape. Fails with a user error naming {@code field} when a
   * dimension is negative or the count overflows.
   */
  public static long elementCount(String field, long[] shape) {
    long n = 1;
    for (int i = 0; i < shape.length; i++) {
      long d = shape[i];
      if (d < 0) {
        throw ScorelineException.userError(
            field,
            field + "[" + i + "] is " + d + "; a tensor's shape must have non-negative dimensions");
      }
      try {
        n = Math.multiplyExact(n, d);
      } catch (ArithmeticException e) {
        throw ScorelineException.userError(field, field + " " + format(shape) + " is too large");
      }
    }
    return n;
  }

  public static String format(long[] shape) {
    StringBuilder sb = new StringBuilder("[");
    for (int i = 0; i < shape.length; i++) {
      if (i > 0) {
        sb.append(", ");
      }
      sb.append(shape[i]);
    }
    return sb.append(']').toString();
  }

  /** True when {@code shape} fits {@code spec} (same rank; each spec dim is -1 or equal). */
  public static boolean matches(long[] spec, long[] shape) {
    if (spec.length != shape.length) {
      return false;
    }
    for (int i = 0; i < spec.length; i++) {
      if (spec[i] >= 0 && spec[i] != shape[i]) {
        return false;
      }
    }
    return true;
  }
}
