package dev.scoreline.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.scoreline.onnx.OnnxRuntime;
import dev.scoreline.server.ServerFixture.Response;
import dev.scoreline.testing.TestModels;
import java.io.ByteArrayInputStream;
import java.net.URI;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every way an inference request can be wrong gets the one error body with the right status, code
 * and field; nothing a client sends gets a 500 or a stack trace.
 */
class V2InferErrorsTest {
  static final int MAX_BYTES = 256 * 1024;

  @TempDir static Path repo;
  static ServerFixture s;

  /** Set once the server is up: the model loader's warmup run must not fail. */
  static final AtomicBoolean crashArmed = new AtomicBoolean();

  @BeforeAll
  static void start() throws Exception {
    TestModels.copyTo(repo, "mlp_ranker", "multi_io", "all_types");
    // a copy of mlp_ranker whose runtime call fails unexpectedly
    Files.createDirectories(repo.resolve("crash/1"));
    Files.copy(repo.resolve("mlp_ranker/2/model.onnx"), repo.resolve("crash/1/model.onnx"));
    WrappingRuntime runtime =
        new WrappingRuntime(
            new OnnxRuntime(),
            model -> {
              if (model.equals("crash") && crashArmed.get()) {
                throw new IllegalStateException("boom");
              }
            });
    s = ServerFixture.start(repo, runtime, b -> b.maxRequestBytes(MAX_BYTES));
    crashArmed.set(true);
  }

  @AfterAll
  static void stop() {
    s.close();
  }

  static String floats(int n) {
    StringBuilder sb = new StringBuilder("[");
    for (int i = 0; i < n; i++) {
      sb.append(i > 0 ? "," : "").append(i % 7 * 0.125);
    }
    return sb.append(']').toString();
  }

  static String mlp(String shape, String datatype, String data) {
    return "{\"inputs\":[{\"name\":\"features\",\"shape\":"
        + shape
        + ",\"datatype\":\""
        + datatype
        + "\",\"data\":"
        + data
        + "}]}";
  }

  static Response infer(String model, String body) {
    return s.post("/v2/models/" + model + "/infer", body);
  }

  static void assertError(Response r, int status, String code, String field) {
    assertThat(r.status()).as(r.text()).isEqualTo(status);
    assertThat(r.header("content-type")).startsWith("application/json");
    JsonNode j = r.json();
    assertThat(j.get("error").asText()).isNotBlank().doesNotContain("\tat ", "Exception");
    assertThat(j.get("code").asText()).isEqualTo(code);
    if (field != null) {
      assertThat(j.get("field").asText()).isEqualTo(field);
    }
  }

  @Test
  void infer_valid_returns200() {
    assertThat(infer("mlp_ranker", mlp("[1,64]", "FP32", floats(64))).status()).isEqualTo(200);
  }

  @Test
  void infer_malformedJson_returns400NamingLineAndColumn() {
    Response r = infer("mlp_ranker", "{\"inputs\": [\n  {\"name\": \"features\",, }]}");
    assertError(r, 400, "USER_ERROR", null);
    assertThat(r.json().get("error").asText()).contains("line 2", "column");
  }

  @Test
  void infer_truncatedJson_returns400() {
    assertError(infer("mlp_ranker", "{\"inputs\": [{\"name\": \"feat"), 400, "USER_ERROR", null);
  }

  @Test
  void infer_emptyBody_returns400() {
    assertError(infer("mlp_ranker", ""), 400, "USER_ERROR", null);
  }

  @Test
  void infer_notAnObject_returns400() {
    assertError(infer("mlp_ranker", "[1,2,3]"), 400, "USER_ERROR", null);
  }

  @Test
  void infer_trailingGarbage_returns400() {
    assertError(
        infer("mlp_ranker", mlp("[1,64]", "FP32", floats(64)) + "xyz"), 400, "USER_ERROR", null);
  }

  @Test
  void infer_missingInputs_returns400NamingField() {
    assertError(infer("mlp_ranker", "{\"id\":\"1\"}"), 400, "USER_ERROR", "inputs");
  }

  @Test
  void infer_missingName_returns400NamingField() {
    assertError(
        infer(
            "mlp_ranker",
            "{\"inputs\":[{\"shape\":[1,64],\"datatype\":\"FP32\",\"data\":" + floats(64) + "}]}"),
        400,
        "USER_ERROR",
        "inputs[0].name");
  }

