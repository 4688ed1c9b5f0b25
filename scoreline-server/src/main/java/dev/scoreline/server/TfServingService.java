package dev.scoreline.server;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.linecorp.armeria.common.HttpMethod;
import com.linecorp.armeria.common.HttpRequest;
import com.linecorp.armeria.common.HttpResponse;
import com.linecorp.armeria.common.HttpStatus;
import com.linecorp.armeria.server.HttpService;
import com.linecorp.armeria.server.ServiceRequestContext;
import dev.scoreline.core.error.ErrorCode;
import dev.scoreline.core.error.ScorelineException;
import dev.scoreline.core.model.InferenceRequest;
import dev.scoreline.core.model.InferenceResponse;
import dev.scoreline.core.model.ModelManager;
import dev.scoreline.core.model.ModelMetadata;
import dev.scoreline.core.model.ModelState;
import dev.scoreline.core.model.ModelStatus;
import dev.scoreline.core.model.TensorSpec;
import dev.scoreline.core.tensor.DataType;
import dev.scoreline.core.tensor.Shapes;
import dev.scoreline.core.tensor.Tensor;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * TensorFlow Serving's REST API under {@code /v1}: {@code :predict} in the row ({@code instances})
 * and columnar ({@code inputs}) formats, model status and model metadata, by version number or
 * label ({@code /v1/models/m/labels/stable:predict}). JSON carries no datatypes, so they come from
 * the model's metadata. A legacy path: it parses through a JSON tree (which keeps integers exact)
 * and then converts with the same element code as the v2 endpoint.
 */
final class TfServingService implements HttpService {
  private static final ObjectMapper MAPPER = new ObjectMapper(Json.FACTORY);

  private final ModelManager manager;
  private final long maxRequestBytes;

  TfServingService(ModelManager manager, long maxRequestBytes) {
    this.manager = requireNonNull(manager, "manager is null");
    this.maxRequestBytes = maxRequestBytes;
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
    String[] s = Paths.segments(ctx.decodedPath(), 1); // drop "v1"
    if (s.length == 0 || !s[0].equals("models")) {
      return V2Service.notFound(ctx);
    }
    HttpMethod method = req.method();
    if (s.length == 1) {
      return method == HttpMethod.GET ? listModels() : notAllowed(method, ctx);
    }
    // models/{name}[/versions/{v}][:verb] or models/{name}[/versions/{v}]/metadata
    String last = s[s.length - 1];
    String verb = null;
    int colon = last.lastIndexOf(':');
    if (colon > 0) {
      verb = last.substring(colon + 1);
      s[s.length - 1] = last.substring(0, colon);
    }
    boolean metadata = false;
    int n = s.length;
    if (verb == null && n >= 3 && s[n - 1].equals("metadata")) {
      metadata = true;
      n--;
    }
    String name = s[1];
    String version = null;
    if (n == 4 && (s[2].equals("versions") || s[2].equals("labels"))) {
      version = s[3]; // the model manager resolves numbers and labels alike
    } else if (n != 2) {
      return V2Service.notFound(ctx);
    }
    if (verb != null) {
      if (!verb.equals("predict")) {
        throw new ScorelineException(
            ErrorCode.UNSUPPORTED,
            ":" + verb + " is not supported; use :predict (or the v2 infer endpoint)");
      }
      return method == HttpMethod.POST ? predict(ctx, req, name, version) : notAllowed(method, ctx);
    }
    if (method != HttpMethod.GET) {
      return notAllowed(method, ctx);
    }
    return metadata ? metadata(name, version) : status(name, version);
  }

  private static HttpResponse notAllowed(HttpMethod method, ServiceRequestContext ctx) {
    return HttpErrors.response(
        HttpStatus.METHOD_NOT_ALLOWED,
        ErrorCode.USER_ERROR,
        "method " + method + " is not allowed on " + ctx.path());
  }

  // ---------------------------------------------------------------- status and metadata

  private HttpResponse listModels() {
    List<String> names = manager.readyModels();
    return Json.ok(
        g -> {
          g.writeStartObject();
          g.writeArrayFieldStart("models");
          for (String name : names) {
            g.writeString(name);
          }
          g.writeEndArray();
          g.writeEndObject();
        });
  }

