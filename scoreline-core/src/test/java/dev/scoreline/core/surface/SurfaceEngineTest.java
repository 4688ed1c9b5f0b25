package dev.scoreline.core.surface;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.scoreline.core.config.ConfigLoader;
import dev.scoreline.core.error.ErrorCode;
import dev.scoreline.core.error.ScorelineException;
import dev.scoreline.core.feature.FeatureFixtures;
import dev.scoreline.core.feature.FeatureRegistry;
import dev.scoreline.core.feature.InMemoryKvStore;
import dev.scoreline.core.feature.online.EntityKeys;
import dev.scoreline.core.feature.online.OnlineFeatureStore;
import dev.scoreline.core.kv.KvEntry;
import dev.scoreline.core.kv.KvStore;
import dev.scoreline.core.model.InferenceResponse;
import dev.scoreline.core.tensor.Tensor;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The surface pipeline's stages, transforms, rules and fallback, on the in-memory KV store of the
 * core tests. The "model" here is the {@link SurfaceEngine.Scorer} seam returning input column 0
 * (the dot product), so every expected ranking can be computed by hand; the same pipeline with a
 * real ONNX ranker, RocksDB and HTTP/gRPC is tested in scoreline-cli ({@code SurfaceServingTest}).
 */
class SurfaceEngineTest {
  static final String FEATURES =
      String.join(
          "\n",
          "entities:",
          "  - {name: user, keys: [{name: user_id, type: int64}]}",
          "  - {name: item, keys: [{name: item_id, type: int64}]}",
          "feature-views:",
          "  - name: user_profile",
          "    entity: user",
          "    source: {path: data/u.parquet}",
          "    features:",
          "      - {name: embedding, type: fp32_list}",
          "      - {name: activity, type: int64}",
          "      - {name: affinity, type: fp32_list}",
          "  - name: user_recent",
          "    entity: user",
          "    source: {path: data/r.parquet}",
          "    features: [{name: items, type: int64_list}]",
          "  - name: item_profile",
          "    entity: item",
          "    source: {path: data/i.parquet}",
          "    features:",
          "      - {name: embedding, type: fp32_list}",
          "      - {name: category, type: int64}",
          "      - {name: price, type: fp64}",
          "      - {name: in_stock, type: bool}",
          "feature-services:",
          "  - {name: feed-user, features: ['user_profile:*']}",
          "");

  static final String SURFACE =
      String.join(
          "\n",
          "name: feed",
          "entity: user",
          "mode: two-stage",
          "candidates: {entity: item, source: precomputed, snapshot: feed-cands, limit: 200}",
          "features: {entity: [feed-user], candidate: ['item_profile:*']}",
          "model: {name: ranker, output: score}",
          "inputs:",
          "  - name: features",
          "    columns:",
          "      - dot: [user_profile:embedding, item_profile:embedding]",
          "      - log1p: user_profile:activity",
          "      - standardize: item_profile:price",
          "        mean: 10",
          "        std: 5",
          "      - one-hot: item_profile:category",
          "        size: 3",
          "      - pick: user_profile:affinity",
          "        index: item_profile:category",
          "      - equals: [item_profile:category, context.category]",
          "      - value: item_profile:embedding",
          "        size: 2",
          "      - value: candidate.score",
          "rules:",
          "  - filter-seen: {feature: user_recent:items, context: seen}",
          "  - filter: {feature: item_profile:in_stock, equals: true}",
          "  - boost: {feature: item_profile:category, context: category, factor: 10}",
          "  - diversity: {feature: item_profile:category, max-per-value: 2}",
          "  - pin: {context: pinned, position: 0}",
          "size: 5",
          "deadline: 300ms",
          "fallback: {popular: {snapshot: popular}}",
          "");

  @TempDir Path dir;
  InMemoryKvStore kv;
  OnlineFeatureStore store;
  ExecutorService executor;
  ScheduledExecutorService timer;
  FeatureRegistry registry;
  volatile SurfaceEngine.Scorer scorer;

