package dev.scoreline.server;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.linecorp.armeria.common.AggregatedHttpRequest;
import com.linecorp.armeria.common.HttpMethod;
import com.linecorp.armeria.common.HttpRequest;
import com.linecorp.armeria.common.HttpResponse;
import com.linecorp.armeria.common.HttpStatus;
import com.linecorp.armeria.server.HttpService;
import com.linecorp.armeria.server.ServiceRequestContext;
import dev.scoreline.core.error.ErrorCode;
import dev.scoreline.core.error.ScorelineException;
import dev.scoreline.core.model.InferenceResponse;
import dev.scoreline.core.model.ModelManager;
import dev.scoreline.core.model.ModelMetadata;
import dev.scoreline.core.model.ModelState;
import dev.scoreline.core.model.ModelStatus;
import dev.scoreline.core.model.TensorSpec;
import dev.scoreline.core.tensor.DataType;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * The Open Inference Protocol v2 REST endpoints under {@code /v2}: health, server and model
 * metadata, model readiness, inference (JSON and binary tensor data), the model repository
 * extension and Triton's model configuration.
 */
final class V2Service implements HttpService {
  /** Bodies larger than this are parsed on the blocking task executor, off the event loop. */
  private static final int PARSE_INLINE_LIMIT = 256 * 1024;

  private final ModelManager manager;
  private final Readiness readiness;
  private final long maxRequestBytes;
  private final byte[] serverMetadata;

  V2Service(ModelManager manager, long maxRequestBytes) {
    this(manager, maxRequestBytes, new Readiness(manager));
  }

  V2Service(ModelManager manager, long maxRequestBytes, Readiness readiness) {
    this.readiness = requireNonNull(readiness, "readiness is null");
    this.manager = requireNonNull(manager, "manager is null");
    this.maxRequestBytes = maxRequestBytes;
    ServerInfo info = ServerInfo.current();
    this.serverMetadata =
        Json.bytes(
            g -> {
              g.writeStartObject();
              g.writeStringField("name", info.name());
              g.writeStringField("version", info.version());
              g.writeArrayFieldStart("extensions");
              for (String e : info.extensions()) {
                g.writeString(e);
              }
              g.writeEndArray();
              g.writeEndObject();
            });
  }

  @Override
  public HttpResponse serve(ServiceRequestContext ctx, HttpRequest req) {
    try {
      return route(ctx, req);
    } catch (RuntimeException e) {
      return HttpErrors.response(ctx, e, maxRequestBytes);
    }
  }

  private HttpResponse route(ServiceRequestContext ctx, HttpRequest req) {
    String[] s = Paths.segments(ctx.decodedPath(), 1); // drop "v2"
    HttpMethod method = req.method();
    if (s.length == 0) {
      return method == HttpMethod.GET
          ? HttpResponse.of(
              HttpStatus.OK, com.linecorp.armeria.common.MediaType.JSON, serverMetadata)
          : notAllowed(method, ctx);
    }
    switch (s[0]) {
      case "health":
        if (s.length == 2 && (s[1].equals("live") || s[1].equals("ready"))) {
          if (method != HttpMethod.GET && method != HttpMethod.HEAD) {
            return notAllowed(method, ctx);
          }
          return s[1].equals("live") ? live() : ready();
        }
        break;
      case "models":
        if (s.length >= 2) {
          return model(ctx, req, s);
        }
        break;
      case "repository":
        if (method != HttpMethod.POST && s.length >= 2) {
          return notAllowed(method, ctx);
        }
        if (s.length == 2 && s[1].equals("index")) {
          return repositoryIndex(ctx, req);
        }
        if (s.length == 4 && s[1].equals("models")) {
          if (s[3].equals("load")) {
            return repositoryLoad(ctx, req, s[2], true);
          }
          if (s[3].equals("unload")) {
            return repositoryLoad(ctx, req, s[2], false);
          }
        }
        break;
      default:
        break;
    }
    return notFound(ctx);
  }

