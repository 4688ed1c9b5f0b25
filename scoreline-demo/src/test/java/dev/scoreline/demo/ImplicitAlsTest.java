package dev.scoreline.demo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.scoreline.core.progress.ProgressListener;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.Test;

class ImplicitAlsTest {
  @Test
  void train_lossDecreasesEveryIteration() {
    double[] loss = SmallDemo.get().als().loss();
    assertThat(loss).hasSize(Quickstart.ALS.iterations());
    for (int i = 1; i < loss.length; i++) {
      assertThat(loss[i]).as("iteration %d", i).isLessThan(loss[i - 1]);
    }
    assertThat(loss[loss.length - 1]).isLessThan(0.7 * loss[0]);
  }

  @Test
  void conjugateGradient_reachesTheExactSolversLoss() {
    Shop shop = SmallDemo.get().shop();
    Csr train = Csr.trainMatrix(shop);
    ExecutorService executor = Executors.newFixedThreadPool(2);
    try {
      ImplicitAls.Params cg = new ImplicitAls.Params(32, 5, 20, 10, 3, 1);
      ImplicitAls.Params exact = new ImplicitAls.Params(32, 5, 20, 10, 0, 1);
      double[] cgLoss = ImplicitAls.train(train, cg, executor, ProgressListener.NONE).loss();
      double[] exactLoss = ImplicitAls.train(train, exact, executor, ProgressListener.NONE).loss();
      for (int i = 1; i < exactLoss.length; i++) {
        assertThat(exactLoss[i]).isLessThan(exactLoss[i - 1]);
      }
      assertThat(cgLoss[4] / exactLoss[4]).isCloseTo(1.0, within(0.02));
    } finally {
      executor.shutdownNow();
    }
  }

  @Test
  void annOnly_beatsPopularity() {
    Evaluation.Report r = SmallDemo.get().evaluation();
    assertThat(r.get(Evaluation.ANN_ONLY).recall())
        .isGreaterThan(1.3 * r.get(Evaluation.POPULARITY).recall());
    assertThat(r.get(Evaluation.ANN_ONLY).ndcg())
        .isGreaterThan(r.get(Evaluation.POPULARITY).ndcg());
  }

  @Test
  void cholesky_solvesASymmetricPositiveDefiniteSystem() {
    int n = 6;
    Rng rng = new Rng(3);
    double[] m = new double[n * n];
    for (int i = 0; i < m.length; i++) {
      m[i] = rng.nextGaussian();
    }
    double[] a = new double[n * n];
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < n; j++) {
        double s = i == j ? 1 : 0;
        for (int k = 0; k < n; k++) {
          s += m[i * n + k] * m[j * n + k];
        }
        a[i * n + j] = s;
      }
    }
    double[] x = {1, -2, 3, 0.5, 0, -1};
    double[] b = new double[n];
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < n; j++) {
        b[i] += a[i * n + j] * x[j];
      }
    }
    Cholesky.solveUpper(a.clone(), b, n);
    assertThat(b).containsExactly(x, within(1e-9));
  }
}