  @BeforeEach
  void setUp() {
    registry = FeatureFixtures.registry(dir, FEATURES);
    kv = new InMemoryKvStore();
    store = new OnlineFeatureStore(kv, registry, java.time.Clock.systemUTC());
    executor = Executors.newFixedThreadPool(4);
    timer = Executors.newSingleThreadScheduledExecutor();
    scorer = SurfaceEngineTest::firstColumn;
    String ts = Instant.now().minusSeconds(60).toString();
    store.pushRows(
        "user_profile",
        List.of(
            Map.of(
                "user_id",
                1,
                "event_timestamp",
                ts,
                "embedding",
                List.of(1.0, 0.5),
                "activity",
                9,
                "affinity",
                List.of(0.1, 0.2, 0.7))));
    store.pushRows(
        "user_recent", List.of(Map.of("user_id", 1, "event_timestamp", ts, "items", List.of(13))));
    List<Map<String, Object>> items = new ArrayList<>();
    for (int i = 10; i < 20; i++) {
      // item i: embedding (i, 0) -> dot with user (1, .5) = i; category i % 3; 19 is out of stock
      items.add(
          Map.of(
              "item_id",
              i,
              "event_timestamp",
              ts,
              "embedding",
              List.of((double) i, 0.0),
              "category",
              i % 3,
              "price",
              (double) i,
              "in_stock",
              i != 19));
    }
    store.pushRows("item_profile", items);
    publish(
        "feed-cands",
        "s1",
        Map.of(key(1), ranked(new long[] {10, 11, 12, 13, 14, 15, 16, 17, 18, 19})));
    publish(
        "popular",
        "p1",
        Map.of("global".getBytes(StandardCharsets.UTF_8), ranked(new long[] {42, 43, 44})));
  }

  @AfterEach
  void tearDown() {
    executor.shutdownNow();
    timer.shutdownNow();
  }

  static byte[] key(long user) {
    return EntityKeys.encode(
        new dev.scoreline.core.feature.Definitions.Entity(
            "user",
            List.of(
                new dev.scoreline.core.feature.Definitions.KeyColumn(
                    "user_id", dev.scoreline.core.feature.ValueType.INT64)),
            null),
        List.of(user));
  }

  static RankedList ranked(long[] ids) {
    float[] s = new float[ids.length];
    for (int i = 0; i < ids.length; i++) {
      s[i] = 1f - i * 0.01f;
    }
    return new RankedList(ids, s);
  }

  void publish(String name, String id, Map<byte[], RankedList> lists) {
    List<KvEntry> entries = new ArrayList<>();
    lists.forEach((k, v) -> entries.add(new KvEntry(k, v.encode())));
    kv.putAll(KvStore.snapshotNamespace(name, id), entries);
    kv.publish(name, id, 2);
  }

  static CompletableFuture<InferenceResponse> firstColumn(
      dev.scoreline.core.model.InferenceRequest r) {
    Tensor in = r.inputs().get(0);
    int rows = (int) in.dim(0);
    int width = (int) in.dim(1);
    float[] x = in.toFloatArray();
    float[] out = new float[rows];
    for (int i = 0; i < rows; i++) {
      out[i] = x[i * width];
    }
    return CompletableFuture.completedFuture(
        new InferenceResponse(
            r.model(),
            "1",
            "",
            Map.of(),
            List.of(Tensor.ofFloats("score", new long[] {rows, 1}, out))));
  }

  SurfaceEngine engine(String surfaceYaml) {
    return engine(surfaceYaml, executor);
  }

  SurfaceEngine engine(String surfaceYaml, ExecutorService pool) {
    SurfaceSpec spec = ConfigLoader.parse("surfaces/feed.yaml", surfaceYaml, SurfaceSpec.class);
    Surface s = Surface.compile(spec, registry, "surfaces/feed.yaml");
    return new SurfaceEngine(
        Surfaces.of(List.of(s)),
        store,
        new SnapshotLists(kv),
        r -> scorer.inferAsync(r),
        null,
        pool,
        null);
  }

  static List<Long> ids(SurfaceResult r) {
    return r.items().stream().map(SurfaceResult.Item::id).toList();
  }

  @Test
  void ranksFiltersAndDiversifies() {
    SurfaceResult r = engine(SURFACE).recommend("feed", SurfaceRequest.of(Map.of("user_id", 1)));
    assertThat(r.fallback()).isFalse();
    assertThat(r.modelVersion()).isEqualTo("1");
    // scores = item id; 13 seen, 19 out of stock; categories: 18->0, 17->2, 16->1, 15->0, 14->2,
    // 12->0 (third of category 0 after 18, 15 -> demoted), 11->2 (third of 2 -> demoted)
    assertThat(ids(r)).containsExactly(18L, 17L, 16L, 15L, 14L);
    assertThat(r.items().get(0).score()).isEqualTo(18f);
    assertThat(r.items().get(0).retrievalScore()).isCloseTo(1f - 8 * 0.01f, within(1e-6f));
    assertThat(r.timingsMicros())
        .containsKeys("candidates", "features", "rules", "transform", "inference", "total");
  }

