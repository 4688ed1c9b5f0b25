package dev.scoreline.server;

import static java.util.Objects.requireNonNull;

import com.linecorp.armeria.common.HttpHeaderNames;
import com.linecorp.armeria.common.HttpMethod;
import com.linecorp.armeria.common.HttpRequest;
import com.linecorp.armeria.common.HttpResponse;
import com.linecorp.armeria.common.HttpStatus;
import com.linecorp.armeria.common.MediaType;
import com.linecorp.armeria.server.HttpService;
import com.linecorp.armeria.server.ServiceRequestContext;
import dev.scoreline.core.error.ErrorCode;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

/**
 * {@code GET /metrics}: the registry in the Prometheus text format (or OpenMetrics when the scraper
 * asks for it), scraped on the blocking task executor.
 */
final class MetricsService implements HttpService {
  private static final String PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8";
  private static final String OPENMETRICS_TEXT =
      "application/openmetrics-text; version=1.0.0; charset=utf-8";

  private final PrometheusMeterRegistry registry;

  MetricsService(PrometheusMeterRegistry registry) {
    this.registry = requireNonNull(registry, "registry is null");
  }

  @Override
  public HttpResponse serve(ServiceRequestContext ctx, HttpRequest req) {
    if (req.method() != HttpMethod.GET && req.method() != HttpMethod.HEAD) {
      return HttpErrors.response(
          HttpStatus.METHOD_NOT_ALLOWED, ErrorCode.USER_ERROR, "use GET /metrics");
    }
    String accept = req.headers().get(HttpHeaderNames.ACCEPT);
    String type =
        accept != null && accept.contains("application/openmetrics-text")
            ? OPENMETRICS_TEXT
            : PROMETHEUS_TEXT;
    return HttpResponse.of(
        () -> HttpResponse.of(HttpStatus.OK, MediaType.parse(type), registry.scrape(type)),
        ctx.blockingTaskExecutor());
  }
}
