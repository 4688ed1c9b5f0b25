package dev.scoreline.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.google.protobuf.ByteString;
import com.linecorp.armeria.common.AggregatedHttpResponse;
import com.linecorp.armeria.common.HttpData;
import com.linecorp.armeria.common.HttpMethod;
import com.linecorp.armeria.common.HttpRequest;
import com.linecorp.armeria.common.HttpResponse;
import com.linecorp.armeria.common.HttpStatus;
import com.linecorp.armeria.common.MediaType;
import com.linecorp.armeria.common.RequestHeaders;
import com.linecorp.armeria.server.HttpService;
import com.linecorp.armeria.server.ServiceRequestContext;
import dev.scoreline.core.model.InferenceMetrics;
import dev.scoreline.core.model.ModelManager;
import dev.scoreline.core.model.ModelRepository;
import dev.scoreline.onnx.OnnxRuntime;
import dev.scoreline.server.grpc.GrpcInferenceService;
import dev.scoreline.server.grpc.proto.GRPCInferenceServiceGrpc;
import dev.scoreline.server.grpc.proto.ModelInferRequest;
import dev.scoreline.server.grpc.proto.ModelInferResponse;
import dev.scoreline.server.grpc.proto.ServerReadyRequest;
import dev.scoreline.testing.TestModels;
import io.grpc.Context;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The server-wide in-flight limit and the deadline checks in front of decoding, over the wire: a
 * real server on an ephemeral port with the real mlp_ranker ONNX model, whose runs a gate holds so
 * that "in flight" is a fact of the test, not a matter of timing.
 */
class AdmissionControlTest {
  private static final String NO_BATCHING = "version-policy: {specific: [1]}\n";

  @TempDir Path repo;

  private final CountDownLatch gate = new CountDownLatch(1);
  private final AtomicBoolean armed = new AtomicBoolean();
  private final AtomicInteger entered = new AtomicInteger();
  private final AtomicInteger runs = new AtomicInteger();
  private final List<ManagedChannel> channels = new ArrayList<>();

  @AfterEach
  void openGateAndCloseChannels() throws InterruptedException {
    gate.countDown();
    for (ManagedChannel c : channels) {
      c.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
    }
  }

