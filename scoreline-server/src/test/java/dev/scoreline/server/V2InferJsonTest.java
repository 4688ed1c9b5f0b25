package dev.scoreline.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import dev.scoreline.server.ServerFixture.Response;
import dev.scoreline.testing.TestModels;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** JSON inference over {@code POST /v2/models/{name}[/versions/{v}]/infer}. */
class V2InferJsonTest {
  @TempDir static Path repo;
  static ServerFixture s;
  static JsonNode mlpExpected;
  static JsonNode multiExpected;
  static JsonNode fp16Expected;

  @BeforeAll
  static void start() throws Exception {
    TestModels.copyTo(repo);
    Files.writeString(repo.resolve("mlp_ranker/config.yaml"), "version-policy: {all: true}\n");
    mlpExpected = ServerFixture.MAPPER.readTree(TestModels.read("mlp_ranker/expected.json"));
    multiExpected = ServerFixture.MAPPER.readTree(TestModels.read("multi_io/expected.json"));
    fp16Expected = ServerFixture.MAPPER.readTree(TestModels.read("fp16_mlp/expected.json"));
    s = ServerFixture.start(repo);
  }

  @AfterAll
  static void stop() {
    s.close();
  }

  static String mlpRequest(JsonNode data) {
    return "{\"inputs\":[{\"name\":\"features\",\"shape\":[2,64],\"datatype\":\"FP32\",\"data\":"
        + data
        + "}]}";
  }

  static void assertScores(JsonNode output, JsonNode expected) {
    assertThat(output.get("name").asText()).isEqualTo("score");
    assertThat(output.get("datatype").asText()).isEqualTo("FP32");
    assertThat(output.get("shape").toString()).isEqualTo("[2,1]");
    JsonNode data = output.get("data");
    assertThat(data).hasSize(2);
    for (int i = 0; i < 2; i++) {
      assertThat(data.get(i).asDouble()).isCloseTo(expected.get(i).get(0).asDouble(), within(1e-5));
    }
  }

  @Test
  void infer_mlpRankerNestedData_matchesExpected() {
    Response r =
        s.post("/v2/models/mlp_ranker/versions/1/infer", mlpRequest(mlpExpected.get("input")));
    assertThat(r.status()).as(r.text()).isEqualTo(200);
    assertThat(r.header("content-type")).startsWith("application/json");
    JsonNode j = r.json();
    assertThat(j.get("model_name").asText()).isEqualTo("mlp_ranker");
    assertThat(j.get("model_version").isTextual()).isTrue();
    assertThat(j.get("model_version").asText()).isEqualTo("1");
    assertScores(j.get("outputs").get(0), mlpExpected.get("v1"));
  }

  @Test
  void infer_defaultVersion_isNewest() {
    Response r = s.post("/v2/models/mlp_ranker/infer", mlpRequest(mlpExpected.get("input")));
    assertThat(r.status()).as(r.text()).isEqualTo(200);
    assertThat(r.json().get("model_version").asText()).isEqualTo("2");
    assertScores(r.json().get("outputs").get(0), mlpExpected.get("v2"));
  }

  @Test
  void infer_flatData_matchesExpected() {
    StringBuilder flat = new StringBuilder("[");
    for (JsonNode row : mlpExpected.get("input")) {
      for (JsonNode v : row) {
        flat.append(flat.length() > 1 ? "," : "").append(v.asText());
      }
    }
    flat.append(']');
    Response r =
        s.post(
            "/v2/models/mlp_ranker/versions/2/infer",
            mlpRequest(ServerFixture.json(flat.toString())));
    assertThat(r.status()).as(r.text()).isEqualTo(200);
    assertScores(r.json().get("outputs").get(0), mlpExpected.get("v2"));
  }

  @Test
  void infer_fieldsInAnyOrder_dataBeforeShapeAndDatatype() {
    String body =
        "{\"outputs\":[{\"name\":\"score\"}],\"inputs\":[{\"data\":"
            + mlpExpected.get("input")
            + ",\"name\":\"features\",\"datatype\":\"FP32\",\"shape\":[2,64]}],\"id\":\"x\"}";
    Response r = s.post("/v2/models/mlp_ranker/versions/1/infer", body);
    assertThat(r.status()).as(r.text()).isEqualTo(200);
    assertScores(r.json().get("outputs").get(0), mlpExpected.get("v1"));
  }

  @Test
  void infer_idAndParameters_idEchoed() {
    String body =
        "{\"id\":\"req-42\",\"parameters\":{\"priority\":1,\"note\":\"x\",\"flag\":true},"
            + "\"inputs\":[{\"name\":\"features\",\"shape\":[2,64],\"datatype\":\"FP32\","
            + "\"parameters\":{\"unused\":1},\"data\":"
            + mlpExpected.get("input")
            + "}]}";
    Response r = s.post("/v2/models/mlp_ranker/infer", body);
    assertThat(r.status()).as(r.text()).isEqualTo(200);
    assertThat(r.json().get("id").asText()).isEqualTo("req-42");
  }

