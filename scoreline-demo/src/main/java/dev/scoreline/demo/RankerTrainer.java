package dev.scoreline.demo;

import dev.scoreline.core.progress.ProgressListener;
import java.util.concurrent.ExecutorService;

/**
 * Trains the ranker on the {@code rank} interactions: one positive per user (its rank item, with
 * the category of its last train interaction as request context), {@link Params#hardNegatives}
 * negatives drawn uniformly from the user's ALS candidates (what the ranker will have to order at
 * serving time) and {@link Params#popularNegatives} drawn by popularity from the items the user has
 * not seen. Users whose rank item is not among their top ALS candidates are left out: the ranker
 * only ever orders candidates, and training it on positives it can never meet taught it to distrust
 * the ALS score (measured: recall@10 0.149 with them, 0.163 without, on the demo). Adam on binary
 * cross-entropy, minibatches split into a fixed number of shards whose gradients are summed in
 * shard order, so training is deterministic for any thread count.
 */
final class RankerTrainer {
  /**
   * @param hidden hidden layer widths
   * @param hardNegatives negatives per positive from the user's candidates
   * @param popularNegatives negatives per positive sampled by popularity
   * @param epochs passes over the examples
   * @param batchSize rows per Adam step
   * @param learningRate Adam's step size
   * @param seed sampling, shuffling and initialization
   */
  record Params(
      int[] hidden,
      int hardNegatives,
      int popularNegatives,
      int epochs,
      int batchSize,
      float learningRate,
      long seed) {}

  /**
   * @param model the trained ranker
   * @param examples training rows
   * @param loss mean binary cross-entropy per epoch
   */
  record Result(Mlp model, int examples, double[] loss) {}

  private static final int SHARDS = 4;

  private RankerTrainer() {}

