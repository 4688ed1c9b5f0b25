package dev.scoreline.stream.fraud;

import java.util.SplittableRandom;

/**
 * A small MLP binary classifier ({@code in -> hidden (ReLU) -> 1 (sigmoid)}) trained with Adam on
 * binary cross-entropy, with inputs standardised during training and the standardisation folded
 * into the first layer on export, so the exported model reads the raw columns.
 */
public final class Mlp {
  final int in;
  final int hidden;
  // layer 1: w1[in][hidden] row-major, b1[hidden]; layer 2: w2[hidden], b2
  final float[] w1;
  final float[] b1;
  final float[] w2;
  float b2;
  final double[] mean;
  final double[] std;

  private Mlp(int in, int hidden, double[] mean, double[] std, long seed) {
    this.in = in;
    this.hidden = hidden;
    this.w1 = new float[in * hidden];
    this.b1 = new float[hidden];
    this.w2 = new float[hidden];
    this.mean = mean;
    this.std = std;
    SplittableRandom r = new SplittableRandom(seed);
    double l1 = Math.sqrt(6.0 / in);
    for (int i = 0; i < w1.length; i++) {
      w1[i] = (float) ((r.nextDouble() * 2 - 1) * l1);
    }
    double l2 = Math.sqrt(6.0 / hidden);
    for (int i = 0; i < w2.length; i++) {
      w2[i] = (float) ((r.nextDouble() * 2 - 1) * l2);
    }
  }

  /** Training settings. */
  public record Settings(
      int hidden, int epochs, int batch, double learningRate, double l2, long seed) {
    public static Settings defaults() {
      return new Settings(16, 12, 128, 0.005, 1e-5, 7);
    }
  }

  /** Trains on rows {@code x[i]} (raw columns) with labels {@code y[i]} (0 or 1). */
  public static Mlp train(float[][] x, int[] y, Settings s) {
    int n = x.length;
    int in = x[0].length;
    double[] mean = new double[in];
    double[] std = new double[in];
    for (float[] row : x) {
      for (int j = 0; j < in; j++) {
        mean[j] += row[j];
      }
    }
    for (int j = 0; j < in; j++) {
      mean[j] /= n;
    }
    for (float[] row : x) {
      for (int j = 0; j < in; j++) {
        double d = row[j] - mean[j];
        std[j] += d * d;
      }
    }
    for (int j = 0; j < in; j++) {
      std[j] = Math.sqrt(std[j] / n);
      if (std[j] < 1e-6) {
        std[j] = 1;
      }
    }
    Mlp m = new Mlp(in, s.hidden(), mean, std, s.seed());
    int h = s.hidden();
    int p = m.w1.length + m.b1.length + m.w2.length + 1;
    double[] mom = new double[p];
    double[] vel = new double[p];
    double[] g = new double[p];
    double b1c = 1;
    double b2c = 1;
    int[] order = new int[n];
    for (int i = 0; i < n; i++) {
      order[i] = i;
    }
    SplittableRandom r = new SplittableRandom(s.seed() + 1);
    float[] z = new float[in];
    double[] a = new double[h];
    for (int epoch = 0; epoch < s.epochs(); epoch++) {
      for (int i = n - 1; i > 0; i--) {
        int j = r.nextInt(i + 1);
        int t = order[i];
        order[i] = order[j];
        order[j] = t;
      }
      for (int start = 0; start < n; start += s.batch()) {
        int end = Math.min(n, start + s.batch());
        java.util.Arrays.fill(g, 0);
        for (int k = start; k < end; k++) {
          float[] row = x[order[k]];
          for (int j = 0; j < in; j++) {
            z[j] = (float) ((row[j] - mean[j]) / std[j]);
          }
          double out = m.b2;
          for (int u = 0; u < h; u++) {
            double v = m.b1[u];
            for (int j = 0; j < in; j++) {
              v += z[j] * m.w1[j * h + u];
            }
            a[u] = v > 0 ? v : 0;
            out += a[u] * m.w2[u];
          }
          double prob = 1 / (1 + Math.exp(-out));
          double d = prob - y[order[k]]; // dL/dout for BCE with sigmoid
          int w2o = m.w1.length + m.b1.length;
          for (int u = 0; u < h; u++) {
            g[w2o + u] += d * a[u];
            if (a[u] > 0) {
              double du = d * m.w2[u];
              g[m.w1.length + u] += du;
              for (int j = 0; j < in; j++) {
                g[j * h + u] += du * z[j];
              }
            }
          }
          g[p - 1] += d;
        }
        int bs = end - start;
        b1c *= 0.9;
        b2c *= 0.999;
        for (int q = 0; q < p; q++) {
          double gq = g[q] / bs + (q < m.w1.length ? s.l2() * m.param(q) : 0);
          mom[q] = 0.9 * mom[q] + 0.1 * gq;
          vel[q] = 0.999 * vel[q] + 0.001 * gq * gq;
          double step =
              s.learningRate() * (mom[q] / (1 - b1c)) / (Math.sqrt(vel[q] / (1 - b2c)) + 1e-8);
          m.set(q, m.param(q) - step);
        }
      }
    }
    return m;
  }

