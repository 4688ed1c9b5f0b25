package dev.scoreline.server;

import com.linecorp.armeria.common.RequestHeaders;
import com.linecorp.armeria.common.logging.RequestLogProperty;
import com.linecorp.armeria.server.ServiceRequestContext;

/**
 * When a request arrived and how long its client gives it, read from the transport before the body
 * is decoded, so that deadlines count from arrival and not from admission to the model.
 */
public final class RequestDeadlines {
  private RequestDeadlines() {}

  /**
   * The {@link System#nanoTime()} at which the request's headers started to arrive (Armeria's
   * request start time); {@code now} when there is no server context or it is not recorded yet.
   */
  public static long arrivalNanos(ServiceRequestContext ctx, long now) {
    if (ctx == null || !ctx.log().isAvailable(RequestLogProperty.REQUEST_START_TIME)) {
      return now;
    }
    long start = ctx.log().partial().requestStartTimeNanos();
    return now - start >= 0 ? start : now;
  }

  /** {@link #arrivalNanos(ServiceRequestContext, long)} of the current request, or now. */
  public static long arrivalNanos(ServiceRequestContext ctx) {
    return arrivalNanos(ctx, System.nanoTime());
  }

  /**
   * The client's timeout in µs from the headers: {@code grpc-timeout} on gRPC calls, {@code
   * Scoreline-Timeout-Ms} on REST calls; 0 when absent or unreadable (the service reports a
   * malformed header itself).
   */
  static long headerTimeoutMicros(RequestHeaders headers, boolean grpc) {
    if (grpc) {
      return grpcTimeoutMicros(headers.get("grpc-timeout"));
    }
    String ms = headers.get(RequestHeaderParameters.TIMEOUT_MS);
    if (ms == null) {
      return 0;
    }
    try {
      long v = Long.parseLong(ms.trim());
      return v > 0 && v < Long.MAX_VALUE / 1000 ? v * 1000 : 0;
    } catch (NumberFormatException e) {
      return 0;
    }
  }

  /** Parses a {@code grpc-timeout} header ({@code 100m}, {@code 5S}, ...) to µs; 0 when absent. */
  public static long grpcTimeoutMicros(String header) {
    if (header == null || header.length() < 2 || header.length() > 9) { // at most 8 digits + unit
      return 0;
    }
    long value;
    try {
      value = Long.parseLong(header.substring(0, header.length() - 1));
    } catch (NumberFormatException e) {
      return 0;
    }
    if (value < 0) {
      return 0;
    }
    switch (header.charAt(header.length() - 1)) {
      case 'H':
        return value * 3_600_000_000L;
      case 'M':
        return value * 60_000_000L;
      case 'S':
        return value * 1_000_000L;
      case 'm':
        return value * 1_000L;
      case 'u':
        return value;
      case 'n':
        return Math.max(1, value / 1_000L);
      default:
        return 0;
    }
  }
}
