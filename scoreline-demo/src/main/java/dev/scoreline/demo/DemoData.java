package dev.scoreline.demo;

import dev.scoreline.core.surface.RankedList;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * What {@link Quickstart#build} produced and what the CLI publishes next: every user's candidate
 * list (the snapshot {@value #CANDIDATES_SNAPSHOT}), the popularity list (snapshot {@value
 * #POPULAR_SNAPSHOT}, key {@value #POPULAR_KEY}), the item embeddings for the index at {@value
 * #INDEX_DIR}, example requests, and the offline evaluation.
 *
 * <p>Ids are the entity keys of the project ({@code user_id}, {@code item_id}): users {@code
 * 1..users()}, items {@code 1..items()}. Immutable; thread-safe.
 */
public final class DemoData {
  /** The surface the demo project serves. */
  public static final String SURFACE = "home-feed";

  /** KV snapshot of each user's candidates ({@link RankedList}, keyed by the user entity key). */
  public static final String CANDIDATES_SNAPSHOT = "home-feed-candidates";

  /** KV snapshot of the global popularity list. */
  public static final String POPULAR_SNAPSHOT = "popular";

  /** The key of the popularity list in {@link #POPULAR_SNAPSHOT}. */
  public static final String POPULAR_KEY = "global";

  /** The jvector index directory, relative to the project. */
  public static final String INDEX_DIR = "indexes/items";

  /** Length of each candidate list. */
  public static final int CANDIDATES = 200;

  /** Length of the popularity list. */
  public static final int POPULAR = 500;

  private final Path projectDir;
  private final Quickstart.Options options;
  private final Shop shop;
  private final ImplicitAls.Model als;
  private final Candidates candidates;
  private final RankerFeatures features;
  private final Mlp ranker;
  private final RankedList popular;
  private final Evaluation.Report evaluation;
  private final Map<String, Duration> timings;

  DemoData(
      Path projectDir,
      Quickstart.Options options,
      Shop shop,
      ImplicitAls.Model als,
      Candidates candidates,
      RankerFeatures features,
      Mlp ranker,
      RankedList popular,
      Evaluation.Report evaluation,
      Map<String, Duration> timings) {
    this.projectDir = projectDir;
    this.options = options;
    this.shop = shop;
    this.als = als;
    this.candidates = candidates;
    this.features = features;
    this.ranker = ranker;
    this.popular = popular;
    this.evaluation = evaluation;
    this.timings = new LinkedHashMap<>(timings);
  }

  /** The written project directory. */
  public Path projectDir() {
    return projectDir;
  }

  public int users() {
    return shop.users;
  }

  public int items() {
    return shop.items;
  }

  /** Number of interactions in the shop. */
  public int interactions() {
    return shop.interactions();
  }

  /** The user ids, {@code 1..users()}. */
  public long[] userIds() {
    long[] ids = new long[shop.users];
    for (int u = 0; u < ids.length; u++) {
      ids[u] = Shop.userId(u);
    }
    return ids;
  }

  /** The item ids, {@code 1..items()}, in the order of {@link #itemEmbeddings()}. */
  public long[] itemIds() {
    long[] ids = new long[shop.items];
    for (int i = 0; i < ids.length; i++) {
      ids[i] = Shop.itemId(i);
    }
    return ids;
  }

  /** The embedding dimension (32). */
  public int dimension() {
    return als.factors();
  }

  /** Item embeddings, one row per item in {@link #itemIds()} order (copies). */
  public float[][] itemEmbeddings() {
    int f = als.factors();
    float[][] out = new float[shop.items][];
    for (int i = 0; i < shop.items; i++) {
      out[i] = Arrays.copyOfRange(als.items(), i * f, (i + 1) * f);
    }
    return out;
  }

  /** A user's embedding (the query vector of {@code source: ann}). */
  public float[] userEmbedding(long userId) {
    int u = user(userId);
    int f = als.factors();
    return Arrays.copyOfRange(als.users(), u * f, (u + 1) * f);
  }

  /**
   * A user's candidates: the {@value #CANDIDATES} items with the highest ALS dot product among
   * those the user has not interacted with (train and rank interactions), best first, scores = the
   * dot products.
   */
  public RankedList candidates(long userId) {
    int u = user(userId);
    int n = candidates.count[u];
    long[] ids = new long[n];
    float[] scores = new float[n];
    for (int c = 0; c < n; c++) {
      ids[c] = Shop.itemId(candidates.item[u * candidates.k + c]);
      scores[c] = candidates.score[u * candidates.k + c];
    }
    return new RankedList(ids, scores);
  }

  /** The {@value #POPULAR} most interacted items (train interactions), score = the count. */
  public RankedList popular() {
    return popular;
  }

  /**
   * The request context of a user: the category of its most recent interaction, sent as {@code
   * context.category}.
   */
  public long contextCategory(long userId) {
    return shop.serveContextCategory(user(userId));
  }

  /** The held-out (test) item of a user: the item it interacts with next. */
  public long heldOutItem(long userId) {
    return Shop.itemId(shop.testItem(user(userId)));
  }

  /** A few users for example requests (deterministic). */
  public long[] exampleUsers() {
    int[] sample = Evaluation.sample(shop.users, Math.min(3, shop.users), options.seed() + 7);
    long[] out = new long[sample.length];
    for (int i = 0; i < sample.length; i++) {
      out[i] = Shop.userId(sample[i]);
    }
    return out;
  }

  /** Event time of the profile features: materialize an interval that contains it. */
  public Instant featureTime() {
    return shop.end;
  }

  /** The first interaction time: every feature row's event time is at or after it. */
  public Instant dataStart() {
    return shop.start;
  }

  /** The offline evaluation of popularity, ANN-only and the Java two-stage ranker. */
  public Evaluation.Report evaluation() {
    return evaluation;
  }

  /**
   * Evaluates another recommender (for example the served {@code home-feed} surface) on the same
   * users and held-out items as {@link #evaluation()}.
   */
  public Evaluation.Metrics evaluate(String name, Evaluation.Recommender recommender) {
    ExecutorService executor = Executors.newFixedThreadPool(options.threads());
    try {
      return new Evaluation(shop, options.evalUsers(), options.seed(), executor)
          .evaluate(name, recommender);
    } finally {
      executor.shutdownNow();
    }
  }

  /** Wall time of each step of {@link Quickstart#build}, in order. */
  public Map<String, Duration> timings() {
    return java.util.Collections.unmodifiableMap(timings);
  }

  Shop shop() {
    return shop;
  }

  ImplicitAls.Model als() {
    return als;
  }

  Candidates candidateLists() {
    return candidates;
  }

  RankerFeatures features() {
    return features;
  }

  Mlp ranker() {
    return ranker;
  }

  Quickstart.Options options() {
    return options;
  }

  /**
   * The ranker's training row for (user, item, request context category): the 90 columns the
   * surface computes at serving time (for parity tests).
   */
  public float[] featureRow(long userId, long itemId, long contextCategory) {
    if (itemId < 1 || itemId > shop.items) {
      throw new IllegalArgumentException("no item " + itemId + "; items are 1.." + shop.items);
    }
    float[] row = new float[RankerFeatures.WIDTH];
    features.fill(user(userId), Shop.itemIndex(itemId), Math.toIntExact(contextCategory), row, 0);
    return row;
  }

  private int user(long userId) {
    if (userId < 1 || userId > shop.users) {
      throw new IllegalArgumentException("no user " + userId + "; users are 1.." + shop.users);
    }
    return Shop.userIndex(userId);
  }
}
