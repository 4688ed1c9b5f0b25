package dev.scoreline.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.scoreline.core.error.ErrorCode;
import dev.scoreline.core.error.ScorelineException;
import dev.scoreline.core.feature.FeatureRegistry;
import dev.scoreline.core.feature.online.OnlineFeatureStore;
import dev.scoreline.core.model.InferenceMetrics;
import dev.scoreline.core.model.ModelManager;
import dev.scoreline.core.model.ModelRepository;
import dev.scoreline.core.retrieval.Similarity;
import dev.scoreline.core.surface.SnapshotLists;
import dev.scoreline.core.surface.SurfaceEngine;
import dev.scoreline.core.surface.Surfaces;
import dev.scoreline.onnx.OnnxRuntime;
import dev.scoreline.retrieval.DefaultVectorIndexes;
import dev.scoreline.retrieval.IndexBuilder;
import dev.scoreline.retrieval.JVectorOptions;
import dev.scoreline.rocksdb.RocksDbKvStore;
import dev.scoreline.testing.TestModels;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An {@code ann} surface whose query vector comes from a model at request time: the {@code
 * multi_io} fixture on ONNX Runtime as the "user tower" (output {@code sum = a + b}, a linear
 * function, so the query is known), fed from an entity feature ({@code a}) and the request context
 * ({@code b}); a real jvector index; the surface served over loopback. The neighbours are checked
 * against a brute-force top-k over the index's items.
 */