  @Test
  void transformsComputeTheDeclaredColumns() {
    SurfaceResult r =
        engine(SURFACE)
            .recommend(
                "feed",
                SurfaceRequest.of(Map.of("user_id", 1))
                    .withContext(Map.of("category", 2))
                    .withDebug(true));
    // with boost x10 for category 2: 17 (170), 14 (140), then 18, 16, 15
    assertThat(ids(r)).containsExactly(17L, 14L, 18L, 16L, 15L);
    SurfaceResult.Debug d = r.debug();
    assertThat(d.candidates()).isEqualTo(10);
    assertThat(d.ranked()).isEqualTo(8);
    assertThat(d.removedBy()).containsEntry("filter-seen", 1).containsEntry("filter", 1);
    float[] row17 = d.inputs().get(0);
    float[] expected = {
      17f, // dot((1, .5), (17, 0))
      (float) Math.log1p(9), // log1p(activity)
      (17f - 10f) / 5f, // standardized price
      0f,
      0f,
      1f, // one-hot(category 2)
      0.7f, // affinity[2]
      1f, // category == context.category
      17f,
      0f, // item embedding
      1f - 7 * 0.01f // retrieval score of 17 (8th in the list)
    };
    assertThat(row17).hasSize(expected.length);
    for (int i = 0; i < expected.length; i++) {
      assertThat(row17[i])
          .as("column %d (%s)", i, d.columns().get(i))
          .isCloseTo(expected[i], within(1e-6f));
    }
    assertThat(d.columns()).hasSize(12 - 1).first().asString().contains("dot(");
    assertThat(d.snapshot()).isEqualTo("s1");
  }

  @Test
  void requestContextAndOverridesChangeTheResult() {
    SurfaceEngine e = engine(SURFACE);
    Map<String, Object> ctx = new HashMap<>();
    ctx.put("seen", List.of(18, 17));
    ctx.put("pinned", List.of(99, 10));
    SurfaceResult r =
        e.recommend(
            "feed",
            new SurfaceRequest(
                Map.of("user_id", "1"), ctx, 4, Map.of("diversity", false), false, null));
    // seen 13, 17, 18 and out-of-stock 19 removed; no diversity; pins 99 (not a candidate) and 10
    assertThat(ids(r)).containsExactly(99L, 10L, 16L, 15L);
    assertThat(r.items().get(0).pinned()).isTrue();
    SurfaceResult capped =
        e.recommend(
            "feed",
            new SurfaceRequest(
                Map.of("user_id", 1),
                Map.of(),
                5,
                Map.of("diversity", Map.of("max-per-value", 1)),
                false,
                null));
    assertThat(ids(capped)).containsExactly(18L, 17L, 16L, 15L, 14L);
    // max 1 per category: 18 (0), 17 (2), 16 (1), then demoted in score order 15, 14
  }

  @Test
  void badRequestsAreUserErrors() {
    SurfaceEngine e = engine(SURFACE);
    assertThatThrownBy(() -> e.recommend("feed", SurfaceRequest.of(Map.of("uid", 1))))
        .isInstanceOf(ScorelineException.class)
        .hasMessageContaining("user_id");
    assertThatThrownBy(() -> e.recommend("nope", SurfaceRequest.of(Map.of("user_id", 1))))
        .hasMessageContaining("unknown surface 'nope'")
        .hasMessageContaining("[feed]");
    assertThatThrownBy(
            () ->
                e.recommend(
                    "feed",
                    new SurfaceRequest(
                        Map.of("user_id", 1), Map.of(), 5, Map.of("diversty", false), false, null)))
        .hasMessageContaining("unknown rule 'diversty'");
    assertThatThrownBy(
            () ->
                e.recommend(
                    "feed",
                    new SurfaceRequest(
                        Map.of("user_id", 1),
                        Map.of(),
                        5,
                        Map.of("diversity", Map.of("max-per-valu", 2)),
                        false,
                        null)))
        .hasMessageContaining("unknown key 'max-per-valu'")
        .hasMessageContaining("did you mean 'max-per-value'");
    assertThatThrownBy(
            () ->
                e.recommend(
                    "feed",
                    new SurfaceRequest(Map.of("user_id", 1), Map.of(), 0, Map.of(), false, null)))
        .hasMessageContaining("size");
  }

