package dev.scoreline.cli;

import static java.util.Objects.requireNonNull;

import dev.scoreline.core.error.ErrorCode;
import dev.scoreline.core.error.ScorelineException;
import dev.scoreline.core.model.InferenceMetrics;
import dev.scoreline.core.model.ModelManager;
import dev.scoreline.core.model.ModelRepository;
import dev.scoreline.core.model.ModelStatus;
import dev.scoreline.core.model.RepositoryPoller;
import dev.scoreline.core.surface.SnapshotLists;
import dev.scoreline.core.surface.Surface;
import dev.scoreline.core.surface.SurfaceEngine;
import dev.scoreline.core.surface.SurfaceWarmup;
import dev.scoreline.core.surface.Surfaces;
import dev.scoreline.onnx.OnnxRuntime;
import dev.scoreline.server.Readiness;
import dev.scoreline.server.ScorelineServer;
import dev.scoreline.server.grpc.GrpcHealthService;
import dev.scoreline.server.grpc.GrpcInferenceService;
import dev.scoreline.stream.StreamService;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The composition root of {@code scoreline serve}: ONNX Runtime, the model manager with its worker
 * pool, Prometheus metrics and the REST + gRPC server on one port. Benchmarks start servers the
 * same way.
 */
public final class ServerLauncher implements AutoCloseable {
  /**
   * @param models the models to load; empty loads every model of the repository
   * @param workers inference worker threads
   * @param queueSize calls waiting for a worker before new ones are refused with 429
   * @param maxInFlight inference requests in flight before new ones are refused when their headers
   *     arrive (REST 429, gRPC RESOURCE_EXHAUSTED); 0 derives it from the loaded models
   * @param warmup whether the project's surfaces are warmed up (their {@code warmup} config) before
   *     readiness turns 200; false skips it for every surface
   */
  public record Options(
      Path repository,
      List<String> models,
      int port,
      int workers,
      int queueSize,
      long maxRequestBytes,
      Duration gracePeriod,
      String modelControl,
      Duration pollInterval,
      String adminToken,
      Path project,
      int maxInFlight,
      boolean warmup) {
    public Options {
      modelControl = modelControl == null ? "explicit" : modelControl;
      if (!modelControl.equals("explicit") && !modelControl.equals("poll")) {
        throw ScorelineException.userError(
            "model-control",
            "--model-control must be explicit or poll, got '" + modelControl + "'");
      }
      pollInterval = pollInterval == null ? Duration.ofSeconds(5) : pollInterval;
      requireNonNull(repository, "repository is null");
      models = List.copyOf(models);
      if (port < 0 || port > 65535) {
        throw ScorelineException.userError("port", "--port must be in 0..65535, got " + port);
      }
      if (workers < 1) {
        throw ScorelineException.userError("workers", "--workers must be >= 1");
      }
      if (queueSize < 1) {
        throw ScorelineException.userError("queue-size", "--queue-size must be >= 1");
      }
      if (maxInFlight < 0) {
        throw ScorelineException.userError(
            "max-in-flight", "--max-in-flight must be >= 0 (0 = derived from the models)");
      }
    }

    public static Options defaults(Path repository) {
      int cores = Runtime.getRuntime().availableProcessors();
      return new Options(
          repository,
          List.of(),
          8000,
          2 * cores,
          10_000,
          64L << 20,
          Duration.ofSeconds(10),
          "explicit",
          Duration.ofSeconds(5),
          null,
          null,
          0,
          true);
    }

    public Options withPort(int p) {
      return new Options(
          repository,
          models,
          p,
          workers,
          queueSize,
          maxRequestBytes,
          gracePeriod,
          modelControl,
          pollInterval,
          adminToken,
          project,
          maxInFlight,
          warmup);
    }

    /** Serves the feature store of this project directory too, when it defines features. */
    public Options withProject(Path dir) {
      return new Options(
          repository,
          models,
          port,
          workers,
          queueSize,
          maxRequestBytes,
          gracePeriod,
          modelControl,
          pollInterval,
          adminToken,
          dir,
          maxInFlight,
          warmup);
    }

    /** At most {@code n} inference requests in flight (0: derived from the loaded models). */
    public Options withMaxInFlight(int n) {
      return new Options(
          repository,
          models,
          port,
          workers,
          queueSize,
          maxRequestBytes,
          gracePeriod,
          modelControl,
          pollInterval,
          adminToken,
          project,
          n,
          warmup);
    }

    /** Whether to warm the surfaces up before readiness turns 200 (default true). */
    public Options withWarmup(boolean on) {
      return new Options(
          repository,
          models,
          port,
          workers,
          queueSize,
          maxRequestBytes,
          gracePeriod,
          modelControl,
          pollInterval,
          adminToken,
          project,
          maxInFlight,
          on);
    }
  }

