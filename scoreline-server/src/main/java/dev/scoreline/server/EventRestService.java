package dev.scoreline.server;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.linecorp.armeria.common.HttpHeaderNames;
import com.linecorp.armeria.common.HttpMethod;
import com.linecorp.armeria.common.HttpRequest;
import com.linecorp.armeria.common.HttpResponse;
import com.linecorp.armeria.common.HttpStatus;
import com.linecorp.armeria.common.QueryParams;
import com.linecorp.armeria.server.HttpService;
import com.linecorp.armeria.server.ServiceRequestContext;
import dev.scoreline.core.error.ErrorCode;
import dev.scoreline.core.error.ScorelineException;
import dev.scoreline.stream.DeadLetter;
import dev.scoreline.stream.DeadLetters;
import dev.scoreline.stream.StreamProcessor;
import dev.scoreline.stream.StreamService;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * The streaming endpoints (docs/streaming.md, "HTTP API"):
 *
 * <ul>
 *   <li>{@code POST /v1/events/{stream}}: a body of JSON lines (one event object per line; a JSON
 *       array of objects is accepted too), appended durably to the embedded stream before the
 *       answer {@code {"stream": "...", "accepted": n, "first_offset": o}}. A line that is not a
 *       JSON object fails the whole batch with 400 naming the line; a stream too far behind answers
 *       429 with {@code Retry-After}; nothing of a refused batch is appended.
 *   <li>{@code GET /v1/streams}: the streaming surfaces, their sources, lag, committed positions
 *       and counts.
 *   <li>{@code GET /v1/streams/{surface}/dead-letters?from=0&limit=100}: dead letters with their
 *       reasons and original events.
 *   <li>{@code POST /v1/streams/{surface}/dead-letters/replay} with {@code {"from": 0, "to": 10,
 *       "force": false}} (all optional): appends the original events again (after the cause was
 *       fixed); with an admin token configured it needs {@code Authorization: Bearer <token>}.
 * </ul>
 */
final class EventRestService implements HttpService {
  static final String EVENTS = "/v1/events";
  static final String STREAMS = "/v1/streams";
  private static final ObjectMapper MAPPER = new ObjectMapper(Json.FACTORY);
  private static final int MAX_LIST = 10_000;

  private final StreamService streams;
  private final long maxRequestBytes;
  private final byte[] adminToken;

  /**
   * @param streams the running streaming surfaces, or null when the server runs none
   * @param adminToken protects replay, or null
   */
  EventRestService(StreamService streams, long maxRequestBytes, String adminToken) {
    this.streams = streams;
    this.maxRequestBytes = maxRequestBytes;
    this.adminToken = adminToken == null ? null : adminToken.getBytes(StandardCharsets.UTF_8);
  }

  @Override
  public HttpResponse serve(ServiceRequestContext ctx, HttpRequest req) {
    String path = ctx.path();
    if (streams == null) {
      return HttpErrors.response(
          ScorelineException.notFound(
              "this server runs no streaming surface; define one with 'mode: streaming' and a"
                  + " 'stream:' section (docs/streaming.md)"));
    }
    if (path.startsWith(EVENTS + "/")) {
      String stream = path.substring(EVENTS.length() + 1);
      if (stream.isEmpty() || stream.indexOf('/') >= 0) {
        return HttpErrors.response(
            ScorelineException.notFound(
                "use POST " + EVENTS + "/{stream}; streams: " + streams.streams()));
      }
      if (req.method() != HttpMethod.POST) {
        return notAllowed(req, path, "POST");
      }
      return HttpResponse.of(
          req.aggregate()
              .thenComposeAsync(
                  agg -> append(stream, agg.content().array()), ctx.blockingTaskExecutor())
              .exceptionally(t -> HttpErrors.response(ctx, t, maxRequestBytes)));
    }
    String rest = path.length() <= STREAMS.length() ? "" : path.substring(STREAMS.length() + 1);
    if (rest.isEmpty()) {
      if (req.method() != HttpMethod.GET) {
        return notAllowed(req, path, "GET");
      }
      return status();
    }
    String[] parts = rest.split("/");
    if (parts.length >= 2 && parts[1].equals("dead-letters")) {
      String surface = parts[0];
      if (parts.length == 2) {
        if (req.method() != HttpMethod.GET) {
          return notAllowed(req, path, "GET");
        }
        QueryParams q = QueryParams.fromQueryString(ctx.query());
        return HttpResponse.of(
            CompletableFuture.supplyAsync(() -> list(surface, q), ctx.blockingTaskExecutor())
                .exceptionally(t -> HttpErrors.response(ctx, t, maxRequestBytes)));
      }
      if (parts.length == 3 && parts[2].equals("replay")) {
        if (req.method() != HttpMethod.POST) {
          return notAllowed(req, path, "POST");
        }
        if (adminToken != null
            && !AdminAuth.authorized(
                req.headers().get(HttpHeaderNames.AUTHORIZATION), adminToken)) {
          return HttpErrors.response(
              new ScorelineException(
                  ErrorCode.UNAUTHENTICATED,
                  "Authorization",
                  "replay needs 'Authorization: Bearer <token>' (the server's admin token)",
                  null));
        }
        return HttpResponse.of(
            req.aggregate()
                .thenApplyAsync(
                    agg -> replay(surface, agg.content().array()), ctx.blockingTaskExecutor())
                .exceptionally(t -> HttpErrors.response(ctx, t, maxRequestBytes)));
      }
    }
    return HttpErrors.response(
        ScorelineException.notFound(
            "no endpoint at "
                + path
                + "; use GET "
                + STREAMS
                + ", GET "
                + STREAMS
                + "/{surface}/dead-letters or POST "
                + STREAMS
                + "/{surface}/dead-letters/replay"));
  }