  /** {@code models/{name}[/versions/{v}][/ready|/infer|/config]} */
  private HttpResponse model(ServiceRequestContext ctx, HttpRequest req, String[] s) {
    String name = s[1];
    String version = null;
    int rest = 2;
    if (s.length >= 4 && s[2].equals("versions")) {
      version = s[3];
      rest = 4;
    }
    String action = s.length == rest ? "" : s.length == rest + 1 ? s[rest] : null;
    if (action == null) {
      return notFound(ctx);
    }
    HttpMethod method = req.method();
    switch (action) {
      case "":
        return method == HttpMethod.GET ? metadata(name, version) : notAllowed(method, ctx);
      case "ready":
        return method == HttpMethod.GET ? modelReady(name, version) : notAllowed(method, ctx);
      case "config":
        return method == HttpMethod.GET ? config(name, version) : notAllowed(method, ctx);
      case "infer":
        return method == HttpMethod.POST ? infer(ctx, req, name, version) : notAllowed(method, ctx);
      default:
        return notFound(ctx);
    }
  }

  // ---------------------------------------------------------------- health and metadata

  private static HttpResponse live() {
    return Json.ok(
        g -> {
          g.writeStartObject();
          g.writeBooleanField("live", true);
          g.writeEndObject();
        });
  }

  private HttpResponse ready() {
    boolean ready = readiness.isReady();
    List<String> waiting = ready ? List.of() : readiness.waitingFor();
    return Json.response(
        ready ? HttpStatus.OK : HttpStatus.SERVICE_UNAVAILABLE,
        g -> {
          g.writeStartObject();
          g.writeBooleanField("ready", ready);
          if (!waiting.isEmpty()) {
            g.writeArrayFieldStart("waiting_for");
            for (String w : waiting) {
              g.writeString(w);
            }
            g.writeEndArray();
          }
          g.writeEndObject();
        });
  }

  private HttpResponse modelReady(String name, String version) {
    boolean ready = manager.isReady(name, version);
    if (!ready) {
      if (!isKnown(name)) {
        throw ScorelineException.notFound(
            "unknown model '" + name + "'; loaded models: " + manager.readyModels());
      }
    }
    return Json.response(
        ready ? HttpStatus.OK : HttpStatus.SERVICE_UNAVAILABLE,
        g -> {
          g.writeStartObject();
          g.writeStringField("name", name);
          g.writeBooleanField("ready", ready);
          g.writeEndObject();
        });
  }

  /** True when the model is loaded, loading, failed to load, or is in the repository. */
  private boolean isKnown(String name) {
    for (ModelStatus s : manager.index()) {
      if (s.name().equals(name)) {
        return true;
      }
    }
    return false;
  }

  private HttpResponse metadata(String name, String version) {
    ModelMetadata m = manager.metadata(name, version);
    return Json.ok(
        g -> {
          g.writeStartObject();
          g.writeStringField("name", m.name());
          g.writeArrayFieldStart("versions");
          for (String v : m.versions()) {
            g.writeString(v);
          }
          g.writeEndArray();
          g.writeStringField("platform", m.platform());
          writeTensors(g, "inputs", m.inputs());
          writeTensors(g, "outputs", m.outputs());
          g.writeEndObject();
        });
  }

  private static void writeTensors(JsonGenerator g, String field, List<TensorSpec> specs)
      throws IOException {
    g.writeArrayFieldStart(field);
    for (TensorSpec s : specs) {
      g.writeStartObject();
      g.writeStringField("name", s.name());
      g.writeStringField("datatype", s.datatype().name());
      g.writeArrayFieldStart("shape");
      long[] shape = s.shape();
      if (shape != null) {
        for (long d : shape) {
          g.writeNumber(d);
        }
      }
      g.writeEndArray();
      g.writeEndObject();
    }
    g.writeEndArray();
  }