  private final OnnxRuntime runtime;
  private final ThreadPoolExecutor workers;
  private final ModelManager manager;
  private final PrometheusMeterRegistry registry;
  private final ScorelineServer server;
  private final List<ModelStatus> loaded;
  private final RepositoryPoller poller;
  private final Project project;
  private SurfaceEngine surfaceEngine;
  private StreamService streams;
  private ThreadPoolExecutor surfaceWorkers;
  private List<SurfaceWarmup.Report> warmup = List.of();

  private ServerLauncher(Options o) {
    this.registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    this.runtime = new OnnxRuntime();
    this.workers =
        new ThreadPoolExecutor(
            o.workers(),
            o.workers(),
            60,
            TimeUnit.SECONDS,
            new ArrayBlockingQueue<>(o.queueSize()),
            daemonThreads("scoreline-infer-"));
    this.manager =
        new ModelManager(
            new ModelRepository(o.repository()),
            List.of(runtime),
            new InferenceMetrics(registry),
            workers);
    this.project = o.project() != null ? new Project(o.project()) : null;
    try {
      this.loaded = manager.loadAll(o.models());
      Readiness readiness = new Readiness(manager);
      ScorelineServer.Builder builder =
          ScorelineServer.builder(manager)
              .port(o.port())
              .maxRequestBytes(o.maxRequestBytes())
              .meterRegistry(registry)
              .readiness(readiness)
              .grpcService(new GrpcInferenceService(manager, readiness))
              .grpcService(new GrpcHealthService(readiness))
              .shutdownGracePeriod(o.gracePeriod())
              .adminToken(o.adminToken())
              .maxInFlight(o.maxInFlight());
      if (project != null && project.hasFeatures()) {
        builder.features(project.onlineFeatures());
      }
      if (project != null && project.hasSurfaces()) {
        this.surfaceEngine = surfaceEngine(project, manager, registry);
        builder.surfaces(surfaceEngine);
        if (o.warmup()) {
          builder.warmup(
              new SurfaceWarmup(surfaceEngine, new OfflineKeySampler(project), registry));
        }
        if (!StreamService.streaming(project.surfaces().all()).isEmpty()) {
          // the project's streaming surfaces run in this server too (POST /v1/events/{stream})
          this.streams =
              StreamService.start(
                  surfaceEngine,
                  project.registry(),
                  project.onlineFeatures(),
                  project.kvStore(),
                  project.dir().resolve(".scoreline/stream"),
                  registry,
                  StreamService.Options.defaults());
          builder.events(streams);
        }
      }
      this.server = builder.build();
      server.start();
      // readiness stays 503 until the warm-up is over; it bounds itself (warmup.max-duration)
      this.warmup = server.warmedUp().join();
      this.poller =
          o.modelControl().equals("poll")
              ? new RepositoryPoller(manager, o.models(), o.pollInterval())
              : null;
    } catch (RuntimeException e) {
      closeQuietly();
      if (e instanceof ScorelineException) {
        throw e;
      }
      throw new ScorelineException(
          ErrorCode.UNAVAILABLE, "cannot start the server on port " + o.port() + ": " + e, e);
    }
  }

