package dev.scoreline.server;

import static java.util.Objects.requireNonNull;

import com.linecorp.armeria.common.HttpMethod;
import com.linecorp.armeria.common.HttpRequest;
import com.linecorp.armeria.common.HttpResponse;
import com.linecorp.armeria.common.HttpStatus;
import com.linecorp.armeria.common.MediaType;
import com.linecorp.armeria.common.RequestHeaders;
import com.linecorp.armeria.common.ResponseHeaders;
import com.linecorp.armeria.common.ResponseHeadersBuilder;
import com.linecorp.armeria.server.DecoratingHttpServiceFunction;
import com.linecorp.armeria.server.HttpService;
import com.linecorp.armeria.server.ServiceRequestContext;
import dev.scoreline.core.error.ErrorCode;
import dev.scoreline.core.error.ScorelineException;
import dev.scoreline.core.model.InferenceMetrics;
import dev.scoreline.core.model.ModelManager;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Admission control in front of decoding. It sees an inference request (REST {@code
 * /v2/models/.../infer}, TF Serving {@code :predict}, gRPC {@code ModelInfer}) as soon as its
 * headers are parsed, before the body is read or decoded, and
 *
 * <ul>
 *   <li>drops it with DEADLINE_EXCEEDED when the client's deadline ({@code grpc-timeout}, {@code
 *       Scoreline-Timeout-Ms}) has already passed since it arrived;
 *   <li>refuses it with RESOURCE_EXHAUSTED when {@code max-in-flight} inference requests are
 *       already in flight: REST 429 with {@code Retry-After} and the JSON error body, gRPC a
 *       trailers-only response with {@code grpc-status} 8 (not an HTTP error status, which gRPC
 *       clients would read as UNAVAILABLE).
 * </ul>
 *
 * A request holds its slot until its exchange is complete (answered, failed, or cancelled by the
 * client). Health, metadata, metrics and admin calls are never limited.
 *
 * <p>Not Armeria's {@code ThrottlingService}: its strategy decides per request with no hook for
 * when the request ends, so a concurrency limit would have to be rebuilt on top of it anyway, and
 * its rejection is an HTTP status that gRPC clients map to UNAVAILABLE. A counter is all this
 * needs.
 */
final class AdmissionControl implements DecoratingHttpServiceFunction {
  static final String GRPC_MODEL_INFER = "/inference.GRPCInferenceService/ModelInfer";

  /** The derived limit is this many times what the loaded versions can run at once... */
  static final int CAPACITY_FACTOR = 2;

  /** ...and never below this. */
  static final int MIN_DERIVED_LIMIT = 64;

  /** What well-behaved clients are told to wait before retrying. */
  static final int RETRY_AFTER_SECONDS = 1;

  private static final MediaType GRPC = MediaType.parse("application/grpc");

  private static final long REFRESH_NANOS = TimeUnit.SECONDS.toNanos(1);

  private final ModelManager manager;
  private final InferenceMetrics metrics;
  private final int explicitLimit;
  private final AtomicInteger inFlight = new AtomicInteger();
  private volatile int derivedLimit;
  private volatile long derivedAt;

  /**
   * @param maxInFlight the limit; 0 derives it from the loaded models ({@link #CAPACITY_FACTOR} x
   *     {@link ModelManager#concurrentCapacity()}, at least {@link #MIN_DERIVED_LIMIT}), refreshed
   *     every second so that loads and unloads move it
   */
  AdmissionControl(ModelManager manager, int maxInFlight, MeterRegistry registry) {
    this.manager = requireNonNull(manager, "manager is null");
    this.metrics = manager.metrics();
    if (maxInFlight < 0) {
      throw new IllegalArgumentException("maxInFlight must be >= 0 (0 = derived): " + maxInFlight);
    }
    this.explicitLimit = maxInFlight;
    this.derivedAt = System.nanoTime() - REFRESH_NANOS;
    Gauge.builder("scoreline.server.in.flight", inFlight, AtomicInteger::get)
        .description("inference requests admitted and not yet answered")
        .register(registry);
    Gauge.builder("scoreline.server.max.in.flight", this, AdmissionControl::limit)
        .description("the in-flight limit in force (max-in-flight)")
        .register(registry);
  }

  /** The limit in force now. */
  int limit() {
    return limit(System.nanoTime());
  }

  /** Inference requests admitted and not yet complete. */
  int inFlight() {
    return inFlight.get();
  }

  private int limit(long now) {
    if (explicitLimit > 0) {
      return explicitLimit;
    }
    if (now - derivedAt >= REFRESH_NANOS) {
      long capacity = (long) CAPACITY_FACTOR * manager.concurrentCapacity();
      derivedLimit = (int) Math.min(Integer.MAX_VALUE, Math.max(MIN_DERIVED_LIMIT, capacity));
      derivedAt = now;
    }
    return derivedLimit;
  }

