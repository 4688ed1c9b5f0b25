package dev.scoreline.core.model;

import static org.assertj.core.api.Assertions.assertThat;

import dev.scoreline.core.error.ErrorCode;
import dev.scoreline.core.error.ScorelineException;
import dev.scoreline.core.tensor.Tensor;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelManagerTest {
  @TempDir Path repo;
  private final EchoRuntime runtime = new EchoRuntime();
  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
  private final ExecutorService executor = Executors.newFixedThreadPool(4);
  private ModelManager manager;

  @BeforeEach
  void setUp() {
    manager =
        new ModelManager(
            new ModelRepository(repo), List.of(runtime), new InferenceMetrics(registry), executor);
  }

  @AfterEach
  void tearDown() {
    manager.close();
    executor.shutdownNow();
  }

  private void write(String model, String version, String content) throws IOException {
    Path dir = repo.resolve(model);
    Files.createDirectories(dir.resolve(version));
    Files.writeString(dir.resolve("config.yaml"), "platform: echo\nmax-batch-size: 8\n");
    Files.writeString(dir.resolve(version).resolve("model.onnx"), content);
  }

  private static InferenceRequest request(String model, String version, float... x) {
    return new InferenceRequest(
        model,
        version,
        "id-1",
        Map.of(),
        List.of(Tensor.ofFloats("x", new long[] {x.length / 2, 2}, x)),
        List.of());
  }

  @Test
  void loadAll_latestPolicy_servesNewestVersionByDefault() throws IOException {
    write("m", "1", "2");
    write("m", "2", "3");
    manager.loadAll(List.of());
    assertThat(manager.isReady()).isTrue();
    InferenceResponse r = manager.infer(request("m", null, 1, 2));
    assertThat(r.version()).isEqualTo("2");
    assertThat(r.id()).isEqualTo("id-1");
    assertThat(r.output("y").toFloatArray()).containsExactly(3f, 6f);
    assertThat(manager.index())
        .extracting(ModelStatus::version, ModelStatus::state)
        .containsExactly(org.assertj.core.groups.Tuple.tuple("2", ModelState.READY));
  }

  @Test
  void infer_specificVersionAndErrors() throws IOException {
    write("m", "1", "2");
    write("m", "2", "3");
    Files.writeString(
        repo.resolve("m/config.yaml"), "platform: echo\nversion-policy: {all: true}\n");
    manager.loadAll(List.of());
    assertThat(manager.infer(request("m", "1", 1, 1)).output("y").toFloatArray())
        .containsExactly(2f, 2f);
    assertThat(manager.metadata("m", null).versions()).containsExactly("1", "2");
    assertCode(() -> manager.infer(request("nope", null, 1, 1)), ErrorCode.NOT_FOUND);
    assertCode(() -> manager.infer(request("m", "7", 1, 1)), ErrorCode.NOT_FOUND);
    assertCode(
        () -> manager.infer(request("m", "latest", 1, 1)), ErrorCode.NOT_FOUND); // no such label
    assertCode(() -> manager.infer(request("m", null, 1, 1, 1)), ErrorCode.USER_ERROR);
  }

  @Test
  void infer_validatesAgainstSignature() throws IOException {
    write("m", "1", "2");
    manager.loadAll(List.of());
    ScorelineException e =
        catchCode(
            () ->
                manager.infer(
                    InferenceRequest.of(
                        "m", List.of(Tensor.ofFloats("x", new long[] {1, 3}, 1, 2, 3)))),
            ErrorCode.USER_ERROR);
    assertThat(e.field()).contains("inputs[0].shape");
    e =
        catchCode(
            () ->
                manager.infer(
                    InferenceRequest.of(
                        "m", List.of(Tensor.ofLongs("x", new long[] {1, 2}, 1, 2)))),
            ErrorCode.USER_ERROR);
    assertThat(e.field()).contains("inputs[0].datatype");
    e =
        catchCode(
            () ->
                manager.infer(
                    InferenceRequest.of(
                        "m", List.of(Tensor.ofFloats("z", new long[] {1, 2}, 1, 2)))),
            ErrorCode.USER_ERROR);
    assertThat(e.field()).contains("inputs[0].name");
    e =
        catchCode(
            () ->
                manager.infer(
                    InferenceRequest.of(
                        "m", List.of(Tensor.ofFloats("x", new long[] {9, 2}, new float[18])))),
            ErrorCode.USER_ERROR);
    assertThat(e.getMessage()).contains("max-batch-size");
    e =
        catchCode(
            () ->
                manager.infer(
                    InferenceRequest.of(
                        "m", List.of(Tensor.ofFloats("x", new long[] {1, 2}, 1, Float.NaN)))),
            ErrorCode.USER_ERROR);
    assertThat(e.field()).contains("inputs[0].data");
    e =
        catchCode(
            () ->
                manager.infer(
                    new InferenceRequest(
                        "m",
                        null,
                        "",
                        Map.of(),
                        List.of(Tensor.ofFloats("x", new long[] {1, 2}, 1, 2)),
                        List.of("nope"))),
            ErrorCode.USER_ERROR);
    assertThat(e.field()).contains("outputs[0].name");
  }

  @Test
  void load_brokenNewVersion_keepsServingVersionThatWorks() throws IOException {
    write("m", "1", "2");
    manager.loadAll(List.of());
    write("m", "2", "broken");
    assertCode(() -> manager.load("m"), ErrorCode.USER_ERROR);
    assertThat(manager.isReady("m", null)).isTrue();
    assertThat(manager.infer(request("m", null, 1, 1)).version()).isEqualTo("1");
    assertThat(manager.index())
        .extracting(ModelStatus::version, ModelStatus::state)
        .contains(
            org.assertj.core.groups.Tuple.tuple("1", ModelState.READY),
            org.assertj.core.groups.Tuple.tuple("2", ModelState.UNAVAILABLE));
    // fixing version 2 and loading again moves traffic to it and unloads version 1
    write("m", "2", "5");
    manager.load("m");
    assertThat(manager.infer(request("m", null, 1, 1)).version()).isEqualTo("2");
    assertThat(runtime.closed.get()).isEqualTo(1);
  }

  @Test
  void loadAll_failedModel_makesServerNotReady() throws IOException {
    write("good", "1", "2");
    write("bad", "1", "broken");
    manager.loadAll(List.of());
    assertThat(manager.isReady()).isFalse();
    assertThat(manager.isReady("good", null)).isTrue();
    assertThat(manager.isReady("bad", null)).isFalse();
    assertThat(manager.index())
        .filteredOn(s -> s.name().equals("bad"))
        .singleElement()
        .satisfies(s -> assertThat(s.reason()).contains("not a model"));
  }

  @Test
  void unload_drainsInFlightCallsBeforeClosing() throws Exception {
    write("m", "1", "2");
    manager.loadAll(List.of());
    runtime.gate = new CountDownLatch(1);
    CompletableFuture<InferenceResponse> inFlight = manager.inferAsync(request("m", null, 1, 1));
    Thread.sleep(50);
    CompletableFuture<Void> unload =
        CompletableFuture.runAsync(() -> manager.unload("m"), executor);
    Thread.sleep(50);
    assertThat(unload).isNotDone();
    assertThat(runtime.closed.get()).isZero();
    runtime.gate.countDown();
    assertThat(inFlight.get(5, TimeUnit.SECONDS).output("y").toFloatArray())
        .containsExactly(2f, 2f);
    unload.get(5, TimeUnit.SECONDS);
    assertThat(runtime.closed.get()).isEqualTo(1);
    assertCode(() -> manager.infer(request("m", null, 1, 1)), ErrorCode.NOT_FOUND);
  }

  @Test
  void beginShutdown_refusesNewCallsAndFinishesInFlightOnes() throws Exception {
    write("m", "1", "2");
    manager.loadAll(List.of());
    runtime.gate = new CountDownLatch(1);
    CompletableFuture<InferenceResponse> inFlight = manager.inferAsync(request("m", null, 1, 1));
    Thread.sleep(50);
    manager.beginShutdown();
    assertThat(manager.isReady()).isFalse();
    assertCode(() -> manager.infer(request("m", null, 1, 1)), ErrorCode.UNAVAILABLE);
    assertThat(manager.awaitIdle(Duration.ofMillis(50))).isFalse();
    runtime.gate.countDown();
    assertThat(inFlight.get(5, TimeUnit.SECONDS)).isNotNull();
    assertThat(manager.awaitIdle(Duration.ofSeconds(5))).isTrue();
  }

  @Test
  void metrics_recordRequestQueueAndComputeByOutcome() throws IOException {
    write("m", "1", "2");
    manager.loadAll(List.of());
    manager.infer(request("m", null, 1, 1));
    assertCode(() -> manager.infer(request("ghost", null, 1, 1)), ErrorCode.NOT_FOUND);
    assertThat(
            registry
                .get("scoreline.inference.request")
                .tags("model", "m", "version", "1", "outcome", "success")
                .timer()
                .count())
        .isEqualTo(1);
    assertThat(
            registry
                .get("scoreline.inference.request")
                .tags("model", InferenceMetrics.UNKNOWN_MODEL, "outcome", "not_found")
                .timer()
                .count())
        .isEqualTo(1);
    assertThat(registry.get("scoreline.inference.compute").timer().count()).isEqualTo(1);
    assertThat(registry.get("scoreline.inference.queue").timer().count()).isEqualTo(1);
  }

  @Test
  void load_unknownPlatformAndMissingVersions_areUserErrors() throws IOException {
    Files.createDirectories(repo.resolve("empty"));
    assertCode(() -> manager.load("empty"), ErrorCode.USER_ERROR);
    write("tf", "1", "2");
    Files.writeString(repo.resolve("tf/config.yaml"), "platform: tensorflow\n");
    assertCode(() -> manager.load("tf"), ErrorCode.USER_ERROR);
    assertCode(() -> manager.load("absent"), ErrorCode.NOT_FOUND);
  }

  @Test
  void load_versionFailingWarmup_neverBecomesReadyAndOldVersionServes() throws IOException {
    write("m", "1", "2");
    manager.loadAll(List.of());
    write("m", "2", "explode");
    ScorelineException e = catchCode(() -> manager.load("m"), ErrorCode.USER_ERROR);
    assertThat(e.getMessage()).contains("warmup");
    assertThat(manager.infer(request("m", null, 1, 1)).version()).isEqualTo("1");
  }

  @Test
  void load_changedConfig_reloadsVersionWithoutDowntime() throws IOException {
    write("m", "1", "2");
    manager.loadAll(List.of());
    Files.writeString(repo.resolve("m/config.yaml"), "platform: echo\nmax-batch-size: 4\n");
    manager.load("m");
    assertThat(manager.metadata("m", null).maxBatchSize()).isEqualTo(4);
    assertThat(runtime.closed.get()).isEqualTo(1); // old instance drained and closed
    assertThat(manager.infer(request("m", null, 1, 1)).version()).isEqualTo("1");
  }

  private static void assertCode(Runnable r, ErrorCode code) {
    catchCode(r, code);
  }

  private static ScorelineException catchCode(Runnable r, ErrorCode code) {
    try {
      r.run();
    } catch (ScorelineException e) {
      assertThat(e.code()).isEqualTo(code);
      return e;
    }
    throw new AssertionError("expected " + code);
  }

  private void writeWithConfig(String model, String config) throws IOException {
    Path dir = repo.resolve(model);
    Files.createDirectories(dir.resolve("1"));
    Files.writeString(dir.resolve("config.yaml"), "platform: echo\nmax-batch-size: 8\n" + config);
    Files.writeString(dir.resolve("1").resolve("model.onnx"), "2");
  }

  @Test
  void smallModel_runsInlineOnTheSubmittingThread_afterItsFirstMeasuredCall() throws Exception {
    write("m", "1", "2");
    manager.loadAll(List.of());
    runtime.runThreads.clear(); // the load's warm-up call ran here
    String me = Thread.currentThread().getName();
    // nothing measured yet: the first call goes to a worker
    InferenceResponse first =
        manager.inferAsync(request("m", null, 1, 2)).get(5, java.util.concurrent.TimeUnit.SECONDS);
    assertThat(first.outputs().get(0).toFloatArray()).containsExactly(2f, 4f);
    assertThat(runtime.runThreads.get(0)).isNotEqualTo(me);
    // the first, cold calls may take longer than 100 us; warm calls bring the average down
    assertThat(untilACallRunsInline(me)).as("a call ran inline within 500 calls").isTrue();
    var next = manager.inferAsync(request("m", null, 3, 4));
    assertThat(next.get(5, java.util.concurrent.TimeUnit.SECONDS).outputs().get(0).toFloatArray())
        .containsExactly(6f, 8f);
  }

  /** Calls model m {@code n} times, one after the other, each answered before the next. */
  private void callTimes(int n) throws Exception {
    for (int i = 0; i < n; i++) {
      manager.inferAsync(request("m", null, 1, 2)).get(5, java.util.concurrent.TimeUnit.SECONDS);
    }
  }

  /** Calls the model until a call runs on this thread; false after 500 calls without one. */
  private boolean untilACallRunsInline(String me) throws Exception {
    for (int i = 0; i < 500; i++) {
      var f = manager.inferAsync(request("m", null, 1, 2));
      boolean doneAtReturn = f.isDone();
      InferenceResponse r = f.get(5, java.util.concurrent.TimeUnit.SECONDS);
      if (runtime.runThreads.get(runtime.runThreads.size() - 1).equals(me)) {
        assertThat(doneAtReturn).isTrue();
        assertThat(r.outputs().get(0).toFloatArray()).containsExactly(2f, 4f);
        return true;
      }
    }
    return false;
  }

  @Test
  void whileAnotherCallComputes_callsGoToWorkers() throws Exception {
    write("m", "1", "2");
    manager.loadAll(List.of());
    String me = Thread.currentThread().getName();
    assertThat(untilACallRunsInline(me)).isTrue();
    runtime.gate = new java.util.concurrent.CountDownLatch(1);
    int before = runtime.entered.get();
    // call A, held at the gate (inline on its submitting thread, or on a worker)
    var a = new java.util.concurrent.CompletableFuture<InferenceResponse>();
    Thread submitter =
        new Thread(
            () ->
                manager.inferAsync(request("m", null, 1, 2)).whenComplete((r, e) -> a.complete(r)),
            "submitter-a");
    submitter.start();
    while (runtime.entered.get() == before) {
      Thread.onSpinWait();
    }
    // call B while A computes: handed to a worker, so inferAsync returns before it is done
    var b = manager.inferAsync(request("m", null, 3, 4));
    assertThat(b).isNotDone();
    runtime.gate.countDown();
    assertThat(b.get(5, java.util.concurrent.TimeUnit.SECONDS).outputs().get(0).toFloatArray())
        .containsExactly(6f, 8f);
    assertThat(a.get(5, java.util.concurrent.TimeUnit.SECONDS).outputs().get(0).toFloatArray())
        .containsExactly(2f, 4f);
    submitter.join();
    assertThat(runtime.runThreads.get(runtime.runThreads.size() - 1)).isNotEqualTo(me);
  }

  @Test
  void inlineComputeUsZero_alwaysHandsOffToAWorker() throws Exception {
    writeWithConfig("m", "inline-compute-us: 0\n");
    manager.loadAll(List.of());
    runtime.runThreads.clear(); // the load's warm-up call ran here
    String me = Thread.currentThread().getName();
    callTimes(5);
    assertThat(runtime.runThreads).hasSize(5).doesNotContain(me);
  }

  @Test
  void slowModel_isHandedOffToWorkers() throws Exception {
    write("m", "1", "2");
    manager.loadAll(List.of());
    runtime.runThreads.clear(); // the load's warm-up call ran here
    runtime.delayNanos = 2_000_000; // 2 ms, 20x the default inline bound
    String me = Thread.currentThread().getName();
    callTimes(3);
    assertThat(runtime.runThreads).hasSize(3).doesNotContain(me);
  }

  @Test
  void modelThatGetsSlow_dropsBackToWorkers() throws Exception {
    write("m", "1", "2");
    manager.loadAll(List.of());
    runtime.runThreads.clear(); // the load's warm-up call ran here
    String me = Thread.currentThread().getName();
    assertThat(untilACallRunsInline(me)).isTrue();
    runtime.runThreads.clear();
    runtime.delayNanos = 2_000_000;
    // each 2 ms call lifts the average by at least 1/8 of 2 ms, so after one slow call it is
    // above 100 us and the calls go to the workers again
    callTimes(6);
    assertThat(runtime.runThreads.subList(2, 6)).doesNotContain(me);
  }

  @Test
  void negativeInlineComputeUs_failsTheLoadNamingTheKey() throws Exception {
    writeWithConfig("m", "inline-compute-us: -5\n");
    // a bad config either fails the load or marks the model failed, naming the key either way
    Throwable error =
        org.assertj.core.api.Assertions.catchThrowable(() -> manager.loadAll(List.of()));
    String said = error != null ? error.getMessage() : manager.index().toString();
    assertThat(said).contains("inline-compute-us must be >= 0");
  }
}
