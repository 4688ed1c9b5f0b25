package dev.scoreline.demo;

import dev.scoreline.core.progress.ProgressListener;
import java.time.Instant;
import java.util.Arrays;
import java.util.concurrent.ExecutorService;

/**
 * Generates a deterministic synthetic shop (see {@code docs/quickstart-demo.md}).
 *
 * <p><b>Items</b> belong to one of {@value Shop#CATEGORIES} categories (of random sizes), carry a
 * hidden taste vector (its category's centroid plus noise), a price (lognormal around a price level
 * of the category), a stock flag (95% in stock) and a base popularity that follows a Zipf law over
 * a random ranking of the items.
 *
 * <p><b>Users</b> carry a hidden taste vector and category affinities (lognormal weights). A user's
 * interactions form a sequence: the next one stays in the category of the previous one with
 * probability {@value #STAY}, else its category is drawn from the user's affinities; within the
 * category an item is drawn with weight {@code exp(popularity + TASTE * <user, item>)} (the
 * popularity term includes a preference for items cheap for their category), without repeats:
 * {@value #PROPOSALS} proposals by popularity re-weighted by taste
 * (sampling-importance-resampling). Timestamps are sorted random times in the user's part of the
 * window.
 *
 * <p>Every user's draws come from a generator derived from (seed, user), so the shop is the same
 * whatever the number of threads.
 */
final class ShopGenerator {
  static final int LATENT = 16;
  static final double STAY = 0.5;
  static final double TASTE = 3.0;
  static final double ZIPF = 0.9;
  static final double PRICE_EFFECT = 0.2;
  static final double IN_STOCK = 0.95;
  static final int MIN_PER_USER = 3;
  static final int PROPOSALS = 24;

  static final Instant START = Instant.parse("2026-08-01T00:00:00Z");
  static final Instant END = Instant.parse("2026-11-01T00:00:00Z");

  private static final long STREAM_ITEMS = 1;
  private static final long STREAM_COUNTS = 2;
  private static final long STREAM_USERS = 3;
  private static final int CHUNK = 512;

  private final int users;
  private final int items;
  private final int interactions;
  private final long seed;

  ShopGenerator(int users, int items, int interactions, long seed) {
    if (users < 1 || items < 4 * Shop.CATEGORIES) {
      throw new IllegalArgumentException(
          "a shop needs at least 1 user and " + 4 * Shop.CATEGORIES + " items");
    }
    if (interactions < (long) MIN_PER_USER * users) {
      throw new IllegalArgumentException(
          "a shop needs at least " + MIN_PER_USER + " interactions per user");
    }
    this.users = users;
    this.items = items;
    this.interactions = interactions;
    this.seed = seed;
  }