  @Override
  public HttpResponse serve(HttpService delegate, ServiceRequestContext ctx, HttpRequest req)
      throws Exception {
    if (!isInference(ctx)) {
      return delegate.serve(ctx, req);
    }
    RequestHeaders headers = req.headers();
    boolean grpc = isGrpc(headers);
    long now = System.nanoTime();
    long timeoutMicros = RequestDeadlines.headerTimeoutMicros(headers, grpc);
    if (timeoutMicros > 0) {
      long waited = now - RequestDeadlines.arrivalNanos(ctx, now);
      if (waited >= TimeUnit.MICROSECONDS.toNanos(timeoutMicros)) {
        metrics.rejected(InferenceMetrics.SERVER, "", "expired_on_arrival");
        return reject(
            ctx,
            req,
            grpc,
            new ScorelineException(
                ErrorCode.DEADLINE_EXCEEDED,
                "the request's deadline ("
                    + timeoutMicros
                    + " us) passed "
                    + TimeUnit.NANOSECONDS.toMicros(waited)
                    + " us after it arrived, before it was read; it was not run. Allow a longer"
                    + " timeout"));
      }
    }
    int limit = limit(now);
    if (inFlight.incrementAndGet() > limit) {
      inFlight.decrementAndGet();
      metrics.rejected(InferenceMetrics.SERVER, "", "max_in_flight");
      return reject(ctx, req, grpc, overLimit(limit));
    }
    ctx.log().whenComplete().thenRun(inFlight::decrementAndGet);
    InlineHint.attach(ctx, inFlight);
    return delegate.serve(ctx, req);
  }

  private ScorelineException overLimit(int limit) {
    return new ScorelineException(
        ErrorCode.RESOURCE_EXHAUSTED,
        "the server already has "
            + limit
            + " inference requests in flight (max-in-flight "
            + limit
            + (explicitLimit > 0
                ? ""
                : ", derived as "
                    + CAPACITY_FACTOR
                    + " x the loaded models' instance-count x max-batch-size")
            + "); retry after "
            + RETRY_AFTER_SECONDS
            + " s, send less load to this replica, or raise max-in-flight");
  }

  /** REST: the JSON error body with its status; gRPC: a trailers-only response. */
  private static HttpResponse reject(
      ServiceRequestContext ctx, HttpRequest req, boolean grpc, ScorelineException e) {
    // read and drop the body without decoding it: a request left unread keeps its HTTP/2 stream
    // open, and a client whose streams never close stops sending once it reaches
    // MAX_CONCURRENT_STREAMS
    req.subscribe(ctx.eventLoop());
    if (!grpc) {
      return HttpErrors.response(e);
    }
    MediaType type = ctx.request().contentType();
    ResponseHeadersBuilder h =
        ResponseHeaders.builder(HttpStatus.OK)
            .contentType(type != null ? type : GRPC)
            .add(
                "grpc-status",
                Integer.toString(ErrorMapping.grpcStatus(e.code()).getCode().value()))
            .add("grpc-message", grpcMessage(e.getMessage()));
    if (e.code() == ErrorCode.RESOURCE_EXHAUSTED) {
      // honoured by grpc-java's retry policy when the client enables retries
      h.add("grpc-retry-pushback-ms", Integer.toString(RETRY_AFTER_SECONDS * 1000));
    }
    return HttpResponse.of(h.endOfStream(true).build());
  }

  /** The gRPC wire form of a status message: UTF-8, percent-encoding all but printable ASCII. */
  static String grpcMessage(String message) {
    byte[] utf8 = message.getBytes(StandardCharsets.UTF_8);
    StringBuilder sb = new StringBuilder(utf8.length + 16);
    for (byte b : utf8) {
      int c = b & 0xFF;
      if (c >= 0x20 && c < 0x7F && c != '%') {
        sb.append((char) c);
      } else {
        sb.append('%').append(HEX[c >> 4]).append(HEX[c & 0xF]);
      }
    }
    return sb.toString();
  }

  private static final char[] HEX = "0123456789ABCDEF".toCharArray();

  static boolean isInference(ServiceRequestContext ctx) {
    if (ctx.method() != HttpMethod.POST) {
      return false;
    }
    String path = ctx.decodedPath();
    if (path.startsWith("/v2/models/")) {
      return path.endsWith("/infer");
    }
    if (path.startsWith("/v1/models/")) {
      return path.endsWith(":predict");
    }
    return path.equals(GRPC_MODEL_INFER);
  }

  static boolean isGrpc(RequestHeaders headers) {
    MediaType type = headers.contentType();
    return type != null && type.type().equals("application") && type.subtype().startsWith("grpc");
  }
}
