package dev.scoreline.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.scoreline.core.error.ErrorCode;
import dev.scoreline.core.error.ScorelineException;
import dev.scoreline.core.feature.FeatureRegistry;
import dev.scoreline.core.feature.online.OnlineFeatureStore;
import dev.scoreline.core.model.InferenceMetrics;
import dev.scoreline.core.model.InferenceRequest;
import dev.scoreline.core.model.InferenceResponse;
import dev.scoreline.core.model.ModelManager;
import dev.scoreline.core.model.ModelRepository;
import dev.scoreline.core.surface.SnapshotLists;
import dev.scoreline.core.surface.SurfaceEngine;
import dev.scoreline.core.surface.Surfaces;
import dev.scoreline.onnx.OnnxRuntime;
import dev.scoreline.rocksdb.RocksDbKvStore;
import dev.scoreline.stream.StreamService;
import dev.scoreline.stream.fraud.CardTransactions;
import dev.scoreline.stream.fraud.FraudExample;
import dev.scoreline.stream.fraud.Mlp;
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
import java.time.Instant;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Function;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code POST /v1/events/{stream}}, {@code GET /v1/streams} and the dead-letter endpoints over the
 * wire: the fraud-check streaming surface (real ONNX model, RocksDB) behind a real server.
 */
class EventRestServiceTest {
  static final ObjectMapper MAPPER = new ObjectMapper();
  static final Instant NOW = Instant.parse("2030-01-01T00:00:00Z");

  @TempDir static Path project;
  static RocksDbKvStore kv;
  static OnnxRuntime runtime;
  static ExecutorService workers;
  static ModelManager manager;
  static StreamService streams;
  static ScorelineServer server;
  static String base;
  static volatile Function<InferenceRequest, ScorelineException> fault = r -> null;
  static final HttpClient http =
      HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  record Response(int status, String retryAfter, JsonNode body) {}

  @BeforeAll
  static void start() throws Exception {
    CardTransactions data =
        CardTransactions.generate(1, 10, 1, NOW.getEpochSecond() * 1_000_000L, 0);
    FraudExample.writeProject(project, data, NOW.minusSeconds(86_400));
    Files.writeString(
        project.resolve("surfaces/fraud-check.yaml"),
        FraudExample.surfaceYaml(FraudExample.EMBEDDED_SOURCE, "")
            .replace("  lanes: 2", "  lanes: 1\n  max-lag: 20"));
    // an untrained (random) MLP: these tests are about HTTP, not about fraud
    SplittableRandom r = new SplittableRandom(1);
    float[][] x = new float[8][21];
    int[] y = new int[8];
    for (int i = 0; i < 8; i++) {
      for (int j = 0; j < 21; j++) {
        x[i][j] = (float) r.nextDouble();
      }
      y[i] = i % 2;
    }
    byte[] onnx =
        Mlp.train(x, y, new Mlp.Settings(4, 1, 8, 0.01, 0, 1)).toOnnx("features", "score", null);
    Files.createDirectories(project.resolve("models/fraud/1"));
    Files.write(project.resolve("models/fraud/1/model.onnx"), onnx);

    PrometheusMeterRegistry meters = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    kv = RocksDbKvStore.open(project.resolve(".scoreline/online"));
    FeatureRegistry registry = FeatureRegistry.load(project);
    OnlineFeatureStore store = new OnlineFeatureStore(kv, registry, Clock.systemUTC());
    runtime = new OnnxRuntime();
    workers = Executors.newFixedThreadPool(2);
    manager =
        new ModelManager(
            new ModelRepository(project.resolve("models")),
            List.of(runtime),
            new InferenceMetrics(meters),
            workers);
    manager.loadAll(List.of("fraud"));
    SurfaceEngine engine =
        new SurfaceEngine(
            Surfaces.load(project, registry),
            store,
            new SnapshotLists(kv),
            EventRestServiceTest::infer,
            null,
            workers,
            meters);
    streams =
        StreamService.start(
            engine,
            registry,
            store,
            kv,
            project.resolve(".scoreline/stream"),
            meters,
            StreamService.Options.defaults());
    server =
        ScorelineServer.builder(manager)
            .port(0)
            .meterRegistry(meters)
            .shutdownGracePeriod(Duration.ZERO)
            .events(streams)
            .build()
            .start();
    base = "http://127.0.0.1:" + server.port();
  }