  private static HttpResponse notAllowed(HttpRequest req, String path, String method) {
    return HttpErrors.response(
        HttpStatus.METHOD_NOT_ALLOWED,
        ErrorCode.USER_ERROR,
        "method " + req.method() + " is not allowed on " + path + "; use " + method);
  }

  // ---------------------------------------------------------------- ingest

  private CompletableFuture<HttpResponse> append(String stream, byte[] body) {
    List<byte[]> events = parse(body);
    if (events.isEmpty()) {
      throw ScorelineException.userError(
          null, "the body holds no events; send one JSON object per line");
    }
    int n = events.size();
    return streams
        .append(stream, events)
        .thenApply(
            first ->
                Json.ok(
                    g -> {
                      g.writeStartObject();
                      g.writeStringField("stream", stream);
                      g.writeNumberField("accepted", n);
                      g.writeNumberField("first_offset", first);
                      g.writeEndObject();
                    }));
  }

  /** Splits JSON lines (or a JSON array) into events, checking that each is a JSON object. */
  static List<byte[]> parse(byte[] body) {
    int i = 0;
    while (i < body.length && Character.isWhitespace(body[i])) {
      i++;
    }
    List<byte[]> out = new ArrayList<>();
    if (i < body.length && body[i] == '[') {
      JsonNode arr;
      try {
        arr = MAPPER.readTree(body);
      } catch (IOException e) {
        throw ScorelineException.userError(
            "body", "the body starts with '[' but is not a JSON array: " + message(e));
      }
      for (int k = 0; k < arr.size(); k++) {
        if (!arr.get(k).isObject()) {
          throw ScorelineException.userError(
              "[" + k + "]", "element " + k + " is not a JSON object; every event is an object");
        }
        try {
          out.add(MAPPER.writeValueAsBytes(arr.get(k)));
        } catch (JsonProcessingException e) {
          throw new ScorelineException(ErrorCode.INTERNAL, "cannot re-encode an event", e);
        }
      }
      return out;
    }
    int line = 0;
    int start = 0;
    for (int p = 0; p <= body.length; p++) {
      if (p == body.length || body[p] == '\n') {
        line++;
        int end = p;
        if (end > start && body[end - 1] == '\r') {
          end--;
        }
        if (!blank(body, start, end)) {
          byte[] event = Arrays.copyOfRange(body, start, end);
          check(event, line);
          out.add(event);
        }
        start = p + 1;
      }
    }
    return out;
  }

  private static boolean blank(byte[] b, int from, int to) {
    for (int i = from; i < to; i++) {
      if (!Character.isWhitespace(b[i])) {
        return false;
      }
    }
    return true;
  }

