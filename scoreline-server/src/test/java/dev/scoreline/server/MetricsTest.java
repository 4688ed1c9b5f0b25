package dev.scoreline.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.scoreline.server.ServerFixture.Response;
import dev.scoreline.testing.TestModels;
import java.net.URI;
import java.net.http.HttpRequest;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code GET /metrics} in the Prometheus text format. */
class MetricsTest {
  @TempDir static Path repo;
  static ServerFixture s;

  @BeforeAll
  static void start() {
    TestModels.copyTo(repo, "string_identity");
    s = ServerFixture.start(repo);
  }

  @AfterAll
  static void stop() {
    s.close();
  }

  @Test
  void metrics_afterInference_hasHistogramsAndJvmMetrics() {
    Response infer =
        s.post(
            "/v2/models/string_identity/infer",
            "{\"inputs\":[{\"name\":\"text\",\"shape\":[1],\"datatype\":\"BYTES\",\"data\":[\"a\"]}]}");
    assertThat(infer.status()).isEqualTo(200);
    Response r = s.get("/metrics");
    assertThat(r.status()).isEqualTo(200);
    assertThat(r.header("content-type")).startsWith("text/plain");
    assertThat(r.text())
        .containsPattern(
            "scoreline_inference_request_seconds_bucket\\{[^}]*model=\"string_identity\"[^}]*outcome=\"success\"")
        .contains("scoreline_inference_request_seconds_count{")
        .contains("scoreline_inference_queue_seconds_bucket{")
        .contains("scoreline_inference_compute_seconds_bucket{")
        .contains("jvm_memory_used_bytes")
        .contains("jvm_threads_live_threads")
        .contains("process_uptime_seconds")
        .contains("system_cpu_count");
  }

  @Test
  void metrics_failedRequest_countedWithOutcome() {
    s.post(
        "/v2/models/string_identity/infer",
        "{\"inputs\":[{\"name\":\"nope\",\"shape\":[1],\"datatype\":\"BYTES\",\"data\":[\"a\"]}]}");
    assertThat(s.get("/metrics").text()).contains("outcome=\"user_error\"");
  }

  @Test
  void metrics_openMetricsWhenAsked() {
    Response r =
        s.send(
            HttpRequest.newBuilder(URI.create(s.base + "/metrics"))
                .header("Accept", "application/openmetrics-text; version=1.0.0")
                .GET());
    assertThat(r.status()).isEqualTo(200);
    assertThat(r.header("content-type")).startsWith("application/openmetrics-text");
    assertThat(r.text()).contains("# EOF");
  }
}