  private double param(int q) {
    if (q < w1.length) {
      return w1[q];
    }
    q -= w1.length;
    if (q < b1.length) {
      return b1[q];
    }
    q -= b1.length;
    if (q < w2.length) {
      return w2[q];
    }
    return b2;
  }

  private void set(int q, double v) {
    if (q < w1.length) {
      w1[q] = (float) v;
      return;
    }
    q -= w1.length;
    if (q < b1.length) {
      b1[q] = (float) v;
      return;
    }
    q -= b1.length;
    if (q < w2.length) {
      w2[q] = (float) v;
      return;
    }
    b2 = (float) v;
  }

  /** The probability of class 1 for raw columns (the reference for the exported model). */
  public float predict(float[] row) {
    float[][] e = exported();
    int h = hidden;
    double out = e[3][0];
    for (int u = 0; u < h; u++) {
      double v = e[1][u];
      for (int j = 0; j < in; j++) {
        v += row[j] * e[0][j * h + u];
      }
      out += Math.max(0, v) * e[2][u];
    }
    return (float) (1 / (1 + Math.exp(-out)));
  }

  private float[][] exported;

  /** W1 and b1 with the standardisation folded in, then w2 and b2. */
  private synchronized float[][] exported() {
    if (exported == null) {
      int h = hidden;
      float[] w = new float[w1.length];
      float[] b = b1.clone();
      for (int j = 0; j < in; j++) {
        for (int u = 0; u < h; u++) {
          w[j * h + u] = (float) (w1[j * h + u] / std[j]);
          b[u] -= (float) (w1[j * h + u] * mean[j] / std[j]);
        }
      }
      exported = new float[][] {w, b, w2.clone(), new float[] {b2}};
    }
    return exported;
  }

  /** The model as ONNX: input {@code input} [batch, in], output {@code output} [batch, 1]. */
  public byte[] toOnnx(String input, String output, String doc) {
    float[][] e = exported();
    return OnnxMlp.write(
        new int[] {in, hidden, 1},
        new float[][] {e[0], e[2]},
        new float[][] {e[1], e[3]},
        input,
        output,
        doc);
  }

  /** Area under the ROC curve of {@code scores} for {@code labels}. */
  public static double auc(float[] scores, int[] labels) {
    Integer[] idx = new Integer[scores.length];
    for (int i = 0; i < idx.length; i++) {
      idx[i] = i;
    }
    java.util.Arrays.sort(idx, (p, q) -> Float.compare(scores[p], scores[q]));
    double rankSum = 0;
    long pos = 0;
    int i = 0;
    while (i < idx.length) {
      int j = i;
      while (j + 1 < idx.length && scores[idx[j + 1]] == scores[idx[i]]) {
        j++;
      }
      double avgRank = (i + j) / 2.0 + 1;
      for (int k = i; k <= j; k++) {
        if (labels[idx[k]] == 1) {
          rankSum += avgRank;
          pos++;
        }
      }
      i = j + 1;
    }
    long neg = scores.length - pos;
    if (pos == 0 || neg == 0) {
      return Double.NaN;
    }
    return (rankSum - pos * (pos + 1) / 2.0) / ((double) pos * neg);
  }
}
