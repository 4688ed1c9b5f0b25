package dev.scoreline.core.surface;

import java.time.Duration;
import java.util.Map;

/**
 * One call of a surface.
 *
 * @param key the entity's key columns (JSON types: an int64 key may be a number or a decimal
 *     string)
 * @param context request-time values that transforms and rules read as {@code context.<key>}
 *     (current session items, a query, a location, ...)
 * @param size how many results; null means the surface's {@code size}
 * @param rules per-request rule overrides by rule type: {@code false} switches a rule off, a map
 *     replaces some of its parameters
 * @param debug whether to return per-stage timings, counts and each item's inputs
 * @param deadline a tighter deadline than the surface's, or null
 */
public record SurfaceRequest(
    Map<String, Object> key,
    Map<String, Object> context,
    Integer size,
    Map<String, Object> rules,
    boolean debug,
    Duration deadline) {
  public SurfaceRequest {
    key = key == null ? Map.of() : key;
    context = context == null ? Map.of() : context;
    rules = rules == null ? Map.of() : rules;
  }

  /** A plain request for one entity key. */
  public static SurfaceRequest of(Map<String, Object> key) {
    return new SurfaceRequest(key, Map.of(), null, Map.of(), false, null);
  }

  public SurfaceRequest withContext(Map<String, Object> newContext) {
    return new SurfaceRequest(key, newContext, size, rules, debug, deadline);
  }

  public SurfaceRequest withDebug(boolean on) {
    return new SurfaceRequest(key, context, size, rules, on, deadline);
  }
}
