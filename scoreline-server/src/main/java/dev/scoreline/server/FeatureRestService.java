package dev.scoreline.server;

import com.linecorp.armeria.common.HttpMethod;
import com.linecorp.armeria.common.HttpRequest;
import com.linecorp.armeria.common.HttpResponse;
import com.linecorp.armeria.common.HttpStatus;
import com.linecorp.armeria.common.MediaType;
import com.linecorp.armeria.server.HttpService;
import com.linecorp.armeria.server.ServiceRequestContext;
import dev.scoreline.core.error.ErrorCode;
import dev.scoreline.core.feature.FeatureRef;
import dev.scoreline.core.feature.online.FeatureVectors;
import dev.scoreline.core.feature.online.OnlineFeatureStore;
import dev.scoreline.server.features.FeatureRequests;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * The REST feature endpoints (docs/features.md, "Serving"):
 *
 * <ul>
 *   <li>{@code POST /v1/features}: latest values, Feast's request and response shape (see {@link
 *       FeatureJsonWriter});
 *   <li>{@code POST /v1/features/push}: writes rows of one view, answers {@code {"written": n,
 *       "applied": m}}.
 * </ul>
 *
 * Parsing, the store call and writing run on the blocking-task executor (a Redis store waits on the
 * network, RocksDB may read from disk); the event loop only routes. Without a feature store both
 * answer 404 saying so.
 */
final class FeatureRestService implements HttpService {
  static final String GET_PATH = "/v1/features";
  static final String PUSH_PATH = "/v1/features/push";

  private final OnlineFeatureStore store;
  private final long maxRequestBytes;

  /**
   * @param store the online store, or null when the server has none
   */
  FeatureRestService(OnlineFeatureStore store, long maxRequestBytes) {
    this.store = store;
    this.maxRequestBytes = maxRequestBytes;
  }

  @Override
  public HttpResponse serve(ServiceRequestContext ctx, HttpRequest req) {
    boolean push = ctx.path().equals(PUSH_PATH);
    if (req.method() != HttpMethod.POST) {
      return HttpErrors.response(
          HttpStatus.METHOD_NOT_ALLOWED,
          ErrorCode.USER_ERROR,
          "method " + req.method() + " is not allowed on " + ctx.path() + "; use POST");
    }
    if (store == null) {
      return HttpErrors.response(FeatureRequests.noFeatureStore());
    }
    CompletableFuture<HttpResponse> response =
        req.aggregate()
            .thenApplyAsync(
                agg -> {
                  byte[] body = agg.content().array();
                  return push ? push(body) : get(body);
                },
                ctx.blockingTaskExecutor())
            .exceptionally(t -> HttpErrors.response(ctx, t, maxRequestBytes));
    return HttpResponse.of(response);
  }

  private HttpResponse get(byte[] body) {
    FeatureJsonRequests.Get r = FeatureJsonRequests.parseGet(body);
    List<FeatureRef> features =
        FeatureRequests.features(store.registry(), r.featureService(), r.features());
    List<Map<String, Object>> rows =
        r.entityColumns() != null
            ? FeatureRequests.columnar(r.entityColumns(), "entities")
            : r.entityRows();
    FeatureVectors v =
        FeatureRequests.read(store, features, rows, r.form(), r.featureService() != null);
    byte[] json =
        FeatureJsonWriter.write(
            v, FeatureRequests.keyColumns(store.registry(), v), rows, r.fullFeatureNames());
    return HttpResponse.of(HttpStatus.OK, MediaType.JSON, json);
  }

  private HttpResponse push(byte[] body) {
    FeatureJsonRequests.Push r = FeatureJsonRequests.parsePush(body);
    int applied = FeatureRequests.push(store, r.featureView(), r.rows(), r.toOffline());
    int written = r.rows().size();
    return Json.ok(
        g -> {
          g.writeStartObject();
          g.writeNumberField("written", written);
          g.writeNumberField("applied", applied);
          g.writeEndObject();
        });
  }
}
