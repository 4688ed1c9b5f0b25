package dev.scoreline.core.model;

import static org.assertj.core.api.Assertions.assertThat;

import dev.scoreline.core.error.ErrorCode;
import dev.scoreline.core.error.ScorelineException;
import dev.scoreline.core.tensor.Tensor;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DynamicBatchingTest {
  @TempDir Path repo;
  private final EchoRuntime runtime = new EchoRuntime();
  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
  private final ExecutorService executor = Executors.newFixedThreadPool(16);
  private ModelManager manager;

  private void start(String batching) throws IOException {
    Path dir = repo.resolve("m");
    Files.createDirectories(dir.resolve("1"));
    Files.writeString(dir.resolve("1/model.onnx"), "10");
    Files.writeString(
        dir.resolve("config.yaml"),
        "platform: echo\nmax-batch-size: 8\ndynamic-batching:\n" + batching);
    manager =
        new ModelManager(
            new ModelRepository(repo), List.of(runtime), new InferenceMetrics(registry), executor);
    manager.loadAll(List.of());
    assertThat(runtime.runs.get()).isEqualTo(1); // the warmup request
    runtime.runs.set(0);
    runtime.firstValues.clear();
  }

  @AfterEach
  void tearDown() {
    if (runtime.gate != null) {
      runtime.gate.countDown();
    }
    manager.close();
    executor.shutdownNow();
  }

  private static InferenceRequest rows(Map<String, Object> params, float... x) {
    return new InferenceRequest(
        "m",
        null,
        "",
        params,
        List.of(Tensor.ofFloats("x", new long[] {x.length / 2, 2}, x)),
        List.of());
  }

  @Test
  void concurrentCallers_eachGetExactlyTheirOwnRowsInOrder() throws Exception {
    start("  max-queue-delay: 2ms\n");
    List<Future<?>> callers = new ArrayList<>();
    for (int c = 0; c < 16; c++) {
      int caller = c;
      callers.add(
          executor.submit(
              () -> {
                for (int i = 0; i < 100; i++) {
                  int n = 1 + (caller + i) % 4;
                  float[] x = new float[n * 2];
                  for (int k = 0; k < x.length; k++) {
                    x[k] = caller * 10_000 + i * 10 + k;
                  }
                  float[] y =
                      manager.inferAsync(rows(Map.of(), x)).join().output("y").toFloatArray();
                  assertThat(y).hasSize(x.length);
                  for (int k = 0; k < x.length; k++) {
                    assertThat(y[k]).isEqualTo(x[k] * 10);
                  }
                }
                return null;
              }));
    }
    for (Future<?> f : callers) {
      f.get(60, TimeUnit.SECONDS);
    }
    var batchSize = registry.get("scoreline.inference.batch.size").summary();
    assertThat(batchSize.max()).isGreaterThan(4); // requests were really concatenated
    assertThat(runtime.runs.get()).isLessThan(1600);
    assertThat(batchSize.totalAmount()).isEqualTo(16 * (25 * (1 + 2 + 3 + 4)));
  }

  @Test
  void answersAreBuiltOnTheCallersExecutor_soTheBatchThreadGoesOnToTheNextBatch() throws Exception {
    start("  max-queue-delay: 0us\n");
    runtime.entered.set(0);
    CountDownLatch answerThreadHeld = new CountDownLatch(1);
    ExecutorService answers =
        Executors.newSingleThreadExecutor(r -> new Thread(r, "caller-event-loop"));
    try {
      answers.execute(
          () -> {
            try {
              answerThreadHeld.await(); // the caller's thread is busy with other work
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
            }
          });
      CompletableFuture<String> answeredOn =
          manager
              .inferAsync(rows(Map.of(), 1, 1), System.nanoTime(), true, answers)
              .thenApply(r -> Thread.currentThread().getName());
      awaitEntered(1); // its batch was taken alone
      // the batch thread computed the first request and handed its answer over; it does not wait
      // for the busy caller thread before it runs the next batch
      float[] next =
          manager
              .inferAsync(rows(Map.of(), 2, 2))
              .get(5, TimeUnit.SECONDS)
              .output("y")
              .toFloatArray();
      assertThat(next).containsExactly(20f, 20f);
      assertThat(answeredOn).isNotDone();
      answerThreadHeld.countDown();
      assertThat(answeredOn.get(5, TimeUnit.SECONDS)).isEqualTo("caller-event-loop");
      assertThat(runtime.firstValues).containsExactly(1f, 2f);
    } finally {
      answerThreadHeld.countDown();
      answers.shutdownNow();
    }
  }

  @Test
  void expiredRequest_isDroppedBeforeCompute() throws Exception {
    start("  max-queue-delay: 0us\n");
    // fast batches, so that the 20 ms timeout below is admitted (a slow first batch on a busy
    // machine would make the batcher predict a miss and refuse it at once instead)
    teachBatchTime(16, 0);
    runtime.firstValues.clear();
    runtime.gate = new CountDownLatch(1);
    CompletableFuture<InferenceResponse> blocker = manager.inferAsync(rows(Map.of(), 1, 1));
    Thread.sleep(50); // the only worker is now inside run(), blocked
    CompletableFuture<InferenceResponse> late =
        manager.inferAsync(rows(Map.of("timeout", 20_000), 2, 2));
    Thread.sleep(80);
    runtime.gate.countDown();
    assertThat(blocker.get(5, TimeUnit.SECONDS)).isNotNull();
    assertThat(codeOf(late)).isEqualTo(ErrorCode.DEADLINE_EXCEEDED);
    assertThat(runtime.firstValues).containsExactly(1f);
    assertThat(
            registry.get("scoreline.inference.rejected").tag("reason", "expired").counter().count())
        .isEqualTo(1);
  }

  @Test
  void cancelledRequest_isDroppedBeforeCompute() throws Exception {
    start("  max-queue-delay: 0us\n");
    runtime.gate = new CountDownLatch(1);
    runtime.entered.set(0);
    CompletableFuture<InferenceResponse> blocker = manager.inferAsync(rows(Map.of(), 1, 1));
    awaitEntered(1); // the only worker is inside run(), at the gate
    CompletableFuture<InferenceResponse> abandoned = manager.inferAsync(rows(Map.of(), 2, 2));
    assertThat(abandoned.cancel(false)).isTrue(); // its client went away
    runtime.gate.countDown();
    assertThat(blocker.get(5, TimeUnit.SECONDS)).isNotNull();
    assertThat(manager.inferAsync(rows(Map.of(), 3, 3)).get(5, TimeUnit.SECONDS)).isNotNull();
    assertThat(runtime.firstValues).containsExactly(1f, 3f);
    assertThat(
            registry
                .get("scoreline.inference.rejected")
                .tag("reason", "cancelled")
                .counter()
                .count())
        .isEqualTo(1);
    assertThat(
            registry.get("scoreline.inference.request").tag("outcome", "cancelled").timer().count())
        .isEqualTo(1);
  }

  @Test
  void deadline_countsFromArrival_notFromAdmission() throws Exception {
    start("  max-queue-delay: 0us\n");
    long arrived = System.nanoTime() - TimeUnit.MILLISECONDS.toNanos(50);
    // 20 ms from an arrival 50 ms ago: already over when the manager sees it
    CompletableFuture<InferenceResponse> late =
        manager.inferAsync(rows(Map.of("timeout", 20_000), 2, 2), arrived);
    assertThat(late).isCompletedExceptionally();
    assertThat(codeOf(late)).isEqualTo(ErrorCode.DEADLINE_EXCEEDED);
    // the same timeout from an arrival now runs
    assertThat(
            manager
                .inferAsync(rows(Map.of("timeout", 20_000_000), 3, 3), System.nanoTime())
                .get(5, TimeUnit.SECONDS)
                .output("y")
                .toFloatArray())
        .containsExactly(30f, 30f);
    assertThat(runtime.firstValues).containsExactly(3f);
    assertThat(
            registry.get("scoreline.inference.rejected").tag("reason", "expired").counter().count())
        .isEqualTo(1);
  }

  /** Runs {@code n} one-row requests one after the other, each computing for {@code millis}. */
  private void teachBatchTime(int n, long millis) throws Exception {
    runtime.delayNanos = TimeUnit.MILLISECONDS.toNanos(millis);
    for (int i = 0; i < n; i++) {
      manager.inferAsync(rows(Map.of(), 7, 7)).get(5, TimeUnit.SECONDS);
    }
  }

  private double rejected(String reason) {
    var c = registry.find("scoreline.inference.rejected").tag("reason", reason).counter();
    return c == null ? 0 : c.count();
  }

  @Test
  void deadlineTheWorkAheadCannotMeet_isRefusedAtOnce() throws Exception {
    start("  max-queue-delay: 0us\n");
    teachBatchTime(16, 20); // batches take ~20 ms
    runtime.gate = new CountDownLatch(1);
    runtime.entered.set(0);
    CompletableFuture<InferenceResponse> blocker = manager.inferAsync(rows(Map.of(), 1, 1));
    awaitEntered(1); // the only worker is busy for about another 20 ms (then held at the gate)

    // 5 ms left, ~20 ms of work before it and ~20 ms of its own: refused without waiting
    CompletableFuture<InferenceResponse> hopeless =
        manager.inferAsync(rows(Map.of("timeout", 5_000), 2, 2));
    assertThat(hopeless).isCompletedExceptionally();
    assertThat(codeOf(hopeless)).isEqualTo(ErrorCode.RESOURCE_EXHAUSTED);
    assertThat(rejected("deadline")).isEqualTo(1);
    // 10 s left: admitted, and served once the worker is free
    CompletableFuture<InferenceResponse> patient =
        manager.inferAsync(rows(Map.of("timeout", 10_000_000), 3, 3));
    runtime.gate.countDown();
    assertThat(blocker.get(5, TimeUnit.SECONDS)).isNotNull();
    assertThat(patient.get(5, TimeUnit.SECONDS).output("y").toFloatArray())
        .containsExactly(30f, 30f);
    assertThat(rejected("deadline")).isEqualTo(1);
  }

  @Test
  void slowBatchesInThePast_doNotLockOutAnIdleModel() throws Exception {
    // Regression: the prediction was one smoothed batch time, updated only by batches that ran.
    // After a burst of slow batches every request with a shorter timeout was refused, so no batch
    // ran again and the stale prediction refused everything for good (the open-loop overload
    // benchmark admitted nothing, even at half the saturation rate).
    start("  max-queue-delay: 0us\n");
    teachBatchTime(16, 30); // the model was slow: ~30 ms a batch
    runtime.delayNanos = 0; // ...and is fast now

    for (int i = 0; i < 20; i++) {
      // 20 ms timeout < the 30 ms remembered: an idle worker and an empty queue still admit it
      assertThat(
              manager
                  .inferAsync(rows(Map.of("timeout", 20_000), i, i))
                  .get(5, TimeUnit.SECONDS)
                  .output("y")
                  .toFloatArray())
          .containsExactly(i * 10f, i * 10f);
    }
    assertThat(rejected("deadline")).isZero();
  }

  private void awaitEntered(int n) throws InterruptedException {
    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (runtime.entered.get() < n) {
      if (System.nanoTime() - until > 0) {
        throw new AssertionError("only " + runtime.entered.get() + " calls reached the model");
      }
      Thread.sleep(1);
    }
  }

  @Test
  void fullQueue_isRefusedAtOnceWithResourceExhausted() throws Exception {
    start("  max-queue-delay: 0us\n  max-queue-size: 2\n");
    runtime.gate = new CountDownLatch(1);
    CompletableFuture<InferenceResponse> running = manager.inferAsync(rows(Map.of(), 1, 1));
    Thread.sleep(50);
    CompletableFuture<InferenceResponse> q1 = manager.inferAsync(rows(Map.of(), 2, 2));
    CompletableFuture<InferenceResponse> q2 = manager.inferAsync(rows(Map.of(), 3, 3));
    CompletableFuture<InferenceResponse> refused = manager.inferAsync(rows(Map.of(), 4, 4));
    // refused synchronously, without waiting for the queue to move
    assertThat(refused).isCompletedExceptionally();
    assertThat(codeOf(refused)).isEqualTo(ErrorCode.RESOURCE_EXHAUSTED);
    runtime.gate.countDown();
    assertThat(running.get(5, TimeUnit.SECONDS)).isNotNull();
    assertThat(q1.get(5, TimeUnit.SECONDS)).isNotNull();
    assertThat(q2.get(5, TimeUnit.SECONDS)).isNotNull();
  }

  @Test
  void higherPriority_runsFirst() throws Exception {
    Files.createDirectories(repo);
    start("  max-queue-delay: 0us\n  priority-levels: 3\n");
    runtime.gate = new CountDownLatch(1);
    // rows of 8 fill a batch, so each request runs alone
    CompletableFuture<InferenceResponse> blocker = manager.inferAsync(rows(Map.of(), fill(1)));
    Thread.sleep(50);
    List<CompletableFuture<InferenceResponse>> all = new ArrayList<>();
    all.add(manager.inferAsync(rows(Map.of("priority", 3), fill(30))));
    all.add(manager.inferAsync(rows(Map.of("priority", 2), fill(20))));
    all.add(manager.inferAsync(rows(Map.of("priority", 3), fill(31))));
    all.add(manager.inferAsync(rows(Map.of("priority", 1), fill(10))));
    runtime.gate.countDown();
    blocker.get(5, TimeUnit.SECONDS);
    for (CompletableFuture<InferenceResponse> f : all) {
      f.get(5, TimeUnit.SECONDS);
    }
    assertThat(runtime.firstValues).containsExactly(1f, 10f, 20f, 30f, 31f);
    assertThat(codeOf(manager.inferAsync(rows(Map.of("priority", 4), fill(1)))))
        .isEqualTo(ErrorCode.USER_ERROR);
  }

  @Test
  void preferredBatchSize_dispatchesWithoutWaitingForTheDelay() throws Exception {
    start("  max-queue-delay: 10s\n  preferred-batch-sizes: [4]\n");
    List<CompletableFuture<InferenceResponse>> all = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      all.add(manager.inferAsync(rows(Map.of(), i, i)));
    }
    for (CompletableFuture<InferenceResponse> f : all) {
      assertThat(f.get(5, TimeUnit.SECONDS).output("y").toFloatArray()).hasSize(2);
    }
    assertThat(runtime.runs.get()).isEqualTo(1);
  }

  private static float[] fill(float v) {
    float[] x = new float[16];
    java.util.Arrays.fill(x, v);
    return x;
  }

  private static ErrorCode codeOf(CompletableFuture<?> f) {
    try {
      f.get(5, TimeUnit.SECONDS);
    } catch (java.util.concurrent.ExecutionException e) {
      Throwable c =
          e.getCause() instanceof CompletionException ? e.getCause().getCause() : e.getCause();
      return ((ScorelineException) c).code();
    } catch (Exception e) {
      throw new AssertionError(e);
    }
    throw new AssertionError("expected failure");
  }
}
