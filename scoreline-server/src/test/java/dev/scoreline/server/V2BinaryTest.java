package dev.scoreline.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.scoreline.core.tensor.Fp16;
import dev.scoreline.server.ServerFixture.Response;
import dev.scoreline.testing.TestModels;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The binary tensor data extension, as Triton's HTTP clients use it. */
class V2BinaryTest {
  static final String[][] TYPES = {
    {"bool", "BOOL", "1"}, {"uint8", "UINT8", "1"}, {"int8", "INT8", "1"},
    {"uint16", "UINT16", "2"}, {"int16", "INT16", "2"}, {"int32", "INT32", "4"},
    {"int64", "INT64", "8"}, {"uint32", "UINT32", "4"}, {"uint64", "UINT64", "8"},
    {"fp16", "FP16", "2"}, {"fp32", "FP32", "4"}, {"fp64", "FP64", "8"},
  };

  @TempDir static Path repo;
  static ServerFixture s;

  @BeforeAll
  static void start() {
    TestModels.copyTo(repo, "mlp_ranker", "string_identity", "all_types");
    s = ServerFixture.start(repo);
  }

  @AfterAll
  static void stop() {
    s.close();
  }

  /** Random little-endian bytes of one all_types input, never NaN for floating point. */
  static byte[] randomData(String type, int elements, Random random) {
    ByteBuffer b = ByteBuffer.allocate(elements * 8).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < elements; i++) {
      switch (type) {
        case "BOOL":
          b.put((byte) random.nextInt(2));
          break;
        case "FP16":
          b.putShort(Fp16.fromFloat((random.nextFloat() - 0.5f) * 1000));
          break;
        case "FP32":
          b.putFloat(
              Float.intBitsToFloat(random.nextInt() & 0x7f7fffff)
                  * (random.nextBoolean() ? 1 : -1));
          break;
        case "FP64":
          b.putDouble(random.nextGaussian() * 1e300);
          break;
        default:
          byte[] raw = new byte[sizeOf(type)];
          random.nextBytes(raw);
          b.put(raw);
      }
    }
    return Arrays.copyOf(b.array(), b.position());
  }

  static int sizeOf(String type) {
    for (String[] t : TYPES) {
      if (t[1].equals(type)) {
        return Integer.parseInt(t[2]);
      }
    }
    throw new IllegalArgumentException(type);
  }

  /** A request body: JSON header, then the binary parts in order. */
  static byte[] body(String json, byte[]... parts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes(json.getBytes(StandardCharsets.UTF_8));
    for (byte[] p : parts) {
      out.writeBytes(p);
    }
    return out.toByteArray();
  }

  static Response postBinary(String path, String json, byte[]... parts) {
    return s.post(
        path,
        body(json, parts),
        "Inference-Header-Content-Length",
        Integer.toString(json.getBytes(StandardCharsets.UTF_8).length),
        "Content-Type",
        "application/octet-stream");
  }

  /** Splits a binary response into its JSON header and each output's bytes, by output name. */
  static Map<String, byte[]> outputs(Response r, JsonNode[] header) {
    int n = Integer.parseInt(r.header("inference-header-content-length"));
    header[0] = ServerFixture.json(new String(r.body(), 0, n, StandardCharsets.UTF_8));
    Map<String, byte[]> out = new LinkedHashMap<>();
    int offset = n;
    for (JsonNode o : header[0].get("outputs")) {
      JsonNode size = o.path("parameters").get("binary_data_size");
      if (size != null) {
        out.put(
            o.get("name").asText(), Arrays.copyOfRange(r.body(), offset, offset + size.asInt()));
        offset += size.asInt();
      }
    }
    assertThat(offset).isEqualTo(r.body().length);
    return out;
  }

  static byte[] lengthPrefixed(byte[]... elements) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (byte[] e : elements) {
      out.writeBytes(
          ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(e.length).array());
      out.writeBytes(e);
    }
    return out.toByteArray();
  }

  @Test
  void infer_binaryAllTypes_byteExactRoundTrip() {
    Random random = new Random(11);
    StringBuilder inputs = new StringBuilder();
    byte[][] parts = new byte[TYPES.length][];
    for (int i = 0; i < TYPES.length; i++) {
      parts[i] = randomData(TYPES[i][1], 12, random);
      inputs
          .append(i > 0 ? "," : "")
          .append(
              "{\"name\":\"x_" + TYPES[i][0] + "\",\"shape\":[4,3],\"datatype\":\"" + TYPES[i][1])
          .append("\",\"parameters\":{\"binary_data_size\":" + parts[i].length + "}}");
    }
    String json = "{\"inputs\":[" + inputs + "],\"parameters\":{\"binary_data_output\":true}}";
    Response r = postBinary("/v2/models/all_types/infer", json, parts);
    assertThat(r.status()).as(r.text()).isEqualTo(200);
    assertThat(r.header("content-type")).startsWith("application/octet-stream");
    JsonNode[] header = new JsonNode[1];
    Map<String, byte[]> out = outputs(r, header);
    for (int i = 0; i < TYPES.length; i++) {
      String name = "y_" + TYPES[i][0];
      assertThat(out.get(name)).as(name).isEqualTo(parts[i]);
    }
    for (JsonNode o : header[0].get("outputs")) {
      assertThat(o.has("data")).isFalse();
      assertThat(o.get("shape").toString()).isEqualTo("[4,3]");
    }
  }

  /** Valid UTF-8 only: ONNX Runtime's Java API carries string tensors as Java strings. */
  @Test
  void infer_binaryStrings_byteExactRoundTrip() {
    byte[][] values = {
      "hello".getBytes(StandardCharsets.UTF_8),
      new byte[0],
      {0, 'a', 10, 13, 0x7f},
      "\u2603 snow".getBytes(StandardCharsets.UTF_8)
    };
    byte[] data = lengthPrefixed(values);
    String json =
        "{\"inputs\":[{\"name\":\"text\",\"shape\":[4],\"datatype\":\"BYTES\","
            + "\"parameters\":{\"binary_data_size\":"
            + data.length
            + "}}],\"outputs\":[{\"name\":\"text_out\",\"parameters\":{\"binary_data\":true}}]}";
    Response r = postBinary("/v2/models/string_identity/infer", json, data);
    assertThat(r.status()).as(r.text()).isEqualTo(200);
    JsonNode[] header = new JsonNode[1];
    Map<String, byte[]> out = outputs(r, header);
    assertThat(out.get("text_out")).isEqualTo(data);
    assertThat(header[0].get("outputs").get(0).get("datatype").asText()).isEqualTo("BYTES");
  }

  @Test
  void infer_binaryInputJsonOutput() {
    ByteBuffer b = ByteBuffer.allocate(64 * 4).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < 64; i++) {
      b.putFloat(i * 0.01f);
    }
    String json =
        "{\"inputs\":[{\"name\":\"features\",\"shape\":[1,64],\"datatype\":\"FP32\","
            + "\"parameters\":{\"binary_data_size\":256}}]}";
    Response r = postBinary("/v2/models/mlp_ranker/infer", json, b.array());
    assertThat(r.status()).as(r.text()).isEqualTo(200);
    assertThat(r.header("content-type")).startsWith("application/json");
    assertThat(r.header("inference-header-content-length")).isNull();
    assertThat(r.json().get("outputs").get(0).get("data")).hasSize(1);
  }

  @Test
  void infer_jsonInputBinaryOutput_perOutputFlagOverridesDefault() {
    String json =
        "{\"parameters\":{\"binary_data_output\":true},\"inputs\":[{\"name\":\"text\",\"shape\":[2],"
            + "\"datatype\":\"BYTES\",\"data\":[\"a\",\"bc\"]}],"
            + "\"outputs\":[{\"name\":\"text_out\",\"parameters\":{\"binary_data\":false}}]}";
    Response r = s.post("/v2/models/string_identity/infer", json);
    assertThat(r.status()).as(r.text()).isEqualTo(200);
    assertThat(r.header("content-type")).startsWith("application/json");
    assertThat(r.json().get("outputs").get(0).get("data").toString()).isEqualTo("[\"a\",\"bc\"]");

    String binary = json.replace("\"binary_data\":false", "\"binary_data\":true");
    Response b = s.post("/v2/models/string_identity/infer", binary);
    assertThat(b.status()).isEqualTo(200);
    JsonNode[] header = new JsonNode[1];
    assertThat(outputs(b, header).get("text_out"))
        .isEqualTo(
            lengthPrefixed(
                "a".getBytes(StandardCharsets.UTF_8), "bc".getBytes(StandardCharsets.UTF_8)));
  }

  @Test
  void infer_headerLengthLargerThanBody_returns400() {
    String json = "{\"inputs\":[]}";
    Response r =
        s.post("/v2/models/mlp_ranker/infer", body(json), "Inference-Header-Content-Length", "999");
    assertThat(r.status()).isEqualTo(400);
    assertThat(r.code()).isEqualTo("USER_ERROR");
    assertThat(r.json().get("error").asText()).contains("999");
  }

  @Test
  void infer_headerLengthNotANumber_returns400() {
    Response r =
        s.post("/v2/models/mlp_ranker/infer", body("{}"), "Inference-Header-Content-Length", "abc");
    assertThat(r.status()).isEqualTo(400);
  }

  @Test
  void infer_binaryDataSizeMismatch_returns400NamingField() {
    byte[] data = new byte[252];
    String json =
        "{\"inputs\":[{\"name\":\"features\",\"shape\":[1,64],\"datatype\":\"FP32\","
            + "\"parameters\":{\"binary_data_size\":252}}]}";
    Response r = postBinary("/v2/models/mlp_ranker/infer", json, data);
    assertThat(r.status()).as(r.text()).isEqualTo(400);
    assertThat(r.field()).isEqualTo("inputs[0].parameters.binary_data_size");
  }

  @Test
  void infer_binaryDataSizePastEndOfBody_returns400NamingField() {
    String json =
        "{\"inputs\":[{\"name\":\"features\",\"shape\":[1,64],\"datatype\":\"FP32\","
            + "\"parameters\":{\"binary_data_size\":256}}]}";
    Response r = postBinary("/v2/models/mlp_ranker/infer", json, new byte[100]);
    assertThat(r.status()).as(r.text()).isEqualTo(400);
    assertThat(r.field()).isEqualTo("inputs[0].parameters.binary_data_size");
  }

  @Test
  void infer_bytesLeftAfterBinaryInputs_returns400() {
    String json =
        "{\"inputs\":[{\"name\":\"features\",\"shape\":[1,64],\"datatype\":\"FP32\","
            + "\"parameters\":{\"binary_data_size\":256}}]}";
    Response r = postBinary("/v2/models/mlp_ranker/infer", json, new byte[256], new byte[3]);
    assertThat(r.status()).as(r.text()).isEqualTo(400);
    assertThat(r.code()).isEqualTo("USER_ERROR");
  }

  @Test
  void infer_binaryStringElementPastEnd_returns400NamingField() {
    byte[] data =
        lengthPrefixed(
            "abc".getBytes(StandardCharsets.UTF_8), "de".getBytes(StandardCharsets.UTF_8));
    data[7] = 50; // second length says 50 bytes
    String json =
        "{\"inputs\":[{\"name\":\"text\",\"shape\":[2],\"datatype\":\"BYTES\","
            + "\"parameters\":{\"binary_data_size\":"
            + data.length
            + "}}]}";
    Response r = postBinary("/v2/models/string_identity/infer", json, data);
    assertThat(r.status()).as(r.text()).isEqualTo(400);
    assertThat(r.field()).isEqualTo("inputs[0].parameters.binary_data_size");
  }

  @Test
  void infer_binaryStringsCountMismatch_returns400() {
    byte[] data = lengthPrefixed("abc".getBytes(StandardCharsets.UTF_8));
    String json =
        "{\"inputs\":[{\"name\":\"text\",\"shape\":[2],\"datatype\":\"BYTES\","
            + "\"parameters\":{\"binary_data_size\":"
            + data.length
            + "}}]}";
    Response r = postBinary("/v2/models/string_identity/infer", json, data);
    assertThat(r.status()).as(r.text()).isEqualTo(400);
  }

  @Test
  void infer_dataAndBinarySize_returns400() {
    String json =
        "{\"inputs\":[{\"name\":\"text\",\"shape\":[1],\"datatype\":\"BYTES\",\"data\":[\"a\"],"
            + "\"parameters\":{\"binary_data_size\":5}}]}";
    Response r =
        postBinary("/v2/models/string_identity/infer", json, lengthPrefixed(new byte[] {'a'}));
    assertThat(r.status()).as(r.text()).isEqualTo(400);
    assertThat(r.field()).isEqualTo("inputs[0].data");
  }

  @Test
  void infer_binaryWithoutHeader_returns400() {
    String json =
        "{\"inputs\":[{\"name\":\"features\",\"shape\":[1,64],\"datatype\":\"FP32\","
            + "\"parameters\":{\"binary_data_size\":256}}]}";
    Response r = s.post("/v2/models/mlp_ranker/infer", body(json, new byte[256]));
    assertThat(r.status()).as(r.text()).isEqualTo(400);
  }
}