  Shop generate(ExecutorService executor, ProgressListener progress) {
    Rng rng = Rng.derive(seed, STREAM_ITEMS, 0);

    // categories: random sizes, a price level each, a taste centroid each
    double[] categoryWeight = new double[Shop.CATEGORIES];
    double[] priceLevel = new double[Shop.CATEGORIES];
    int[] levels = new int[Shop.CATEGORIES];
    for (int c = 0; c < Shop.CATEGORIES; c++) {
      categoryWeight[c] = Math.exp(0.5 * rng.nextGaussian());
      levels[c] = c;
    }
    rng.shuffle(levels);
    for (int c = 0; c < Shop.CATEGORIES; c++) {
      priceLevel[c] = 2.0 + 4.0 * levels[c] / (Shop.CATEGORIES - 1);
    }
    double[] centroid = new double[Shop.CATEGORIES * LATENT];
    for (int i = 0; i < centroid.length; i++) {
      centroid[i] = rng.nextGaussian();
    }

    // items: category (each category gets at least 2 items), taste, price, stock, popularity
    int[] itemCategory = new int[items];
    double[] cumCategory = cumulative(categoryWeight);
    for (int i = 0; i < items; i++) {
      itemCategory[i] =
          i < 2 * Shop.CATEGORIES ? i % Shop.CATEGORIES : pick(cumCategory, rng.nextDouble());
    }
    float[] itemTaste = new float[items * LATENT];
    for (int i = 0; i < items; i++) {
      int c = itemCategory[i];
      for (int k = 0; k < LATENT; k++) {
        itemTaste[i * LATENT + k] =
            (float) (0.5 * (0.6 * centroid[c * LATENT + k] + 0.8 * rng.nextGaussian()));
      }
    }
    double[] itemPrice = new double[items];
    double[] cheapness = new double[items];
    boolean[] inStock = new boolean[items];
    for (int i = 0; i < items; i++) {
      double z = rng.nextGaussian();
      double price = Math.exp(priceLevel[itemCategory[i]] + 0.5 * z);
      itemPrice[i] = Math.max(0.99, Math.round(price * 100.0) / 100.0);
      cheapness[i] = -z;
      inStock[i] = rng.nextDouble() < IN_STOCK;
    }
    int[] popularityRank = new int[items];
    for (int i = 0; i < items; i++) {
      popularityRank[i] = i;
    }
    rng.shuffle(popularityRank);
    float[] itemLogit = new float[items];
    for (int i = 0; i < items; i++) {
      itemLogit[i] =
          (float) (-ZIPF * Math.log(popularityRank[i] + 1.0) + PRICE_EFFECT * cheapness[i]);
    }
    int[][] byCategory = itemsByCategory(itemCategory);
    double[][] popularityCdf = new double[Shop.CATEGORIES][];
    for (int c = 0; c < Shop.CATEGORIES; c++) {
      double[] w = new double[byCategory[c].length];
      for (int m = 0; m < w.length; m++) {
        w[m] = Math.exp(itemLogit[byCategory[c][m]]);
      }
      popularityCdf[c] = cumulative(w);
    }

    // interactions per user: 3 + lognormal, adjusted to the exact total
    int[] counts = userCounts();
    int[] userStart = new int[users + 1];
    for (int u = 0; u < users; u++) {
      userStart[u + 1] = userStart[u] + counts[u];
    }
    int[] interactionItem = new int[interactions];
    long[] interactionTs = new long[interactions];

    progress.start("generate shop", users);
    Parallel.forEach(
        executor,
        users,
        CHUNK,
        (chunk, from, to) -> {
          UserSampler sampler =
              new UserSampler(byCategory, popularityCdf, itemTaste, itemCategory, items);
          for (int u = from; u < to; u++) {
            sampler.sample(
                Rng.derive(seed, STREAM_USERS, u),
                userStart[u],
                counts[u],
                categoryWeight,
                interactionItem,
                interactionTs);
          }
          progress.advance(to - from);
        });
    progress.finish();
    return new Shop(
        users,
        items,
        itemCategory,
        itemPrice,
        inStock,
        userStart,
        interactionItem,
        interactionTs,
        START,
        END);
  }

  private int[] userCounts() {
    Rng rng = Rng.derive(seed, STREAM_COUNTS, 0);
    int cap = Math.max(MIN_PER_USER + 1, Math.min(items / 4, 400));
    double mean = (double) interactions / users - MIN_PER_USER;
    double sigma = 0.9;
    double mu = Math.log(Math.max(mean, 1e-3)) - sigma * sigma / 2;
    int[] counts = new int[users];
    long total = 0;
    for (int u = 0; u < users; u++) {
      int extra = mean <= 0 ? 0 : (int) Math.round(Math.exp(mu + sigma * rng.nextGaussian()));
      counts[u] = Math.min(cap, MIN_PER_USER + extra);
      total += counts[u];
    }
    // adjust to the exact total, one interaction at a time, round-robin from a random user
    int u = rng.nextInt(users);
    long guard = 0;
    while (total != interactions) {
      if (total < interactions && counts[u] < cap) {
        counts[u]++;
        total++;
      } else if (total > interactions && counts[u] > MIN_PER_USER) {
        counts[u]--;
        total--;
      }
      u = (u + 1) % users;
      if (++guard > 64L * interactions + users) {
        throw new IllegalArgumentException(
            "cannot place " + interactions + " interactions on " + users + " users");
      }
    }
    return counts;
  }

  private static int[][] itemsByCategory(int[] itemCategory) {
    int[] n = new int[Shop.CATEGORIES];
    for (int c : itemCategory) {
      n[c]++;
    }
    int[][] out = new int[Shop.CATEGORIES][];
    for (int c = 0; c < Shop.CATEGORIES; c++) {
      out[c] = new int[n[c]];
    }
    Arrays.fill(n, 0);
    for (int i = 0; i < itemCategory.length; i++) {
      int c = itemCategory[i];
      out[c][n[c]++] = i;
    }
    return out;
  }

  static double[] cumulative(double[] weights) {
    double[] cum = new double[weights.length];
    double s = 0;
    for (int i = 0; i < weights.length; i++) {
      s += weights[i];
      cum[i] = s;
    }
    return cum;
  }

