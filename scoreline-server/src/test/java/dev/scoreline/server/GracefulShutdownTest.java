package dev.scoreline.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.scoreline.onnx.OnnxRuntime;
import dev.scoreline.testing.TestModels;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link ScorelineServer#close()} lets in-flight calls finish and refuses new ones. */
class GracefulShutdownTest {
  static final String BODY =
      "{\"inputs\":[{\"name\":\"text\",\"shape\":[1],\"datatype\":\"BYTES\",\"data\":[\"a\"]}]}";

  @TempDir Path repo;

  @Test
  void close_inFlightFinishWith200_laterGet503OrRefused_none500() throws Exception {
    TestModels.copyTo(repo, "string_identity");
    Files.createDirectories(repo.resolve("slow/1"));
    Files.copy(repo.resolve("string_identity/1/model.onnx"), repo.resolve("slow/1/model.onnx"));
    CountDownLatch entered = new CountDownLatch(2);
    AtomicBoolean armed = new AtomicBoolean();
    WrappingRuntime runtime =
        new WrappingRuntime(
            new OnnxRuntime(),
            model -> {
              if (model.equals("slow") && armed.get()) {
                entered.countDown();
                sleep(600);
              } else {
                sleep(5);
              }
            });
    try (ServerFixture s = ServerFixture.start(repo, runtime, b -> {})) {
      armed.set(true);
      // a steady stream of requests for the whole test
      AtomicBoolean stop = new AtomicBoolean();
      ConcurrentLinkedQueue<String> outcomes = new ConcurrentLinkedQueue<>();
      Thread stream =
          new Thread(
              () -> {
                while (!stop.get()) {
                  outcomes.add(call(s, "string_identity"));
                  sleep(2);
                }
              });
      stream.start();

      List<CompletableFuture<HttpResponse<String>>> inFlight = new ArrayList<>();
      for (int i = 0; i < 2; i++) {
        inFlight.add(s.http.sendAsync(request(s, "slow"), HttpResponse.BodyHandlers.ofString()));
      }
      assertThat(entered.await(10, TimeUnit.SECONDS)).isTrue();

      Thread closer = new Thread(s.server::close);
      closer.start();
      while (!s.manager.isShuttingDown()) {
        Thread.sleep(1);
      }
      String during = call(s, "string_identity");
      assertThat(during).isIn("503", "refused");
      String ready = get(s, "/v2/health/ready");
      assertThat(ready).isIn("503", "refused");

      for (CompletableFuture<HttpResponse<String>> f : inFlight) {
        HttpResponse<String> r = f.get(10, TimeUnit.SECONDS);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
      }
      closer.join(10_000);
      assertThat(closer.isAlive()).isFalse();
      assertThat(call(s, "string_identity")).isEqualTo("refused");
      stop.set(true);
      stream.join(10_000);

      assertThat(outcomes)
          .contains("200")
          .doesNotContain("500")
          .allMatch(o -> o.equals("200") || o.equals("503") || o.equals("refused"));
    }
  }

  private static HttpRequest request(ServerFixture s, String model) {
    return HttpRequest.newBuilder(URI.create(s.base + "/v2/models/" + model + "/infer"))
        .timeout(Duration.ofSeconds(10))
        .POST(HttpRequest.BodyPublishers.ofString(BODY))
        .build();
  }

  private static String call(ServerFixture s, String model) {
    try {
      return Integer.toString(
          s.http.send(request(s, model), HttpResponse.BodyHandlers.ofString()).statusCode());
    } catch (IOException e) {
      return "refused";
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "interrupted";
    }
  }

  private static String get(ServerFixture s, String path) {
    try {
      HttpRequest r =
          HttpRequest.newBuilder(URI.create(s.base + path))
              .timeout(Duration.ofSeconds(10))
              .GET()
              .build();
      return Integer.toString(s.http.send(r, HttpResponse.BodyHandlers.ofString()).statusCode());
    } catch (IOException e) {
      return "refused";
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "interrupted";
    }
  }

  private static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
