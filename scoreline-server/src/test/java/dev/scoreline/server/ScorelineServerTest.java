package dev.scoreline.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.scoreline.core.error.ErrorCode;
import dev.scoreline.core.error.ScorelineException;
import dev.scoreline.core.model.InferenceMetrics;
import dev.scoreline.core.model.ModelManager;
import dev.scoreline.core.model.ModelRepository;
import dev.scoreline.onnx.OnnxRuntime;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The server's lifecycle and builder, with an empty model repository. */
class ScorelineServerTest {
  @TempDir Path repo;
  ExecutorService executor;
  PrometheusMeterRegistry registry;
  ModelManager manager;

  @BeforeEach
  void setUp() {
    executor = Executors.newSingleThreadExecutor();
    registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    manager =
        new ModelManager(
            new ModelRepository(repo),
            List.of(new OnnxRuntime()),
            new InferenceMetrics(registry),
            executor);
  }

  @AfterEach
  void tearDown() {
    manager.close();
    executor.shutdownNow();
  }

  @Test
  void start_portInUse_failsWithUserError() {
    try (ScorelineServer first = ScorelineServer.builder(manager).port(0).build().start()) {
      ScorelineServer second = ScorelineServer.builder(manager).port(first.port()).build();
      assertThatThrownBy(second::start)
          .isInstanceOf(ScorelineException.class)
          .satisfies(
              e -> assertThat(((ScorelineException) e).code()).isEqualTo(ErrorCode.USER_ERROR));
      second.close();
    }
  }

  @Test
  void close_twiceAndWithoutStart_isHarmless() {
    ScorelineServer never = ScorelineServer.builder(manager).port(0).build();
    never.close();
    ScorelineServer s =
        ScorelineServer.builder(manager).port(0).shutdownGracePeriod(Duration.ofSeconds(1)).build();
    s.start();
    assertThat(s.port()).isPositive();
    s.close();
    s.close();
    assertThat(manager.isShuttingDown()).isTrue();
  }

  @Test
  void start_twice_throws() {
    try (ScorelineServer s = ScorelineServer.builder(manager).port(0).build().start()) {
      assertThatThrownBy(s::start).isInstanceOf(IllegalStateException.class);
    }
  }

  @Test
  void defaultRegistry_isTheManagersPrometheusRegistry() {
    try (ScorelineServer s = ScorelineServer.builder(manager).port(0).build()) {
      assertThat(s.meterRegistry()).isSameAs(registry);
    }
  }

  @Test
  void builder_rejectsInvalidOptions() {
    ScorelineServer.Builder b = ScorelineServer.builder(manager);
    assertThatThrownBy(() -> b.port(-1)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> b.port(70000)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> b.maxRequestBytes(0)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> b.shutdownGracePeriod(Duration.ofSeconds(-1)))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> b.requestTimeout(Duration.ofSeconds(-1)))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