  @Test
  void infer_noId_omitsId() {
    Response r = s.post("/v2/models/mlp_ranker/infer", mlpRequest(mlpExpected.get("input")));
    assertThat(r.json().has("id")).isFalse();
  }

  @Test
  void infer_multipleInputs_allOutputsMatchExpected() {
    JsonNode in = multiExpected.get("inputs");
    String body =
        "{\"inputs\":[{\"name\":\"a\",\"shape\":[3,4],\"datatype\":\"FP32\",\"data\":"
            + in.get("a")
            + "},{\"name\":\"b\",\"shape\":[3,4],\"datatype\":\"INT64\",\"data\":"
            + in.get("b")
            + "}]}";
    Response r = s.post("/v2/models/multi_io/infer", body);
    assertThat(r.status()).as(r.text()).isEqualTo(200);
    JsonNode outs = r.json().get("outputs");
    assertThat(outs).hasSize(3);
    JsonNode exp = multiExpected.get("outputs");
    assertThat(outs.get(0).get("name").asText()).isEqualTo("sum");
    assertThat(outs.get(0).get("data").toString()).isEqualTo(flat(exp.get("sum")));
    assertThat(outs.get(1).get("name").asText()).isEqualTo("prod");
    assertThat(outs.get(1).get("datatype").asText()).isEqualTo("INT64");
    assertThat(outs.get(1).get("data").toString()).isEqualTo(flat(exp.get("prod")));
    assertThat(outs.get(2).get("name").asText()).isEqualTo("label");
    assertThat(outs.get(2).get("shape").toString()).isEqualTo("[3]");
    assertThat(outs.get(2).get("data").toString()).isEqualTo(exp.get("label").toString());
  }

  @Test
  void infer_requestedOutputs_onlyThoseInOrder() {
    JsonNode in = multiExpected.get("inputs");
    String body =
        "{\"inputs\":[{\"name\":\"b\",\"shape\":[3,4],\"datatype\":\"INT64\",\"data\":"
            + in.get("b")
            + "},{\"name\":\"a\",\"shape\":[3,4],\"datatype\":\"FP32\",\"data\":"
            + in.get("a")
            + "}],\"outputs\":[{\"name\":\"label\"},{\"name\":\"prod\"}]}";
    Response r = s.post("/v2/models/multi_io/infer", body);
    assertThat(r.status()).as(r.text()).isEqualTo(200);
    JsonNode outs = r.json().get("outputs");
    assertThat(outs).hasSize(2);
    assertThat(outs.get(0).get("name").asText()).isEqualTo("label");
    assertThat(outs.get(1).get("name").asText()).isEqualTo("prod");
  }

  @Test
  void infer_strings_roundTrip() {
    String body =
        "{\"inputs\":[{\"name\":\"text\",\"shape\":[3],\"datatype\":\"BYTES\","
            + "\"data\":[\"hello\",\"\",\"h\\u00e9llo \\u2603 \\\"q\\\"\"]}]}";
    Response r = s.post("/v2/models/string_identity/infer", body);
    assertThat(r.status()).as(r.text()).isEqualTo(200);
    JsonNode out = r.json().get("outputs").get(0);
    assertThat(out.get("name").asText()).isEqualTo("text_out");
    assertThat(out.get("datatype").asText()).isEqualTo("BYTES");
    assertThat(out.get("data").get(0).asText()).isEqualTo("hello");
    assertThat(out.get("data").get(1).asText()).isEmpty();
    assertThat(out.get("data").get(2).asText()).isEqualTo("h\u00e9llo \u2603 \"q\"");
  }

  @Test
  void infer_fp16AsJsonNumbers_matchesExpected() {
    String body =
        "{\"inputs\":[{\"name\":\"x\",\"shape\":[2,8],\"datatype\":\"FP16\",\"data\":"
            + fp16Expected.get("inputs").get("x")
            + "}]}";
    Response r = s.post("/v2/models/fp16_mlp/infer", body);
    assertThat(r.status()).as(r.text()).isEqualTo(200);
    JsonNode out = r.json().get("outputs").get(0);
    assertThat(out.get("datatype").asText()).isEqualTo("FP16");
    assertThat(out.get("data").toString()).isEqualTo(flat(fp16Expected.get("outputs").get("y")));
  }