  private SurfaceEngine surfaceEngine(
      Project project, ModelManager manager, PrometheusMeterRegistry meters) {
    Surfaces surfaces = project.surfaces();
    for (Surface s : surfaces.all()) {
      s.checkModel(manager.metadata(s.spec().model().name(), s.spec().model().version()));
    }
    int threads = Math.max(8, 4 * Runtime.getRuntime().availableProcessors());
    this.surfaceWorkers =
        new ThreadPoolExecutor(
            threads,
            threads,
            60,
            TimeUnit.SECONDS,
            new ArrayBlockingQueue<>(4096),
            daemonThreads("scoreline-surface-"));
    SurfaceEngine engine =
        new SurfaceEngine(
            surfaces,
            project.onlineFeatures(),
            new SnapshotLists(project.kvStore()),
            manager::inferAsync,
            project::vectorIndex,
            surfaceWorkers,
            meters);
    engine.checkQueryModels(
        (name, version) -> {
          try {
            return manager.metadata(name, version);
          } catch (ScorelineException e) {
            if (e.code() == ErrorCode.NOT_FOUND || e.code() == ErrorCode.UNAVAILABLE) {
              return null; // the surface names the model and the fix
            }
            throw e;
          }
        });
    engine.warmFallbacks();
    return engine;
  }

  /** The surface engine, or null when the project defines no surfaces. */
  public SurfaceEngine surfaceEngine() {
    return surfaceEngine;
  }

  /** What the surfaces' warm-up did at start (empty without surfaces or with warm-up off). */
  public List<SurfaceWarmup.Report> warmup() {
    return warmup;
  }

  /**
   * Warm-up keys of a surface without {@code warmup.entities}: the first entities of the offline
   * store's newest rows of the view holding the surface's query vector, else of its first entity
   * feature.
   */
  static final class OfflineKeySampler implements SurfaceWarmup.KeySampler {
    private final Project project;

    OfflineKeySampler(Project project) {
      this.project = project;
    }

    @Override
    public List<Map<String, Object>> sample(Surface surface, int max) {
      String view = null;
      var c = surface.spec().candidates();
      if (c != null && c.query() != null && c.query().indexOf(':') > 0) {
        view = c.query().substring(0, c.query().indexOf(':'));
      } else if (!surface.entityFeatures().isEmpty()) {
        view = surface.entityFeatures().get(0).view();
      }
      if (view == null) {
        return List.of();
      }
      var v = project.registry().view(view);
      List<String> columns = surface.entity().keys().stream().map(k -> k.name()).toList();
      List<Map<String, Object>> keys = new ArrayList<>();
      try {
        project
            .offlineStore()
            .scanLatest(
                v,
                Instant.EPOCH,
                Instant.now().plusSeconds(1),
                row -> {
                  Map<String, Object> key = new LinkedHashMap<>();
                  for (int i = 0; i < columns.size(); i++) {
                    key.put(columns.get(i), row.key().get(i));
                  }
                  keys.add(key);
                  if (keys.size() >= max) {
                    throw new Enough();
                  }
                });
      } catch (Enough e) {
        // stopped the scan: enough keys
      }
      return keys;
    }

    /** Ends the scan once enough keys are read. */
    private static final class Enough extends RuntimeException {
      private static final long serialVersionUID = 1L;

      Enough() {
        super(null, null, false, false);
      }
    }
  }

  /**
   * Loads the models and starts listening; returns once the server accepts connections and the
   * surfaces' warm-up is over (readiness answers 503 until then; the warm-up bounds itself).
   */
  public static ServerLauncher start(Options options) {
    return new ServerLauncher(options);
  }

  public int port() {
    return server.port();
  }

  public ModelManager manager() {
    return manager;
  }

  public PrometheusMeterRegistry registry() {
    return registry;
  }

  /** Model statuses right after start-up loading. */
  public List<ModelStatus> loaded() {
    return loaded;
  }

  /** Stops gracefully: new calls get 503, in-flight calls finish, then everything closes. */
  @Override
  public void close() {
    if (poller != null) {
      poller.close();
    }
    server.close();
    closeQuietly();
  }

  /** True when the feature store of the project is served. */
  public boolean servesFeatures() {
    return project != null && project.hasFeatures();
  }

  private void closeQuietly() {
    if (streams != null) {
      streams.close();
    }
    manager.close();
    if (surfaceWorkers != null) {
      surfaceWorkers.shutdownNow();
    }
    if (project != null) {
      project.close();
    }
    workers.shutdown();
    try {
      workers.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    runtime.close();
    registry.close();
  }

  static ThreadFactory daemonThreads(String prefix) {
    AtomicInteger n = new AtomicInteger();
    return r -> {
      Thread t = new Thread(r, prefix + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    };
  }
}
