package dev.scoreline.demo;

import java.util.Arrays;

/**
 * A multilayer perceptron {@code dims[0] -> dims[1] -> ... -> 1}: dense layers with ReLU between
 * them and a sigmoid on the single output. Parameters live in one float array, layer by layer: the
 * weights {@code W[in][out]} (row-major, as ONNX {@code Gemm} reads {@code B} without {@code
 * transB}) then the bias {@code [out]}.
 *
 * <p>{@link #forward} is the reference implementation the exported ONNX model is checked against;
 * {@link Gradient} computes the binary cross-entropy gradient of a block of rows.
 */
final class Mlp {
  final int[] dims;
  final float[] params;
  private final int[] weightOffset;
  private final int[] biasOffset;

  Mlp(int[] dims, float[] params) {
    if (dims.length < 2 || dims[dims.length - 1] != 1) {
      throw new IllegalArgumentException("an MLP needs at least one layer and one output");
    }
    this.dims = dims.clone();
    this.weightOffset = new int[dims.length - 1];
    this.biasOffset = new int[dims.length - 1];
    int at = 0;
    for (int l = 0; l < dims.length - 1; l++) {
      weightOffset[l] = at;
      at += dims[l] * dims[l + 1];
      biasOffset[l] = at;
      at += dims[l + 1];
    }
    if (params.length != at) {
      throw new IllegalArgumentException("expected " + at + " parameters, got " + params.length);
    }
    this.params = params;
  }

  /** He-uniform weights and zero biases. */
  static Mlp initialize(int[] dims, long seed) {
    int n = 0;
    for (int l = 0; l < dims.length - 1; l++) {
      n += dims[l] * dims[l + 1] + dims[l + 1];
    }
    Mlp m = new Mlp(dims, new float[n]);
    Rng rng = Rng.derive(seed, 21, 0);
    for (int l = 0; l < dims.length - 1; l++) {
      double limit = Math.sqrt(6.0 / dims[l]);
      for (int i = 0; i < dims[l] * dims[l + 1]; i++) {
        m.params[m.weightOffset[l] + i] = (float) ((rng.nextDouble() * 2 - 1) * limit);
      }
    }
    return m;
  }

  int layers() {
    return dims.length - 1;
  }

  int inputs() {
    return dims[0];
  }

  /** Layer {@code l}'s weights, {@code [in][out]}. */
  float[] weights(int l) {
    return Arrays.copyOfRange(params, weightOffset[l], weightOffset[l] + dims[l] * dims[l + 1]);
  }

  float[] bias(int l) {
    return Arrays.copyOfRange(params, biasOffset[l], biasOffset[l] + dims[l + 1]);
  }

  /** Activations of a block of rows; reusable. */
  final class Activations {
    final float[][] a;
    final int capacity;

    Activations(int rows) {
      capacity = rows;
      a = new float[dims.length][];
      for (int l = 1; l < dims.length; l++) {
        a[l] = new float[rows * dims[l]];
      }
    }
  }

  Activations activations(int rows) {
    return new Activations(rows);
  }

  /**
   * Runs {@code rows} rows of {@code x} (row-major {@code [rows][inputs]}, from {@code xOffset}).
   * Afterwards {@code act.a[l]} holds layer {@code l}'s post-ReLU output and the last layer holds
   * the logits.
   */
  void forwardLogits(float[] x, int xOffset, int rows, Activations act) {
    float[] in = x;
    int inOffset = xOffset;
    for (int l = 0; l < layers(); l++) {
      int ni = dims[l];
      int no = dims[l + 1];
      float[] out = act.a[l + 1];
      int w = weightOffset[l];
      int b = biasOffset[l];
      boolean relu = l < layers() - 1;
      for (int r = 0; r < rows; r++) {
        int ro = r * no;
        System.arraycopy(params, b, out, ro, no);
        int xo = inOffset + r * ni;
        for (int k = 0; k < ni; k++) {
          float xk = in[xo + k];
          if (xk == 0f) {
            continue;
          }
          int wk = w + k * no;
          for (int j = 0; j < no; j++) {
            out[ro + j] += xk * params[wk + j];
          }
        }
        if (relu) {
          for (int j = 0; j < no; j++) {
            if (out[ro + j] < 0f) {
              out[ro + j] = 0f;
            }
          }
        }
      }
      in = out;
      inOffset = 0;
    }
  }

  /** Scores (sigmoid outputs) of {@code rows} rows into {@code scores[0..rows)}. */
  void forward(float[] x, int xOffset, int rows, Activations act, float[] scores) {
    forwardLogits(x, xOffset, rows, act);
    float[] logits = act.a[dims.length - 1];
    for (int r = 0; r < rows; r++) {
      scores[r] = sigmoid(logits[r]);
    }
  }

  static float sigmoid(float z) {
    return (float) (1.0 / (1.0 + Math.exp(-z)));
  }

  /** The gradient of the summed binary cross-entropy over a block of rows. */
  final class Gradient {
    final float[] grad = new float[params.length];
    private final Activations act;
    private final float[][] delta;
    double loss;

    Gradient(int rows) {
      act = new Activations(rows);
      delta = new float[dims.length][];
      for (int l = 1; l < dims.length; l++) {
        delta[l] = new float[rows * dims[l]];
      }
    }

    void clear() {
      Arrays.fill(grad, 0f);
      loss = 0;
    }

    /** Adds the gradient of {@code scale * sum of BCE} over the rows. */
    void accumulate(float[] x, int rows, float[] labels, int labelOffset, float scale) {
      forwardLogits(x, 0, rows, act);
      int last = dims.length - 1;
      float[] logits = act.a[last];
      float[] d = delta[last];
      for (int r = 0; r < rows; r++) {
        float z = logits[r];
        float y = labels[labelOffset + r];
        // numerically stable BCE with logits
        loss += Math.max(z, 0) - z * y + Math.log1p(Math.exp(-Math.abs(z)));
        d[r] = (sigmoid(z) - y) * scale;
      }
      for (int l = layers() - 1; l >= 0; l--) {
        int ni = dims[l];
        int no = dims[l + 1];
        float[] in = l == 0 ? x : act.a[l];
        float[] dOut = delta[l + 1];
        int w = weightOffset[l];
        int b = biasOffset[l];
        for (int r = 0; r < rows; r++) {
          int ro = r * no;
          int xo = r * ni;
          for (int j = 0; j < no; j++) {
            grad[b + j] += dOut[ro + j];
          }
          for (int k = 0; k < ni; k++) {
            float xk = in[xo + k];
            if (xk == 0f) {
              continue;
            }
            int wk = w + k * no;
            for (int j = 0; j < no; j++) {
              grad[wk + j] += xk * dOut[ro + j];
            }
          }
        }
        if (l > 0) {
          float[] dIn = delta[l];
          float[] hIn = act.a[l];
          for (int r = 0; r < rows; r++) {
            int ro = r * no;
            int io = r * ni;
            for (int k = 0; k < ni; k++) {
              if (hIn[io + k] <= 0f) {
                dIn[io + k] = 0f;
                continue;
              }
              int wk = w + k * no;
              float s = 0f;
              for (int j = 0; j < no; j++) {
                s += params[wk + j] * dOut[ro + j];
              }
              dIn[io + k] = s;
            }
          }
        }
      }
    }
  }
}