  private HttpResponse status(String name, String versionOrLabel) {
    String version = versionOrLabel;
    if (version != null && !version.isEmpty() && !Character.isDigit(version.charAt(0))) {
      Long v = manager.repository().read(name).config().versionLabels().get(version);
      if (v == null) {
        throw ScorelineException.notFound(
            "model '" + name + "' has no version label '" + version + "'");
      }
      version = v.toString();
    }
    String wanted = version;
    List<ModelStatus> rows = new ArrayList<>();
    for (ModelStatus s : manager.index()) {
      if (s.name().equals(name) && (wanted == null || s.version().equals(wanted))) {
        rows.add(s);
      }
    }
    if (rows.isEmpty()) {
      throw ScorelineException.notFound(
          wanted == null
              ? "unknown model '" + name + "'; loaded models: " + manager.readyModels()
              : "model '" + name + "' has no version " + wanted);
    }
    return Json.ok(
        g -> {
          g.writeStartObject();
          g.writeArrayFieldStart("model_version_status");
          for (ModelStatus s : rows) {
            boolean failed =
                s.state() == ModelState.UNAVAILABLE && !s.reason().equals("not loaded");
            g.writeStartObject();
            g.writeStringField("version", s.version().isEmpty() ? "0" : s.version());
            g.writeStringField("state", tfState(s.state()));
            g.writeObjectFieldStart("status");
            g.writeStringField("error_code", failed ? "UNKNOWN" : "OK");
            g.writeStringField("error_message", failed ? s.reason() : "");
            g.writeEndObject();
            g.writeEndObject();
          }
          g.writeEndArray();
          g.writeEndObject();
        });
  }

  private static String tfState(ModelState state) {
    switch (state) {
      case READY:
        return "AVAILABLE";
      case LOADING:
        return "LOADING";
      case UNLOADING:
        return "UNLOADING";
      default:
        return "END";
    }
  }

  private HttpResponse metadata(String name, String version) {
    ModelMetadata m = manager.metadata(name, version);
    String v = version != null ? version : m.versions().get(m.versions().size() - 1);
    return Json.ok(
        g -> {
          g.writeStartObject();
          g.writeObjectFieldStart("model_spec");
          g.writeStringField("name", m.name());
          g.writeStringField("signature_name", "");
          g.writeStringField("version", v);
          g.writeEndObject();
          g.writeObjectFieldStart("metadata");
          g.writeObjectFieldStart("signature_def");
          g.writeObjectFieldStart("signature_def");
          g.writeObjectFieldStart("serving_default");
          writeSignature(g, "inputs", m.inputs());
          writeSignature(g, "outputs", m.outputs());
          g.writeStringField("method_name", "tensorflow/serving/predict");
          g.writeEndObject();
          g.writeEndObject();
          g.writeEndObject();
          g.writeEndObject();
          g.writeEndObject();
        });
  }

  private static void writeSignature(JsonGenerator g, String field, List<TensorSpec> specs)
      throws IOException {
    g.writeObjectFieldStart(field);
    for (TensorSpec s : specs) {
      g.writeObjectFieldStart(s.name());
      g.writeStringField("dtype", tfType(s.datatype()));
      g.writeObjectFieldStart("tensor_shape");
      g.writeArrayFieldStart("dim");
      long[] shape = s.shape();
      for (long d : shape == null ? new long[0] : shape) {
        g.writeStartObject();
        g.writeStringField("size", Long.toString(d));
        g.writeStringField("name", "");
        g.writeEndObject();
      }
      g.writeEndArray();
      g.writeBooleanField("unknown_rank", shape == null);
      g.writeEndObject();
      g.writeStringField("name", s.name());
      g.writeEndObject();
    }
    g.writeEndObject();
  }

  private static String tfType(DataType t) {
    switch (t) {
      case FP16:
        return "DT_HALF";
      case BF16:
        return "DT_BFLOAT16";
      case FP32:
        return "DT_FLOAT";
      case FP64:
        return "DT_DOUBLE";
      case BYTES:
        return "DT_STRING";
      default:
        return "DT_" + t.name();
    }
  }

  // ---------------------------------------------------------------- predict

  private HttpResponse predict(
      ServiceRequestContext ctx, HttpRequest req, String name, String version) {
    CompletableFuture<HttpResponse> response =
        req.aggregate()
            .thenCompose(
                agg -> {
                  ModelMetadata m = manager.metadata(name, version);
                  Predict p = parse(agg.content().array(), m, version);
                  CompletableFuture<InferenceResponse> pending =
                      manager.inferAsync(
                          p.request,
                          RequestDeadlines.arrivalNanos(ctx),
                          InlineHint.mayRunInline(ctx),
                          InlineHint.answerOn(ctx));
                  ctx.whenRequestCancelling().thenRun(() -> pending.cancel(false));
                  return pending.thenApply(r -> Json.ok(g -> writePredictions(g, p, r)));
                })
            .exceptionally(t -> HttpErrors.response(ctx, t, maxRequestBytes));
    return HttpResponse.of(response);
  }

