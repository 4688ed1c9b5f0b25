package dev.scoreline.demo;

/**
 * The ranker's input row for a (user, item, request context) triple: {@value #WIDTH} float32
 * columns, computed exactly as the {@code home-feed} surface computes them from the online features
 * with its declared transforms:
 *
 * <table>
 *   <caption>columns</caption>
 *   <tr><th>col</th><th>value</th><th>transform</th></tr>
 *   <tr><td>0</td><td>dot(user embedding, item embedding), float32 sum in dimension order</td><td>{@code dot}</td></tr>
 *   <tr><td>1</td><td>(float) log1p(item popularity), computed in double</td><td>{@code log1p}</td></tr>
 *   <tr><td>2</td><td>(float) ((price - mean) / std), computed in double</td><td>{@code standardize}</td></tr>
 *   <tr><td>3..22</td><td>one-hot of the item category</td><td>{@code one-hot}, size 20</td></tr>
 *   <tr><td>23</td><td>user category_affinity[item category]</td><td>{@code pick}</td></tr>
 *   <tr><td>24</td><td>(float) log1p(user activity), computed in double</td><td>{@code log1p}</td></tr>
 *   <tr><td>25</td><td>1 when the item category equals context.category, else 0</td><td>{@code equals}</td></tr>
 *   <tr><td>26..57</td><td>user embedding</td><td>{@code value}, size 32</td></tr>
 *   <tr><td>58..89</td><td>item embedding</td><td>{@code value}, size 32</td></tr>
 * </table>
 *
 * <p>The per-user and per-item values are the feature values written to the project: popularity and
 * activity count train interactions, the affinity is the fraction of a user's train interactions in
 * each category (float32).
 */
final class RankerFeatures {
  static final int DIM = 32;
  static final int COL_DOT = 0;
  static final int COL_POPULARITY = 1;
  static final int COL_PRICE = 2;
  static final int COL_CATEGORY = 3;
  static final int COL_AFFINITY = COL_CATEGORY + Shop.CATEGORIES;
  static final int COL_ACTIVITY = COL_AFFINITY + 1;
  static final int COL_CONTEXT = COL_ACTIVITY + 1;
  static final int COL_USER_EMBEDDING = COL_CONTEXT + 1;
  static final int COL_ITEM_EMBEDDING = COL_USER_EMBEDDING + DIM;
  static final int WIDTH = COL_ITEM_EMBEDDING + DIM;

  final Shop shop;
  final float[] userEmbedding;
  final float[] itemEmbedding;
  final int[] itemPopularity;
  final int[] userActivity;

  /** {@code [users][CATEGORIES]}. */
  final float[] userAffinity;

  final double priceMean;
  final double priceStd;

  private final float[] logPopularity;
  private final float[] priceZ;
  private final float[] logActivity;

  RankerFeatures(Shop shop, ImplicitAls.Model als) {
    if (als.factors() != DIM) {
      throw new IllegalArgumentException("the ranker expects " + DIM + "-dimensional embeddings");
    }
    this.shop = shop;
    this.userEmbedding = als.users();
    this.itemEmbedding = als.items();
    this.itemPopularity = shop.trainPopularity();
    this.userActivity = new int[shop.users];
    this.userAffinity = new float[shop.users * Shop.CATEGORIES];
    int[] perCategory = new int[Shop.CATEGORIES];
    for (int u = 0; u < shop.users; u++) {
      java.util.Arrays.fill(perCategory, 0);
      int n = shop.trainEnd(u) - shop.trainStart(u);
      for (int p = shop.trainStart(u); p < shop.trainEnd(u); p++) {
        perCategory[shop.itemCategory[shop.interactionItem[p]]]++;
      }
      userActivity[u] = n;
      for (int c = 0; c < Shop.CATEGORIES; c++) {
        userAffinity[u * Shop.CATEGORIES + c] = n == 0 ? 0f : (float) ((double) perCategory[c] / n);
      }
    }
    double sum = 0;
    for (double p : shop.itemPrice) {
      sum += p;
    }
    this.priceMean = sum / shop.items;
    double sq = 0;
    for (double p : shop.itemPrice) {
      sq += (p - priceMean) * (p - priceMean);
    }
    double std = Math.sqrt(sq / shop.items);
    this.priceStd = std > 0 ? std : 1.0;

    this.logPopularity = new float[shop.items];
    this.priceZ = new float[shop.items];
    for (int i = 0; i < shop.items; i++) {
      logPopularity[i] = log1p(itemPopularity[i]);
      priceZ[i] = standardize(shop.itemPrice[i], priceMean, priceStd);
    }
    this.logActivity = new float[shop.users];
    for (int u = 0; u < shop.users; u++) {
      logActivity[u] = log1p(userActivity[u]);
    }
  }

  static float log1p(long v) {
    return (float) Math.log1p((double) v);
  }

  static float standardize(double v, double mean, double std) {
    return (float) ((v - mean) / std);
  }

  /** Writes the row of (user, item, context category) into {@code out} at {@code offset}. */
  void fill(int user, int item, int contextCategory, float[] out, int offset) {
    int uo = user * DIM;
    int io = item * DIM;
    int category = shop.itemCategory[item];
    out[offset + COL_DOT] = Candidates.dot(userEmbedding, uo, itemEmbedding, io, DIM);
    out[offset + COL_POPULARITY] = logPopularity[item];
    out[offset + COL_PRICE] = priceZ[item];
    for (int c = 0; c < Shop.CATEGORIES; c++) {
      out[offset + COL_CATEGORY + c] = c == category ? 1f : 0f;
    }
    out[offset + COL_AFFINITY] = userAffinity[user * Shop.CATEGORIES + category];
    out[offset + COL_ACTIVITY] = logActivity[user];
    out[offset + COL_CONTEXT] = category == contextCategory ? 1f : 0f;
    System.arraycopy(userEmbedding, uo, out, offset + COL_USER_EMBEDDING, DIM);
    System.arraycopy(itemEmbedding, io, out, offset + COL_ITEM_EMBEDDING, DIM);
  }
}