  static Result train(
      RankerFeatures features,
      Candidates candidates,
      Params p,
      ExecutorService executor,
      ProgressListener progress) {
    Shop shop = features.shop;
    int perUser = 1 + p.hardNegatives() + p.popularNegatives();
    int maxRows = shop.users * perUser;
    int[] exUser = new int[maxRows];
    int[] exItem = new int[maxRows];
    int[] exContext = new int[maxRows];
    float[] exLabel = new float[maxRows];

    // popularity sampling table (train counts + 1)
    double[] popWeight = new double[shop.items];
    for (int i = 0; i < shop.items; i++) {
      popWeight[i] = features.itemPopularity[i] + 1.0;
    }
    double[] popCum = ShopGenerator.cumulative(popWeight);

    boolean[] seen = new boolean[shop.items];
    boolean[] picked = new boolean[shop.items];
    int n = 0;
    for (int u = 0; u < shop.users; u++) {
      Rng rng = Rng.derive(p.seed(), 31, u);
      int context = shop.trainContextCategory(u);
      int positive = shop.rankItem(u);
      if (!amongCandidates(features, candidates, u, positive)) {
        continue; // the ranker never sees this item for this user: no row matches serving
      }
      exUser[n] = u;
      exItem[n] = positive;
      exContext[n] = context;
      exLabel[n] = 1f;
      n++;
      int c = candidates.count[u];
      int base = u * candidates.k;
      int hard = Math.min(p.hardNegatives(), c);
      // distinct uniform picks among the candidates (partial Fisher-Yates over positions)
      int[] pos = new int[c];
      for (int i = 0; i < c; i++) {
        pos[i] = i;
      }
      for (int h = 0; h < hard; h++) {
        int j = h + rng.nextInt(c - h);
        int t = pos[h];
        pos[h] = pos[j];
        pos[j] = t;
        int item = candidates.item[base + pos[h]];
        exUser[n] = u;
        exItem[n] = item;
        exContext[n] = context;
        exLabel[n] = 0f;
        picked[item] = true;
        n++;
      }
      for (int q = shop.trainStart(u); q <= shop.rankPosition(u); q++) {
        seen[shop.interactionItem[q]] = true;
      }
      for (int h = 0; h < p.popularNegatives(); h++) {
        for (int attempt = 0; attempt < 16; attempt++) {
          int item = ShopGenerator.pick(popCum, rng.nextDouble());
          if (!seen[item] && !picked[item]) {
            exUser[n] = u;
            exItem[n] = item;
            exContext[n] = context;
            exLabel[n] = 0f;
            picked[item] = true;
            n++;
            break;
          }
        }
      }
      for (int q = shop.trainStart(u); q <= shop.rankPosition(u); q++) {
        seen[shop.interactionItem[q]] = false;
      }
      for (int q = n - 1; q >= 0 && exUser[q] == u; q--) {
        picked[exItem[q]] = false;
      }
    }
    int rows = n;

    // order: a seeded permutation
    int[] order = new int[rows];
    for (int i = 0; i < rows; i++) {
      order[i] = i;
    }
    Mlp mlp = Mlp.initialize(dims(p.hidden()), p.seed());
    float[] m1 = new float[mlp.params.length];
    float[] m2 = new float[mlp.params.length];
    int batch = p.batchSize();
    int shardRows = (batch + SHARDS - 1) / SHARDS;
    Mlp.Gradient[] grads = new Mlp.Gradient[SHARDS];
    float[][] shardX = new float[SHARDS][shardRows * RankerFeatures.WIDTH];
    float[][] shardY = new float[SHARDS][shardRows];
    for (int s = 0; s < SHARDS; s++) {
      grads[s] = mlp.new Gradient(shardRows);
    }
    double[] epochLoss = new double[p.epochs()];
    long steps = 0;
    int batches = (rows + batch - 1) / batch;
    progress.start("train ranker (MLP)", (long) p.epochs() * rows);
    for (int epoch = 0; epoch < p.epochs(); epoch++) {
      Rng.derive(p.seed(), 41, epoch).shuffle(order);
      double lossSum = 0;
      for (int bi = 0; bi < batches; bi++) {
        int from = bi * batch;
        int to = Math.min(rows, from + batch);
        float scale = 1f / (to - from);
        Parallel.forEach(
            executor,
            SHARDS,
            1,
            (shard, unused, unused2) -> {
              int a = Math.min(to, from + shard * shardRows);
              int b = Math.min(to, a + shardRows);
              Mlp.Gradient g = grads[shard];
              g.clear();
              int nr = b - a;
              if (nr <= 0) {
                return;
              }
              float[] x = shardX[shard];
              float[] y = shardY[shard];
              for (int r = 0; r < nr; r++) {
                int e = order[a + r];
                features.fill(exUser[e], exItem[e], exContext[e], x, r * RankerFeatures.WIDTH);
                y[r] = exLabel[e];
              }
              g.accumulate(x, nr, y, 0, scale);
            });
        steps++;
        adam(mlp.params, grads, m1, m2, steps, p.learningRate());
        for (Mlp.Gradient g : grads) {
          lossSum += g.loss;
        }
        progress.advance(to - from);
      }
      epochLoss[epoch] = lossSum / rows;
    }
    progress.finish();
    return new Result(mlp, rows, epochLoss);
  }

  /**
   * Whether the item would be among the user's candidates had it not been seen: its dot product is
   * at least the last candidate's (all of them when the list is short).
   */
  static boolean amongCandidates(RankerFeatures f, Candidates c, int user, int item) {
    if (c.count[user] < c.k) {
      return true;
    }
    int d = RankerFeatures.DIM;
    float dot = Candidates.dot(f.userEmbedding, user * d, f.itemEmbedding, item * d, d);
    return dot >= c.score[user * c.k + c.k - 1];
  }

  static int[] dims(int[] hidden) {
    int[] dims = new int[hidden.length + 2];
    dims[0] = RankerFeatures.WIDTH;
    System.arraycopy(hidden, 0, dims, 1, hidden.length);
    dims[dims.length - 1] = 1;
    return dims;
  }

  private static void adam(
      float[] params, Mlp.Gradient[] grads, float[] m1, float[] m2, long step, float lr) {
    final double b1 = 0.9;
    final double b2 = 0.999;
    final double eps = 1e-8;
    double c1 = 1 - Math.pow(b1, step);
    double c2 = 1 - Math.pow(b2, step);
    for (int i = 0; i < params.length; i++) {
      float g = 0f;
      for (Mlp.Gradient gr : grads) {
        g += gr.grad[i];
      }
      m1[i] = (float) (b1 * m1[i] + (1 - b1) * g);
      m2[i] = (float) (b2 * m2[i] + (1 - b2) * g * g);
      double mh = m1[i] / c1;
      double vh = m2[i] / c2;
      params[i] -= (float) (lr * mh / (Math.sqrt(vh) + eps));
    }
  }
}