  private static final class Predict {
    InferenceRequest request;
    boolean rows;
    int batch;
  }

  private static Predict parse(byte[] body, ModelMetadata m, String version) {
    JsonNode root;
    try {
      root = MAPPER.readTree(body);
    } catch (JsonProcessingException e) {
      throw Json.malformed(e);
    } catch (IOException e) {
      throw ScorelineException.userError(null, "unreadable JSON: " + e.getMessage());
    }
    if (root == null || !root.isObject()) {
      throw ScorelineException.userError(
          null,
          "the request body must be a JSON object {\"instances\": [...]} or {\"inputs\": ...}");
    }
    JsonNode signature = root.get("signature_name");
    if (signature != null && !signature.isNull() && !signature.asText().equals("serving_default")) {
      throw ScorelineException.userError(
          "signature_name",
          "signature_name '"
              + signature.asText()
              + "' does not exist; models have one signature, 'serving_default'");
    }
    JsonNode instances = root.get("instances");
    JsonNode inputs = root.get("inputs");
    if ((instances == null) == (inputs == null)) {
      throw ScorelineException.userError(
          instances == null ? "instances" : null,
          instances == null
              ? "the request needs 'instances' (row format) or 'inputs' (columnar format)"
              : "the request has both 'instances' and 'inputs'; send one of them");
    }
    List<TensorSpec> specs = m.inputs();
    Predict p = new Predict();
    p.rows = instances != null;
    List<Tensor> tensors = new ArrayList<>(specs.size());
    if (p.rows) {
      if (!instances.isArray() || instances.isEmpty()) {
        throw ScorelineException.userError(
            "instances", "instances must be a non-empty list with one element per example");
      }
      p.batch = instances.size();
      boolean named = instances.get(0).isObject() && !isB64(instances.get(0));
      if (!named) {
        if (specs.size() != 1) {
          throw multipleInputs("instances", m);
        }
        tensors.add(tensor("instances", specs.get(0), instances));
      } else {
        for (TensorSpec spec : specs) {
          ArrayNode column = JsonNodeFactory.instance.arrayNode(p.batch);
          for (int k = 0; k < p.batch; k++) {
            JsonNode row = instances.get(k);
            JsonNode v = row.isObject() ? row.get(spec.name()) : null;
            if (v == null) {
              throw ScorelineException.userError(
                  "instances[" + k + "]",
                  "instances[" + k + "] has no value for input '" + spec.name() + "'");
            }
            column.add(v);
          }
          tensors.add(tensor("instances", spec, column));
        }
        checkNames("instances[0]", instances.get(0), m);
      }
    } else {
      boolean named = inputs.isObject() && !isB64(inputs);
      if (!named) {
        if (specs.size() != 1) {
          throw multipleInputs("inputs", m);
        }
        tensors.add(tensor("inputs", specs.get(0), inputs));
      } else {
        checkNames("inputs", inputs, m);
        for (TensorSpec spec : specs) {
          JsonNode v = inputs.get(spec.name());
          if (v == null) {
            throw ScorelineException.userError(
                "inputs", "inputs has no value for input '" + spec.name() + "'");
          }
          tensors.add(tensor("inputs." + spec.name(), spec, v));
        }
      }
    }
    p.request = new InferenceRequest(m.name(), version, "", Map.of(), tensors, List.of());
    return p;
  }

  private static ScorelineException multipleInputs(String field, ModelMetadata m) {
    List<String> names = new ArrayList<>();
    m.inputs().forEach(s -> names.add(s.name()));
    return ScorelineException.userError(
        field,
        "model '"
            + m.name()
            + "' has inputs "
            + names
            + "; key the values by input name, such as {\""
            + names.get(0)
            + "\": ...}");
  }

  private static void checkNames(String field, JsonNode object, ModelMetadata m) {
    Iterator<String> names = object.fieldNames();
    while (names.hasNext()) {
      String n = names.next();
      boolean found = false;
      for (TensorSpec s : m.inputs()) {
        found |= s.name().equals(n);
      }
      if (!found) {
        List<String> valid = new ArrayList<>();
        m.inputs().forEach(s -> valid.add(s.name()));
        throw ScorelineException.userError(
            field, "model '" + m.name() + "' has no input '" + n + "'; its inputs are " + valid);
      }
    }
  }

