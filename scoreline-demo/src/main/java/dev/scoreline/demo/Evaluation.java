package dev.scoreline.demo;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutorService;

/**
 * Offline evaluation on the held-out {@code test} interactions: each sampled user has one held-out
 * item (its last interaction); a recommender answers a top-10 list, from which the user's
 * already-seen items (train and rank interactions) are removed. recall@10 is the share of users
 * whose held-out item is in the list, NDCG@10 adds {@code 1 / log2(position + 2)} for a hit at a
 * 0-based position (one relevant item, so the ideal DCG is 1).
 *
 * <p>The sample of users is deterministic (a seeded draw, in user order).
 */
public final class Evaluation {
  /** Top-10 lists at {@code K}. */
  public static final int K = 10;

  /**
   * Answers a user's top list (best first; at least {@link #K} items are read).
   *
   * <p>Called concurrently from the evaluation's threads: implementations must be thread-safe.
   */
  @FunctionalInterface
  public interface Recommender {
    /**
     * @param userId the user's entity key ({@code user_id})
     * @param contextCategory the request context: the category of the user's most recent item, sent
     *     to the surface as {@code context.category}
     * @return item ids ({@code item_id}), best first
     */
    long[] recommend(long userId, long contextCategory);
  }

  /**
   * One evaluated recommender.
   *
   * @param name what was evaluated
   * @param recall recall@10
   * @param ndcg NDCG@10
   * @param users users evaluated
   */
  public record Metrics(String name, double recall, double ndcg, int users) {}

  /** Rows of an evaluation, in order. */
  public record Report(List<Metrics> rows) {
    public Report {
      rows = List.copyOf(rows);
    }

    /** The row named {@code name}. */
    public Metrics get(String name) {
      for (Metrics m : rows) {
        if (m.name().equals(name)) {
          return m;
        }
      }
      throw new IllegalArgumentException("no row '" + name + "' in " + rows);
    }

    /** A Markdown table: method, recall@10, NDCG@10. */
    public String table() {
      StringBuilder sb = new StringBuilder();
      sb.append("| method | recall@10 | NDCG@10 |\n|---|---:|---:|\n");
      for (Metrics m : rows) {
        sb.append(
            String.format(Locale.ROOT, "| %s | %.4f | %.4f |%n", m.name(), m.recall(), m.ndcg()));
      }
      return sb.toString();
    }
  }

  public static final String POPULARITY = "popularity";
  public static final String ANN_ONLY = "ANN-only (ALS top-10)";
  public static final String TWO_STAGE = "two-stage (ALS top-200 -> ranker)";
  public static final String TWO_STAGE_RULES = "two-stage + rules (in-stock, max 4 per category)";

  private final Shop shop;
  private final int[] sample;
  private final ExecutorService executor;

  Evaluation(Shop shop, int sampleSize, long seed, ExecutorService executor) {
    this.shop = shop;
    this.sample = sample(shop.users, sampleSize, seed);
    this.executor = executor;
  }

  /** {@code size} distinct users (all when there are fewer), in index order. */
  static int[] sample(int users, int size, long seed) {
    if (size >= users) {
      int[] all = new int[users];
      for (int u = 0; u < users; u++) {
        all[u] = u;
      }
      return all;
    }
    int[] perm = new int[users];
    for (int u = 0; u < users; u++) {
      perm[u] = u;
    }
    Rng rng = Rng.derive(seed, 51, 0);
    for (int i = 0; i < size; i++) {
      int j = i + rng.nextInt(users - i);
      int t = perm[i];
      perm[i] = perm[j];
      perm[j] = t;
    }
    int[] out = Arrays.copyOf(perm, size);
    Arrays.sort(out);
    return out;
  }

  int[] users() {
    return sample.clone();
  }