  @Test
  void infer_allTypesJson_exactRoundTrip() {
    String[][] cases = {
      {"bool", "BOOL", "[true,false,true,false,false,true]"},
      {"uint8", "UINT8", "[0,1,2,127,128,255]"},
      {"int8", "INT8", "[-128,-1,0,1,100,127]"},
      {"uint16", "UINT16", "[0,1,2,300,32768,65535]"},
      {"int16", "INT16", "[-32768,-1,0,1,1000,32767]"},
      {"int32", "INT32", "[-2147483648,-1,0,1,100000,2147483647]"},
      {
        "int64",
        "INT64",
        "[-9223372036854775808,-1,0,9007199254740993,12345678901234567,9223372036854775807]"
      },
      {"uint32", "UINT32", "[0,1,2,2147483648,4000000000,4294967295]"},
      {
        "uint64",
        "UINT64",
        "[0,1,9007199254740993,9223372036854775808,18446744073709551614,18446744073709551615]"
      },
      {"fp16", "FP16", "[0.0,-1.5,65504.0,0.099975586,-0.0,6.1035156E-5]"},
      {"fp32", "FP32", "[0.0,-1.5,3.4028235E38,0.1,-0.0,1.4E-45]"},
      {"fp64", "FP64", "[0.0,-1.5,1.7976931348623157E308,0.1,-0.0,4.9E-324]"},
    };
    StringBuilder inputs = new StringBuilder();
    StringBuilder outputs = new StringBuilder();
    for (String[] c : cases) {
      inputs.append(inputs.length() > 0 ? "," : "");
      inputs
          .append("{\"name\":\"x_")
          .append(c[0])
          .append("\",\"shape\":[2,3],\"datatype\":\"")
          .append(c[1])
          .append("\",\"data\":")
          .append(c[2])
          .append('}');
      outputs.append(outputs.length() > 0 ? "," : "").append("{\"name\":\"y_" + c[0] + "\"}");
    }
    Response r =
        s.post(
            "/v2/models/all_types/infer",
            "{\"inputs\":[" + inputs + "],\"outputs\":[" + outputs + "]}");
    assertThat(r.status()).as(r.text()).isEqualTo(200);
    // compare the raw text so that integers are checked digit by digit
    String text = r.text();
    for (String[] c : cases) {
      assertThat(text)
          .contains(
              "{\"name\":\"y_"
                  + c[0]
                  + "\",\"datatype\":\""
                  + c[1]
                  + "\",\"shape\":[2,3],\"data\":"
                  + c[2]
                  + "}");
    }
  }

  @Test
  void infer_boolAsZeroOne_accepted() {
    String body =
        "{\"inputs\":["
            + allTypesInput("bool", "BOOL", "[1,0,1,0,0,1]")
            + "],"
            + onlyOutput("y_bool")
            + "}";
    Response r = s.post("/v2/models/all_types/infer", withOtherInputs(body, "bool"));
    assertThat(r.status()).as(r.text()).isEqualTo(200);
    assertThat(r.json().get("outputs").get(0).get("data").toString())
        .isEqualTo("[true,false,true,false,false,true]");
  }

  static String allTypesInput(String suffix, String type, String data) {
    return "{\"name\":\"x_"
        + suffix
        + "\",\"shape\":[2,3],\"datatype\":\""
        + type
        + "\",\"data\":"
        + data
        + "}";
  }

  static String onlyOutput(String name) {
    return "\"outputs\":[{\"name\":\"" + name + "\"}]";
  }

  /** Adds zero-valued inputs for every all_types input except {@code except}. */
  static String withOtherInputs(String body, String except) {
    String[][] types = {
      {"bool", "BOOL", "false"}, {"uint8", "UINT8", "0"}, {"int8", "INT8", "0"},
      {"uint16", "UINT16", "0"}, {"int16", "INT16", "0"}, {"int32", "INT32", "0"},
      {"int64", "INT64", "0"}, {"uint32", "UINT32", "0"}, {"uint64", "UINT64", "0"},
      {"fp16", "FP16", "0"}, {"fp32", "FP32", "0"}, {"fp64", "FP64", "0"},
    };
    StringBuilder extra = new StringBuilder();
    for (String[] t : types) {
      if (!t[0].equals(except)) {
        String v = t[2];
        extra
            .append(',')
            .append(
                allTypesInput(
                    t[0], t[1], "[" + v + "," + v + "," + v + "," + v + "," + v + "," + v + "]"));
      }
    }
    int end = body.indexOf("],\"outputs\"");
    return body.substring(0, end) + extra + body.substring(end);
  }

  static String flat(JsonNode nested) {
    StringBuilder sb = new StringBuilder("[");
    flatten(nested, sb);
    return sb.append(']').toString();
  }

  private static void flatten(JsonNode n, StringBuilder sb) {
    if (n.isArray()) {
      for (JsonNode e : n) {
        flatten(e, sb);
      }
    } else {
      sb.append(sb.length() > 1 ? "," : "").append(n.toString());
    }
  }
}
