package dev.scoreline.stream.sink;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import dev.scoreline.stream.StreamResult;
import java.net.InetSocketAddress;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The webhook sink against a real local HTTP endpoint. */
class WebhookSinkTest {
  HttpServer server;
  final List<JsonNode> bodies = new CopyOnWriteArrayList<>();
  final AtomicInteger failFirst = new AtomicInteger();
  final AtomicInteger calls = new AtomicInteger();

  @BeforeEach
  void start() throws Exception {
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.setExecutor(Executors.newSingleThreadExecutor());
    server.createContext(
        "/hook",
        ex -> {
          calls.incrementAndGet();
          byte[] body = ex.getRequestBody().readAllBytes();
          int status = failFirst.getAndDecrement() > 0 ? 503 : 204;
          if (status == 204) {
            bodies.add(new ObjectMapper().readTree(body));
          }
          ex.sendResponseHeaders(status, -1);
          ex.close();
        });
    server.start();
  }

  @AfterEach
  void stop() {
    server.stop(0);
  }

  WebhookSink sink(boolean onlyAlerts, int attempts) {
    return new WebhookSink(
        "fraud-check",
        new WebhookSink.Options(
            URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/hook"),
            onlyAlerts,
            Duration.ofSeconds(2),
            attempts,
            Duration.ofMillis(10),
            Map.of("X-Team", "risk")));
  }

  static StreamResult result(String id, boolean alert) {
    return new StreamResult(
        "fraud-check",
        id,
        Map.of("card_id", 7L),
        alert ? 0.95f : 0.1f,
        List.of(),
        alert ? List.of("fraud-suspected") : List.of(),
        "fraud",
        "1",
        1_000_000L,
        2_000_000L,
        3_000_000L,
        0,
        5,
        new byte[] {1});
  }

  @Test
  void postsOnlyAlerts_andRetriesUntilAccepted() throws Exception {
    failFirst.set(2);
    try (WebhookSink s = sink(true, 5)) {
      s.write(List.of(result("a", false), result("b", true))).get();
    }
    assertThat(calls.get()).isEqualTo(3);
    assertThat(bodies).hasSize(1);
    JsonNode body = bodies.get(0);
    assertThat(body.get("surface").asText()).isEqualTo("fraud-check");
    assertThat(body.get("results")).hasSize(1);
    assertThat(body.get("results").get(0).get("event_id").asText()).isEqualTo("b");
    assertThat(body.get("results").get(0).get("alerts").get(0).asText())
        .isEqualTo("fraud-suspected");
  }

  @Test
  void givesUpAfterMaxAttempts_soTheProcessorRetriesLater() {
    failFirst.set(100);
    try (WebhookSink s = sink(false, 2)) {
      assertThatThrownBy(() -> s.write(List.of(result("c", false))).get())
          .isInstanceOf(ExecutionException.class)
          .hasMessageContaining("HTTP 503");
    }
    assertThat(calls.get()).isEqualTo(2);
  }

  @Test
  void nothingToSend_isAcknowledgedWithoutACall() throws Exception {
    try (WebhookSink s = sink(true, 2)) {
      s.write(List.of(result("d", false))).get();
    }
    assertThat(calls.get()).isZero();
  }
}