  static CompletableFuture<InferenceResponse> infer(InferenceRequest r) {
    ScorelineException f = fault.apply(r);
    if (f != null) {
      return CompletableFuture.failedFuture(f);
    }
    try {
      return CompletableFuture.completedFuture(manager.infer(r));
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  @AfterAll
  static void stop() {
    server.close();
    streams.close();
    manager.close();
    workers.shutdownNow();
    runtime.close();
    kv.close();
  }

  static Response call(String method, String path, String body) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path));
    b.method(
        method,
        body == null
            ? HttpRequest.BodyPublishers.noBody()
            : HttpRequest.BodyPublishers.ofString(body));
    HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    JsonNode json = r.body().isEmpty() ? null : MAPPER.readTree(r.body());
    return new Response(r.statusCode(), r.headers().firstValue("retry-after").orElse(null), json);
  }

  static String txn(String id, long card, double amount) {
    return "{\"txn_id\":\""
        + id
        + "\",\"card_id\":"
        + card
        + ",\"amount\":"
        + amount
        + ",\"merchant_category\":\"grocery\",\"country\":\"US\",\"channel\":\"chip\","
        + "\"device_id\":\"d\",\"merchant_id\":\"m\",\"ts\":\"2029-12-31T12:00:00Z\"}";
  }

  static JsonNode surfaceStatus() throws Exception {
    Response r = call("GET", "/v1/streams", null);
    assertThat(r.status()).isEqualTo(200);
    return r.body().get("surfaces").get(0);
  }

  static void awaitProcessed() throws Exception {
    assertThat(streams.processor("fraud-check").awaitIdle(Duration.ofSeconds(20))).isTrue();
  }

  @Test
  void postJsonLines_appendsDurably_andEveryEventIsScored() throws Exception {
    awaitProcessed(); // events other tests posted last must be counted before, not during
    long before = surfaceStatus().get("results").asLong();
    Response r =
        call(
            "POST",
            "/v1/events/transactions",
            txn("a-1", 1, 5) + "\n\n" + txn("a-2", 2, 7) + "\r\n" + txn("a-3", 1, 9) + "\n");
    assertThat(r.status()).as(String.valueOf(r.body())).isEqualTo(200);
    assertThat(r.body().get("accepted").asInt()).isEqualTo(3);
    assertThat(r.body().get("stream").asText()).isEqualTo("transactions");
    awaitProcessed();
    JsonNode s = surfaceStatus();
    assertThat(s.get("results").asLong()).isEqualTo(before + 3);
    assertThat(s.get("source").asText()).isEqualTo("embedded:transactions");
    assertThat(s.get("lag").asLong()).isZero();
    // a JSON array of objects is accepted too
    Response arr = call("POST", "/v1/events/transactions", "[" + txn("a-4", 3, 1) + "]");
    assertThat(arr.body().get("accepted").asInt()).isEqualTo(1);
  }

  @Test
  void aBadLine_failsTheBatchWith400NamingTheLine_andNothingIsAppended() throws Exception {
    awaitProcessed();
    long end = streams.embedded().log("transactions").endOffset();
    Response r =
        call(
            "POST",
            "/v1/events/transactions",
            txn("b-1", 1, 5) + "\n{\"oops\": \n" + txn("b-2", 1, 5));
    assertThat(r.status()).isEqualTo(400);
    assertThat(r.body().get("code").asText()).isEqualTo("USER_ERROR");
    assertThat(r.body().get("field").asText()).isEqualTo("line 2");
    assertThat(r.body().get("error").asText()).contains("line 2");
    Response notObject = call("POST", "/v1/events/transactions", "42");
    assertThat(notObject.status()).isEqualTo(400);
    assertThat(notObject.body().get("field").asText()).isEqualTo("line 1");
    assertThat(streams.embedded().log("transactions").endOffset()).isEqualTo(end);
  }

  @Test
  void unknownStream_is404_andWrongMethod_is405() throws Exception {
    Response r = call("POST", "/v1/events/nope", txn("c-1", 1, 5));
    assertThat(r.status()).isEqualTo(404);
    assertThat(r.body().get("error").asText()).contains("transactions");
    assertThat(call("GET", "/v1/events/transactions", null).status()).isEqualTo(405);
  }

  @Test
  void poisonEvents_areListed_andReplayed() throws Exception {
    awaitProcessed();
    long total =
        call("GET", "/v1/streams/fraud-check/dead-letters?limit=1000", null)
            .body()
            .get("total")
            .asLong();
    Response r = call("POST", "/v1/events/transactions", "{\"txn_id\": \"p-1\", \"amount\": 3}");
    assertThat(r.status()).isEqualTo(200);
    awaitProcessed();
    Response list = call("GET", "/v1/streams/fraud-check/dead-letters?from=" + total, null);
    assertThat(list.status()).isEqualTo(200);
    JsonNode d = list.body().get("dead_letters").get(0);
    assertThat(d.get("event_id").asText()).isEqualTo("p-1");
    assertThat(d.get("stage").asText()).isEqualTo("event");
    assertThat(d.get("reason").asText()).contains("card_id");
    assertThat(d.get("event").asText()).contains("p-1");
    assertThat(d.get("replayed").asBoolean()).isFalse();
    Response replay =
        call(
            "POST",
            "/v1/streams/fraud-check/dead-letters/replay",
            "{\"from\": " + total + ", \"to\": " + (total + 1) + "}");
    assertThat(replay.status()).isEqualTo(200);
    assertThat(replay.body().get("replayed").asInt()).isEqualTo(1);
    awaitProcessed();
    Response after = call("GET", "/v1/streams/fraud-check/dead-letters?from=" + total, null);
    assertThat(after.body().get("dead_letters").get(0).get("replayed").asBoolean()).isTrue();
    assertThat(after.body().get("dead_letters")).hasSize(2); // still poison after the replay
  }

  @Test
  void backpressure_answers429WithRetryAfter_thenRecovers() throws Exception {
    awaitProcessed();
    fault = r -> new ScorelineException(ErrorCode.RESOURCE_EXHAUSTED, "model busy");
    try {
      Response r = null;
      for (int i = 0; i < 30; i++) {
        r = call("POST", "/v1/events/transactions", txn("bp-" + i, 4, 2));
        if (r.status() != 200) {
          break;
        }
      }
      assertThat(r.status()).isEqualTo(429);
      assertThat(r.retryAfter()).isEqualTo("1");
      assertThat(r.body().get("code").asText()).isEqualTo("RESOURCE_EXHAUSTED");
      assertThat(r.body().get("error").asText()).contains("max-lag");
    } finally {
      fault = q -> null;
    }
    awaitProcessed();
    assertThat(call("POST", "/v1/events/transactions", txn("bp-after", 4, 2)).status())
        .isEqualTo(200);
  }
}
