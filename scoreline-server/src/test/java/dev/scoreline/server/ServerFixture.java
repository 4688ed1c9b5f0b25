package dev.scoreline.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.scoreline.core.model.InferenceMetrics;
import dev.scoreline.core.model.ModelManager;
import dev.scoreline.core.model.ModelRepository;
import dev.scoreline.core.model.spi.ModelRuntime;
import dev.scoreline.onnx.OnnxRuntime;
import io.grpc.BindableService;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * One real server for a test class: a model repository, the ONNX runtime, a model manager with two
 * inference threads and a {@link ScorelineServer} on an ephemeral port, called over loopback.
 */
final class ServerFixture implements AutoCloseable {
  static final ObjectMapper MAPPER = new ObjectMapper();

  final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  final ExecutorService executor = Executors.newFixedThreadPool(2);
  final ModelRuntime runtime;
  final ModelManager manager;
  final ScorelineServer server;
  final HttpClient http =
      HttpClient.newBuilder()
          .version(HttpClient.Version.HTTP_1_1)
          .connectTimeout(Duration.ofSeconds(5))
          .build();
  final String base;

  private ServerFixture(
      Path repository,
      ModelRuntime runtime,
      Consumer<ScorelineServer.Builder> options,
      Function<ModelManager, BindableService> grpc) {
    this.runtime = runtime;
    this.manager =
        new ModelManager(
            new ModelRepository(repository),
            List.of(runtime),
            new InferenceMetrics(registry),
            executor);
    manager.loadAll(List.of());
    ScorelineServer.Builder b =
        ScorelineServer.builder(manager)
            .port(0)
            .meterRegistry(registry)
            .shutdownGracePeriod(Duration.ofSeconds(5));
    options.accept(b);
    if (grpc != null) {
      b.grpcService(grpc.apply(manager));
    }
    this.server = b.build().start();
    this.base = "http://127.0.0.1:" + server.port();
  }

  static ServerFixture start(Path repository) {
    return start(repository, new OnnxRuntime(), b -> {});
  }

  static ServerFixture start(
      Path repository, ModelRuntime runtime, Consumer<ScorelineServer.Builder> options) {
    return new ServerFixture(repository, runtime, options, null);
  }

  static ServerFixture start(
      Path repository,
      ModelRuntime runtime,
      Consumer<ScorelineServer.Builder> options,
      Function<ModelManager, BindableService> grpc) {
    return new ServerFixture(repository, runtime, options, grpc);
  }

  /** A status, the headers and the body of one response. */
  record Response(int status, HttpHeaders headers, byte[] body) {
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

    String header(String name) {
      return headers.firstValue(name).orElse(null);
    }

    /** The error code of an error body. */
    String code() {
      return json().path("code").asText();
    }

    String field() {
      return json().path("field").asText(null);
    }

    @Override
    public String toString() {
      return status + " " + text();
    }
  }

  Response get(String path) {
    return send(HttpRequest.newBuilder(URI.create(base + path)).GET());
  }

  Response post(String path, String json) {
    return post(path, json.getBytes(StandardCharsets.UTF_8));
  }

  Response post(String path, byte[] body, String... headers) {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(base + path))
            .POST(HttpRequest.BodyPublishers.ofByteArray(body));
    if (headers.length > 0) {
      b.headers(headers);
    }
    return send(b);
  }

  Response send(HttpRequest.Builder request) {
    try {
      HttpResponse<byte[]> r =
          http.send(
              request.timeout(Duration.ofSeconds(30)).build(),
              HttpResponse.BodyHandlers.ofByteArray());
      return new Response(r.statusCode(), r.headers(), r.body());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  static JsonNode json(String text) {
    try {
      return MAPPER.readTree(text);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Override
  public void close() {
    server.close();
    manager.close();
    executor.shutdownNow();
    runtime.close();
  }
}
