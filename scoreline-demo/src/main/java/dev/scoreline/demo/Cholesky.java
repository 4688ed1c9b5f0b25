package dev.scoreline.demo;

/** In-place Cholesky solve of small dense symmetric positive-definite systems. */
final class Cholesky {
  private Cholesky() {}

  /**
   * Solves {@code A z = b} for a symmetric positive-definite {@code A} of which only the upper
   * triangle (row-major {@code [n][n]}, {@code a[i*n+j]} with {@code j >= i}) is read; {@code a} is
   * overwritten with the factor and {@code b} with the solution.
   */
  static void solveUpper(double[] a, double[] b, int n) {
    // A = R^T R with R upper triangular, stored over A's upper triangle
    for (int i = 0; i < n; i++) {
      int ri = i * n;
      double d = a[ri + i];
      for (int k = 0; k < i; k++) {
        double r = a[k * n + i];
        d -= r * r;
      }
      if (d <= 0) {
        d = 1e-12; // numerically singular: keep going with a tiny pivot
      }
      double rii = Math.sqrt(d);
      a[ri + i] = rii;
      double inv = 1.0 / rii;
      for (int j = i + 1; j < n; j++) {
        double s = a[ri + j];
        for (int k = 0; k < i; k++) {
          s -= a[k * n + i] * a[k * n + j];
        }
        a[ri + j] = s * inv;
      }
    }
    // R^T w = b
    for (int i = 0; i < n; i++) {
      double s = b[i];
      for (int k = 0; k < i; k++) {
        s -= a[k * n + i] * b[k];
      }
      b[i] = s / a[i * n + i];
    }
    // R z = w
    for (int i = n - 1; i >= 0; i--) {
      double s = b[i];
      int ri = i * n;
      for (int k = i + 1; k < n; k++) {
        s -= a[ri + k] * b[k];
      }
      b[i] = s / a[ri + i];
    }
  }
}
