package dev.scoreline.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.scoreline.onnx.OnnxRuntime;
import dev.scoreline.server.grpc.GrpcInferenceService;
import dev.scoreline.server.grpc.proto.GRPCInferenceServiceGrpc;
import dev.scoreline.server.grpc.proto.RepositoryIndexRequest;
import dev.scoreline.testing.TestModels;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.MetadataUtils;
import java.net.URI;
import java.net.http.HttpRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Admin token on REST and gRPC, the traffic admin API, request headers, and load shedding. */
class AdminAndSchedulingTest {
  private static final String TOKEN = "s3cret-token";
  @TempDir static Path repo;
  private static ServerFixture server;
  private static volatile long delayMillis;
  private static volatile java.util.concurrent.CountDownLatch running =
      new java.util.concurrent.CountDownLatch(1);

  @BeforeAll
  static void start() throws Exception {
    TestModels.copyTo(repo, "mlp_ranker");
    Files.writeString(
        repo.resolve("mlp_ranker/config.yaml"),
        String.join(
            "\n",
            "max-batch-size: 64",
            "version-policy: {all: true}",
            "version-labels: {stable: 1, canary: 2}",
            "dynamic-batching: {max-queue-delay: 0us, max-queue-size: 2}",
            ""));
    server =
        ServerFixture.start(
            repo,
            new WrappingRuntime(new OnnxRuntime(), name -> sleep(delayMillis)),
            b -> b.adminToken(TOKEN),
            GrpcInferenceService::new);
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  private static void sleep(long ms) {
    if (ms > 0) {
      running.countDown();
      try {
        Thread.sleep(ms);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  private static String infer() {
    StringBuilder data = new StringBuilder();
    for (int i = 0; i < 64; i++) {
      data.append(i > 0 ? "," : "").append(i / 64.0);
    }
    return "{\"inputs\":[{\"name\":\"features\",\"shape\":[1,64],\"datatype\":\"FP32\",\"data\":["
        + data
        + "]}]}";
  }

  private static ServerFixture.Response send(
      String method, String path, String body, String... headers) {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(server.base + path))
            .method(
                method,
                body == null
                    ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofString(body));
    if (headers.length > 0) {
      b.headers(headers);
    }
    return server.send(b);
  }

  @Test
  void repositoryApi_withoutOrWithWrongToken_is401_withRightToken_works() {
    ServerFixture.Response none = send("POST", "/v2/repository/index", "{}");
    assertThat(none.status()).isEqualTo(401);
    assertThat(none.code()).isEqualTo("UNAUTHENTICATED");
    assertThat(none.header("www-authenticate")).startsWith("Bearer");
    assertThat(
            send(
                    "POST",
                    "/v2/repository/models/mlp_ranker/unload",
                    "{}",
                    "Authorization",
                    "Bearer nope")
                .status())
        .isEqualTo(401);
    assertThat(
            send("POST", "/v2/repository/index", "{}", "Authorization", "Bearer " + TOKEN).status())
        .isEqualTo(200);
    // data-plane and health calls need no token
    assertThat(server.get("/v2/health/ready").status()).isEqualTo(200);
    assertThat(server.post("/v2/models/mlp_ranker/infer", infer()).status()).isEqualTo(200);
  }

  @Test
  void grpcRepositoryCalls_needTheToken() {
    ManagedChannel channel =
        ManagedChannelBuilder.forAddress("127.0.0.1", server.server.port()).usePlaintext().build();
    try {
      var stub =
          GRPCInferenceServiceGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS);
      assertThatThrownBy(() -> stub.repositoryIndex(RepositoryIndexRequest.getDefaultInstance()))
          .isInstanceOfSatisfying(
              StatusRuntimeException.class,
              e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED));
      Metadata md = new Metadata();
      md.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), "Bearer " + TOKEN);
      assertThat(
              stub.withInterceptors(MetadataUtils.newAttachHeadersInterceptor(md))
                  .repositoryIndex(RepositoryIndexRequest.getDefaultInstance())
                  .getModelsCount())
          .isGreaterThan(0);
    } finally {
      channel.shutdownNow();
    }
  }

  @Test
  void trafficAdmin_getAndPut_changeRoutingAtOnce() {
    String auth = "Bearer " + TOKEN;
    assertThat(send("GET", "/v2/admin/models/mlp_ranker/traffic", null).status()).isEqualTo(401);
    assertThat(
            server
                .post("/v2/models/mlp_ranker/infer", infer())
                .json()
                .path("model_version")
                .asText())
        .isEqualTo("2");
    ServerFixture.Response put =
        send(
            "PUT",
            "/v2/admin/models/mlp_ranker/traffic",
            "{\"split\": {\"stable\": 100}}",
            "Authorization",
            auth);
    assertThat(put.status()).as(put.text()).isEqualTo(200);
    assertThat(put.json().path("split").path("stable").asInt()).isEqualTo(100);
    for (int i = 0; i < 5; i++) {
      assertThat(
              server
                  .post("/v2/models/mlp_ranker/infer", infer())
                  .json()
                  .path("model_version")
                  .asText())
          .isEqualTo("1");
    }
    // a label still reaches its version directly
    assertThat(
            server
                .post("/v2/models/mlp_ranker/versions/canary/infer", infer())
                .json()
                .path("model_version")
                .asText())
        .isEqualTo("2");
    ServerFixture.Response bad =
        send(
            "PUT",
            "/v2/admin/models/mlp_ranker/traffic",
            "{\"split\": {\"gamma\": 1}}",
            "Authorization",
            auth);
    assertThat(bad.status()).isEqualTo(400);
    assertThat(bad.field()).isEqualTo("traffic.split.gamma");
    assertThat(send("GET", "/v2/admin/models/nope/traffic", null, "Authorization", auth).status())
        .isEqualTo(404);
    send("PUT", "/v2/admin/models/mlp_ranker/traffic", "{}", "Authorization", auth);
  }

  @Test
  void timeoutHeader_invalid_is400NamingTheHeader() {
    ServerFixture.Response r =
        server.post("/v2/models/mlp_ranker/infer", infer().getBytes(), "Scoreline-Timeout-Ms", "0");
    assertThat(r.status()).isEqualTo(400);
    assertThat(r.field()).isEqualTo("Scoreline-Timeout-Ms");
  }

  @Test
  void fullQueue_is429WithRetryAfter_andServerKeepsServing() throws Exception {
    delayMillis = 300;
    ExecutorService clients = Executors.newFixedThreadPool(8);
    try {
      List<CompletableFuture<ServerFixture.Response>> calls = new ArrayList<>();
      for (int i = 0; i < 8; i++) {
        calls.add(
            CompletableFuture.supplyAsync(
                () -> server.post("/v2/models/mlp_ranker/versions/1/infer", infer()), clients));
      }
      int ok = 0;
      int shed = 0;
      for (CompletableFuture<ServerFixture.Response> c : calls) {
        ServerFixture.Response r = c.get(30, TimeUnit.SECONDS);
        if (r.status() == 200) {
          ok++;
        } else {
          assertThat(r.status()).as(r.text()).isEqualTo(429);
          assertThat(r.header("retry-after")).isEqualTo("1");
          assertThat(r.code()).isEqualTo("RESOURCE_EXHAUSTED");
          shed++;
        }
      }
      assertThat(shed).isGreaterThan(0);
      assertThat(ok).isGreaterThan(0);
    } finally {
      delayMillis = 0;
      clients.shutdownNow();
    }
    assertThat(server.post("/v2/models/mlp_ranker/infer", infer()).status()).isEqualTo(200);
  }

  @Test
  void expiredDeadline_isDroppedBeforeCompute_with504() throws Exception {
    running = new java.util.concurrent.CountDownLatch(1);
    delayMillis = 500;
    ExecutorService clients = Executors.newFixedThreadPool(2);
    try {
      CompletableFuture<ServerFixture.Response> blocker =
          CompletableFuture.supplyAsync(
              () -> server.post("/v2/models/mlp_ranker/versions/1/infer", infer()), clients);
      // the version's only instance is now busy for 500 ms
      assertThat(running.await(10, TimeUnit.SECONDS)).isTrue();
      ServerFixture.Response late =
          server.post(
              "/v2/models/mlp_ranker/versions/1/infer",
              infer().getBytes(),
              "Scoreline-Timeout-Ms",
              "50");
      assertThat(late.status()).as(late.text()).isIn(429, 504);
      assertThat(blocker.get(30, TimeUnit.SECONDS).status()).isEqualTo(200);
    } finally {
      delayMillis = 0;
      clients.shutdownNow();
    }
  }
}
