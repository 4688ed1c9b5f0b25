package dev.scoreline.server.features;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.scoreline.core.feature.FeatureRegistry;
import dev.scoreline.core.feature.online.OnlineFeatureStore;
import dev.scoreline.core.model.InferenceMetrics;
import dev.scoreline.core.model.ModelManager;
import dev.scoreline.core.model.ModelRepository;
import dev.scoreline.rocksdb.RocksDbKvStore;
import dev.scoreline.server.ScorelineServer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * A real server for the feature endpoint tests: a project directory with {@link #FEATURES_YAML}, a
 * RocksDB online store in it, an {@link OnlineFeatureStore} on a settable clock, and a {@link
 * ScorelineServer} (no models) on an ephemeral port, called over loopback.
 */
final class FeatureServer implements AutoCloseable {
  static final ObjectMapper MAPPER = new ObjectMapper();

  /** The clock's start: 2026-11-28T12:00:00Z. */
  static final Instant NOW = Instant.parse("2026-11-28T12:00:00Z");

  /**
   * Entities user (user_id int64) and item (item_id string). Views: user_stats (ttl 1h, created
   * column), user_profile (no ttl), item_stats (ttl 24h), all_types (one feature of every type),
   * archive (online: false). Service ranker: user_stats:clicks_7d, user_profile:embedding,
   * item_stats:*.
   */
  static final String FEATURES_YAML =
      String.join(
          "\n",
          "entities:",
          "  - name: user",
          "    keys: [{name: user_id, type: int64}]",
          "  - name: item",
          "    keys: [{name: item_id, type: string}]",
          "feature-views:",
          "  - name: user_stats",
          "    entity: user",
          "    source: {path: data/user_stats.parquet}",
          "    timestamp-column: event_ts",
          "    created-timestamp-column: created_ts",
          "    ttl: 1h",
          "    features:",
          "      - {name: clicks_7d, type: int64}",
          "      - {name: ctr, type: fp64}",
          "  - name: user_profile",
          "    entity: user",
          "    source: {path: data/user_profile.parquet}",
          "    features:",
          "      - {name: country, type: string}",
          "      - {name: embedding, type: fp32_list}",
          "  - name: item_stats",
          "    entity: item",
          "    source: {path: data/item_stats.parquet}",
          "    ttl: 24h",
          "    features:",
          "      - {name: price, type: fp32}",
          "      - {name: in_stock, type: bool}",
          "  - name: all_types",
          "    entity: user",
          "    source: {path: data/all_types.parquet}",
          "    features:",
          "      - {name: i64, type: int64}",
          "      - {name: f64, type: fp64}",
          "      - {name: f32, type: fp32}",
          "      - {name: s, type: string}",
          "      - {name: b, type: bool}",
          "      - {name: raw, type: bytes}",
          "      - {name: vec, type: fp32_list}",
          "      - {name: ids, type: int64_list}",
          "      - {name: tags, type: string_list}",
          "  - name: archive",
          "    entity: user",
          "    online: false",
          "    source: {path: data/archive.parquet}",
          "    features:",
          "      - {name: old, type: int64}",
          "feature-services:",
          "  - name: ranker",
          "    features: [user_stats:clicks_7d, user_profile:embedding, item_stats:*]",
          "");

  final Path project;
  final MutableClock clock = new MutableClock(NOW);
  final RocksDbKvStore kv;
  final OnlineFeatureStore store;
  final ScorelineServer server;
  final String base;
  private final PrometheusMeterRegistry registry =
      new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private final ExecutorService executor = Executors.newFixedThreadPool(1);
  private final ModelManager manager;
  private final HttpClient http =
      HttpClient.newBuilder()
          .version(HttpClient.Version.HTTP_1_1)
          .connectTimeout(Duration.ofSeconds(5))
          .build();

  private FeatureServer(Path project, boolean withFeatures, int maxEntities, long maxBytes) {
    this.project = project;
    try {
      Files.createDirectories(project.resolve("features"));
      Files.createDirectories(project.resolve("models"));
      Files.writeString(project.resolve("features/features.yaml"), FEATURES_YAML);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    this.kv = RocksDbKvStore.open(project.resolve(".scoreline/online"));
    this.store =
        new OnlineFeatureStore(
            kv,
            FeatureRegistry.load(project),
            clock,
            new OnlineFeatureStore.Options(maxEntities, false));
    this.manager =
        new ModelManager(
            new ModelRepository(project.resolve("models")),
            List.of(),
            new InferenceMetrics(registry),
            executor);
    ScorelineServer.Builder b =
        ScorelineServer.builder(manager)
            .port(0)
            .meterRegistry(registry)
            .maxRequestBytes(maxBytes)
            .shutdownGracePeriod(Duration.ZERO);
    if (withFeatures) {
      b.features(store);
    }
    this.server = b.build().start();
    this.base = "http://127.0.0.1:" + server.port();
  }

  /** A server with the feature store, at most 50 entities per request and 1 MiB bodies. */
  static FeatureServer start(Path project) {
    return new FeatureServer(project, true, 50, 1 << 20);
  }

  /** A server without a feature store. */
  static FeatureServer withoutFeatures(Path project) {
    return new FeatureServer(project, false, 50, 1 << 20);
  }

  /**
   * Back to a fresh state between the tests of a class (one server per class: a server takes
   * seconds to stop): the clock at {@link #NOW}, no stored values, no offline push log.
   */
  void reset() {
    clock.set(NOW);
    for (String entity : store.registry().entities().keySet()) {
      kv.dropNamespace(OnlineFeatureStore.namespace(entity));
    }
    Path pushed = project.resolve("data/pushed");
    if (Files.exists(pushed)) {
      try (java.util.stream.Stream<Path> files = Files.walk(pushed)) {
        for (Path f : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
          Files.delete(f);
        }
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }

  int port() {
    return server.port();
  }

  /** A status and body of one response. */
  record Response(int status, String contentType, byte[] body) {
    String text() {
      return new String(body, StandardCharsets.UTF_8);
    }

    JsonNode json() {
      try {
        return MAPPER.readTree(body);
      } catch (IOException e) {
        throw new UncheckedIOException("not JSON: " + text(), e);
      }
    }

    String code() {
      return json().path("code").asText();
    }

    String field() {
      return json().path("field").asText(null);
    }

    String error() {
      return json().path("error").asText();
    }

    @Override
    public String toString() {
      return status + " " + text();
    }
  }

  Response post(String path, String json) {
    return post(path, json.getBytes(StandardCharsets.UTF_8));
  }

  Response post(String path, byte[] body) {
    return send(
        HttpRequest.newBuilder(URI.create(base + path))
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofByteArray(body)));
  }

  Response get(String path) {
    return send(HttpRequest.newBuilder(URI.create(base + path)).GET());
  }

  private Response send(HttpRequest.Builder request) {
    try {
      HttpResponse<byte[]> r =
          http.send(
              request.timeout(Duration.ofSeconds(30)).build(),
              HttpResponse.BodyHandlers.ofByteArray());
      return new Response(
          r.statusCode(), r.headers().firstValue("content-type").orElse(null), r.body());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** Single quotes to double quotes, so JSON in tests reads without escapes. */
  static String json(String singleQuoted) {
    return singleQuoted.replace('\'', '"');
  }

  @Override
  public void close() {
    server.close();
    manager.close();
    executor.shutdownNow();
    kv.close();
    registry.close();
  }

  /** A clock tests move by hand. */
  static final class MutableClock extends Clock {
    private volatile Instant now;

    MutableClock(Instant now) {
      this.now = now;
    }

    void set(Instant t) {
      now = t;
    }

    void advance(Duration d) {
      now = now.plus(d);
    }

    @Override
    public Instant instant() {
      return now;
    }

    @Override
    public ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
      return this;
    }
  }
}
