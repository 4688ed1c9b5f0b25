package dev.scoreline.demo;

/**
 * The two-stage recommender in Java: a user's ALS candidates, one feature row per candidate, the
 * MLP's scores, best first (ties by candidate position). With rules it also applies the surface's
 * rules after ranking: drop out-of-stock items, at most {@value #MAX_PER_CATEGORY} items per
 * category.
 */
final class JavaRanker {
  static final int MAX_PER_CATEGORY = 4;

  private final RankerFeatures features;
  private final Candidates candidates;
  private final Mlp mlp;
  private final ThreadLocal<Scratch> scratch;

  /** The last ranking of each user and its context, reused by the variants of an evaluation. */
  private final int[][] cache;

  private final int[] cacheContext;

  JavaRanker(RankerFeatures features, Candidates candidates, Mlp mlp) {
    this.features = features;
    this.candidates = candidates;
    this.mlp = mlp;
    this.scratch = ThreadLocal.withInitial(() -> new Scratch(candidates.k));
    this.cache = new int[candidates.users][];
    this.cacheContext = new int[candidates.users];
  }

  private int[] ranked(int user, int context) {
    int[] order = cache[user];
    if (order == null || cacheContext[user] != context) {
      order = rank(user, context, null);
      cacheContext[user] = context;
      cache[user] = order;
    }
    return order;
  }

  private final class Scratch {
    final float[] x;
    final float[] scores;
    final Integer[] order;
    final Mlp.Activations act;

    Scratch(int k) {
      x = new float[k * RankerFeatures.WIDTH];
      scores = new float[k];
      order = new Integer[k];
      act = mlp.activations(k);
    }
  }

  /**
   * Ranks the user's candidates.
   *
   * @return candidate positions, best first; scores in {@code scoresOut} by position
   */
  int[] rank(int user, int contextCategory, float[] scoresOut) {
    Scratch s = scratch.get();
    int n = candidates.count[user];
    int base = user * candidates.k;
    for (int c = 0; c < n; c++) {
      features.fill(
          user, candidates.item[base + c], contextCategory, s.x, c * RankerFeatures.WIDTH);
    }
    mlp.forward(s.x, 0, n, s.act, s.scores);
    for (int c = 0; c < n; c++) {
      s.order[c] = c;
      if (scoresOut != null) {
        scoresOut[c] = s.scores[c];
      }
    }
    float[] sc = s.scores;
    java.util.Arrays.sort(
        s.order, 0, n, (a, b) -> sc[a] != sc[b] ? Float.compare(sc[b], sc[a]) : a - b);
    int[] out = new int[n];
    for (int c = 0; c < n; c++) {
      out[c] = s.order[c];
    }
    return out;
  }

  Evaluation.Recommender recommender(boolean rules) {
    Shop shop = features.shop;
    return (userId, context) -> {
      int u = Shop.userIndex(userId);
      int[] order = ranked(u, (int) context);
      long[] out = new long[Evaluation.K];
      int[] perCategory = new int[Shop.CATEGORIES];
      int n = 0;
      for (int i = 0; i < order.length && n < Evaluation.K; i++) {
        int item = candidates.item[u * candidates.k + order[i]];
        if (rules) {
          if (!shop.itemInStock[item]) {
            continue;
          }
          if (perCategory[shop.itemCategory[item]]++ >= MAX_PER_CATEGORY) {
            continue;
          }
        }
        out[n++] = Shop.itemId(item);
      }
      return java.util.Arrays.copyOf(out, n);
    };
  }
}
