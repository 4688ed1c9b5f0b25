package dev.scoreline.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.scoreline.core.surface.SurfaceWarmup;
import dev.scoreline.testing.TestModels;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code scoreline serve}'s start-up with surfaces: each surface is warmed up before {@link
 * ServerLauncher#start} returns and readiness turns 200, over entity keys sampled from the offline
 * store (DuckDB over Parquet) when the surface names none; all real components (ONNX Runtime,
 * RocksDB, DuckDB, the server on loopback).
 */
class ServerLauncherWarmupTest {
  static final String FEATURES =
      String.join(
          "\n",
          "entities:",
          "  - {name: user, keys: [{name: user_id, type: int64}]}",
          "feature-views:",
          "  - name: user_stats",
          "    entity: user",
          "    source: {path: data/user_stats.parquet}",
          "    features: [{name: clicks, type: int64}]",
          "  - name: user_gone",
          "    entity: user",
          "    source: {path: data/missing.parquet}",
          "    features: [{name: clicks, type: int64}]",
          "");

  @TempDir Path dir;
  final HttpClient http = HttpClient.newHttpClient();

  static String surface(String name, String view, String warmup) {
    return String.join(
        "\n",
        "name: " + name,
        "entity: user",
        "model: {name: mlp_ranker, output: score}",
        "inputs:",
        "  - name: features",
        "    columns:",
        "      - one-hot: " + view + ":clicks",
        "        size: 64",
        "deadline: 5s",
        warmup,
        "");
  }

  @BeforeEach
  void setUp() throws Exception {
    TestModels.copyTo(dir.resolve("models"), "mlp_ranker");
    Files.createDirectories(dir.resolve("features"));
    Files.createDirectories(dir.resolve("data"));
    Files.createDirectories(dir.resolve("surfaces"));
    Files.writeString(dir.resolve("features/features.yaml"), FEATURES);
    try (Connection c = DriverManager.getConnection("jdbc:duckdb:");
        Statement s = c.createStatement()) {
      s.execute(
          "COPY (SELECT i::BIGINT AS user_id, (i % 7)::BIGINT AS clicks,"
              + " TIMESTAMP '2026-01-01 00:00:00' AS event_timestamp FROM range(1, 41) t(i)) TO '"
              + dir.resolve("data/user_stats.parquet").toString().replace("'", "''")
              + "' (FORMAT PARQUET)");
    }
    // sampled keys (no warmup.entities), disabled, and a view whose offline data is missing
    Files.writeString(
        dir.resolve("surfaces/sampled.yaml"),
        surface("sampled", "user_stats", "warmup: {requests: 30}"));
    Files.writeString(
        dir.resolve("surfaces/off.yaml"), surface("off", "user_stats", "warmup: {requests: 0}"));
    Files.writeString(
        dir.resolve("surfaces/nodata.yaml"), surface("nodata", "user_gone", "warmup: {}"));
  }

  ServerLauncher start(boolean warmup) {
    return ServerLauncher.start(
        ServerLauncher.Options.defaults(dir.resolve("models"))
            .withPort(0)
            .withProject(dir)
            .withWarmup(warmup));
  }

  @Test
  void start_warmsEachSurfaceUpBeforeItIsReady() throws Exception {
    try (ServerLauncher launcher = start(true)) {
      // start returned: the warm-up is over and readiness is 200
      assertThat(get(launcher, "/v2/health/ready").statusCode()).isEqualTo(200);
      Map<String, SurfaceWarmup.Report> r =
          launcher.warmup().stream()
              .collect(Collectors.toMap(SurfaceWarmup.Report::surface, Function.identity()));
      assertThat(r.get("sampled").ran()).isEqualTo(30);
      assertThat(r.get("sampled").ranked()).isEqualTo(30);
      assertThat(r.get("sampled").outcome()).isEqualTo("done");
      assertThat(r.get("off").ran()).isZero();
      assertThat(r.get("off").outcome()).isEqualTo("disabled");
      // the offline store has no data for this view: warned and skipped, the server still starts
      assertThat(r.get("nodata").ran()).isZero();
      assertThat(r.get("nodata").outcome()).isEqualTo("no-keys");

      String metrics = get(launcher, "/metrics").body();
      assertThat(metrics)
          .contains(
              "scoreline_surface_warmup_requests_total{outcome=\"ranked\",surface=\"sampled\"} 30.0")
          .doesNotContain("surface=\"off\"")
          .doesNotContain("scoreline_surface_requests_total");
    }
  }

  @Test
  void start_withWarmupOff_runsNoWarmUpCalls() throws Exception {
    try (ServerLauncher launcher = start(false)) {
      assertThat(get(launcher, "/v2/health/ready").statusCode()).isEqualTo(200);
      assertThat(launcher.warmup()).isEmpty();
      assertThat(get(launcher, "/metrics").body())
          .doesNotContain("scoreline_surface_warmup_requests_total");
      assertThat(get(launcher, "/v1/surfaces/sampled/3").statusCode()).isEqualTo(200);
    }
  }

  HttpResponse<String> get(ServerLauncher launcher, String path) throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + launcher.port() + path))
            .GET()
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }
}