  @Test
  void infer_missingDatatype_returns400NamingField() {
    assertError(
        infer(
            "mlp_ranker",
            "{\"inputs\":[{\"name\":\"features\",\"shape\":[1,64],\"data\":" + floats(64) + "}]}"),
        400,
        "USER_ERROR",
        "inputs[0].datatype");
  }

  @Test
  void infer_missingShape_returns400NamingField() {
    assertError(
        infer(
            "mlp_ranker",
            "{\"inputs\":[{\"name\":\"features\",\"datatype\":\"FP32\",\"data\":"
                + floats(64)
                + "}]}"),
        400,
        "USER_ERROR",
        "inputs[0].shape");
  }

  @Test
  void infer_missingData_returns400NamingField() {
    assertError(
        infer(
            "mlp_ranker",
            "{\"inputs\":[{\"name\":\"features\",\"datatype\":\"FP32\",\"shape\":[1,64]}]}"),
        400,
        "USER_ERROR",
        "inputs[0].data");
  }

  @Test
  void infer_unknownModel_returns404() {
    assertError(infer("nope", mlp("[1,64]", "FP32", floats(64))), 404, "NOT_FOUND", null);
  }

  @Test
  void infer_unknownVersion_returns404() {
    Response r =
        s.post("/v2/models/mlp_ranker/versions/7/infer", mlp("[1,64]", "FP32", floats(64)));
    assertError(r, 404, "NOT_FOUND", null);
  }

  @Test
  void infer_wrongInputName_returns400NamingField() {
    String body =
        "{\"inputs\":[{\"name\":\"feature\",\"shape\":[1,64],\"datatype\":\"FP32\",\"data\":"
            + floats(64)
            + "}]}";
    Response r = infer("mlp_ranker", body);
    assertError(r, 400, "USER_ERROR", "inputs[0].name");
    assertThat(r.json().get("error").asText()).contains("features");
  }

  @Test
  void infer_wrongDatatype_returns400NamingField() {
    StringBuilder ints = new StringBuilder("[");
    for (int i = 0; i < 64; i++) {
      ints.append(i > 0 ? "," : "").append(i);
    }
    ints.append(']');
    assertError(
        infer("mlp_ranker", mlp("[1,64]", "INT32", ints.toString())),
        400,
        "USER_ERROR",
        "inputs[0].datatype");
  }

  @Test
  void infer_unknownDatatype_returns400NamingField() {
    assertError(
        infer("mlp_ranker", mlp("[1,64]", "FP33", floats(64))),
        400,
        "USER_ERROR",
        "inputs[0].datatype");
  }

  @Test
  void infer_wrongShape_returns400NamingField() {
    assertError(
        infer("mlp_ranker", mlp("[2,32]", "FP32", floats(64))),
        400,
        "USER_ERROR",
        "inputs[0].shape");
  }

  @Test
  void infer_negativeDimension_returns400NamingField() {
    assertError(
        infer("mlp_ranker", mlp("[-1,64]", "FP32", floats(64))),
        400,
        "USER_ERROR",
        "inputs[0].shape");
  }

  @Test
  void infer_tooFewElements_returns400NamingData() {
    assertError(
        infer("mlp_ranker", mlp("[1,64]", "FP32", floats(63))),
        400,
        "USER_ERROR",
        "inputs[0].data");
  }

  @Test
  void infer_tooManyElements_returns400NamingData() {
    assertError(
        infer("mlp_ranker", mlp("[1,64]", "FP32", floats(65))),
        400,
        "USER_ERROR",
        "inputs[0].data");
  }

  @Test
  void infer_hugeShapeLittleData_returns400WithoutAllocating() {
    assertError(
        infer("mlp_ranker", mlp("[100000000000,64]", "FP32", floats(64))),
        400,
        "USER_ERROR",
        "inputs[0].data");
  }

  @Test
  void infer_stringInFp32_returns400NamingData() {
    String data = floats(64).replaceFirst("0\\.0", "\"abc\"");
    Response r = infer("mlp_ranker", mlp("[1,64]", "FP32", data));
    assertError(r, 400, "USER_ERROR", "inputs[0].data");
    assertThat(r.json().get("error").asText()).contains("element 0", "FP32");
  }

  @Test
  void infer_nullElement_returns400NamingData() {
    String data = floats(64).replaceFirst("0\\.0", "null");
    assertError(
        infer("mlp_ranker", mlp("[1,64]", "FP32", data)), 400, "USER_ERROR", "inputs[0].data");
  }