  /** Evaluates a recommender over the sample. */
  Metrics evaluate(String name, Recommender recommender) {
    int chunk = 64;
    int chunks = Parallel.chunks(sample.length, chunk);
    double[] hits = new double[chunks];
    double[] gains = new double[chunks];
    Parallel.forEach(
        executor,
        sample.length,
        chunk,
        (c, from, to) -> {
          double h = 0;
          double g = 0;
          for (int s = from; s < to; s++) {
            int u = sample[s];
            long[] list = recommender.recommend(Shop.userId(u), shop.serveContextCategory(u));
            int position = position(u, list);
            if (position >= 0) {
              h += 1;
              g += 1.0 / (Math.log(position + 2) / Math.log(2));
            }
          }
          hits[c] = h;
          gains[c] = g;
        });
    double h = 0;
    double g = 0;
    for (int c = 0; c < chunks; c++) {
      h += hits[c];
      g += gains[c];
    }
    return new Metrics(name, h / sample.length, g / sample.length, sample.length);
  }

  /** 0-based position of the held-out item among the first K unseen items of the list, or -1. */
  private int position(int u, long[] list) {
    long target = Shop.itemId(shop.testItem(u));
    int kept = 0;
    for (int i = 0; i < list.length && kept < K; i++) {
      long id = list[i];
      if (seen(u, id)) {
        continue;
      }
      if (id == target) {
        return kept;
      }
      kept++;
    }
    return -1;
  }

  private boolean seen(int u, long itemId) {
    for (int p = shop.trainStart(u); p <= shop.rankPosition(u); p++) {
      if (Shop.itemId(shop.interactionItem[p]) == itemId) {
        return true;
      }
    }
    return false;
  }

  /** The most popular items (train counts) the user has not seen. */
  static Recommender popularity(Shop shop, int[] popularity) {
    int[] order = byPopularity(popularity);
    return (userId, context) -> {
      int u = Shop.userIndex(userId);
      long[] out = new long[K];
      int n = 0;
      for (int i = 0; i < order.length && n < K; i++) {
        int item = order[i];
        boolean seen = false;
        for (int p = shop.trainStart(u); p <= shop.rankPosition(u) && !seen; p++) {
          seen = shop.interactionItem[p] == item;
        }
        if (!seen) {
          out[n++] = Shop.itemId(item);
        }
      }
      return Arrays.copyOf(out, n);
    };
  }

  /** Item indexes by train popularity, most popular first (ties by index). */
  static int[] byPopularity(int[] popularity) {
    Integer[] boxed = new Integer[popularity.length];
    for (int i = 0; i < boxed.length; i++) {
      boxed[i] = i;
    }
    Arrays.sort(
        boxed, (a, b) -> popularity[a] != popularity[b] ? popularity[b] - popularity[a] : a - b);
    int[] order = new int[boxed.length];
    for (int i = 0; i < order.length; i++) {
      order[i] = boxed[i];
    }
    return order;
  }

  /** The first K ALS candidates (they already exclude seen items). */
  static Recommender annOnly(Candidates candidates) {
    return (userId, context) -> {
      int u = Shop.userIndex(userId);
      int n = Math.min(K, candidates.count[u]);
      long[] out = new long[n];
      for (int i = 0; i < n; i++) {
        out[i] = Shop.itemId(candidates.item[u * candidates.k + i]);
      }
      return out;
    };
  }

  /** Evaluates popularity, ANN-only and the two rankers; returns the rows in that order. */
  static Report standard(
      Evaluation eval, RankerFeatures features, Candidates candidates, JavaRanker ranker) {
    List<Metrics> rows = new ArrayList<>();
    rows.add(eval.evaluate(POPULARITY, popularity(features.shop, features.itemPopularity)));
    rows.add(eval.evaluate(ANN_ONLY, annOnly(candidates)));
    rows.add(eval.evaluate(TWO_STAGE, ranker.recommender(false)));
    rows.add(eval.evaluate(TWO_STAGE_RULES, ranker.recommender(true)));
    return new Report(rows);
  }
}