  @Test
  void slowModelFallsBackToThePrecomputedListWithinTheDeadline() {
    scorer = r -> new CompletableFuture<>(); // never answers
    SurfaceEngine e = engine(SURFACE);
    long t0 = System.nanoTime();
    SurfaceResult r = e.recommend("feed", SurfaceRequest.of(Map.of("user_id", 1)));
    long ms = (System.nanoTime() - t0) / 1_000_000;
    assertPrecomputedAfterTheInferenceDeadline(r);
    assertThat(ms).isLessThan(1000); // deadline 300 ms; generous bound for a loaded machine
  }

  /** The answer of a model that never answers: the precomputed list, at the deadline. */
  private static void assertPrecomputedAfterTheInferenceDeadline(SurfaceResult r) {
    assertThat(r.fallback()).isTrue();
    assertThat(r.fallbackReason())
        .startsWith("deadline")
        .contains("inference")
        .contains("precomputed");
    assertThat(ids(r)).containsExactly(10L, 11L, 12L, 13L, 14L);
  }

  @Test
  void recommendAsync_answersAsRecommendDoes() throws Exception {
    moreUsers();
    scorer = SurfaceEngineTest::weightedSum;
    SurfaceEngine e = engine(SURFACE);
    List<SurfaceRequest> requests =
        List.of(
            SurfaceRequest.of(Map.of("user_id", 1)),
            SurfaceRequest.of(Map.of("user_id", 2)).withContext(Map.of("category", 2)),
            SurfaceRequest.of(Map.of("user_id", 3)).withDebug(true),
            SurfaceRequest.of(Map.of("user_id", 777))); // no candidates: the popular fallback
    for (SurfaceRequest r : requests) {
      SurfaceResult async = e.recommendAsync("feed", r, timer).get(10, TimeUnit.SECONDS);
      assertSameAnswer(async, e.recommend("feed", r));
    }
    assertThat(e.recommendAsync("feed", requests.get(3), timer).get(10, TimeUnit.SECONDS))
        .satisfies(r -> assertThat(r.fallbackReason()).startsWith("no-candidates"));
  }

  @Test
  void recommendAsync_checksTheRequestOnTheCallingThread() {
    SurfaceEngine e = engine(SURFACE);
    assertThatThrownBy(() -> e.recommendAsync("feed", SurfaceRequest.of(Map.of("uid", 1)), timer))
        .isInstanceOf(ScorelineException.class)
        .hasMessageContaining("user_id");
    assertThatThrownBy(
            () -> e.recommendAsync("nope", SurfaceRequest.of(Map.of("user_id", 1)), timer))
        .hasMessageContaining("unknown surface 'nope'");
  }

  @Test
  void recommendAsync_slowModel_completesWithThePrecomputedListAtTheDeadline() throws Exception {
    scorer = r -> new CompletableFuture<>(); // never answers
    SurfaceEngine e = engine(SURFACE);
    SurfaceResult r =
        e.recommendAsync("feed", SurfaceRequest.of(Map.of("user_id", 1)), timer)
            .get(10, TimeUnit.SECONDS);
    assertPrecomputedAfterTheInferenceDeadline(r);
  }

  @Test
  void recommendAsync_failingModel_fallsBackWithTheReason() throws Exception {
    scorer = r -> CompletableFuture.failedFuture(new IllegalStateException("boom"));
    SurfaceEngine e = engine(SURFACE);
    SurfaceResult r =
        e.recommendAsync("feed", SurfaceRequest.of(Map.of("user_id", 1)), timer)
            .get(10, TimeUnit.SECONDS);
    assertThat(r.fallback()).isTrue();
    assertThat(r.fallbackReason()).startsWith("inference-error").contains("boom");
    assertThat(ids(r)).startsWith(10L, 11L);
  }

  @Test
  void recommendAsync_fullPool_answersFromThePopularListAtOnce() throws Exception {
    ThreadPoolExecutor full =
        new ThreadPoolExecutor(1, 1, 0, TimeUnit.SECONDS, new SynchronousQueue<>());
    CountDownLatch release = new CountDownLatch(1);
    try {
      full.execute(
          () -> {
            try {
              release.await();
            } catch (InterruptedException ie) {
              Thread.currentThread().interrupt();
            }
          });
      SurfaceEngine e = engine(SURFACE, full);
      CompletableFuture<SurfaceResult> f =
          e.recommendAsync("feed", SurfaceRequest.of(Map.of("user_id", 1)), timer);
      assertThat(f).isDone();
      assertThat(f.get().fallbackReason()).startsWith("overloaded").contains("popular");
      assertThat(ids(f.get())).containsExactly(42L, 43L, 44L);
    } finally {
      release.countDown();
      full.shutdownNow();
    }
  }

