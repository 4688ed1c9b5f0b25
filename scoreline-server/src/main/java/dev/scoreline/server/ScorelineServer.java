package dev.scoreline.server;

import static java.util.Objects.requireNonNull;

import com.linecorp.armeria.common.metric.MeterIdPrefixFunction;
import com.linecorp.armeria.server.GracefulShutdown;
import com.linecorp.armeria.server.HttpService;
import com.linecorp.armeria.server.Server;
import com.linecorp.armeria.server.ServerBuilder;
import com.linecorp.armeria.server.encoding.DecodingService;
import com.linecorp.armeria.server.grpc.GrpcService;
import com.linecorp.armeria.server.grpc.GrpcServiceBuilder;
import com.linecorp.armeria.server.metric.MetricCollectingService;
import dev.scoreline.core.error.ErrorCode;
import dev.scoreline.core.error.ScorelineException;
import dev.scoreline.core.feature.online.OnlineFeatureStore;
import dev.scoreline.core.model.ModelManager;
import dev.scoreline.core.surface.SurfaceEngine;
import dev.scoreline.core.surface.SurfaceWarmup;
import dev.scoreline.server.features.FeatureGrpcService;
import dev.scoreline.server.surfaces.SurfaceGrpcService;
import dev.scoreline.stream.StreamService;
import io.grpc.BindableService;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Scoreline server: REST (Open Inference Protocol v2 with the binary tensor data and model
 * repository extensions, TF Serving's {@code :predict}), gRPC, Prometheus metrics and, with {@link
 * Builder#features}, the online feature store ({@code /v1/features}), all on one port. Inference
 * runs on the {@link ModelManager}'s executor; the event loops only parse and route.
 *
 * <pre>{@code
 * try (ScorelineServer server = ScorelineServer.builder(manager).port(8000).build().start()) {
 *   server.blockUntilShutdown();
 * }
 * }</pre>
 *
 * <p>{@link #close()} is graceful: new inference calls get 503 while those in flight finish (up to
 * the shutdown grace period), then the port closes. The manager stays open; its owner closes it.
 */
public final class ScorelineServer implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(ScorelineServer.class);

  /** The default body limit: 64 MiB. */
  public static final long DEFAULT_MAX_REQUEST_BYTES = 64L << 20;

  /** The default bound on concurrent HTTP/2 streams per connection (SETTINGS). */
  public static final long DEFAULT_HTTP2_MAX_STREAMS = 1000;

  /** The default number of RST_STREAM frames a client may send per minute per connection. */
  public static final int DEFAULT_HTTP2_MAX_RESETS_PER_MINUTE = 60_000;

  private final ModelManager manager;
  private final Server server;
  private final PrometheusMeterRegistry registry;
  private final Duration gracePeriod;
  private final AdmissionControl admission;
  private final AtomicBoolean started = new AtomicBoolean();
  private final AtomicBoolean closed = new AtomicBoolean();
  private final Readiness readiness;
  private final SurfaceWarmup warmup;
  private final CompletableFuture<List<SurfaceWarmup.Report>> warmedUp = new CompletableFuture<>();
  private JvmGcMetrics gcMetrics;

  private ScorelineServer(Builder b) {
    this.manager = b.manager;
    this.gracePeriod = b.shutdownGracePeriod;
    this.registry = b.registry != null ? b.registry : defaultRegistry(b.manager);
    this.readiness = b.readiness != null ? b.readiness : new Readiness(b.manager);
    this.warmup = b.warmup;
    ServerBuilder sb =
        Server.builder()
            .http(b.port)
            .maxRequestLength(b.maxRequestBytes)
            .requestTimeout(b.requestTimeout)
            .http2MaxStreamsPerConnection(b.http2MaxStreams)
            .http2MaxResetFramesPerWindow(b.http2MaxResetsPerMinute, 60)
            .errorHandler(new HttpErrors(b.maxRequestBytes))
            .meterRegistry(registry)
            .gracefulShutdown(
                GracefulShutdown.builder().quietPeriod(Duration.ZERO).timeout(gracePeriod).build());
    // gzip/deflate request bodies (Content-Encoding), as Triton's clients can send them; bodies
    // without that header pass through untouched. The body limit applies to the decoded size.
    HttpService v2 =
        new V2Service(manager, b.maxRequestBytes, readiness)
            .decorate(DecodingService.newDecorator());
    HttpService v1 =
        new TfServingService(manager, b.maxRequestBytes).decorate(DecodingService.newDecorator());
    sb.service("/v2", v2).serviceUnder("/v2/", v2);
    HttpService admin = new AdminService(manager, b.maxRequestBytes);
    if (b.adminToken != null) {
      sb.serviceUnder("/v2/repository/", new AdminAuth(v2, b.adminToken));
      admin = new AdminAuth(admin, b.adminToken);
    }
    sb.serviceUnder("/v2/admin/", admin);
    HttpService features =
        new FeatureRestService(b.features, b.maxRequestBytes)
            .decorate(DecodingService.newDecorator());
    sb.service(FeatureRestService.GET_PATH, features)
        .service(FeatureRestService.PUSH_PATH, features);
    HttpService surfaces =
        new SurfaceRestService(b.surfaces, b.maxRequestBytes)
            .decorate(DecodingService.newDecorator());
    sb.service(SurfaceRestService.PREFIX, surfaces)
        .serviceUnder(SurfaceRestService.PREFIX + "/", surfaces);
    HttpService events =
        new EventRestService(b.events, b.maxRequestBytes, b.adminToken)
            .decorate(DecodingService.newDecorator());
    sb.serviceUnder(EventRestService.EVENTS + "/", events)
        .service(EventRestService.STREAMS, events)
        .serviceUnder(EventRestService.STREAMS + "/", events);
    sb.service("/v1", v1).serviceUnder("/v1/", v1);
    sb.service("/metrics", new MetricsService(registry));
    List<BindableService> grpcServices = new ArrayList<>(b.grpcServices);
    if (b.features != null) {
      grpcServices.add(new FeatureGrpcService(b.features));
    }
    if (b.surfaces != null) {
      grpcServices.add(new SurfaceGrpcService(b.surfaces));
    }
    if (!grpcServices.isEmpty()) {
      int maxMessage = (int) Math.min(Integer.MAX_VALUE, b.maxRequestBytes);
      GrpcServiceBuilder grpc =
          GrpcService.builder()
              .maxRequestMessageLength(maxMessage)
              .maxResponseMessageLength(Integer.MAX_VALUE);
      for (BindableService s : grpcServices) {
        grpc.addService(s);
      }
      if (b.adminToken != null) {
        grpc.intercept(new GrpcAdminAuth(b.adminToken));
      }
      sb.service(grpc.build());
    }
    // admission runs when the headers are in, before any body is read or decoded; the metrics
    // decorator wraps it so that refused requests are counted as HTTP requests too
    this.admission = new AdmissionControl(manager, b.maxInFlight, registry);
    sb.decorator(admission);
    sb.decorator(
        MetricCollectingService.newDecorator(MeterIdPrefixFunction.ofDefault("armeria.server")));
    this.server = sb.build();
  }

  private static PrometheusMeterRegistry defaultRegistry(ModelManager manager) {
    MeterRegistry r = manager.metrics().registry();
    if (r instanceof PrometheusMeterRegistry) {
      return (PrometheusMeterRegistry) r;
    }
    log.warn(
        "the model manager's meter registry is not a PrometheusMeterRegistry; /metrics will not"
            + " show inference metrics. Pass the registry to ScorelineServer.builder().meterRegistry");
    return new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  }

  public static Builder builder(ModelManager manager) {
    return new Builder(manager);
  }

  /** Starts listening; returns once the port is bound. */
  public ScorelineServer start() {
    if (!started.compareAndSet(false, true)) {
      throw new IllegalStateException("the server was already started");
    }
    new JvmMemoryMetrics().bindTo(registry);
    gcMetrics = new JvmGcMetrics();
    gcMetrics.bindTo(registry);
    new JvmThreadMetrics().bindTo(registry);
    new ProcessorMetrics().bindTo(registry);
    new UptimeMetrics().bindTo(registry);
    try {
      server.start().join();
    } catch (CompletionException e) {
      closeMetrics();
      Throwable cause = e.getCause() != null ? e.getCause() : e;
      throw new ScorelineException(
          ErrorCode.USER_ERROR,
          "cannot start the server on port "
              + server.config().ports()
              + ": "
              + cause.getMessage()
              + "; choose another port",
          cause);
    }
    log.info("Scoreline server listening on port {}", port());
    if (warmup == null) {
      warmedUp.complete(List.of());
    } else {
      readiness.hold(WARMUP);
      Thread t = new Thread(this::warmUp, "scoreline-warmup");
      t.setDaemon(true);
      t.start();
    }
    return this;
  }

  /** The readiness step the surfaces' warm-up holds. */
  public static final String WARMUP = "surface warm-up";

  private void warmUp() {
    List<SurfaceWarmup.Report> reports = List.of();
    try {
      log.info("warming the surfaces up; /v2/health/ready answers 503 until done");
      reports = warmup.run();
    } catch (RuntimeException | Error e) {
      log.warn("the surfaces' warm-up failed; serving without it: {}", e.toString());
    } finally {
      readiness.release(WARMUP);
      warmedUp.complete(reports);
    }
  }

  /**
   * Completes when the surfaces' warm-up ({@link Builder#warmup}) is over and readiness no longer
   * waits for it, with what each surface's warm-up did; at once (empty) without one. It never
   * completes exceptionally: warm-up errors are logged, not thrown.
   */
  public CompletableFuture<List<SurfaceWarmup.Report>> warmedUp() {
    return warmedUp;
  }

  /** Whether {@code /v2/health/ready} answers 200. */
  public Readiness readiness() {
    return readiness;
  }

  /** The port listened on (the real one when the builder asked for 0). */
  public int port() {
    return server.activeLocalPort();
  }

  /**
   * The in-flight limit in force: {@link Builder#maxInFlight}, or the one derived from the loaded
   * models.
   */
  public int maxInFlight() {
    return admission.limit();
  }

  /** Inference requests admitted and not yet answered. */
  public int inFlight() {
    return admission.inFlight();
  }

  /** The registry behind {@code /metrics}. */
  public PrometheusMeterRegistry meterRegistry() {
    return registry;
  }

  /** Blocks until the server has been closed. */
  public void blockUntilShutdown() throws InterruptedException {
    server.blockUntilShutdown();
  }

  /**
   * Shuts down gracefully: the manager refuses new calls (503 UNAVAILABLE, and readiness turns
   * 503), calls in flight finish within the grace period, then the port closes.
   */
  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      if (started.get()) {
        server.whenClosed().join(); // another thread is closing; wait for it
      }
      return;
    }
    if (!started.get()) {
      server.close();
      return;
    }
    log.info("Scoreline server shutting down (grace period {})", gracePeriod);
    manager.beginShutdown();
    if (!manager.awaitIdle(gracePeriod)) {
      log.warn("inference calls still in flight after the grace period of {}", gracePeriod);
    }
    server.close(); // graceful: waits for in-flight HTTP exchanges up to the grace period
    closeMetrics();
    log.info("Scoreline server stopped");
  }

  private void closeMetrics() {
    if (gcMetrics != null) {
      gcMetrics.close();
      gcMetrics = null;
    }
  }

  /** Options of a {@link ScorelineServer}. */
  public static final class Builder {
    private final ModelManager manager;
    private int port = 8000;
    private long maxRequestBytes = DEFAULT_MAX_REQUEST_BYTES;
    private PrometheusMeterRegistry registry;
    private final List<BindableService> grpcServices = new ArrayList<>();
    private Duration shutdownGracePeriod = Duration.ofSeconds(30);
    private Duration requestTimeout = Duration.ofSeconds(60);
    private int maxInFlight;
    private long http2MaxStreams = DEFAULT_HTTP2_MAX_STREAMS;
    private int http2MaxResetsPerMinute = DEFAULT_HTTP2_MAX_RESETS_PER_MINUTE;
    private String adminToken;
    private OnlineFeatureStore features;
    private SurfaceEngine surfaces;
    private StreamService events;
    private Readiness readiness;
    private SurfaceWarmup warmup;

    private Builder(ModelManager manager) {
      this.manager = requireNonNull(manager, "manager is null");
    }

    /** The port for HTTP/1.1, HTTP/2 (cleartext) and gRPC; 0 picks a free one. Default 8000. */
    public Builder port(int port) {
      if (port < 0 || port > 65535) {
        throw new IllegalArgumentException("port must be in [0, 65535]: " + port);
      }
      this.port = port;
      return this;
    }

    /** The largest request body accepted; larger bodies get 413. Default 64 MiB. */
    public Builder maxRequestBytes(long maxRequestBytes) {
      if (maxRequestBytes <= 0 || maxRequestBytes > Integer.MAX_VALUE) {
        throw new IllegalArgumentException(
            "maxRequestBytes must be in [1, 2^31-1]: " + maxRequestBytes);
      }
      this.maxRequestBytes = maxRequestBytes;
      return this;
    }

    /**
     * The registry served on {@code /metrics}: the one the manager's {@code InferenceMetrics}
     * records to. Default: the manager's registry when it is a Prometheus one.
     */
    public Builder meterRegistry(PrometheusMeterRegistry registry) {
      this.registry = requireNonNull(registry, "registry is null");
      return this;
    }

    /** A gRPC service served on the same port; may be called more than once. */
    public Builder grpcService(BindableService service) {
      grpcServices.add(requireNonNull(service, "service is null"));
      return this;
    }

    /** How long {@link #close()} waits for in-flight calls. Default 30 s. */
    public Builder shutdownGracePeriod(Duration gracePeriod) {
      requireNonNull(gracePeriod, "gracePeriod is null");
      if (gracePeriod.isNegative()) {
        throw new IllegalArgumentException("shutdownGracePeriod must not be negative");
      }
      this.shutdownGracePeriod = gracePeriod;
      return this;
    }

    /** The longest a request may take before it fails with 504. Default 60 s; 0 disables. */
    public Builder requestTimeout(Duration timeout) {
      requireNonNull(timeout, "timeout is null");
      if (timeout.isNegative()) {
        throw new IllegalArgumentException("requestTimeout must not be negative");
      }
      this.requestTimeout = timeout;
      return this;
    }

    /**
     * At most this many inference requests (REST infer and {@code :predict}, gRPC {@code
     * ModelInfer}) in flight at once; more are refused as soon as their headers arrive, before the
     * body is read: REST 429 with {@code Retry-After}, gRPC RESOURCE_EXHAUSTED. Default (0): 2 x
     * the sum over loaded versions of {@code instance-count} x {@code max-batch-size} (with dynamic
     * batching) or {@code max-concurrency} (without), at least 64, following loads and unloads.
     */
    public Builder maxInFlight(int maxInFlight) {
      if (maxInFlight < 0) {
        throw new IllegalArgumentException(
            "maxInFlight must be >= 0 (0 = derived): " + maxInFlight);
      }
      this.maxInFlight = maxInFlight;
      return this;
    }

    /**
     * HTTP/2 {@code MAX_CONCURRENT_STREAMS} announced to clients: requests one connection may have
     * open at once (clients queue the rest on their side). Default 1000.
     */
    public Builder http2MaxStreamsPerConnection(long streams) {
      if (streams < 1 || streams > 0xFFFFFFFFL) {
        throw new IllegalArgumentException(
            "http2MaxStreamsPerConnection must be in [1, 2^32-1]: " + streams);
      }
      this.http2MaxStreams = streams;
      return this;
    }

    /**
     * RST_STREAM frames a client may send per connection per minute before the connection is closed
     * (HTTP/2 rapid-reset protection). Every call a client cancels, for example when its deadline
     * passes, is one frame; Armeria's default of 400 closes healthy connections of busy clients
     * with short deadlines, failing all their calls in flight. Default 60,000 (1,000/s).
     */
    public Builder http2MaxResetsPerMinute(int resets) {
      if (resets < 1) {
        throw new IllegalArgumentException("http2MaxResetsPerMinute must be >= 1: " + resets);
      }
      this.http2MaxResetsPerMinute = resets;
      return this;
    }

    /**
     * Requires {@code Authorization: Bearer <token>} on admin calls: the repository extension (REST
     * and gRPC) and {@code /v2/admin/**}. Null or blank leaves them open.
     */
    public Builder adminToken(String token) {
      this.adminToken = token == null || token.isBlank() ? null : token;
      return this;
    }

    /**
     * Serves online features from {@code store}: {@code POST /v1/features}, {@code POST
     * /v1/features/push} and the gRPC {@code scoreline.features.v1.FeatureService}, on the same
     * port. Without it the REST feature routes answer 404 ("no feature store configured") and the
     * gRPC service is not registered (UNIMPLEMENTED). The store stays open; its owner closes it.
     */
    public Builder features(OnlineFeatureStore store) {
      this.features = requireNonNull(store, "store is null");
      return this;
    }

    /**
     * Serves {@code engine}'s surfaces: {@code GET/POST /v1/surfaces/...} and the gRPC {@code
     * scoreline.surfaces.v1.SurfaceService}, on the same port. Without it the REST routes answer
     * 404 saying so.
     */
    public Builder surfaces(SurfaceEngine engine) {
      this.surfaces = requireNonNull(engine, "engine is null");
      return this;
    }

    /**
     * Serves the streaming surfaces of {@code streams}: {@code POST /v1/events/{stream}} (durable
     * ingest of JSON lines), {@code GET /v1/streams} and the dead-letter endpoints, on the same
     * port. Without it those routes answer 404 saying so. The caller owns (closes) {@code streams}.
     */
    public Builder events(StreamService streams) {
      this.events = requireNonNull(streams, "streams is null");
      return this;
    }

    /**
     * The readiness that {@code /v2/health/ready} answers; pass the same to {@code
     * GrpcHealthService} so that gRPC health agrees. Default: a new one over the manager.
     */
    public Builder readiness(Readiness readiness) {
      this.readiness = requireNonNull(readiness, "readiness is null");
      return this;
    }

    /**
     * Warms the surfaces up once the port is bound: {@link #start()} returns at once, readiness
     * answers 503 ({@code "waiting_for": ["surface warm-up"]}) until {@code warmup} is over, then
     * follows the models as usual; {@link ScorelineServer#warmedUp()} completes then. The warm-up
     * bounds itself ({@code warmup.max-duration} per surface) and never fails the start.
     */
    public Builder warmup(SurfaceWarmup warmup) {
      this.warmup = requireNonNull(warmup, "warmup is null");
      return this;
    }

    public ScorelineServer build() {
      return new ScorelineServer(this);
    }
  }
}
