package dev.scoreline.server;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.scoreline.core.feature.FeatureRegistry;
import dev.scoreline.core.feature.online.OnlineFeatureStore;
import dev.scoreline.core.model.InferenceMetrics;
import dev.scoreline.core.model.ModelManager;
import dev.scoreline.core.model.ModelRepository;
import dev.scoreline.core.surface.SnapshotLists;
import dev.scoreline.core.surface.SurfaceEngine;
import dev.scoreline.core.surface.SurfaceWarmup;
import dev.scoreline.core.surface.Surfaces;
import dev.scoreline.onnx.OnnxRuntime;
import dev.scoreline.rocksdb.RocksDbKvStore;
import dev.scoreline.server.grpc.GrpcHealthService;
import dev.scoreline.testing.TestModels;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.stub.StreamObserver;
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
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * The surfaces' warm-up in the server's start-up, with real components: the mlp_ranker fixture on
 * ONNX Runtime, RocksDB behind the online feature store, the surface engine, and readiness read
 * over loopback. The model calls go through a counting wrapper of the real model manager (the first
 * one can be held, so that the test sees readiness during the warm-up).
 */
class SurfaceWarmupServerTest {
  static final ObjectMapper JSON = new ObjectMapper();

  static final String FEATURES =
      String.join(
          "\n",
          "entities:",
          "  - {name: user, keys: [{name: user_id, type: int64}]}",
          "feature-views:",
          "  - name: user_profile",
          "    entity: user",
          "    source: {path: data/u.parquet}",
          "    features:",
          "      - {name: vec, type: fp32_list}",
          "");

  @TempDir Path dir;
  PrometheusMeterRegistry registry;
  ExecutorService inference;
  ExecutorService surfacePool;
  OnnxRuntime runtime;
  ModelManager manager;
  RocksDbKvStore kv;
  ScorelineServer server;
  final HttpClient http = HttpClient.newHttpClient();
  final AtomicInteger modelCalls = new AtomicInteger();
  volatile CountDownLatch hold = new CountDownLatch(0);
  final CountDownLatch firstCall = new CountDownLatch(1);

  @BeforeEach
  void setUp() throws Exception {
    registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    inference = Executors.newFixedThreadPool(2);
    surfacePool = Executors.newFixedThreadPool(4);
    runtime = new OnnxRuntime();
    manager =
        new ModelManager(
            new ModelRepository(TestModels.copyTo(dir.resolve("models"), "mlp_ranker")),
            List.of(runtime),
            new InferenceMetrics(registry),
            inference);
    manager.loadAll(List.of());
    Files.createDirectories(dir.resolve("features"));
    Files.writeString(dir.resolve("features/features.yaml"), FEATURES);
    kv = RocksDbKvStore.open(dir.resolve("kv"));
  }

  @AfterEach
  void tearDown() {
    hold.countDown();
    if (server != null) {
      server.close();
    }
    surfacePool.shutdownNow();
    manager.close();
    inference.shutdownNow();
    kv.close();
    runtime.close();
    registry.close();
  }

  static String surface(String name, String model, String warmup) {
    return String.join(
        "\n",
        "name: " + name,
        "entity: user",
        "mode: online",
        "model: {" + model + ", output: score}",
        "inputs:",
        "  - name: features",
        "    columns:",
        "      - value: user_profile:vec",
        "        size: 64",
        "deadline: 5s",
        warmup,
        "");
  }