class AnnQueryModelTest {
  static final ObjectMapper JSON = new ObjectMapper();
  static final int ITEMS = 300;
  static final int K = 10;

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
          "    features: [{name: a, type: fp32_list}]",
          "");

  static String surface(String index, String output) {
    return String.join(
        "\n",
        "name: feed",
        "entity: user",
        "mode: two-stage",
        "candidates:",
        "  entity: item",
        "  source: ann",
        "  index: " + index,
        "  limit: " + K,
        "  query:",
        "    model: multi_io",
        "    inputs: {a: user_profile:a, b: context.bias}",
        "    output: " + output,
        "model: {name: mlp_ranker, output: score}",
        "inputs:",
        "  - name: features",
        "    columns:",
        "      - value: candidate.score",
        "      - one-hot: candidate.id",
        "        size: 63",
        "size: " + K,
        "deadline: 10s",
        "warmup: {requests: 0}",
        "");
  }

  @TempDir Path dir;
  PrometheusMeterRegistry registry;
  ExecutorService inference;
  ExecutorService pool;
  OnnxRuntime runtime;
  ModelManager manager;
  RocksDbKvStore kv;
  ScorelineServer server;
  float[][] items;
  final HttpClient http = HttpClient.newHttpClient();

  @BeforeEach
  void setUp() throws Exception {
    registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    inference = Executors.newFixedThreadPool(2);
    pool = Executors.newFixedThreadPool(4);
    runtime = new OnnxRuntime();
    manager =
        new ModelManager(
            new ModelRepository(TestModels.copyTo(dir.resolve("models"), "multi_io", "mlp_ranker")),
            List.of(runtime),
            new InferenceMetrics(registry),
            inference);
    manager.loadAll(List.of());
    Files.createDirectories(dir.resolve("features"));
    Files.writeString(dir.resolve("features/features.yaml"), FEATURES);
    kv = RocksDbKvStore.open(dir.resolve("kv"));
    Random rnd = new Random(7);
    items = new float[ITEMS][4];
    IndexBuilder b = IndexBuilder.jvector(4, Similarity.DOT_PRODUCT, JVectorOptions.DEFAULTS);
    for (int i = 0; i < ITEMS; i++) {
      for (int d = 0; d < 4; d++) {
        items[i][d] = (float) rnd.nextGaussian();
      }
      b.add(1000 + i, items[i]);
    }
    b.buildAndSave(dir.resolve("indexes/items")).close();
    IndexBuilder three = IndexBuilder.jvector(3, Similarity.DOT_PRODUCT, JVectorOptions.DEFAULTS);
    for (int i = 0; i < 20; i++) {
      three.add(i, new float[] {i, 1, 2});
    }
    three.buildAndSave(dir.resolve("indexes/three")).close();
  }

  @AfterEach
  void tearDown() {
    if (server != null) {
      server.close();
    }
    pool.shutdownNow();
    manager.close();
    inference.shutdownNow();
    kv.close();
    runtime.close();
    registry.close();
  }

  SurfaceEngine engine(String surfaceYaml) throws Exception {
    Files.createDirectories(dir.resolve("surfaces"));
    Files.writeString(dir.resolve("surfaces/feed.yaml"), surfaceYaml);
    FeatureRegistry features = FeatureRegistry.load(dir);
    OnlineFeatureStore store = new OnlineFeatureStore(kv, features, Clock.systemUTC());
    store.pushRows(
        "user_profile",
        List.of(
            Map.of(
                "user_id",
                1,
                "event_timestamp",
                "2026-01-01T00:00:00Z",
                "a",
                List.of(0.5, -1.25, 3.0, 2.0))));
    DefaultVectorIndexes indexes = new DefaultVectorIndexes();
    SurfaceEngine engine =
        new SurfaceEngine(
            Surfaces.load(dir, features),
            store,
            new SnapshotLists(kv),
            manager::inferAsync,
            p -> indexes.open(dir.resolve(p)),
            pool,
            registry);
    for (var s : engine.surfaces().all()) {
      s.checkModel(manager.metadata("mlp_ranker", null));
    }
    engine.checkQueryModels(manager::metadata);
    return engine;
  }

  @Test
  void annQueryFromTheTowerModel_returnsTheBruteForceNeighboursOfItsOutput() throws Exception {
    SurfaceEngine engine = engine(surface("indexes/items", "sum"));
    server =
        ScorelineServer.builder(manager)
            .port(0)
            .meterRegistry(registry)
            .surfaces(engine)
            .shutdownGracePeriod(Duration.ofSeconds(2))
            .build()
            .start();
    HttpResponse<String> r =
        http.send(
            HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + server.port() + "/v1/surfaces/feed/1"))
                .POST(
                    HttpRequest.BodyPublishers.ofString(
                        "{\"context\": {\"bias\": [1, 2, -3, 4]}, \"debug\": true}"))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    JsonNode body = JSON.readTree(r.body());
    assertThat(body.get("fallback").asBoolean()).as(r.body()).isFalse();

    // the tower's output: a + b = [1.5, 0.75, 0.0, 6.0]
    float[] q = {1.5f, 0.75f, 0.0f, 6.0f};
    List<long[]> ranked = new ArrayList<>();
    for (int i = 0; i < ITEMS; i++) {
      ranked.add(
          new long[] {1000 + i, Float.floatToIntBits(Similarity.DOT_PRODUCT.score(q, items[i]))});
    }
    ranked.sort(
        (x, y) ->
            Float.compare(Float.intBitsToFloat((int) y[1]), Float.intBitsToFloat((int) x[1])));
    Set<Long> expected = new HashSet<>();
    for (int i = 0; i < K; i++) {
      expected.add(ranked.get(i)[0]);
    }
    Set<Long> got = new HashSet<>();
    for (JsonNode item : body.get("items")) {
      long id = item.get("item_id").asLong();
      got.add(id);
      // the retrieval score is the item's similarity to the tower's output
      float want = Similarity.DOT_PRODUCT.score(q, items[(int) (id - 1000)]);
      assertThat(item.get("retrieval_score").floatValue())
          .isCloseTo(want, org.assertj.core.data.Offset.offset(1e-4f));
    }
    assertThat(got).isEqualTo(expected);
    // the tower call has its own timing in the per-stage breakdown
    assertThat(body.get("timings_ms").has("query-model")).as(r.body()).isTrue();
    assertThat(body.get("debug").get("candidates").asInt()).isEqualTo(K);

    // a different request-time input gives a different query and different neighbours
    var other =
        engine.recommend(
            "feed",
            new dev.scoreline.core.surface.SurfaceRequest(
                Map.of("user_id", 1),
                Map.of("bias", List.of(-9, 0, 0, 0)),
                null,
                Map.of(),
                false,
                null));
    Set<Long> otherIds = new HashSet<>();
    other.items().forEach(i -> otherIds.add(i.id()));
    assertThat(other.fallback()).isFalse();
    assertThat(otherIds).isNotEqualTo(got);
  }

  @Test
  void towerOutputOfAnotherDimensionThanTheIndex_failsAtLoadNamingTheKey() {
    assertThatThrownBy(() -> engine(surface("indexes/three", "sum")))
        .isInstanceOfSatisfying(
            ScorelineException.class,
            e -> {
              assertThat(e.code()).isEqualTo(ErrorCode.USER_ERROR);
              assertThat(e.field()).contains("candidates.query.output");
              assertThat(e.getMessage()).contains("surfaces/feed.yaml").contains("dimension 3");
            });
  }

  @Test
  void unknownTowerModel_failsAtLoadNamingTheKey() {
    assertThatThrownBy(
            () ->
                engine(
                    surface("indexes/items", "sum")
                        .replace("model: multi_io", "model: user-tower")))
        .isInstanceOfSatisfying(
            ScorelineException.class,
            e -> {
              assertThat(e.code()).isEqualTo(ErrorCode.USER_ERROR);
              assertThat(e.field()).contains("candidates.query.model");
              assertThat(e.getMessage()).contains("user-tower");
            });
  }
}
