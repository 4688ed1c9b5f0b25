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
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RolloutTest {
  @TempDir Path repo;
  private final EchoRuntime runtime = new EchoRuntime();
  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
  private final ExecutorService executor = Executors.newFixedThreadPool(4);
  private ModelManager manager;

  private void model(String config, String... versions) throws IOException {
    Path dir = repo.resolve("m");
    for (int i = 0; i < versions.length; i++) {
      Files.createDirectories(dir.resolve(Integer.toString(i + 1)));
      Files.writeString(dir.resolve((i + 1) + "/model.onnx"), versions[i]);
    }
    Files.writeString(
        dir.resolve("config.yaml"), "platform: echo\nversion-policy: {all: true}\n" + config);
    manager =
        new ModelManager(
            new ModelRepository(repo), List.of(runtime), new InferenceMetrics(registry), executor);
    manager.loadAll(List.of());
  }

  @AfterEach
  void tearDown() {
    if (manager != null) {
      manager.close();
    }
    executor.shutdownNow();
  }

  private InferenceResponse call(String version, Map<String, Object> params) {
    return manager.infer(
        new InferenceRequest(
            "m",
            version,
            "",
            params,
            List.of(Tensor.ofFloats("x", new long[] {1, 2}, 1, 1)),
            List.of()));
  }

  @Test
  void labels_nameVersions() throws IOException {
    model("version-labels: {stable: 1, canary: 2}\n", "1", "2");
    assertThat(call("stable", Map.of()).version()).isEqualTo("1");
    assertThat(call("canary", Map.of()).version()).isEqualTo("2");
    try {
      call("beta", Map.of());
      throw new AssertionError("expected NOT_FOUND");
    } catch (ScorelineException e) {
      assertThat(e.code()).isEqualTo(ErrorCode.NOT_FOUND);
    }
  }

  @Test
  void canarySplit_isWithinStatisticalTolerance() throws IOException {
    model(
        "version-labels: {stable: 1, canary: 2}\ntraffic: {split: {stable: 90, canary: 10}}\n",
        "1",
        "2");
    int n = 4000;
    int canary = 0;
    for (int i = 0; i < n; i++) {
      if (call(null, Map.of()).version().equals("2")) {
        canary++;
      }
    }
    // binomial(4000, 0.1): sd = 19; 5 sd = 95
    assertThat(canary).isBetween(400 - 95, 400 + 95);
  }

  @Test
  void routingKey_isSticky_andSpreadsKeysByWeight() throws IOException {
    model("traffic: {split: {'1': 50, '2': 50}}\n", "1", "2");
    Map<String, String> first = new HashMap<>();
    int v2 = 0;
    for (int user = 0; user < 1000; user++) {
      String v = call(null, Map.of("routing_key", "user-" + user)).version();
      first.put("user-" + user, v);
      v2 += v.equals("2") ? 1 : 0;
    }
    for (int round = 0; round < 3; round++) {
      for (Map.Entry<String, String> e : first.entrySet()) {
        assertThat(call(null, Map.of("routing_key", e.getKey())).version()).isEqualTo(e.getValue());
      }
    }
    assertThat(v2).isBetween(500 - 80, 500 + 80); // sd = 15.8
  }

  @Test
  void shadow_neverChangesTheResponse_andRecordsDivergence() throws Exception {
    model("traffic: {split: {'1': 100}, shadow: {version: 2, fraction: 1.0}}\n", "2", "3");
    for (int i = 0; i < 50; i++) {
      InferenceResponse r = call(null, Map.of());
      assertThat(r.version()).isEqualTo("1");
      assertThat(r.output("y").toFloatArray()).containsExactly(2f, 2f);
    }
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (registry.find("scoreline.shadow.divergence").summary() == null
        || registry.find("scoreline.shadow.divergence").summary().count() < 50) {
      assertThat(System.nanoTime()).isLessThan(deadline);
      Thread.sleep(10);
    }
    var divergence = registry.get("scoreline.shadow.divergence").tag("version", "2").summary();
    assertThat(divergence.max()).isEqualTo(1.0); // 3 - 2 on each element
    assertThat(registry.get("scoreline.shadow.request").tag("outcome", "success").timer().count())
        .isEqualTo(50);
  }

  @Test
  void shadow_failingVersion_neverFailsTheResponse() throws Exception {
    model("traffic: {split: {'1': 100}, shadow: {version: 2}}\n", "2", "explode");
    // version 2 fails warmup, so it never loads: the shadow target is absent and calls still
    // succeed
    for (int i = 0; i < 10; i++) {
      assertThat(call(null, Map.of()).version()).isEqualTo("1");
    }
  }

  @Test
  void setTraffic_appliesAtOnce_andRejectsUnknownTargets() throws IOException {
    model("", "1", "2");
    assertThat(call(null, Map.of()).version()).isEqualTo("2");
    manager.setTraffic("m", new TrafficPolicy(Map.of("1", 1), null));
    assertThat(call(null, Map.of()).version()).isEqualTo("1");
    try {
      manager.setTraffic("m", new TrafficPolicy(Map.of("gamma", 1), null));
      throw new AssertionError("expected USER_ERROR");
    } catch (ScorelineException e) {
      assertThat(e.code()).isEqualTo(ErrorCode.USER_ERROR);
      assertThat(e.field()).contains("traffic.split.gamma");
    }
  }

  @Test
  void poll_addVersionWhileServing_zeroFailures_thenCorruptVersionKeepsServing() throws Exception {
    Path dir = repo.resolve("m");
    Files.createDirectories(dir.resolve("1"));
    Files.writeString(dir.resolve("1/model.onnx"), "2");
    Files.writeString(dir.resolve("config.yaml"), "platform: echo\n");
    manager =
        new ModelManager(
            new ModelRepository(repo), List.of(runtime), new InferenceMetrics(registry), executor);
    manager.loadAll(List.of());
    AtomicBoolean stop = new AtomicBoolean();
    AtomicInteger failures = new AtomicInteger();
    AtomicInteger onV2 = new AtomicInteger();
    try (RepositoryPoller poller =
        new RepositoryPoller(manager, List.of(), Duration.ofMillis(20))) {
      Future<?> traffic =
          executor.submit(
              () -> {
                while (!stop.get()) {
                  try {
                    if (call(null, Map.of()).version().equals("2")) {
                      onV2.incrementAndGet();
                    }
                  } catch (RuntimeException e) {
                    failures.incrementAndGet();
                  }
                }
              });
      Files.createDirectories(dir.resolve("2"));
      Files.writeString(dir.resolve("2/model.onnx"), "3");
      waitFor(() -> onV2.get() > 100);
      Files.createDirectories(dir.resolve("3"));
      Files.writeString(dir.resolve("3/model.onnx"), "broken");
      waitFor(
          () ->
              manager.index().stream()
                  .anyMatch(s -> s.version().equals("3") && s.state() == ModelState.UNAVAILABLE));
      int before = onV2.get();
      waitFor(() -> onV2.get() > before + 100);
      stop.set(true);
      traffic.get(5, TimeUnit.SECONDS);
    }
    assertThat(failures.get()).isZero();
    assertThat(manager.isReady("m", "2")).isTrue();
    assertThat(manager.isReady("m", "1")).isFalse(); // latest: 1 unloaded version 1
  }

  private static void waitFor(java.util.function.BooleanSupplier condition)
      throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("condition not met in 10 s");
      }
      Thread.sleep(5);
    }
  }
}