  @Test
  void failingModelAndMissingCandidatesFallBack() {
    scorer = r -> CompletableFuture.failedFuture(new IllegalStateException("boom"));
    SurfaceEngine e = engine(SURFACE);
    SurfaceResult r = e.recommend("feed", SurfaceRequest.of(Map.of("user_id", 1)));
    assertThat(r.fallback()).isTrue();
    assertThat(r.fallbackReason()).startsWith("inference-error").contains("boom");
    assertThat(ids(r)).startsWith(10L, 11L);

    scorer = SurfaceEngineTest::firstColumn;
    SurfaceResult unknownUser = e.recommend("feed", SurfaceRequest.of(Map.of("user_id", 777)));
    assertThat(unknownUser.fallback()).isTrue();
    assertThat(unknownUser.fallbackReason()).startsWith("no-candidates").contains("popular");
    assertThat(ids(unknownUser)).containsExactly(42L, 43L, 44L);
  }

  @Test
  void moreRowsThanTheModelsMaxBatchAreRankedInSeveralCalls() {
    SurfaceSpec spec = ConfigLoader.parse("surfaces/feed.yaml", SURFACE, SurfaceSpec.class);
    Surface s = Surface.compile(spec, registry, "surfaces/feed.yaml");
    var model =
        new dev.scoreline.core.model.ModelMetadata(
            "ranker",
            List.of("1"),
            "onnx",
            List.of(
                new dev.scoreline.core.model.TensorSpec(
                    "features",
                    dev.scoreline.core.tensor.DataType.FP32,
                    new long[] {-1, 11},
                    false)),
            List.of(
                new dev.scoreline.core.model.TensorSpec(
                    "score", dev.scoreline.core.tensor.DataType.FP32, new long[] {-1, 1}, false)),
            3);
    s.checkModel(model);
    java.util.concurrent.atomic.AtomicInteger calls =
        new java.util.concurrent.atomic.AtomicInteger();
    SurfaceEngine e =
        new SurfaceEngine(
            Surfaces.of(List.of(s)),
            store,
            new SnapshotLists(kv),
            r -> {
              calls.incrementAndGet();
              assertThat(r.inputs().get(0).dim(0)).isLessThanOrEqualTo(3);
              return firstColumn(r);
            },
            null,
            executor,
            null);
    SurfaceResult r = e.rank("feed", SurfaceRequest.of(Map.of("user_id", 1)));
    assertThat(ids(r)).containsExactly(18L, 17L, 16L, 15L, 14L);
    assertThat(calls.get()).isEqualTo(3); // 8 rows after the filters: 3 + 3 + 2
    var wrongWidth =
        new dev.scoreline.core.model.ModelMetadata(
            "ranker",
            List.of("1"),
            "onnx",
            List.of(
                new dev.scoreline.core.model.TensorSpec(
                    "features",
                    dev.scoreline.core.tensor.DataType.FP32,
                    new long[] {-1, 12},
                    false)),
            model.outputs(),
            0);
    assertThatThrownBy(() -> s.checkModel(wrongWidth))
        .hasMessageContaining("write 11 values per row")
        .hasMessageContaining("[-1, 12]");
  }

  @Test
  void rankRunsWithoutFallbackForBatchAndStreaming() {
    scorer = r -> CompletableFuture.failedFuture(new IllegalStateException("boom"));
    SurfaceEngine e = engine(SURFACE);
    assertThatThrownBy(() -> e.rank("feed", SurfaceRequest.of(Map.of("user_id", 1))))
        .isInstanceOf(ScorelineException.class)
        .hasMessageContaining("boom");
    scorer = SurfaceEngineTest::firstColumn;
    assertThat(ids(e.rank("feed", SurfaceRequest.of(Map.of("user_id", 1)))))
        .containsExactly(18L, 17L, 16L, 15L, 14L);
  }

  /** A model that weighs every input column differently: a wrong row anywhere changes a score. */
  static CompletableFuture<InferenceResponse> weightedSum(
      dev.scoreline.core.model.InferenceRequest r) {
    Tensor in = r.inputs().get(0);
    int rows = (int) in.dim(0);
    int width = (int) in.dim(1);
    float[] x = in.toFloatArray();
    float[] out = new float[rows];
    for (int i = 0; i < rows; i++) {
      float sum = 0;
      for (int j = 0; j < width; j++) {
        sum += (j + 1) * 0.1f * x[i * width + j];
      }
      out[i] = sum;
    }
    return CompletableFuture.completedFuture(
        new InferenceResponse(
            r.model(),
            "1",
            "",
            Map.of(),
            List.of(Tensor.ofFloats("score", new long[] {rows, 1}, out))));
  }