  /** Starts the server with a warm-up over the surfaces written in {@code surfaces}. */
  void start(Map<String, String> surfaces) throws Exception {
    Files.createDirectories(dir.resolve("surfaces"));
    for (Map.Entry<String, String> e : surfaces.entrySet()) {
      Files.writeString(dir.resolve("surfaces/" + e.getKey() + ".yaml"), e.getValue());
    }
    FeatureRegistry features = FeatureRegistry.load(dir);
    OnlineFeatureStore store = new OnlineFeatureStore(kv, features, Clock.systemUTC());
    List<Double> vec = new ArrayList<>();
    for (int i = 0; i < 64; i++) {
      vec.add(i / 64.0);
    }
    store.pushRows(
        "user_profile",
        List.of(
            Map.of("user_id", 1, "event_timestamp", "2026-01-01T00:00:00Z", "vec", vec),
            Map.of("user_id", 2, "event_timestamp", "2026-01-01T00:00:00Z", "vec", vec)));
    SurfaceEngine.Scorer counting =
        request -> {
          modelCalls.incrementAndGet();
          firstCall.countDown();
          try {
            hold.await();
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
          return manager.inferAsync(request);
        };
    SurfaceEngine engine =
        new SurfaceEngine(
            Surfaces.load(dir, features),
            store,
            new SnapshotLists(kv),
            counting,
            null,
            surfacePool,
            registry);
    Readiness readiness = new Readiness(manager);
    server =
        ScorelineServer.builder(manager)
            .port(0)
            .meterRegistry(registry)
            .readiness(readiness)
            .grpcService(new GrpcHealthService(readiness))
            .surfaces(engine)
            .warmup(new SurfaceWarmup(engine, SurfaceWarmup.KeySampler.NONE, registry))
            .shutdownGracePeriod(Duration.ofSeconds(2))
            .build()
            .start();
  }

  @Test
  void readinessTurnsReadyOnlyAfterTheWarmUpRanItsRequests() throws Exception {
    hold = new CountDownLatch(1);
    ListAppender<ILoggingEvent> logs = new ListAppender<>();
    Logger logger = (Logger) LoggerFactory.getLogger(SurfaceWarmup.class);
    logs.start();
    logger.addAppender(logs);
    try {
      start(
          Map.of(
              "score",
              surface("score", "name: mlp_ranker", "warmup: {requests: 25, entities: [1, 2]}")));
      assertThat(firstCall.await(30, TimeUnit.SECONDS)).isTrue();

      // the warm-up is running (its first model call is held): live, but not ready
      assertThat(get("/v2/health/live").get("_status").asInt()).isEqualTo(200);
      JsonNode during = get("/v2/health/ready");
      assertThat(during.get("_status").asInt()).isEqualTo(503);
      assertThat(during.get("ready").asBoolean()).isFalse();
      assertThat(during.get("waiting_for").get(0).asText()).isEqualTo(ScorelineServer.WARMUP);
      assertThat(grpcHealth()).isEqualTo(ServingStatus.NOT_SERVING);
      assertThat(server.warmedUp()).isNotDone();

      hold.countDown();
      List<SurfaceWarmup.Report> reports = server.warmedUp().get(60, TimeUnit.SECONDS);
      assertThat(get("/v2/health/ready").get("_status").asInt()).isEqualTo(200);
      assertThat(grpcHealth()).isEqualTo(ServingStatus.SERVING);

      assertThat(reports).hasSize(1);
      SurfaceWarmup.Report r = reports.get(0);
      assertThat(r.surface()).isEqualTo("score");
      assertThat(r.ran()).isEqualTo(25);
      assertThat(r.ranked()).isEqualTo(25);
      assertThat(r.errors()).isZero();
      assertThat(r.outcome()).isEqualTo("done");
      assertThat(r.p50Millis()).isPositive();
      assertThat(modelCalls.get()).isEqualTo(25);

      // warm-up calls are labelled as such, not counted as user traffic
      String metrics = metrics();
      assertThat(value(metrics, "scoreline_surface_warmup_requests_total", "score", "ranked"))
          .isEqualTo(25.0);
      assertThat(metrics).doesNotContain("scoreline_surface_requests_total");
      assertThat(metrics).doesNotContain("scoreline_surface_stage_seconds_count");
      assertThat(
              logs.list.stream()
                  .map(ILoggingEvent::getFormattedMessage)
                  .collect(Collectors.joining("\n")))
          .contains("surface score: warm-up ran 25 of 25 requests")
          .contains("p50 of the last 25");

      // a user request afterwards is counted as one
      assertThat(get("/v1/surfaces/score/1").get("_status").asInt()).isEqualTo(200);
      assertThat(value(metrics(), "scoreline_surface_requests_total", "score", "ranked"))
          .isEqualTo(1.0);
    } finally {
      logger.detachAppender(logs);
    }
  }

  @Test
  void failingWarmUpRequestsDoNotBlockTheStart() throws Exception {
    // version 9 of the model does not exist: every warm-up call of 'broken' fails
    start(
        Map.of(
            "broken",
            surface(
                "broken",
                "name: mlp_ranker, version: '9'",
                "warmup: {requests: 100, entities: [1]}"),
            "score",
            surface("score", "name: mlp_ranker", "warmup: {requests: 10, entities: [2]}")));
    List<SurfaceWarmup.Report> reports = server.warmedUp().get(60, TimeUnit.SECONDS);
    assertThat(get("/v2/health/ready").get("_status").asInt()).isEqualTo(200);

    SurfaceWarmup.Report broken = reports.get(0);
    assertThat(broken.surface()).isEqualTo("broken");
    assertThat(broken.errors()).isEqualTo(SurfaceWarmup.MAX_CONSECUTIVE_ERRORS);
    assertThat(broken.ran()).isEqualTo(SurfaceWarmup.MAX_CONSECUTIVE_ERRORS);
    assertThat(broken.outcome()).isEqualTo("errors");
    SurfaceWarmup.Report ok = reports.get(1);
    assertThat(ok.ranked()).isEqualTo(10);
    assertThat(ok.outcome()).isEqualTo("done");
    String metrics = metrics();
    assertThat(value(metrics, "scoreline_surface_warmup_requests_total", "broken", "error"))
        .isEqualTo((double) SurfaceWarmup.MAX_CONSECUTIVE_ERRORS);
    assertThat(value(metrics, "scoreline_surface_warmup_requests_total", "score", "ranked"))
        .isEqualTo(10.0);
  }

  @Test
  void zeroWarmUpRequestsDisableTheWarmUp() throws Exception {
    start(Map.of("score", surface("score", "name: mlp_ranker", "warmup: {requests: 0}")));
    List<SurfaceWarmup.Report> reports = server.warmedUp().get(60, TimeUnit.SECONDS);
    assertThat(get("/v2/health/ready").get("_status").asInt()).isEqualTo(200);
    assertThat(reports).hasSize(1);
    assertThat(reports.get(0).ran()).isZero();
    assertThat(reports.get(0).outcome()).isEqualTo("disabled");
    assertThat(modelCalls.get()).isZero();
    assertThat(metrics()).doesNotContain("scoreline_surface_warmup_requests_total");
  }

  @Test
  void withoutAWarmUpReadinessFollowsTheModels() throws Exception {
    server = ScorelineServer.builder(manager).port(0).meterRegistry(registry).build().start();
    assertThat(server.warmedUp()).isDone();
    assertThat(get("/v2/health/ready").get("_status").asInt()).isEqualTo(200);
    manager.beginShutdown();
    assertThat(get("/v2/health/ready").get("_status").asInt()).isEqualTo(503);
  }

  // ---------------------------------------------------------------- helpers

  JsonNode get(String path) throws Exception {
    HttpResponse<String> r =
        http.send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + path))
                .GET()
                .build(),
            HttpResponse.BodyHandlers.ofString());
    JsonNode body = r.body().isEmpty() ? JSON.createObjectNode() : JSON.readTree(r.body());
    ((com.fasterxml.jackson.databind.node.ObjectNode) body).put("_status", r.statusCode());
    return body;
  }

  String metrics() throws Exception {
    return http.send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/metrics"))
                .GET()
                .build(),
            HttpResponse.BodyHandlers.ofString())
        .body();
  }

  /** A counter's value for a surface and an outcome, or NaN when it is not exported. */
  static double value(String metrics, String name, String surface, String outcome) {
    Pattern p =
        Pattern.compile(
            "(?m)^"
                + name
                + "\\{outcome=\""
                + outcome
                + "\",surface=\""
                + surface
                + "\"\\} ([0-9.eE+-]+)$");
    Matcher m = p.matcher(metrics);
    return m.find() ? Double.parseDouble(m.group(1)) : Double.NaN;
  }

  ServingStatus grpcHealth() {
    // the server's gRPC health service answers from the same readiness
    ServingStatus[] out = new ServingStatus[1];
    new GrpcHealthService(server.readiness())
        .check(
            HealthCheckRequest.getDefaultInstance(),
            new StreamObserver<HealthCheckResponse>() {
              @Override
              public void onNext(HealthCheckResponse value) {
                out[0] = value.getStatus();
              }

              @Override
              public void onError(Throwable t) {}

              @Override
              public void onCompleted() {}
            });
    return out[0];
  }
}
