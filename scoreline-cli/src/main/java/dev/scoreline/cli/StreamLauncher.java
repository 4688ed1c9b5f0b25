package dev.scoreline.cli;

import dev.scoreline.core.error.ErrorCode;
import dev.scoreline.core.error.ScorelineException;
import dev.scoreline.core.model.InferenceMetrics;
import dev.scoreline.core.model.InferenceResponse;
import dev.scoreline.core.model.ModelManager;
import dev.scoreline.core.model.ModelRepository;
import dev.scoreline.core.surface.SnapshotLists;
import dev.scoreline.core.surface.Surface;
import dev.scoreline.core.surface.SurfaceEngine;
import dev.scoreline.onnx.OnnxRuntime;
import dev.scoreline.server.ScorelineServer;
import dev.scoreline.stream.StreamService;
import dev.scoreline.stream.log.EventLog;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * The composition root of {@code scoreline stream}: the project's stores, ONNX Runtime and the
 * models of the streaming surfaces, the surface engine (models run on the calling lane thread: no
 * hand-off per event), the {@link StreamService}, and a server on {@code port} for {@code POST
 * /v1/events}, {@code /v1/streams} and {@code /metrics}.
 */
final class StreamLauncher implements AutoCloseable {
  /**
   * @param surfaces the streaming surfaces to run; empty runs every one
   * @param port the HTTP port; -1 runs no server
   * @param dataDir where the logs live; null means {@code PROJECT/.scoreline/stream}
   */
  record Options(Path project, Set<String> surfaces, int port, Path dataDir, boolean fsync) {
    Options {
      surfaces = Set.copyOf(surfaces);
    }

    Path data() {
      return dataDir != null ? dataDir : project.resolve(".scoreline/stream");
    }
  }

  private final Project project;
  private final PrometheusMeterRegistry meters =
      new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private final OnnxRuntime runtime;
  private final ThreadPoolExecutor workers;
  private final ModelManager manager;
  private StreamService streams;
  private ScorelineServer server;

  private StreamLauncher(Options o) {
    this.project = new Project(o.project());
    this.runtime = new OnnxRuntime();
    int threads = Math.max(2, Runtime.getRuntime().availableProcessors());
    this.workers =
        new ThreadPoolExecutor(
            threads,
            threads,
            60,
            TimeUnit.SECONDS,
            new ArrayBlockingQueue<>(10_000),
            ServerLauncher.daemonThreads("scoreline-stream-infer-"));
    this.manager =
        new ModelManager(
            new ModelRepository(project.dir().resolve("models")),
            List.of(runtime),
            new InferenceMetrics(meters),
            workers);
    try {
      List<Surface> streaming = StreamService.streaming(project.surfaces().all());
      if (streaming.isEmpty()) {
        throw ScorelineException.userError(
            "surface",
            "project "
                + project.dir()
                + " has no streaming surface (a surfaces/<name>.yaml with mode: streaming)");
      }
      Set<String> models = new LinkedHashSet<>();
      for (Surface s : streaming) {
        if (o.surfaces().isEmpty() || o.surfaces().contains(s.name())) {
          models.add(s.spec().model().name());
        }
      }
      manager.loadAll(List.copyOf(models));
      for (Surface s : streaming) {
        if (models.contains(s.spec().model().name())) {
          s.checkModel(manager.metadata(s.spec().model().name(), s.spec().model().version()));
        }
      }
      SurfaceEngine engine =
          new SurfaceEngine(
              project.surfaces(),
              project.onlineFeatures(),
              new SnapshotLists(project.kvStore()),
              r -> {
                try {
                  return CompletableFuture.<InferenceResponse>completedFuture(manager.infer(r));
                } catch (RuntimeException e) {
                  return CompletableFuture.failedFuture(e);
                }
              },
              project::vectorIndex,
              workers,
              meters);
      EventLog.Options logs =
          new EventLog.Options(EventLog.Options.defaults().segmentBytes(), o.fsync());
      this.streams =
          StreamService.start(
              engine,
              project.registry(),
              project.onlineFeatures(),
              project.kvStore(),
              o.data(),
              meters,
              new StreamService.Options(logs, null, o.surfaces()));
      if (o.port() >= 0) {
        this.server =
            ScorelineServer.builder(manager)
                .port(o.port())
                .meterRegistry(meters)
                .shutdownGracePeriod(Duration.ofSeconds(5))
                .features(project.onlineFeatures())
                .events(streams)
                .build()
                .start();
      }
    } catch (RuntimeException e) {
      close();
      if (e instanceof ScorelineException) {
        throw e;
      }
      throw new ScorelineException(ErrorCode.UNAVAILABLE, "cannot start the stream: " + e, e);
    }
  }

  static StreamLauncher start(Options o) {
    return new StreamLauncher(o);
  }

  Project project() {
    return project;
  }

  StreamService streams() {
    return streams;
  }

  PrometheusMeterRegistry meters() {
    return meters;
  }

  /** The HTTP port, or -1 without a server. */
  int port() {
    return server == null ? -1 : server.port();
  }

  @Override
  public void close() {
    if (server != null) {
      server.close();
      server = null;
    }
    if (streams != null) {
      streams.close();
      streams = null;
    }
    manager.close();
    workers.shutdown();
    try {
      workers.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    runtime.close();
    project.close();
    meters.close();
  }
}