  /** A server for mlp_ranker whose model runs wait at {@link #gate} once {@link #armed}. */
  private ServerFixture start(String config, int maxInFlight) throws Exception {
    TestModels.copyTo(repo, "mlp_ranker");
    Files.writeString(repo.resolve("mlp_ranker/config.yaml"), config);
    WrappingRuntime runtime =
        new WrappingRuntime(
            new OnnxRuntime(),
            model -> {
              if (!armed.get()) {
                return; // warmup
              }
              entered.incrementAndGet();
              try {
                gate.await(30, TimeUnit.SECONDS);
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
              runs.incrementAndGet();
            });
    return ServerFixture.start(
        repo, runtime, b -> b.maxInFlight(maxInFlight), GrpcInferenceService::new);
  }

  @Test
  void atMaxInFlight_restGets429AndGrpcResourceExhausted_beforeDecoding_untilLoadDrops()
      throws Exception {
    try (ServerFixture s = start(NO_BATCHING, 2)) {
      assertThat(s.server.maxInFlight()).isEqualTo(2);
      armed.set(true);
      List<CompletableFuture<java.net.http.HttpResponse<String>>> held = new ArrayList<>();
      for (int i = 0; i < 2; i++) {
        held.add(
            s.http.sendAsync(restInfer(s), java.net.http.HttpResponse.BodyHandlers.ofString()));
      }
      await(() -> entered.get() == 2 && s.server.inFlight() == 2, "2 requests held in the model");

      ServerFixture.Response rest = s.post("/v2/models/mlp_ranker/infer", mlpJson());
      assertThat(rest.status()).as(rest.text()).isEqualTo(429);
      assertThat(rest.header("retry-after")).isEqualTo("1");
      assertThat(rest.code()).isEqualTo("RESOURCE_EXHAUSTED");
      assertThat(rest.json().path("error").asText()).contains("max-in-flight 2");
      // refused before the body is read: a malformed body gets the same answer, not a 400
      assertThat(s.post("/v2/models/mlp_ranker/infer", "{not json").status()).isEqualTo(429);
      assertThat(s.post("/v1/models/mlp_ranker:predict", "{\"instances\": [[1, 2]]}").status())
          .isEqualTo(429);

      GRPCInferenceServiceGrpc.GRPCInferenceServiceBlockingStub grpc = blockingStub(s);
      StatusRuntimeException refused =
          catchThrowableOfType(
              () -> grpc.withDeadlineAfter(30, TimeUnit.SECONDS).modelInfer(grpcInfer()),
              StatusRuntimeException.class);
      assertThat(refused.getStatus().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
      assertThat(refused.getStatus().getDescription()).contains("max-in-flight 2");

      // health and metadata are not inference: never limited
      assertThat(s.get("/v2/health/ready").status()).isEqualTo(200);
      assertThat(s.get("/v2/models/mlp_ranker").status()).isEqualTo(200);
      assertThat(
              grpc.withDeadlineAfter(30, TimeUnit.SECONDS)
                  .serverReady(ServerReadyRequest.getDefaultInstance())
                  .getReady())
          .isTrue();
      // every refusal came back while the admitted requests were still held
      assertThat(held).noneMatch(CompletableFuture::isDone);
      assertThat(entered.get()).isEqualTo(2);
      assertThat(rejected(s.registry, "max_in_flight")).isEqualTo(4);

      gate.countDown();
      for (CompletableFuture<java.net.http.HttpResponse<String>> f : held) {
        assertThat(f.get(30, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
      }
      await(() -> s.server.inFlight() == 0, "the held requests' slots released");
      assertThat(s.post("/v2/models/mlp_ranker/infer", mlpJson()).status()).isEqualTo(200);
      assertThat(
              grpc.withDeadlineAfter(30, TimeUnit.SECONDS)
                  .modelInfer(grpcInfer())
                  .getRawOutputContentsCount())
          .isEqualTo(1);
      await(() -> s.server.inFlight() == 0, "every slot released");
      assertThat(runs.get()).isEqualTo(4);
    }
  }

  @Test
  void headerDeadlinePassedOnArrival_isDroppedBeforeTheServiceSeesIt() throws Exception {
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    var executor = Executors.newSingleThreadExecutor();
    try (ModelManager manager =
        new ModelManager(
            new ModelRepository(repo), List.of(), new InferenceMetrics(registry), executor)) {
      AdmissionControl admission = new AdmissionControl(manager, 10, registry);
      AtomicInteger served = new AtomicInteger();
      HttpService service =
          (ctx, req) -> {
            served.incrementAndGet();
            return HttpResponse.of(HttpStatus.OK);
          };
      long arrived = System.nanoTime() - TimeUnit.MILLISECONDS.toNanos(50);

      RequestHeaders rest =
          RequestHeaders.builder(HttpMethod.POST, "/v2/models/m/infer")
              .contentType(MediaType.JSON)
              .add("scoreline-timeout-ms", "10")
              .build();
      AggregatedHttpResponse r = serve(admission, service, rest, arrived);
      assertThat(r.status()).isEqualTo(HttpStatus.GATEWAY_TIMEOUT);
      assertThat(ServerFixture.json(r.contentUtf8()).path("code").asText())
          .isEqualTo("DEADLINE_EXCEEDED");

      RequestHeaders grpc =
          RequestHeaders.builder(HttpMethod.POST, AdmissionControl.GRPC_MODEL_INFER)
              .contentType(MediaType.parse("application/grpc"))
              .add("grpc-timeout", "10m")
              .build();
      r = serve(admission, service, grpc, arrived);
      assertThat(r.status()).isEqualTo(HttpStatus.OK); // gRPC: the status is in the trailers
      assertThat(r.headers().get("grpc-status"))
          .isEqualTo(Integer.toString(Status.Code.DEADLINE_EXCEEDED.value()));
      assertThat(served.get()).isZero();
      assertThat(rejected(registry, "expired_on_arrival")).isEqualTo(2);

      // the same 50 ms wait with a deadline that has not passed goes through
      RequestHeaders roomy =
          RequestHeaders.builder(HttpMethod.POST, AdmissionControl.GRPC_MODEL_INFER)
              .contentType(MediaType.parse("application/grpc"))
              .add("grpc-timeout", "60S")
              .build();
      assertThat(serve(admission, service, roomy, arrived).status()).isEqualTo(HttpStatus.OK);
      assertThat(served.get()).isEqualTo(1);
    } finally {
      executor.shutdownNow();
    }
  }

  private static AggregatedHttpResponse serve(
      AdmissionControl admission, HttpService service, RequestHeaders headers, long arrived)
      throws Exception {
    HttpRequest req = HttpRequest.of(headers, HttpData.ofUtf8("{}"));
    ServiceRequestContext ctx =
        ServiceRequestContext.builder(req)
            .requestStartTime(arrived, TimeUnit.NANOSECONDS.toMicros(arrived))
            .build();
    return admission.serve(service, ctx, req).aggregate().get(10, TimeUnit.SECONDS);
  }

  @Test
  void bodyArrivingAfterTheDeadline_isDroppedBeforeCompute() throws Exception {
    try (ServerFixture s = start(NO_BATCHING, 0)) {
      armed.set(true);
      gate.countDown(); // nothing is held in this test; runs are only counted
      byte[] body = mlpJson().getBytes(StandardCharsets.UTF_8);
      String status;
      try (Socket socket = new Socket("127.0.0.1", s.server.port())) {
        socket.setSoTimeout(30_000);
        OutputStream out = socket.getOutputStream();
        out.write(
            ("POST /v2/models/mlp_ranker/infer HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    + "Content-Type: application/json\r\nScoreline-Timeout-Ms: 100\r\n"
                    + "Connection: close\r\nContent-Length: "
                    + body.length
                    + "\r\n\r\n")
                .getBytes(StandardCharsets.US_ASCII));
        out.flush();
        Thread.sleep(500); // the body comes in after the request's 100 ms are over
        out.write(body);
        out.flush();
        status = readAll(socket.getInputStream()).split("\r\n", 2)[0];
      }
      assertThat(status).isEqualTo("HTTP/1.1 504 Gateway Timeout");
      assertThat(runs.get()).isZero();
      assertThat(rejected(s.registry, "mlp_ranker", "expired")).isEqualTo(1);
      // with time to spare the same request runs
      ServerFixture.Response ok =
          s.post(
              "/v2/models/mlp_ranker/infer",
              body,
              "Content-Type",
              "application/json",
              "Scoreline-Timeout-Ms",
              "30000");
      assertThat(ok.status()).as(ok.text()).isEqualTo(200);
      assertThat(runs.get()).isEqualTo(1);
    }
  }

  @Test
  void manyClientCancellations_keepTheConnectionAndDropTheWork() throws Exception {
    int cancelled = 600; // more than Armeria's default of 400 RST_STREAM frames a minute
    try (ServerFixture s = start(NO_BATCHING, 1000)) {
      armed.set(true);
      ManagedChannel channel = channel(s);
      GRPCInferenceServiceGrpc.GRPCInferenceServiceStub async =
          GRPCInferenceServiceGrpc.newStub(channel);
      List<CompletableFuture<ModelInferResponse>> survivors = new ArrayList<>();
      for (int i = 0; i < 2; i++) { // the fixture's two inference threads, held at the gate
        survivors.add(call(async.withDeadlineAfter(60, TimeUnit.SECONDS)));
      }
      await(() -> entered.get() == 2, "2 calls held in the model");
      List<Context.CancellableContext> contexts = new ArrayList<>();
      for (int i = 0; i < cancelled; i++) {
        Context.CancellableContext c = Context.current().withCancellation();
        c.run(() -> call(async.withDeadlineAfter(60, TimeUnit.SECONDS)));
        contexts.add(c);
      }
      await(() -> s.server.inFlight() == cancelled + 2, "every call admitted");
      for (Context.CancellableContext c : contexts) {
        c.cancel(null); // one RST_STREAM frame each, on the survivors' connection
      }

      await(
          () -> s.server.inFlight() == 2 && requests(s.registry, "cancelled") == cancelled,
          () ->
              "the cancelled calls' slots released and their work cancelled; in flight "
                  + s.server.inFlight()
                  + ", cancelled "
                  + requests(s.registry, "cancelled")
                  + ", entered "
                  + entered.get());

      gate.countDown();
      for (CompletableFuture<ModelInferResponse> f : survivors) {
        assertThat(f.get(30, TimeUnit.SECONDS).getRawOutputContentsCount()).isEqualTo(1);
      }
      await(
          () -> rejected(s.registry, "mlp_ranker", "cancelled") == cancelled,
          "the queued cancelled jobs skipped by the workers");
      assertThat(runs.get()).isEqualTo(2); // no cancelled call reached the model
      assertThat(s.server.inFlight()).isZero();
    }
  }

  @Test
  void moreRejectionsThanStreamsPerConnection_allAnswered_noStreamLeftOpen() throws Exception {
    // a refused request's unread body must not keep its HTTP/2 stream open: the client could then
    // open no new stream once ScorelineServer.DEFAULT_HTTP2_MAX_STREAMS were left behind
    int calls = (int) ScorelineServer.DEFAULT_HTTP2_MAX_STREAMS + 200;
    try (ServerFixture s = start(NO_BATCHING, 2)) {
      armed.set(true);
      GRPCInferenceServiceGrpc.GRPCInferenceServiceStub async =
          GRPCInferenceServiceGrpc.newStub(channel(s));
      List<CompletableFuture<ModelInferResponse>> held = new ArrayList<>();
      for (int i = 0; i < 2; i++) {
        held.add(call(async.withDeadlineAfter(60, TimeUnit.SECONDS)));
      }
      await(() -> entered.get() == 2, "2 calls held in the model");
      List<CompletableFuture<ModelInferResponse>> refused = new ArrayList<>();
      for (int i = 0; i < calls; i++) {
        refused.add(call(async.withDeadlineAfter(60, TimeUnit.SECONDS)));
      }
      for (CompletableFuture<ModelInferResponse> f : refused) {
        Throwable t = catchThrowableOfType(() -> f.get(60, TimeUnit.SECONDS), Exception.class);
        assertThat(Status.fromThrowable(t.getCause()).getCode())
            .isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
      }
      assertThat(held).noneMatch(CompletableFuture::isDone);
      gate.countDown();
      for (CompletableFuture<ModelInferResponse> f : held) {
        assertThat(f.get(30, TimeUnit.SECONDS).getRawOutputContentsCount()).isEqualTo(1);
      }
    }
  }

  @Test
  void derivedLimit_isTwiceWhatTheLoadedVersionsRunAtOnce_atLeast64() throws Exception {
    try (ServerFixture s =
        start("max-batch-size: 64\ninstance-count: 2\ndynamic-batching: {}\n" + NO_BATCHING, 0)) {
      assertThat(s.server.maxInFlight()).isEqualTo(2 * 2 * 64);
      assertThat(s.registry.get("scoreline.server.max.in.flight").gauge().value()).isEqualTo(256.0);
    }
  }

  @Test
  void derivedLimit_withoutBatching_neverBelow64() throws Exception {
    try (ServerFixture s = start("max-concurrency: 3\n" + NO_BATCHING, 0)) {
      assertThat(s.server.maxInFlight()).isEqualTo(AdmissionControl.MIN_DERIVED_LIMIT);
    }
  }

  // ---------------------------------------------------------------- helpers

  private static double rejected(PrometheusMeterRegistry registry, String reason) {
    return rejected(registry, InferenceMetrics.SERVER, reason);
  }

  private static double rejected(PrometheusMeterRegistry registry, String model, String reason) {
    Counter c =
        registry
            .find("scoreline.inference.rejected")
            .tag("model", model)
            .tag("reason", reason)
            .counter();
    return c == null ? 0 : c.count();
  }

  private static long requests(PrometheusMeterRegistry registry, String outcome) {
    Timer t = registry.find("scoreline.inference.request").tag("outcome", outcome).timer();
    return t == null ? 0 : t.count();
  }

  private static void await(BooleanSupplier condition, String what) throws InterruptedException {
    await(condition, () -> what);
  }

  private static void await(BooleanSupplier condition, Supplier<String> what)
      throws InterruptedException {
    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() - until > 0) {
        throw new AssertionError("timed out waiting for: " + what.get());
      }
      Thread.sleep(2);
    }
  }

  private static String mlpJson() {
    StringBuilder sb = new StringBuilder("{\"inputs\":[{\"name\":\"features\",\"shape\":[1,64],");
    sb.append("\"datatype\":\"FP32\",\"data\":[");
    for (int i = 0; i < 64; i++) {
      sb.append(i == 0 ? "" : ",").append(i / 64.0);
    }
    return sb.append("]}]}").toString();
  }

  private static java.net.http.HttpRequest restInfer(ServerFixture s) {
    return java.net.http.HttpRequest.newBuilder(URI.create(s.base + "/v2/models/mlp_ranker/infer"))
        .timeout(Duration.ofSeconds(30))
        .POST(java.net.http.HttpRequest.BodyPublishers.ofString(mlpJson()))
        .build();
  }

  private static ModelInferRequest grpcInfer() {
    ByteBuffer raw = ByteBuffer.allocate(64 * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < 64; i++) {
      raw.putFloat(i / 64f);
    }
    raw.flip();
    return ModelInferRequest.newBuilder()
        .setModelName("mlp_ranker")
        .addInputs(
            ModelInferRequest.InferInputTensor.newBuilder()
                .setName("features")
                .setDatatype("FP32")
                .addShape(1)
                .addShape(64))
        .addRawInputContents(ByteString.copyFrom(raw))
        .build();
  }

  private ManagedChannel channel(ServerFixture s) {
    ManagedChannel c =
        ManagedChannelBuilder.forAddress("127.0.0.1", s.server.port()).usePlaintext().build();
    channels.add(c);
    return c;
  }

  private GRPCInferenceServiceGrpc.GRPCInferenceServiceBlockingStub blockingStub(ServerFixture s) {
    return GRPCInferenceServiceGrpc.newBlockingStub(channel(s));
  }

  private static CompletableFuture<ModelInferResponse> call(
      GRPCInferenceServiceGrpc.GRPCInferenceServiceStub stub) {
    CompletableFuture<ModelInferResponse> f = new CompletableFuture<>();
    stub.modelInfer(
        grpcInfer(),
        new StreamObserver<>() {
          @Override
          public void onNext(ModelInferResponse value) {
            f.complete(value);
          }

          @Override
          public void onError(Throwable t) {
            f.completeExceptionally(t);
          }

          @Override
          public void onCompleted() {
            f.completeExceptionally(new IllegalStateException("no response message"));
          }
        });
    return f;
  }

  private static String readAll(InputStream in) throws java.io.IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    in.transferTo(out);
    return out.toString(StandardCharsets.ISO_8859_1);
  }
}