  /** Triton's model configuration (what perf_analyzer and Triton clients read). */
  private HttpResponse config(String name, String version) {
    ModelMetadata m = manager.metadata(name, version);
    int skip = m.maxBatchSize() > 0 ? 1 : 0;
    return Json.ok(
        g -> {
          g.writeStartObject();
          g.writeStringField("name", m.name());
          g.writeStringField("platform", m.platform());
          g.writeNumberField("max_batch_size", m.maxBatchSize());
          writeConfigTensors(g, "input", m.inputs(), skip);
          writeConfigTensors(g, "output", m.outputs(), skip);
          g.writeEndObject();
        });
  }

  private static void writeConfigTensors(
      JsonGenerator g, String field, List<TensorSpec> specs, int skip) throws IOException {
    g.writeArrayFieldStart(field);
    for (TensorSpec s : specs) {
      g.writeStartObject();
      g.writeStringField("name", s.name());
      g.writeStringField(
          "data_type", "TYPE_" + (s.datatype() == DataType.BYTES ? "STRING" : s.datatype().name()));
      g.writeArrayFieldStart("dims");
      long[] shape = s.shape();
      if (shape != null) {
        for (int i = Math.min(skip, shape.length); i < shape.length; i++) {
          g.writeNumber(shape[i]);
        }
      }
      g.writeEndArray();
      g.writeEndObject();
    }
    g.writeEndArray();
  }

  // ---------------------------------------------------------------- inference

  private HttpResponse infer(
      ServiceRequestContext ctx, HttpRequest req, String name, String version) {
    String headerLength = req.headers().get(InferRequestParser.HEADER_LENGTH);
    CompletableFuture<HttpResponse> response =
        req.aggregate()
            .thenCompose(
                agg -> {
                  byte[] body = agg.content().array();
                  if (body.length > PARSE_INLINE_LIMIT) {
                    return CompletableFuture.supplyAsync(
                            () -> InferRequestParser.parse(name, version, body, headerLength),
                            ctx.blockingTaskExecutor())
                        .thenCompose(parsed -> run(ctx, parsed));
                  }
                  return run(ctx, InferRequestParser.parse(name, version, body, headerLength));
                })
            .exceptionally(t -> HttpErrors.response(ctx, t, maxRequestBytes));
    return HttpResponse.of(response);
  }

  private CompletableFuture<HttpResponse> run(
      ServiceRequestContext ctx, InferRequestParser.Parsed parsed) {
    CompletableFuture<InferenceResponse> pending =
        manager.inferAsync(
            RequestHeaderParameters.apply(parsed.request(), ctx.request().headers()),
            RequestDeadlines.arrivalNanos(ctx),
            InlineHint.mayRunInline(ctx),
            InlineHint.answerOn(ctx));
    // the client went away or the request timed out: drop it before compute
    ctx.whenRequestCancelling().thenRun(() -> pending.cancel(false));
    return pending.thenApply(r -> InferResponseWriter.write(ctx.alloc(), r, parsed));
  }

  // ---------------------------------------------------------------- repository extension

  private HttpResponse repositoryIndex(ServiceRequestContext ctx, HttpRequest req) {
    CompletableFuture<HttpResponse> response =
        req.aggregate()
            .thenApplyAsync(
                agg -> {
                  boolean readyOnly = readyFlag(agg);
                  List<ModelStatus> index = manager.index();
                  return Json.ok(
                      g -> {
                        g.writeStartArray();
                        for (ModelStatus s : index) {
                          if (readyOnly && s.state() != ModelState.READY) {
                            continue;
                          }
                          g.writeStartObject();
                          g.writeStringField("name", s.name());
                          g.writeStringField("version", s.version());
                          g.writeStringField("state", s.state().name());
                          g.writeStringField("reason", s.reason());
                          g.writeEndObject();
                        }
                        g.writeEndArray();
                      });
                },
                ctx.blockingTaskExecutor())
            .exceptionally(t -> HttpErrors.response(ctx, t, maxRequestBytes));
    return HttpResponse.of(response);
  }

