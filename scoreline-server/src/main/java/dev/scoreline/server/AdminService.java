package dev.scoreline.server;

import static java.util.Objects.requireNonNull;

import com.linecorp.armeria.common.HttpRequest;
import com.linecorp.armeria.common.HttpResponse;
import com.linecorp.armeria.server.AbstractHttpService;
import com.linecorp.armeria.server.ServiceRequestContext;
import dev.scoreline.core.config.ConfigLoader;
import dev.scoreline.core.error.ErrorCode;
import dev.scoreline.core.error.ScorelineException;
import dev.scoreline.core.model.ModelManager;
import dev.scoreline.core.model.TrafficPolicy;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * Admin endpoints (behind the bearer token when one is configured):
 *
 * <ul>
 *   <li>{@code GET /v2/admin/models/{name}/traffic}: the traffic policy in force;
 *   <li>{@code PUT /v2/admin/models/{name}/traffic}: replace it at once, e.g. {@code {"split":
 *       {"stable": 95, "canary": 5}, "shadow": {"version": "3", "fraction": 0.1}}} (kebab or snake
 *       keys as in config.yaml).
 * </ul>
 */
final class AdminService extends AbstractHttpService {
  private final ModelManager manager;
  private final long maxRequestBytes;

  AdminService(ModelManager manager, long maxRequestBytes) {
    this.manager = requireNonNull(manager, "manager is null");
    this.maxRequestBytes = maxRequestBytes;
  }

  @Override
  protected HttpResponse doGet(ServiceRequestContext ctx, HttpRequest req) {
    try {
      String model = model(ctx);
      return Json.ok(g -> write(g, manager.traffic(model)));
    } catch (ScorelineException e) {
      return HttpErrors.response(e);
    }
  }

  @Override
  protected HttpResponse doPut(ServiceRequestContext ctx, HttpRequest req) {
    CompletableFuture<HttpResponse> f =
        req.aggregate()
            .thenApply(
                agg -> {
                  String model = model(ctx);
                  TrafficPolicy policy =
                      ConfigLoader.parse(
                          "request body", agg.content(StandardCharsets.UTF_8), TrafficPolicy.class);
                  manager.setTraffic(model, policy);
                  return Json.ok(g -> write(g, manager.traffic(model)));
                })
            .exceptionally(t -> HttpErrors.response(ctx, t, maxRequestBytes));
    return HttpResponse.of(f);
  }

  private static String model(ServiceRequestContext ctx) {
    // served at /v2/admin/models/{name}/traffic
    String path = ctx.path();
    String[] s = path.split("/");
    if (s.length != 6 || !s[3].equals("models") || !s[5].equals("traffic")) {
      throw new ScorelineException(
          ErrorCode.NOT_FOUND,
          "no admin endpoint "
              + ctx.method()
              + " "
              + path
              + "; use /v2/admin/models/{name}/traffic");
    }
    return s[4];
  }

  private static void write(com.fasterxml.jackson.core.JsonGenerator g, TrafficPolicy p)
      throws java.io.IOException {
    g.writeStartObject();
    g.writeObjectFieldStart("split");
    for (Map.Entry<String, Integer> e : p.split().entrySet()) {
      g.writeNumberField(e.getKey(), e.getValue());
    }
    g.writeEndObject();
    if (p.shadow() != null) {
      g.writeObjectFieldStart("shadow");
      g.writeStringField("version", p.shadow().version());
      g.writeNumberField("fraction", p.shadow().fraction());
      g.writeEndObject();
    }
    g.writeEndObject();
  }
}