  /** A second user with its own profile and candidates, and a third with candidates only. */
  void moreUsers() {
    String ts = Instant.now().minusSeconds(60).toString();
    store.pushRows(
        "user_profile",
        List.of(
            Map.of(
                "user_id",
                2,
                "event_timestamp",
                ts,
                "embedding",
                List.of(-0.5, 2.0),
                "activity",
                1,
                "affinity",
                List.of(0.9, 0.05, 0.05))));
    store.pushRows(
        "user_recent", List.of(Map.of("user_id", 2, "event_timestamp", ts, "items", List.of(11))));
    publish(
        "feed-cands",
        "s2",
        Map.of(
            key(1), ranked(new long[] {10, 11, 12, 13, 14, 15, 16, 17, 18, 19}),
            key(2), ranked(new long[] {19, 17, 15, 13, 11}),
            key(3), ranked(new long[] {12, 14, 16})));
  }

  /** Everything but the timings (which differ between any two calls). */
  static void assertSameAnswer(SurfaceResult batched, SurfaceResult single) {
    assertThat(batched.surface()).isEqualTo(single.surface());
    assertThat(batched.key()).isEqualTo(single.key());
    assertThat(batched.items()).isEqualTo(single.items());
    assertThat(batched.score()).isEqualTo(single.score());
    assertThat(batched.model()).isEqualTo(single.model());
    assertThat(batched.modelVersion()).isEqualTo(single.modelVersion());
    assertThat(batched.fallback()).isEqualTo(single.fallback());
    assertThat(batched.fallbackReason()).isEqualTo(single.fallbackReason());
    assertThat(batched.snapshot()).isEqualTo(single.snapshot());
    assertThat(batched.snapshotAgeSeconds()).isEqualTo(single.snapshotAgeSeconds());
    if (single.debug() == null) {
      assertThat(batched.debug()).isNull();
      return;
    }
    SurfaceResult.Debug a = batched.debug();
    SurfaceResult.Debug b = single.debug();
    assertThat(a.candidates()).isEqualTo(b.candidates());
    assertThat(a.ranked()).isEqualTo(b.ranked());
    assertThat(a.removedBy()).isEqualTo(b.removedBy());
    assertThat(a.columns()).isEqualTo(b.columns());
    assertThat(a.snapshot()).isEqualTo(b.snapshot());
    assertThat(a.inputs()).hasSameSizeAs(b.inputs());
    for (int i = 0; i < b.inputs().size(); i++) {
      assertThat(a.inputs().get(i)).as("debug input %d", i).isEqualTo(b.inputs().get(i));
    }
  }

  @Test
  void rankAll_answersEachRequestAsRankDoes_inOrder_withOneModelCall() {
    moreUsers();
    List<dev.scoreline.core.model.InferenceRequest> calls =
        java.util.Collections.synchronizedList(new ArrayList<>());
    scorer =
        r -> {
          calls.add(r);
          return weightedSum(r);
        };
    SurfaceEngine e = engine(SURFACE);
    Map<String, Object> seen = new HashMap<>();
    seen.put("seen", List.of(18, 17));
    seen.put("pinned", List.of(99, 10));
    List<SurfaceRequest> requests =
        List.of(
            SurfaceRequest.of(Map.of("user_id", 1)),
            SurfaceRequest.of(Map.of("user_id", 2)).withContext(Map.of("category", 2)),
            SurfaceRequest.of(Map.of("user_id", 777)), // no candidates: an empty list
            new SurfaceRequest(
                Map.of("user_id", "1"), seen, 4, Map.of("diversity", false), true, null),
            SurfaceRequest.of(Map.of("user_id", 3)).withDebug(true), // candidates, no features
            new SurfaceRequest(
                Map.of("user_id", 2),
                Map.of("seen", List.of(19, 17, 15, 13)),
                null,
                Map.of(),
                false,
                null), // every candidate filtered out: an empty list
            SurfaceRequest.of(Map.of("user_id", 1)).withContext(Map.of("category", 0)));
    List<SurfaceResult> one = new ArrayList<>();
    for (SurfaceRequest r : requests) {
      one.add(e.rank("feed", r));
    }
    int singleCalls = calls.size();
    long singleRows = 0;
    for (dev.scoreline.core.model.InferenceRequest r : calls) {
      singleRows += r.inputs().get(0).dim(0);
    }
    calls.clear();
    List<SurfaceResult> all = e.rankAll("feed", requests);
    assertThat(all).hasSameSizeAs(requests);
    for (int i = 0; i < requests.size(); i++) {
      assertSameAnswer(all.get(i), one.get(i));
    }
    // the answers differ between users and contexts, so a mixed-up row would show
    assertThat(ids(one.get(0))).isNotEqualTo(ids(one.get(1)));
    assertThat(one.get(2).items()).isEmpty();
    assertThat(one.get(5).items()).isEmpty();
    assertThat(one.get(3).items().get(0).pinned()).isTrue();
    assertThat(one.get(4).debug().inputs()).isNotEmpty();
    // one model call for the rows of the five requests with candidates left
    assertThat(singleCalls).isEqualTo(5);
    assertThat(calls).hasSize(1);
    assertThat(calls.get(0).inputs().get(0).dim(0)).isEqualTo(singleRows);
  }

