package dev.scoreline.bench;

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
import com.linecorp.armeria.common.RequestHeadersBuilder;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Locale;

/**
 * The Open Inference Protocol v2 REST callers: {@code rest-json} and {@code rest-binary} (the
 * binary tensor data extension), over one of two HTTP clients. Request bodies are built once per
 * batch size; every response is parsed and checked.
 */
final class RestCallers {
  static final String HEADER_LENGTH = "inference-header-content-length";
  private static final ObjectMapper MAPPER = new ObjectMapper();
  private static final Duration TIMEOUT = Duration.ofSeconds(10);

  private RestCallers() {}

  /** A response reduced to what the callers check. */
  record Response(int status, String headerLength, byte[] body) {}

  /** An HTTP client that posts a body and waits for the whole response. */
  interface Transport extends AutoCloseable {
    Response post(String path, byte[] body, boolean binary, int jsonLength) throws Exception;

    @Override
    void close();
  }

  /** Creates the transport named by {@code --http-client}: {@code armeria} or {@code jdk}. */
  static Transport transport(String kind, int port) {
    switch (kind.toLowerCase(Locale.ROOT)) {
      case "armeria":
        return new ArmeriaTransport(port);
      case "jdk":
        return new JdkTransport(port);
      default:
        throw new IllegalArgumentException("--http-client must be armeria or jdk, got " + kind);
    }
  }

  /** {@code rest-json}: the input as a JSON array, the output returned as JSON. */
  static Caller json(Transport transport, int batch) {
    float[] x = BenchModel.features(batch);
    StringBuilder sb = new StringBuilder(64 + x.length * 12);
    sb.append("{\"inputs\":[{\"name\":\"")
        .append(BenchModel.INPUT)
        .append("\",\"datatype\":\"FP32\",\"shape\":[")
        .append(batch)
        .append(',')
        .append(BenchModel.FEATURES)
        .append("],\"data\":[");
    for (int i = 0; i < x.length; i++) {
      if (i > 0) {
        sb.append(',');
      }
      sb.append(x[i]);
    }
    sb.append("]}]}");
    byte[] body = sb.toString().getBytes(StandardCharsets.UTF_8);
    String path = inferPath();
    return () -> {
      Response r = transport.post(path, body, false, -1);
      checkStatus(r);
      JsonNode score = scoreOutput(MAPPER.readTree(r.body()), batch);
      JsonNode data = score.get("data");
      if (data == null || !data.isArray() || data.size() != batch) {
        throw new IllegalStateException("score.data is not an array of " + batch + " numbers");
      }
      float[] out = new float[batch];
      for (int i = 0; i < batch; i++) {
        out[i] = (float) data.get(i).asDouble();
      }
      return out;
    };
  }