  private static boolean readyFlag(AggregatedHttpRequest agg) {
    Map<String, Object> body = objectBody(agg);
    Object ready = body.get("ready");
    if (ready == null) {
      return false;
    }
    if (!(ready instanceof Boolean)) {
      throw ScorelineException.userError("ready", "ready must be true or false");
    }
    return (Boolean) ready;
  }

  private HttpResponse repositoryLoad(
      ServiceRequestContext ctx, HttpRequest req, String name, boolean load) {
    CompletableFuture<HttpResponse> response =
        req.aggregate()
            .thenApplyAsync(
                agg -> {
                  Map<String, Object> body = objectBody(agg);
                  Object params = body.get("parameters");
                  if (params instanceof Map && !((Map<?, ?>) params).isEmpty() && load) {
                    for (Object key : ((Map<?, ?>) params).keySet()) {
                      String k = key.toString();
                      if (k.equals("config") || k.startsWith("file:")) {
                        throw new ScorelineException(
                            ErrorCode.UNSUPPORTED,
                            "parameters." + k,
                            "loading with an override config or files is not supported; put the"
                                + " model in the repository directory and load it by name",
                            null);
                      }
                    }
                  }
                  if (manager.isShuttingDown()) {
                    throw new ScorelineException(
                        ErrorCode.UNAVAILABLE,
                        "the server is shutting down; models stay as they are");
                  }
                  if (load) {
                    // fails with NOT_FOUND before the manager records a model that does not exist
                    manager.repository().read(name);
                    manager.load(name);
                  } else {
                    manager.unload(name);
                  }
                  return Json.ok(
                      g -> {
                        g.writeStartObject();
                        g.writeEndObject();
                      });
                },
                ctx.blockingTaskExecutor())
            .exceptionally(t -> HttpErrors.response(ctx, t, maxRequestBytes));
    return HttpResponse.of(response);
  }

  /**
   * An optional small JSON object body: keys to strings, numbers, booleans or (one level of)
   * parameter objects.
   */
  private static Map<String, Object> objectBody(AggregatedHttpRequest agg) {
    byte[] body = agg.content().array();
    if (body.length == 0) {
      return Map.of();
    }
    try (JsonParser p = Json.FACTORY.createParser(body)) {
      JsonToken t = p.nextToken();
      if (t == null) {
        return Map.of();
      }
      if (t != JsonToken.START_OBJECT) {
        throw ScorelineException.userError(null, "the request body must be a JSON object");
      }
      Map<String, Object> out = new java.util.LinkedHashMap<>();
      while (p.nextToken() == JsonToken.FIELD_NAME) {
        String key = p.currentName();
        t = p.nextToken();
        if (t == JsonToken.START_OBJECT) {
          out.put(key, InferRequestParser.readParameters(p, key));
        } else if (t == JsonToken.VALUE_TRUE || t == JsonToken.VALUE_FALSE) {
          out.put(key, p.getBooleanValue());
        } else if (t.isScalarValue()) {
          out.put(key, p.getText());
        } else {
          p.skipChildren();
        }
      }
      return out;
    } catch (JsonProcessingException e) {
      throw Json.malformed(e);
    } catch (IOException e) {
      throw ScorelineException.userError(null, "unreadable JSON: " + e.getMessage());
    }
  }

  // ---------------------------------------------------------------- errors

  private static HttpResponse notAllowed(HttpMethod method, ServiceRequestContext ctx) {
    return HttpErrors.response(
        HttpStatus.METHOD_NOT_ALLOWED,
        ErrorCode.USER_ERROR,
        "method " + method + " is not allowed on " + ctx.path());
  }

  static HttpResponse notFound(ServiceRequestContext ctx) {
    return HttpErrors.response(
        HttpStatus.NOT_FOUND,
        ErrorCode.NOT_FOUND,
        "no endpoint at "
            + ctx.path()
            + "; see GET /v2 (Open Inference Protocol), POST /v1/models/{name}:predict (TF"
            + " Serving) and GET /metrics");
  }
}