  @Test
  void rankAll_splitsTheRoundIntoCallsOfTheModelsMaxBatch() {
    moreUsers();
    SurfaceSpec spec = ConfigLoader.parse("surfaces/feed.yaml", SURFACE, SurfaceSpec.class);
    Surface s = Surface.compile(spec, registry, "surfaces/feed.yaml");
    s.checkModel(
        new dev.scoreline.core.model.ModelMetadata(
            "ranker",
            List.of("1"),
            "onnx",
            List.of(
                new dev.scoreline.core.model.TensorSpec(
                    "features",
                    dev.scoreline.core.tensor.DataType.FP32,
                    new long[] {-1, 11},
                    false)),
            List.of(
                new dev.scoreline.core.model.TensorSpec(
                    "score", dev.scoreline.core.tensor.DataType.FP32, new long[] {-1, 1}, false)),
            3));
    List<Long> sizes = java.util.Collections.synchronizedList(new ArrayList<>());
    SurfaceEngine e =
        new SurfaceEngine(
            Surfaces.of(List.of(s)),
            store,
            new SnapshotLists(kv),
            r -> {
              sizes.add(r.inputs().get(0).dim(0));
              return weightedSum(r);
            },
            null,
            executor,
            null);
    List<SurfaceRequest> requests =
        List.of(
            SurfaceRequest.of(Map.of("user_id", 1)),
            SurfaceRequest.of(Map.of("user_id", 2)),
            SurfaceRequest.of(Map.of("user_id", 3)));
    List<SurfaceResult> all = e.rankAll("feed", requests);
    // 8 + 3 + 3 rows in calls of at most 3 rows, across request boundaries
    assertThat(sizes).containsExactly(3L, 3L, 3L, 3L, 2L);
    for (int i = 0; i < requests.size(); i++) {
      assertSameAnswer(all.get(i), e.rank("feed", requests.get(i)));
    }
  }

  static final String SCORING =
      String.join(
          "\n",
          "name: risk",
          "entity: user",
          "mode: streaming",
          "features: {entity: ['user_profile:activity', 'user_profile:affinity']}",
          "model: {name: ranker, output: score}",
          "inputs:",
          "  - name: features",
          "    columns:",
          "      - log1p: user_profile:activity",
          "        default: -1",
          "      - value: user_profile:affinity",
          "        size: 3",
          "      - log1p: context.amount",
          "      - one-hot: context.channel",
          "        vocabulary: [chip, online]",
          "");

  @Test
  void rankAll_scoringSurface_readsTheEntitiesOnce_andScoresLikeRank() {
    moreUsers();
    scorer = SurfaceEngineTest::weightedSum;
    SurfaceEngine e = engine(SCORING);
    List<SurfaceRequest> requests = new ArrayList<>();
    long[] users = {1, 2, 777, 2, 1};
    for (int i = 0; i < users.length; i++) {
      requests.add(
          SurfaceRequest.of(Map.of("user_id", users[i]))
              .withContext(Map.of("amount", 10.0 * i, "channel", i % 2 == 0 ? "chip" : "online")));
    }
    int before = kv.multiGetRecordsCalls.get();
    List<SurfaceResult> all = e.rankAll("risk", requests);
    assertThat(kv.multiGetRecordsCalls.get() - before).isEqualTo(1);
    before = kv.multiGetRecordsCalls.get();
    List<Float> scores = new ArrayList<>();
    for (int i = 0; i < users.length; i++) {
      SurfaceResult one = e.rank("risk", requests.get(i));
      assertSameAnswer(all.get(i), one);
      assertThat(all.get(i).items()).isEmpty();
      scores.add(one.score());
    }
    assertThat(kv.multiGetRecordsCalls.get() - before).isEqualTo(users.length);
    assertThat(scores).doesNotHaveDuplicates();
    assertThat(e.rankAll("risk", List.of())).isEmpty();
  }