  /**
   * {@code rest-binary}: the input as raw little-endian bytes after the JSON header, and {@code
   * binary_data_output: true} so the output comes back the same way.
   */
  static Caller binary(Transport transport, int batch) {
    float[] x = BenchModel.features(batch);
    int dataBytes = x.length * Float.BYTES;
    byte[] header =
        ("{\"inputs\":[{\"name\":\""
                + BenchModel.INPUT
                + "\",\"datatype\":\"FP32\",\"shape\":["
                + batch
                + ","
                + BenchModel.FEATURES
                + "],\"parameters\":{\"binary_data_size\":"
                + dataBytes
                + "}}],\"parameters\":{\"binary_data_output\":true}}")
            .getBytes(StandardCharsets.UTF_8);
    ByteBuffer buf = ByteBuffer.allocate(header.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
    buf.put(header);
    for (float v : x) {
      buf.putFloat(v);
    }
    byte[] body = buf.array();
    String path = inferPath();
    int outBytes = batch * Float.BYTES;
    return () -> {
      Response r = transport.post(path, body, true, header.length);
      checkStatus(r);
      if (r.headerLength() == null) {
        throw new IllegalStateException("the response has no " + HEADER_LENGTH + " header");
      }
      int jsonLength = Integer.parseInt(r.headerLength());
      byte[] b = r.body();
      if (b.length != jsonLength + outBytes) {
        throw new IllegalStateException(
            "binary response has " + b.length + " bytes, expected " + (jsonLength + outBytes));
      }
      JsonNode score = scoreOutput(MAPPER.readTree(b, 0, jsonLength), batch);
      JsonNode size = score.path("parameters").path("binary_data_size");
      if (size.asLong(-1) != outBytes) {
        throw new IllegalStateException("score.parameters.binary_data_size is " + size);
      }
      ByteBuffer data = ByteBuffer.wrap(b, jsonLength, outBytes).order(ByteOrder.LITTLE_ENDIAN);
      float[] out = new float[batch];
      for (int i = 0; i < batch; i++) {
        out[i] = data.getFloat();
      }
      return out;
    };
  }

  private static String inferPath() {
    return "/v2/models/" + BenchModel.NAME + "/versions/" + BenchModel.VERSION + "/infer";
  }

  private static void checkStatus(Response r) {
    if (r.status() != 200) {
      String text = new String(r.body(), 0, Math.min(r.body().length, 300), StandardCharsets.UTF_8);
      throw new IllegalStateException("HTTP " + r.status() + ": " + text);
    }
  }

  private static JsonNode scoreOutput(JsonNode root, int batch) {
    JsonNode outputs = root.get("outputs");
    if (outputs == null || outputs.size() != 1) {
      throw new IllegalStateException("expected one output in " + root);
    }
    JsonNode score = outputs.get(0);
    if (!BenchModel.OUTPUT.equals(score.path("name").asText())
        || !"FP32".equals(score.path("datatype").asText())) {
      throw new IllegalStateException("unexpected output " + score);
    }
    JsonNode shape = score.path("shape");
    long[] dims = new long[shape.size()];
    for (int i = 0; i < dims.length; i++) {
      dims[i] = shape.get(i).asLong();
    }
    Caller.checkShape(dims, batch);
    return score;
  }

  /**
   * Armeria's {@link WebClient} on an event loop group of its own (so client and server do not
   * share I/O threads, as they would not across processes). Plain {@code http://}: Armeria opens
   * HTTP/2 (h2c) with the connection preface, so concurrent calls share one connection, as gRPC's
   * do.
   */
  static final class ArmeriaTransport implements Transport {
    private final ClientFactory factory;
    private final WebClient client;

    ArmeriaTransport(int port) {
      this.factory = ClientFactory.builder().workerGroup(2).build();
      this.client =
          WebClient.builder("http://127.0.0.1:" + port)
              .factory(factory)
              .responseTimeout(TIMEOUT)
              .maxResponseLength(16 << 20)
              .build();
    }

    @Override
    public Response post(String path, byte[] body, boolean binary, int jsonLength) {
      RequestHeadersBuilder headers =
          RequestHeaders.builder(HttpMethod.POST, path)
              .contentType(binary ? MediaType.OCTET_STREAM : MediaType.JSON);
      if (jsonLength >= 0) {
        headers.setInt(HEADER_LENGTH, jsonLength);
      }
      AggregatedHttpResponse r =
          client.execute(HttpRequest.of(headers.build(), HttpData.wrap(body))).aggregate().join();
      return new Response(r.status().code(), r.headers().get(HEADER_LENGTH), r.content().array());
    }

    @Override
    public void close() {
      factory.close();
    }
  }

  /** The JDK's {@link HttpClient}, HTTP/1.1 (one connection per concurrent caller). */
  static final class JdkTransport implements Transport {
    private final HttpClient client;
    private final String base;

    JdkTransport(int port) {
      this.client =
          HttpClient.newBuilder()
              .version(HttpClient.Version.HTTP_1_1)
              .connectTimeout(TIMEOUT)
              .build();
      this.base = "http://127.0.0.1:" + port;
    }

    @Override
    public Response post(String path, byte[] body, boolean binary, int jsonLength)
        throws Exception {
      java.net.http.HttpRequest.Builder b =
          java.net.http.HttpRequest.newBuilder(URI.create(base + path))
              .timeout(TIMEOUT)
              .header("Content-Type", binary ? "application/octet-stream" : "application/json")
              .POST(java.net.http.HttpRequest.BodyPublishers.ofByteArray(body));
      if (jsonLength >= 0) {
        b.header(HEADER_LENGTH, Integer.toString(jsonLength));
      }
      HttpResponse<byte[]> r = client.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
      return new Response(
          r.statusCode(), r.headers().firstValue(HEADER_LENGTH).orElse(null), r.body());
    }

    @Override
    public void close() {
      // HttpClient has no close() before JDK 21; its threads are daemons and idle out.
    }
  }
}