  @Test
  void infer_nanWhereNotAllowed_returns400NamingData() {
    String data = floats(64).replaceFirst("0\\.0", "NaN");
    Response r = infer("mlp_ranker", mlp("[1,64]", "FP32", data));
    assertError(r, 400, "USER_ERROR", "inputs[0].data");
    assertThat(r.json().get("error").asText()).contains("NaN");
  }

  static String allTypes(String suffix, String type, String data) {
    String body =
        "{\"inputs\":["
            + V2InferJsonTest.allTypesInput(suffix, type, data)
            + "],"
            + V2InferJsonTest.onlyOutput("y_" + suffix)
            + "}";
    return V2InferJsonTest.withOtherInputs(body, suffix);
  }

  @Test
  void infer_outOfRangeInteger_returns400NamingData() {
    assertError(
        infer("all_types", allTypes("int8", "INT8", "[0,1,2,3,4,128]")),
        400,
        "USER_ERROR",
        "inputs[0].data");
    assertError(
        infer("all_types", allTypes("uint8", "UINT8", "[0,1,2,3,4,-1]")),
        400,
        "USER_ERROR",
        "inputs[0].data");
    assertError(
        infer("all_types", allTypes("int64", "INT64", "[0,1,2,3,4,9223372036854775808]")),
        400,
        "USER_ERROR",
        "inputs[0].data");
    assertError(
        infer("all_types", allTypes("uint64", "UINT64", "[0,1,2,3,4,18446744073709551616]")),
        400,
        "USER_ERROR",
        "inputs[0].data");
    assertError(
        infer("all_types", allTypes("uint32", "UINT32", "[0,1,2,3,4,4294967296]")),
        400,
        "USER_ERROR",
        "inputs[0].data");
  }

  @Test
  void infer_fractionInInteger_returns400NamingData() {
    assertError(
        infer("all_types", allTypes("int32", "INT32", "[0,1,2,3,4,1.5]")),
        400,
        "USER_ERROR",
        "inputs[0].data");
  }

  @Test
  void infer_numberInBool_returns400NamingData() {
    assertError(
        infer("all_types", allTypes("bool", "BOOL", "[true,false,true,false,true,2]")),
        400,
        "USER_ERROR",
        "inputs[0].data");
  }

  @Test
  void infer_missingInput_returns400NamingInputs() {
    String body =
        "{\"inputs\":[{\"name\":\"a\",\"shape\":[1,4],\"datatype\":\"FP32\",\"data\":[1,2,3,4]}]}";
    Response r = infer("multi_io", body);
    assertError(r, 400, "USER_ERROR", "inputs");
    assertThat(r.json().get("error").asText()).contains("b");
  }

  @Test
  void infer_duplicateInput_returns400() {
    String in = "{\"name\":\"a\",\"shape\":[1,4],\"datatype\":\"FP32\",\"data\":[1,2,3,4]}";
    assertError(
        infer("multi_io", "{\"inputs\":[" + in + "," + in + "]}"),
        400,
        "USER_ERROR",
        "inputs[1].name");
  }

  @Test
  void infer_unknownOutput_returns400NamingField() {
    String body =
        "{\"inputs\":[{\"name\":\"features\",\"shape\":[1,64],\"datatype\":\"FP32\",\"data\":"
            + floats(64)
            + "}],\"outputs\":[{\"name\":\"scores\"}]}";
    assertError(infer("mlp_ranker", body), 400, "USER_ERROR", "outputs[0].name");
  }

  @Test
  void infer_wrongJsonTypes_return400() {
    assertError(infer("mlp_ranker", "{\"inputs\":{}}"), 400, "USER_ERROR", "inputs");
    assertError(infer("mlp_ranker", "{\"inputs\":[1]}"), 400, "USER_ERROR", "inputs[0]");
    assertError(infer("mlp_ranker", "{\"id\":5,\"inputs\":[]}"), 400, "USER_ERROR", "id");
    assertError(
        infer(
            "mlp_ranker",
            "{\"inputs\":[{\"name\":\"features\",\"shape\":\"1,64\",\"datatype\":\"FP32\",\"data\":[]}]}"),
        400,
        "USER_ERROR",
        "inputs[0].shape");
    assertError(
        infer("mlp_ranker", "{\"parameters\":{\"binary_data_output\":\"yes\"},\"inputs\":[]}"),
        400,
        "USER_ERROR",
        "parameters.binary_data_output");
    assertError(
        infer("mlp_ranker", "{\"parameters\":{\"x\":{\"nested\":1}},\"inputs\":[]}"),
        400,
        "USER_ERROR",
        "parameters.x");
  }

