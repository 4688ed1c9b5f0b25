package dev.scoreline.server;

import com.linecorp.armeria.common.RequestHeaders;
import dev.scoreline.core.error.ScorelineException;
import dev.scoreline.core.model.InferenceRequest;
import java.util.HashMap;
import java.util.Map;

/**
 * HTTP headers that set request parameters for clients that cannot change the body: {@code
 * Scoreline-Timeout-Ms} (the deadline; the {@code timeout} parameter, in µs, wins) and {@code
 * Scoreline-Routing-Key} (sticky A/B routing; the {@code routing_key} parameter wins).
 */
final class RequestHeaderParameters {
  static final String TIMEOUT_MS = "scoreline-timeout-ms";
  static final String ROUTING_KEY = "scoreline-routing-key";

  private RequestHeaderParameters() {}

  static InferenceRequest apply(InferenceRequest r, RequestHeaders headers) {
    String timeout = headers.get(TIMEOUT_MS);
    String key = headers.get(ROUTING_KEY);
    if (timeout == null && key == null) {
      return r;
    }
    Map<String, Object> params = new HashMap<>(r.parameters());
    if (timeout != null && !params.containsKey("timeout")) {
      try {
        long ms = Long.parseLong(timeout.trim());
        if (ms <= 0) {
          throw new NumberFormatException();
        }
        params.put("timeout", Math.multiplyExact(ms, 1000L));
      } catch (NumberFormatException | ArithmeticException e) {
        throw ScorelineException.userError(
            "Scoreline-Timeout-Ms",
            "header Scoreline-Timeout-Ms must be a positive number of milliseconds, got '"
                + timeout
                + "'");
      }
    }
    if (key != null && !params.containsKey("routing_key")) {
      params.put("routing_key", key);
    }
    return new InferenceRequest(r.model(), r.version(), r.id(), params, r.inputs(), r.outputs());
  }
}
