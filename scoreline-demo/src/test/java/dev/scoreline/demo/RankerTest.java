package dev.scoreline.demo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

class RankerTest {
  @Test
  void twoStage_beatsPopularityAndAnnOnly() {
    Evaluation.Report r = SmallDemo.get().evaluation();
    double popularity = r.get(Evaluation.POPULARITY).recall();
    double ann = r.get(Evaluation.ANN_ONLY).recall();
    double twoStage = r.get(Evaluation.TWO_STAGE).recall();
    assertThat(twoStage).isGreaterThan(1.5 * popularity).isGreaterThan(ann);
    assertThat(r.get(Evaluation.TWO_STAGE).ndcg()).isGreaterThan(r.get(Evaluation.ANN_ONLY).ndcg());
    assertThat(r.get(Evaluation.TWO_STAGE_RULES).recall()).isGreaterThan(popularity);
  }

  @Test
  void training_lossDecreases() {
    // the log line of the ranker step: "log loss A -> B"
    String line =
        SmallDemo.log().lines().filter(l -> l.startsWith("train ranker")).findFirst().orElseThrow();
    String[] parts = line.substring(line.indexOf("log loss ") + 9).split(" -> ");
    assertThat(Double.parseDouble(parts[1].trim())).isLessThan(Double.parseDouble(parts[0]));
  }

  @Test
  void evaluate_pluggableRecommender_sameAsBuiltIn() {
    DemoData d = SmallDemo.get();
    JavaRanker ranker = new JavaRanker(d.features(), d.candidateLists(), d.ranker());
    Evaluation.Metrics again = d.evaluate("again", ranker.recommender(false));
    Evaluation.Metrics builtIn = d.evaluation().get(Evaluation.TWO_STAGE);
    assertThat(again.recall()).isEqualTo(builtIn.recall());
    assertThat(again.ndcg()).isEqualTo(builtIn.ndcg());
    assertThat(again.users()).isEqualTo(builtIn.users());
  }

  @Test
  void evaluate_perfectRecommender_recallOne() {
    DemoData d = SmallDemo.get();
    Evaluation.Metrics m =
        d.evaluate("oracle", (user, context) -> new long[] {d.heldOutItem(user)});
    assertThat(m.recall()).isEqualTo(1.0);
    assertThat(m.ndcg()).isEqualTo(1.0);
  }

  @Test
  void mlpGradient_matchesFiniteDifferences() {
    int[] dims = {5, 4, 3, 1};
    Mlp mlp = Mlp.initialize(dims, 9);
    Rng rng = new Rng(4);
    int rows = 3;
    float[] x = new float[rows * dims[0]];
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) rng.nextGaussian();
    }
    float[] y = {1, 0, 1};
    Mlp.Gradient g = mlp.new Gradient(rows);
    g.clear();
    g.accumulate(x, rows, y, 0, 1f);
    double eps = 1e-3;
    for (int p = 0; p < mlp.params.length; p++) {
      float saved = mlp.params[p];
      mlp.params[p] = (float) (saved + eps);
      double plus = loss(mlp, x, y, rows);
      mlp.params[p] = (float) (saved - eps);
      double minus = loss(mlp, x, y, rows);
      mlp.params[p] = saved;
      double numeric = (plus - minus) / (2 * eps);
      assertThat((double) g.grad[p]).as("parameter %d", p).isCloseTo(numeric, within(2e-3));
    }
  }

  private static double loss(Mlp mlp, float[] x, float[] y, int rows) {
    Mlp.Gradient g = mlp.new Gradient(rows);
    g.clear();
    g.accumulate(x, rows, y, 0, 1f);
    return g.loss;
  }
}