  @Test
  void infer_classificationRequested_returns501() {
    String body =
        "{\"inputs\":[{\"name\":\"features\",\"shape\":[1,64],\"datatype\":\"FP32\",\"data\":"
            + floats(64)
            + "}],\"outputs\":[{\"name\":\"score\",\"parameters\":{\"classification\":2}}]}";
    assertError(
        infer("mlp_ranker", body), 501, "UNSUPPORTED", "outputs[0].parameters.classification");
  }

  @Test
  void infer_oversizedBody_returns413Json() {
    byte[] body = new byte[MAX_BYTES + 1024];
    Arrays.fill(body, (byte) ' ');
    Response r = s.post("/v2/models/mlp_ranker/infer", body);
    assertError(r, 413, "TOO_LARGE", null);
    assertThat(r.json().get("error").asText()).contains(Integer.toString(MAX_BYTES));
  }

  @Test
  void infer_oversizedChunkedBody_returns413Json() {
    byte[] body = new byte[MAX_BYTES + 1024];
    Arrays.fill(body, (byte) ' ');
    Response r =
        s.send(
            HttpRequest.newBuilder(URI.create(s.base + "/v2/models/mlp_ranker/infer"))
                .POST(
                    HttpRequest.BodyPublishers.ofInputStream(
                        () -> new ByteArrayInputStream(body))));
    assertError(r, 413, "TOO_LARGE", null);
  }

  @Test
  void infer_gzipBody_decodedWithinTheLimit() throws Exception {
    byte[] ok = gzip(mlp("[1,64]", "FP32", floats(64)).getBytes(StandardCharsets.UTF_8));
    Response r = s.post("/v2/models/mlp_ranker/infer", ok, "Content-Encoding", "gzip");
    assertThat(r.status()).as(r.text()).isEqualTo(200);
    // small on the wire, larger than the limit once decoded
    byte[] spaces = new byte[MAX_BYTES * 2];
    Arrays.fill(spaces, (byte) ' ');
    Response big = s.post("/v2/models/mlp_ranker/infer", gzip(spaces), "Content-Encoding", "gzip");
    assertError(big, 413, "TOO_LARGE", null);
  }

  @Test
  void infer_corruptGzipBody_returns400() {
    byte[] body = mlp("[1,64]", "FP32", floats(64)).getBytes(StandardCharsets.UTF_8);
    Response r = s.post("/v2/models/mlp_ranker/infer", body, "Content-Encoding", "gzip");
    assertError(r, 400, "USER_ERROR", null);
  }

  static byte[] gzip(byte[] data) throws java.io.IOException {
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    try (java.util.zip.GZIPOutputStream z = new java.util.zip.GZIPOutputStream(out)) {
      z.write(data);
    }
    return out.toByteArray();
  }

  @Test
  void infer_unexpectedRuntimeFailure_returns500WithoutStackTrace() {
    Response r = infer("crash", mlp("[1,64]", "FP32", floats(64)));
    assertThat(r.status()).isEqualTo(500);
    assertThat(r.code()).isEqualTo("INTERNAL");
    assertThat(r.text()).doesNotContain("\tat ", "at dev.scoreline", "at java.");
  }

  @Test
  void infer_garbageInput_neverFailsWith5xx() {
    byte[] valid =
        ("{\"id\":\"q\",\"parameters\":{\"binary_data_output\":false},\"inputs\":[{\"name\":\"features\","
                + "\"shape\":[1,64],\"datatype\":\"FP32\",\"data\":"
                + floats(64)
                + "}],\"outputs\":[{\"name\":\"score\",\"parameters\":{\"binary_data\":false}}]}")
            .getBytes(StandardCharsets.UTF_8);
    Random random = new Random(7);
    byte[] alphabet =
        "{}[],:\"0123456789.-eE \\nulltruefalseNaN\u00ff".getBytes(StandardCharsets.ISO_8859_1);
    for (int i = 0; i < 300; i++) {
      byte[] b;
      if (i % 3 == 0) {
        b = Arrays.copyOf(valid, random.nextInt(valid.length));
      } else {
        b = valid.clone();
        for (int k = 0; k < 1 + random.nextInt(3); k++) {
          b[random.nextInt(b.length)] = alphabet[random.nextInt(alphabet.length)];
        }
      }
      Response r = s.post("/v2/models/mlp_ranker/infer", b);
      assertThat(r.status())
          .as(new String(b, StandardCharsets.ISO_8859_1) + " -> " + r)
          .isIn(200, 400);
      if (r.status() == 400) {
        assertThat(r.code()).isEqualTo("USER_ERROR");
      }
    }
  }
}