  private static boolean isB64(JsonNode node) {
    return node.isObject() && node.size() == 1 && node.has("b64");
  }

  /** Converts one input's nested JSON value into a tensor of the model's datatype. */
  private static Tensor tensor(String field, TensorSpec spec, JsonNode value) {
    long[] shape = shapeOf(value);
    if (spec.datatype() == DataType.BYTES) {
      long count = Shapes.elementCount(field, shape);
      List<byte[]> out = new ArrayList<>();
      collectBytes(field, value, out, count);
      if (out.size() != count) {
        throw ScorelineException.userError(
            field,
            field + " is ragged: every row must have the same shape " + Shapes.format(shape));
      }
      return Tensor.ofBytes(spec.name(), shape, out.toArray(new byte[0][]));
    }
    try (JsonParser p = value.traverse(MAPPER)) {
      p.nextToken();
      return TensorJson.read(p, field, spec.name(), spec.datatype(), shape, Integer.MAX_VALUE);
    } catch (IOException e) {
      throw ScorelineException.userError(field, "unreadable " + field + ": " + e.getMessage());
    }
  }

  private static long[] shapeOf(JsonNode value) {
    List<Long> dims = new ArrayList<>();
    JsonNode v = value;
    while (v.isArray()) {
      dims.add((long) v.size());
      if (v.isEmpty()) {
        break;
      }
      v = v.get(0);
    }
    long[] shape = new long[dims.size()];
    for (int i = 0; i < shape.length; i++) {
      shape[i] = dims.get(i);
    }
    return shape;
  }

  private static void collectBytes(String field, JsonNode v, List<byte[]> out, long max) {
    if (v.isArray()) {
      for (JsonNode e : v) {
        collectBytes(field, e, out, max);
      }
      return;
    }
    if (out.size() >= max) {
      throw ScorelineException.userError(
          field, field + " is ragged: every row must have the same shape");
    }
    if (v.isTextual()) {
      out.add(v.textValue().getBytes(StandardCharsets.UTF_8));
    } else if (isB64(v) && v.get("b64").isTextual()) {
      try {
        out.add(Base64.getDecoder().decode(v.get("b64").textValue()));
      } catch (IllegalArgumentException e) {
        throw ScorelineException.userError(
            field, field + " element " + out.size() + " has invalid base64: " + e.getMessage());
      }
    } else {
      throw ScorelineException.userError(
          field,
          field
              + " element "
              + out.size()
              + " is "
              + v.getNodeType().name().toLowerCase(java.util.Locale.ROOT)
              + " but the input is a string tensor; send strings or {\"b64\": \"...\"}");
    }
  }

  private static void writePredictions(JsonGenerator g, Predict p, InferenceResponse r)
      throws IOException {
    List<Tensor> outputs = r.outputs();
    g.writeStartObject();
    if (p.rows) {
      for (Tensor t : outputs) {
        if (t.rank() == 0 || t.dim(0) != p.batch) {
          throw ScorelineException.userError(
              "instances",
              "output '"
                  + t.name()
                  + "' has shape "
                  + Shapes.format(t.shape())
                  + ", which does not have one row per instance; use the columnar format"
                  + " {\"inputs\": ...}");
        }
      }
      g.writeArrayFieldStart("predictions");
      for (int k = 0; k < p.batch; k++) {
        if (outputs.size() == 1) {
          writeRow(g, outputs.get(0), k);
        } else {
          g.writeStartObject();
          for (Tensor t : outputs) {
            g.writeFieldName(t.name());
            writeRow(g, t, k);
          }
          g.writeEndObject();
        }
      }
      g.writeEndArray();
    } else {
      g.writeFieldName("outputs");
      if (outputs.size() == 1) {
        Tensor t = outputs.get(0);
        TensorJson.writeNested(g, t, t.shape(), 0, 0, t.name().endsWith("_bytes"));
      } else {
        g.writeStartObject();
        for (Tensor t : outputs) {
          g.writeFieldName(t.name());
          TensorJson.writeNested(g, t, t.shape(), 0, 0, t.name().endsWith("_bytes"));
        }
        g.writeEndObject();
      }
    }
    g.writeEndObject();
  }

  private static void writeRow(JsonGenerator g, Tensor t, int row) throws IOException {
    long[] shape = t.shape();
    int stride = (int) (t.elementCount() / shape[0]);
    TensorJson.writeNested(g, t, shape, 1, row * stride, t.name().endsWith("_bytes"));
  }
}
