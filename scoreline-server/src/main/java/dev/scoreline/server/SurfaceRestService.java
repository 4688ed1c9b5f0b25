package dev.scoreline.server;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.linecorp.armeria.common.HttpMethod;
import com.linecorp.armeria.common.HttpRequest;
import com.linecorp.armeria.common.HttpResponse;
import com.linecorp.armeria.common.HttpStatus;
import com.linecorp.armeria.common.QueryParams;
import com.linecorp.armeria.server.HttpService;
import com.linecorp.armeria.server.ServiceRequestContext;
import dev.scoreline.core.error.ErrorCode;
import dev.scoreline.core.error.ScorelineException;
import dev.scoreline.core.surface.Surface;
import dev.scoreline.core.surface.SurfaceEngine;
import dev.scoreline.core.surface.SurfaceRequest;
import dev.scoreline.core.surface.SurfaceResult;
import java.io.IOException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * The surface endpoints (docs/recommendations.md, "Calling a surface"):
 *
 * <ul>
 *   <li>{@code GET /v1/surfaces}: the surfaces and their modes;
 *   <li>{@code GET /v1/surfaces/{name}/{key}}: a ranked answer for an entity with a single key
 *       column; query parameters {@code size}, {@code debug}, {@code context.<key>=value} (numbers
 *       are parsed; commas make a list);
 *   <li>{@code POST /v1/surfaces/{name}/{key}} and {@code POST /v1/surfaces/{name}}: the same with
 *       a JSON body {@code {"key": {...}, "context": {...}, "size": n, "rules": {...}, "debug":
 *       true}} ({@code key} only on the second form, for composite keys).
 * </ul>
 *
 * The pipeline runs on the surface engine's pool (it waits on the stores and the model); the event
 * loop parses the request, routes and keeps the deadline ({@link SurfaceEngine#recommendAsync}):
 * one hand-off to a pool thread and back, none through the blocking-task executor.
 */
final class SurfaceRestService implements HttpService {
  static final String PREFIX = "/v1/surfaces";
  private static final ObjectMapper MAPPER = new ObjectMapper(Json.FACTORY);

  private final SurfaceEngine engine;
  private final long maxRequestBytes;

  /**
   * @param engine the surfaces, or null when the server serves none
   */
  SurfaceRestService(SurfaceEngine engine, long maxRequestBytes) {
    this.engine = engine;
    this.maxRequestBytes = maxRequestBytes;
  }

  @Override
  public HttpResponse serve(ServiceRequestContext ctx, HttpRequest req) {
    if (engine == null) {
      return HttpErrors.response(
          ScorelineException.notFound(
              "this server serves no surfaces; start it on a project with surfaces/*.yaml"
                  + " (scoreline serve <project>)"));
    }
    String rest =
        ctx.path().length() > PREFIX.length() ? ctx.path().substring(PREFIX.length() + 1) : "";
    List<String> parts = new ArrayList<>();
    for (String s : rest.split("/", -1)) {
      if (!s.isEmpty()) {
        parts.add(URLDecoder.decode(s, StandardCharsets.UTF_8));
      }
    }
    if (parts.isEmpty()) {
      if (req.method() != HttpMethod.GET) {
        return methodNotAllowed(req, ctx, "GET");
      }
      return Json.ok(this::writeIndex);
    }
    if (parts.size() > 2) {
      return HttpErrors.response(
          ScorelineException.notFound(
              "no route " + ctx.path() + "; use " + PREFIX + "/{surface}/{entityKey}"));
    }
    String name = parts.get(0);
    String key = parts.size() == 2 ? parts.get(1) : null;
    if (req.method() == HttpMethod.GET) {
      if (key == null) {
        return HttpErrors.response(
            ScorelineException.userError(
                "key",
                "GET "
                    + ctx.path()
                    + " needs the entity key: GET "
                    + PREFIX
                    + "/"
                    + name
                    + "/{entityKey}, or POST a body with \"key\""));
      }
      CompletableFuture<HttpResponse> answer;
      try {
        answer = answer(ctx, name, fromQuery(name, key, QueryParams.fromQueryString(ctx.query())));
      } catch (RuntimeException e) {
        return HttpErrors.response(ctx, e, maxRequestBytes);
      }
      return HttpResponse.of(
          answer.exceptionally(t -> HttpErrors.response(ctx, t, maxRequestBytes)));
    }
    if (req.method() != HttpMethod.POST) {
      return methodNotAllowed(req, ctx, "GET or POST");
    }
    return HttpResponse.of(
        req.aggregate()
            .thenCompose(agg -> answer(ctx, name, fromBody(name, key, agg.content().array())))
            .exceptionally(t -> HttpErrors.response(ctx, t, maxRequestBytes)));
  }

  private static HttpResponse methodNotAllowed(
      HttpRequest req, ServiceRequestContext ctx, String allowed) {
    return HttpErrors.response(
        HttpStatus.METHOD_NOT_ALLOWED,
        ErrorCode.USER_ERROR,
        "method " + req.method() + " is not allowed on " + ctx.path() + "; use " + allowed);
  }

  /**
   * The answer, written as JSON by the thread that finishes the pipeline: the request's checks run
   * here on the event loop, the pipeline on the engine's pool, and its deadline is a timer on the
   * event loop, so no thread waits on another.
   */
  private CompletableFuture<HttpResponse> answer(
      ServiceRequestContext ctx, String name, SurfaceRequest r) {
    Surface s = engine.surfaces().get(name);
    String idColumn = s.candidateEntity() == null ? "id" : s.candidateEntity().keys().get(0).name();
    return engine
        .recommendAsync(name, r, ctx.eventLoop())
        .thenApply(result -> Json.ok(g -> write(g, result, idColumn)));
  }

  // ---------------------------------------------------------------- requests

  private SurfaceRequest fromQuery(String name, String key, QueryParams q) {
    Surface s = engine.surfaces().get(name);
    Map<String, Object> context = new LinkedHashMap<>();
    Integer size = null;
    boolean debug = false;
    Duration deadline = null;
    for (String p : q.names()) {
      String v = q.get(p);
      if (p.startsWith("context.") && p.length() > 8) {
        context.put(p.substring(8), queryValue(v));
      } else if (p.equals("size")) {
        size = intParam("size", v);
      } else if (p.equals("debug")) {
        debug = v.isEmpty() || Boolean.parseBoolean(v);
      } else if (p.equals("deadline_ms")) {
        deadline = Duration.ofMillis(intParam("deadline_ms", v));
      } else {
        throw ScorelineException.userError(
            p,
            "unknown query parameter '"
                + p
                + "'; use size, debug, deadline_ms or context.<key> (POST a JSON body for rule"
                + " overrides)");
      }
    }
    return new SurfaceRequest(singleKey(s, key), context, size, Map.of(), debug, deadline);
  }

  private static Map<String, Object> singleKey(Surface s, String key) {
    if (s.entity().keys().size() != 1) {
      throw ScorelineException.userError(
          "key",
          "entity "
              + s.entity().name()
              + " has a composite key "
              + s.entity().keys().stream().map(c -> c.name()).toList()
              + "; POST "
              + PREFIX
              + "/"
              + s.name()
              + " with {\"key\": {...}}");
    }
    return Map.of(s.entity().keys().get(0).name(), key);
  }

  private static Object queryValue(String v) {
    if (v.indexOf(',') >= 0) {
      List<Object> out = new ArrayList<>();
      for (String part : v.split(",", -1)) {
        out.add(queryValue(part));
      }
      return out;
    }
    if (v.matches("-?\\d{1,18}")) {
      return Long.parseLong(v);
    }
    if (v.matches("-?\\d+\\.\\d+([eE][-+]?\\d+)?")) {
      return Double.parseDouble(v);
    }
    if (v.equals("true") || v.equals("false")) {
      return Boolean.parseBoolean(v);
    }
    return v;
  }

  private static int intParam(String name, String v) {
    try {
      return Integer.parseInt(v);
    } catch (NumberFormatException e) {
      throw ScorelineException.userError(name, name + ": '" + v + "' is not a whole number");
    }
  }

  @SuppressWarnings("unchecked")
  private SurfaceRequest fromBody(String name, String key, byte[] body) {
    Surface s = engine.surfaces().get(name);
    Map<String, Object> m;
    if (body.length == 0) {
      m = Map.of();
    } else {
      Object parsed;
      try {
        parsed = MAPPER.readValue(body, Object.class);
      } catch (JsonProcessingException e) {
        throw Json.malformed(e);
      } catch (IOException e) {
        throw ScorelineException.userError(null, "unreadable body: " + e.getMessage());
      }
      if (!(parsed instanceof Map)) {
        throw ScorelineException.userError(
            null, "the body must be a JSON object such as {\"context\": {...}, \"size\": 10}");
      }
      m = (Map<String, Object>) parsed;
    }
    for (String k : m.keySet()) {
      if (!List.of("key", "context", "size", "rules", "debug", "deadline_ms").contains(k)) {
        throw ScorelineException.userError(
            k, "unknown field '" + k + "'; fields: key, context, size, rules, debug, deadline_ms");
      }
    }
    Map<String, Object> entityKey;
    if (key != null) {
      if (m.containsKey("key")) {
        throw ScorelineException.userError(
            "key",
            "the key is in the path; leave \"key\" out of the body (or POST to "
                + PREFIX
                + "/"
                + name
                + ")");
      }
      entityKey = singleKey(s, key);
    } else {
      entityKey = object(m, "key");
      if (entityKey == null) {
        throw ScorelineException.userError(
            "key", "\"key\" is missing: send {\"key\": {\"<key column>\": value}, ...}");
      }
    }
    Map<String, Object> context = object(m, "context");
    Map<String, Object> rules = object(m, "rules");
    Integer size = null;
    if (m.get("size") != null) {
      if (!(m.get("size") instanceof Integer i)) {
        throw ScorelineException.userError("size", "size: must be a whole number");
      }
      size = i;
    }
    Object debug = m.get("debug");
    if (debug != null && !(debug instanceof Boolean)) {
      throw ScorelineException.userError("debug", "debug: must be true or false");
    }
    Duration deadline = null;
    if (m.get("deadline_ms") != null) {
      if (!(m.get("deadline_ms") instanceof Integer i) || i <= 0) {
        throw ScorelineException.userError(
            "deadline_ms", "deadline_ms: must be a positive whole number");
      }
      deadline = Duration.ofMillis(i);
    }
    return new SurfaceRequest(
        entityKey, context, size, rules, Boolean.TRUE.equals(debug), deadline);
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> object(Map<String, Object> m, String field) {
    Object v = m.get(field);
    if (v == null) {
      return null;
    }
    if (!(v instanceof Map)) {
      throw ScorelineException.userError(field, field + ": must be a JSON object");
    }
    return (Map<String, Object>) v;
  }

  // ---------------------------------------------------------------- responses

  private void writeIndex(JsonGenerator g) throws IOException {
    g.writeStartObject();
    g.writeArrayFieldStart("surfaces");
    for (Surface s : engine.surfaces().all()) {
      g.writeStartObject();
      g.writeStringField("name", s.name());
      g.writeStringField("mode", s.spec().mode().label());
      g.writeStringField("entity", s.entity().name());
      if (s.candidateEntity() != null) {
        g.writeStringField("candidates", s.spec().candidates().source());
      }
      g.writeStringField("model", s.spec().model().name());
      if (s.spec().description() != null) {
        g.writeStringField("description", s.spec().description());
      }
      g.writeEndObject();
    }
    g.writeEndArray();
    g.writeEndObject();
  }

  static void write(JsonGenerator g, SurfaceResult r, String idColumn) throws IOException {
    g.writeStartObject();
    g.writeStringField("surface", r.surface());
    g.writeObjectFieldStart("key");
    for (Map.Entry<String, Object> e : r.key().entrySet()) {
      g.writeFieldName(e.getKey());
      writeValue(g, e.getValue());
    }
    g.writeEndObject();
    g.writeStringField("model", r.model());
    if (r.modelVersion() != null) {
      g.writeStringField("model_version", r.modelVersion());
    }
    g.writeBooleanField("fallback", r.fallback());
    if (r.fallbackReason() != null) {
      g.writeStringField("fallback_reason", r.fallbackReason());
    }
    if (r.score() != null) {
      g.writeNumberField("score", r.score());
    }
    if (r.snapshot() != null) {
      g.writeStringField("snapshot", r.snapshot());
      if (r.snapshotAgeSeconds() != null) {
        g.writeNumberField("snapshot_age_s", r.snapshotAgeSeconds());
      }
    }
    g.writeArrayFieldStart("items");
    for (SurfaceResult.Item it : r.items()) {
      g.writeStartObject();
      g.writeNumberField(idColumn, it.id());
      g.writeNumberField("score", it.score());
      g.writeNumberField("retrieval_score", it.retrievalScore());
      if (it.pinned()) {
        g.writeBooleanField("pinned", true);
      }
      g.writeEndObject();
    }
    g.writeEndArray();
    g.writeObjectFieldStart("timings_ms");
    for (Map.Entry<String, Long> e : r.timingsMicros().entrySet()) {
      g.writeNumberField(e.getKey(), e.getValue() / 1000.0);
    }
    g.writeEndObject();
    SurfaceResult.Debug d = r.debug();
    if (d != null) {
      g.writeObjectFieldStart("debug");
      g.writeNumberField("candidates", d.candidates());
      g.writeNumberField("ranked", d.ranked());
      if (d.snapshot() != null) {
        g.writeStringField("snapshot", d.snapshot());
      }
      g.writeObjectFieldStart("removed_by");
      for (Map.Entry<String, Integer> e : d.removedBy().entrySet()) {
        g.writeNumberField(e.getKey(), e.getValue());
      }
      g.writeEndObject();
      g.writeArrayFieldStart("columns");
      for (String c : d.columns()) {
        g.writeString(c);
      }
      g.writeEndArray();
      g.writeArrayFieldStart("inputs");
      for (float[] row : d.inputs()) {
        if (row == null) {
          g.writeNull();
        } else {
          g.writeStartArray();
          for (float f : row) {
            g.writeNumber(f);
          }
          g.writeEndArray();
        }
      }
      g.writeEndArray();
      g.writeEndObject();
    }
    g.writeEndObject();
  }

  private static void writeValue(JsonGenerator g, Object v) throws IOException {
    if (v instanceof Number n) {
      if (v instanceof Double || v instanceof Float) {
        g.writeNumber(n.doubleValue());
      } else {
        g.writeNumber(n.longValue());
      }
    } else if (v == null) {
      g.writeNull();
    } else {
      g.writeString(String.valueOf(v));
    }
  }
}
