package dev.scoreline.bench.batching;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.linecorp.armeria.client.ClientFactory;
import com.linecorp.armeria.client.WebClient;
import com.linecorp.armeria.common.AggregatedHttpResponse;
import com.linecorp.armeria.common.HttpData;
import com.linecorp.armeria.common.HttpMethod;
import com.linecorp.armeria.common.HttpRequest;
import com.linecorp.armeria.common.MediaType;
import com.linecorp.armeria.common.RequestHeaders;
import dev.scoreline.bench.BenchModel;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;

/**
 * {@code rest-binary}: Open Inference Protocol v2 REST with the binary tensor data extension (input
 * and output as raw little-endian FP32 after the JSON header), through Armeria's {@link WebClient}
 * on an event loop of its own; plain {@code http://}, so calls share one HTTP/2 (h2c) connection as
 * gRPC's do.
 */
final class RestBinaryClient implements AsyncClient {
  private static final String HEADER_LENGTH = "inference-header-content-length";
  private static final ObjectMapper MAPPER = new ObjectMapper();

  private final ClientFactory factory;
  private final WebClient client;
  private final BenchModel.Spec model;
  private final String path;
  private final float[] features;
  private final ConcurrentHashMap<Long, Body[]> bodies = new ConcurrentHashMap<>();
  private final Expected expected;

  /** A request body and the length of its JSON header. */
  private record Body(byte[] bytes, int jsonLength) {}

  RestBinaryClient(int port, long deadlineMillis, Expected expected, BenchModel.Spec model) {
    this.expected = expected;
    this.model = model;
    this.path = "/v2/models/" + model.name() + "/versions/" + model.version() + "/infer";
    this.features = model.features(ROWS);
    this.factory = ClientFactory.builder().workerGroup(2).build();
    this.client =
        WebClient.builder("http://127.0.0.1:" + port)
            .factory(factory)
            .responseTimeout(Duration.ofMillis(deadlineMillis))
            .maxResponseLength(1 << 20)
            .build();
  }

  @Override
  public String transport() {
    return "rest-binary";
  }

  @Override
  public void call(int row, long timeoutMicros, Callback callback) {
    Body body = bodies.computeIfAbsent(Math.max(0, timeoutMicros), this::bodies)[row];
    try {
      RequestHeaders headers =
          RequestHeaders.builder(HttpMethod.POST, path)
              .contentType(MediaType.OCTET_STREAM)
              .setInt(HEADER_LENGTH, body.jsonLength())
              .build();
      client
          .execute(HttpRequest.of(headers, HttpData.wrap(body.bytes())))
          .aggregate()
          .handle(
              (r, error) -> {
                long end = System.nanoTime();
                if (error != null) {
                  String d = error.toString();
                  boolean timeout = d.contains("ResponseTimeoutException");
                  callback.done(timeout ? Outcome.TIMEOUT : Outcome.ERROR, end, d);
                  return null;
                }
                finish(row, r, end, callback);
                return null;
              });
    } catch (RuntimeException e) {
      callback.done(Outcome.ERROR, System.nanoTime(), e.toString());
    }
  }

  private void finish(int row, AggregatedHttpResponse r, long end, Callback callback) {
    int status = r.status().code();
    if (status != 200) {
      Outcome o =
          status == 429 ? Outcome.REJECTED : status == 504 ? Outcome.EXPIRED : Outcome.ERROR;
      String text = r.contentUtf8();
      callback.done(
          o, end, "HTTP " + status + ": " + text.substring(0, Math.min(200, text.length())));
      return;
    }
    String wrong;
    try {
      wrong = expected.check(row, score(r));
    } catch (RuntimeException | java.io.IOException e) {
      wrong = e.toString();
    }
    callback.done(wrong == null ? Outcome.OK : Outcome.WRONG, end, wrong);
  }

  private float score(AggregatedHttpResponse r) throws java.io.IOException {
    String len = r.headers().get(HEADER_LENGTH);
    if (len == null) {
      throw new IllegalStateException("the response has no " + HEADER_LENGTH + " header");
    }
    int jsonLength = Integer.parseInt(len);
    byte[] b = r.content().array();
    if (b.length != jsonLength + Float.BYTES) {
      throw new IllegalStateException("binary response has " + b.length + " bytes");
    }
    JsonNode outputs = MAPPER.readTree(b, 0, jsonLength).path("outputs");
    JsonNode score = outputs.path(0);
    JsonNode shape = score.path("shape");
    if (outputs.size() != 1
        || !model.output().equals(score.path("name").asText())
        || !"FP32".equals(score.path("datatype").asText())
        || shape.size() != 2
        || shape.get(0).asLong() != 1
        || shape.get(1).asLong() != 1
        || score.path("parameters").path("binary_data_size").asLong(-1) != Float.BYTES) {
      throw new IllegalStateException("unexpected outputs " + outputs);
    }
    return ByteBuffer.wrap(b, jsonLength, Float.BYTES).order(ByteOrder.LITTLE_ENDIAN).getFloat();
  }

  private Body[] bodies(long timeoutMicros) {
    int width = model.features();
    Body[] out = new Body[ROWS];
    for (int r = 0; r < ROWS; r++) {
      String params =
          timeoutMicros > 0
              ? "{\"binary_data_output\":true,\"timeout\":" + timeoutMicros + "}"
              : "{\"binary_data_output\":true}";
      byte[] header =
          ("{\"inputs\":[{\"name\":\""
                  + model.input()
                  + "\",\"datatype\":\"FP32\",\"shape\":[1,"
                  + width
                  + "],\"parameters\":{\"binary_data_size\":"
                  + width * Float.BYTES
                  + "}}],\"parameters\":"
                  + params
                  + "}")
              .getBytes(StandardCharsets.UTF_8);
      ByteBuffer buf =
          ByteBuffer.allocate(header.length + width * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
      buf.put(header);
      for (int j = 0; j < width; j++) {
        buf.putFloat(features[r * width + j]);
      }
      out[r] = new Body(buf.array(), header.length);
    }
    return out;
  }

  @Override
  public void close() {
    factory.close();
  }
}