  @Test
  void rankAll_failsAsAWhole_whenARequestOrTheModelFails() {
    moreUsers();
    SurfaceEngine e = engine(SCORING);
    assertThatThrownBy(
            () ->
                e.rankAll(
                    "risk",
                    List.of(
                        SurfaceRequest.of(Map.of("user_id", 1)),
                        SurfaceRequest.of(Map.of("uid", 2)))))
        .isInstanceOf(ScorelineException.class)
        .extracting(x -> ((ScorelineException) x).code())
        .isEqualTo(ErrorCode.USER_ERROR);
    scorer = r -> CompletableFuture.failedFuture(new IllegalStateException("boom"));
    assertThatThrownBy(
            () ->
                e.rankAll(
                    "risk",
                    List.of(
                        SurfaceRequest.of(Map.of("user_id", 1)),
                        SurfaceRequest.of(Map.of("user_id", 2)))))
        .isInstanceOf(ScorelineException.class)
        .extracting(x -> ((ScorelineException) x).code())
        .isEqualTo(ErrorCode.INTERNAL);
  }

  @Test
  void compileErrorsNameTheFieldAndTheFix() {
    assertThatThrownBy(
            () -> engine(SURFACE.replace("user_profile:activity", "user_profile:activty")))
        .hasMessageContaining("surfaces/feed.yaml")
        .hasMessageContaining("inputs.features.columns[1]")
        .hasMessageContaining("has no feature 'activty'");
    assertThatThrownBy(
            () ->
                engine(
                    SURFACE.replace(
                        "      - value: item_profile:embedding\n        size: 2\n",
                        "      - value: item_profile:embedding\n")))
        .hasMessageContaining("size");
    assertThatThrownBy(() -> engine(SURFACE.replace("diversity:", "diversify:")))
        .hasMessageContaining("rules[3]")
        .hasMessageContaining("did you mean 'diversity'");
    assertThatThrownBy(() -> engine(SURFACE.replace("log1p:", "logp:")))
        .hasMessageContaining("names no transform");
    assertThatThrownBy(
            () ->
                engine(SURFACE.replace("source: precomputed, snapshot: feed-cands", "source: ann")))
        .hasMessageContaining("needs 'index'");
    assertThatThrownBy(() -> engine(SURFACE.replace("deadline: 300ms", "deadlin: 300ms")))
        .isInstanceOf(ScorelineException.class)
        .extracting(x -> ((ScorelineException) x).code())
        .isEqualTo(ErrorCode.USER_ERROR);
  }

  @Test
  void rankedListRoundTrips() {
    RankedList l = new RankedList(new long[] {5, -1, Long.MAX_VALUE}, new float[] {1.5f, 0f, -2f});
    assertThat(RankedList.decode(l.encode())).isEqualTo(l);
    assertThat(l.head(2).ids()).containsExactly(5, -1);
    assertThatThrownBy(() -> RankedList.decode(new byte[] {9, 0, 0, 0, 0}))
        .hasMessageContaining("version 9");
    assertThatThrownBy(() -> RankedList.decode(new byte[] {1, 0, 0, 0, 2, 1}))
        .hasMessageContaining("corrupt");
    assertThat(Duration.ofMillis(100)).isEqualTo(Surface.DEFAULT_DEADLINE);
  }

  @Test
  void ageSeconds_eachSnapshotIdByItsOwnTime_alsoWhenIdsAlternate() {
    java.time.Instant a = java.time.Instant.parse("2024-05-01T12:00:00Z");
    java.time.Instant b = java.time.Instant.parse("2020-01-02T03:04:05Z");
    for (String id :
        List.of(
            "20240501T120000Z-a", "20200102T030405Z-b", "20240501T120000Z-c", "20200102T030405Z")) {
      java.time.Instant t = id.startsWith("2024") ? a : b;
      long before = java.time.Duration.between(t, java.time.Instant.now()).getSeconds();

      Long age = SurfaceEngine.ageSeconds(id);

      long after = java.time.Duration.between(t, java.time.Instant.now()).getSeconds();
      assertThat(age).as(id).isBetween(before, after);
    }
    assertThat(SurfaceEngine.ageSeconds("2024-05-01T12:00")).isNull();
    assertThat(SurfaceEngine.ageSeconds("short")).isNull();
    assertThat(SurfaceEngine.ageSeconds(null)).isNull();
  }
}