  private static void check(byte[] event, int line) {
    try (JsonParser p = Json.FACTORY.createParser(event)) {
      if (p.nextToken() != JsonToken.START_OBJECT) {
        throw ScorelineException.userError(
            "line " + line,
            "line " + line + " is not a JSON object; send one event object per line");
      }
      p.skipChildren();
      if (p.nextToken() != null) {
        throw ScorelineException.userError(
            "line " + line,
            "line " + line + " has more than one JSON value; send one event object per line");
      }
    } catch (IOException e) {
      throw ScorelineException.userError(
          "line " + line, "line " + line + " is not valid JSON: " + message(e));
    }
  }

  private static String message(IOException e) {
    return e instanceof JsonProcessingException j ? j.getOriginalMessage() : e.getMessage();
  }

  // ---------------------------------------------------------------- admin

  private HttpResponse status() {
    return Json.ok(
        g -> {
          g.writeStartObject();
          g.writeArrayFieldStart("streams");
          for (String s : streams.streams()) {
            g.writeString(s);
          }
          g.writeEndArray();
          g.writeArrayFieldStart("surfaces");
          for (StreamProcessor p : streams.processors().values()) {
            StreamProcessor.Status s = p.status();
            g.writeStartObject();
            g.writeStringField("surface", s.surface());
            g.writeStringField("source", s.source());
            g.writeBooleanField("running", s.running());
            g.writeNumberField("lag", s.lag());
            g.writeObjectFieldStart("committed");
            for (Map.Entry<Integer, Long> e : s.committed().entrySet()) {
              g.writeNumberField(Integer.toString(e.getKey()), e.getValue());
            }
            g.writeEndObject();
            g.writeNumberField("events_in", s.in());
            g.writeNumberField("results", s.results());
            g.writeNumberField("dead_letters", s.deadLetters());
            g.writeNumberField("duplicates", s.duplicates());
            if (s.failure() != null) {
              g.writeStringField("failure", s.failure());
            }
            g.writeEndObject();
          }
          g.writeEndArray();
          g.writeEndObject();
        });
  }

  private HttpResponse list(String surface, QueryParams q) {
    long from = number(q, "from", 0);
    int limit = (int) Math.min(MAX_LIST, number(q, "limit", 100));
    DeadLetters dl = streams.deadLetters(surface);
    List<DeadLetters.Entry> entries = dl.list(from, limit);
    return Json.ok(
        g -> {
          g.writeStartObject();
          g.writeStringField("surface", surface);
          g.writeNumberField("total", dl.size());
          g.writeArrayFieldStart("dead_letters");
          for (DeadLetters.Entry e : entries) {
            DeadLetter d = e.letter();
            g.writeStartObject();
            g.writeNumberField("offset", e.offset());
            g.writeBooleanField("replayed", e.replayed());
            g.writeStringField("source", d.source());
            g.writeNumberField("source_partition", d.partition());
            g.writeNumberField("source_offset", d.offset());
            if (d.eventId() != null) {
              g.writeStringField("event_id", d.eventId());
            }
            g.writeStringField("stage", d.stage());
            g.writeStringField("code", d.code().name());
            g.writeStringField("reason", d.reason());
            g.writeStringField("event", new String(d.event(), StandardCharsets.UTF_8));
            g.writeEndObject();
          }
          g.writeEndArray();
          g.writeEndObject();
        });
  }

  private HttpResponse replay(String surface, byte[] body) {
    long from = 0;
    long to = Long.MAX_VALUE;
    boolean force = false;
    if (!blank(body, 0, body.length)) {
      JsonNode n;
      try {
        n = MAPPER.readTree(body);
      } catch (IOException e) {
        throw ScorelineException.userError("body", "not valid JSON: " + message(e));
      }
      from = n.path("from").asLong(0);
      to = n.has("to") ? n.get("to").asLong() : Long.MAX_VALUE;
      force = n.path("force").asBoolean(false);
    }
    int replayed = streams.replay(surface, from, to, force);
    return Json.ok(
        g -> {
          g.writeStartObject();
          g.writeStringField("surface", surface);
          g.writeNumberField("replayed", replayed);
          g.writeEndObject();
        });
  }

  private static long number(QueryParams q, String name, long dflt) {
    String v = q.get(name);
    if (v == null) {
      return dflt;
    }
    try {
      long n = Long.parseLong(v);
      if (n < 0) {
        throw new NumberFormatException();
      }
      return n;
    } catch (NumberFormatException e) {
      throw ScorelineException.userError(
          name, name + " must be a whole number >= 0, got '" + v + "'");
    }
  }
}