  /** Index of the first cumulative weight above {@code u * total}. */
  static int pick(double[] cum, double u) {
    double x = u * cum[cum.length - 1];
    int lo = 0;
    int hi = cum.length - 1;
    while (lo < hi) {
      int mid = (lo + hi) >>> 1;
      if (cum[mid] > x) {
        hi = mid;
      } else {
        lo = mid + 1;
      }
    }
    return lo;
  }

  /** Draws one user's sequence; holds per-thread scratch space. */
  private static final class UserSampler {
    private final int[][] byCategory;
    private final double[][] popularityCdf;
    private final float[] itemTaste;
    private final int[] itemCategory;
    private final boolean[] seen;
    private final double[] taste = new double[LATENT];
    private final double[] affinity = new double[Shop.CATEGORIES];
    private final int[] proposal = new int[PROPOSALS];
    private final double[] weight = new double[PROPOSALS];

    UserSampler(
        int[][] byCategory,
        double[][] popularityCdf,
        float[] itemTaste,
        int[] itemCategory,
        int items) {
      this.byCategory = byCategory;
      this.popularityCdf = popularityCdf;
      this.itemTaste = itemTaste;
      this.itemCategory = itemCategory;
      this.seen = new boolean[items];
    }

    void sample(
        Rng rng, int offset, int count, double[] categoryWeight, int[] outItem, long[] outTs) {
      for (int k = 0; k < LATENT; k++) {
        taste[k] = 0.5 * rng.nextGaussian();
      }
      for (int c = 0; c < Shop.CATEGORIES; c++) {
        affinity[c] = categoryWeight[c] * Math.exp(1.2 * rng.nextGaussian());
      }
      double[] cumAffinity = cumulative(affinity);

      int previous = -1;
      for (int t = 0; t < count; t++) {
        int category =
            previous >= 0 && rng.nextDouble() < STAY
                ? previous
                : pick(cumAffinity, rng.nextDouble());
        int item = draw(rng, category);
        if (item < 0) {
          // (nearly) everything proposed was seen: any category, then any unseen item
          item = draw(rng, pick(cumAffinity, rng.nextDouble()));
          if (item < 0) {
            item = firstUnseen(rng);
          }
        }
        seen[item] = true;
        outItem[offset + t] = item;
        previous = itemCategory[item];
      }
      for (int t = 0; t < count; t++) {
        seen[outItem[offset + t]] = false;
      }

      // times: sorted random seconds in [the user's first time, END - 1h), strictly increasing
      long end = END.getEpochSecond() - 3600;
      long window = end - START.getEpochSecond();
      long first = START.getEpochSecond() + (long) (rng.nextDouble() * window * 0.6);
      long[] seconds = new long[count];
      for (int t = 0; t < count; t++) {
        seconds[t] = first + (long) (rng.nextDouble() * (end - first));
      }
      Arrays.sort(seconds);
      for (int t = 1; t < count; t++) {
        if (seconds[t] <= seconds[t - 1]) {
          seconds[t] = seconds[t - 1] + 1;
        }
      }
      for (int t = 0; t < count; t++) {
        outTs[offset + t] = seconds[t] * 1000L;
      }
    }

    /**
     * An unseen item of the category: {@value #PROPOSALS} proposals by popularity, one of them kept
     * with weight {@code exp(TASTE * <user, item>)} (sampling-importance-resampling); -1 when every
     * proposal was seen, several times over.
     */
    private int draw(Rng rng, int category) {
      int[] members = byCategory[category];
      double[] cdf = popularityCdf[category];
      for (int attempt = 0; attempt < 4; attempt++) {
        double total = 0;
        for (int q = 0; q < PROPOSALS; q++) {
          int item = members[pick(cdf, rng.nextDouble())];
          proposal[q] = item;
          double w = 0;
          if (!seen[item]) {
            double dot = 0;
            int base = item * LATENT;
            for (int k = 0; k < LATENT; k++) {
              dot += taste[k] * itemTaste[base + k];
            }
            w = Math.exp(TASTE * dot);
          }
          total += w;
          weight[q] = total;
        }
        if (total > 0) {
          return proposal[pick(weight, rng.nextDouble())];
        }
      }
      return -1;
    }

    private int firstUnseen(Rng rng) {
      int n = seen.length;
      int start = rng.nextInt(n);
      for (int j = 0; j < n; j++) {
        int i = (start + j) % n;
        if (!seen[i]) {
          return i;
        }
      }
      throw new IllegalStateException("a user has seen every item");
    }
  }
}
