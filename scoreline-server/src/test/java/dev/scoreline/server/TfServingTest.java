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

/** TensorFlow Serving's REST API: {@code :predict} (row and columnar), status and metadata. */
class TfServingTest {
  @TempDir static Path repo;
  static ServerFixture s;
  static JsonNode mlp;
  static JsonNode multi;

  @BeforeAll
  static void start() throws Exception {
    TestModels.copyTo(repo, "mlp_ranker", "multi_io", "string_identity");
    Files.writeString(
        repo.resolve("mlp_ranker/config.yaml"),
        "version-policy: {all: true}\nversion-labels: {stable: 1}\n");
    mlp = ServerFixture.MAPPER.readTree(TestModels.read("mlp_ranker/expected.json"));
    multi = ServerFixture.MAPPER.readTree(TestModels.read("multi_io/expected.json"));
    s = ServerFixture.start(repo);
  }

  @AfterAll
  static void stop() {
    s.close();
  }

  @Test
  void predict_rowFormatSingleInput_listPerRow() {
    Response r =
        s.post(
            "/v1/models/mlp_ranker/versions/1:predict", "{\"instances\":" + mlp.get("input") + "}");
    assertThat(r.status()).as(r.text()).isEqualTo(200);
    JsonNode p = r.json().get("predictions");
    assertThat(p).hasSize(2);
    for (int i = 0; i < 2; i++) {
      assertThat(p.get(i)).hasSize(1);
      assertThat(p.get(i).get(0).asDouble())
          .isCloseTo(mlp.get("v1").get(i).get(0).asDouble(), within(1e-5));
    }
  }

  @Test
  void predict_defaultVersionAndSignatureName() {
    Response r =
        s.post(
            "/v1/models/mlp_ranker:predict",
            "{\"signature_name\":\"serving_default\",\"instances\":" + mlp.get("input") + "}");
    assertThat(r.status()).as(r.text()).isEqualTo(200);
    assertThat(r.json().get("predictions").get(1).get(0).asDouble())
        .isCloseTo(mlp.get("v2").get(1).get(0).asDouble(), within(1e-5));
  }

  @Test
  void predict_byLabel_usesLabelledVersion() {
    Response r =
        s.post(
            "/v1/models/mlp_ranker/labels/stable:predict",
            "{\"instances\":" + mlp.get("input") + "}");
    assertThat(r.status()).as(r.text()).isEqualTo(200);
    assertThat(r.json().get("predictions").get(0).get(0).asDouble())
        .isCloseTo(mlp.get("v1").get(0).get(0).asDouble(), within(1e-5));
    Response status = s.get("/v1/models/mlp_ranker/labels/stable");
    assertThat(status.status()).isEqualTo(200);
    assertThat(status.json().get("model_version_status").get(0).get("version").asText())
        .isEqualTo("1");
    assertThat(s.get("/v1/models/mlp_ranker/labels/nope").status()).isEqualTo(404);
  }

  @Test
  void predict_columnarSingleInput_outputsValue() {
    Response r =
        s.post("/v1/models/mlp_ranker/versions/2:predict", "{\"inputs\":" + mlp.get("input") + "}");
    assertThat(r.status()).as(r.text()).isEqualTo(200);
    JsonNode o = r.json().get("outputs");
    assertThat(o).hasSize(2);
    assertThat(o.get(0).get(0).asDouble())
        .isCloseTo(mlp.get("v2").get(0).get(0).asDouble(), within(1e-5));
  }

  @Test
  void predict_rowFormatSeveralInputs_listOfObjects() {
    JsonNode a = multi.get("inputs").get("a");
    JsonNode b = multi.get("inputs").get("b");
    StringBuilder rows = new StringBuilder("[");
    for (int i = 0; i < 3; i++) {
      rows.append(i > 0 ? "," : "")
          .append("{\"a\":")
          .append(a.get(i))
          .append(",\"b\":")
          .append(b.get(i))
          .append('}');
    }
    rows.append(']');
    Response r = s.post("/v1/models/multi_io:predict", "{\"instances\":" + rows + "}");
    assertThat(r.status()).as(r.text()).isEqualTo(200);
    JsonNode p = r.json().get("predictions");
    assertThat(p).hasSize(3);
    JsonNode exp = multi.get("outputs");
    for (int i = 0; i < 3; i++) {
      assertThat(p.get(i).get("sum").toString()).isEqualTo(exp.get("sum").get(i).toString());
      assertThat(p.get(i).get("prod").toString()).isEqualTo(exp.get("prod").get(i).toString());
      assertThat(p.get(i).get("label").asLong()).isEqualTo(exp.get("label").get(i).asLong());
    }
  }

  @Test
  void predict_columnarSeveralInputs_outputsObject() {
    Response r = s.post("/v1/models/multi_io:predict", "{\"inputs\":" + multi.get("inputs") + "}");
    assertThat(r.status()).as(r.text()).isEqualTo(200);
    JsonNode o = r.json().get("outputs");
    JsonNode exp = multi.get("outputs");
    assertThat(o.get("sum").toString()).isEqualTo(exp.get("sum").toString());
    assertThat(o.get("prod").toString()).isEqualTo(exp.get("prod").toString());
    assertThat(o.get("label").toString()).isEqualTo(exp.get("label").toString());
  }

  @Test
  void predict_strings_andBase64() {
    Response r =
        s.post(
            "/v1/models/string_identity:predict",
            "{\"instances\":[\"hello\",{\"b64\":\"d29ybGQ=\"}]}");
    assertThat(r.status()).as(r.text()).isEqualTo(200);
    assertThat(r.json().get("predictions").toString()).isEqualTo("[\"hello\",\"world\"]");
  }

  @Test
  void predict_otherSignature_returns400() {
    Response r =
        s.post(
            "/v1/models/mlp_ranker:predict",
            "{\"signature_name\":\"other\",\"instances\":" + mlp.get("input") + "}");
    assertThat(r.status()).isEqualTo(400);
    assertThat(r.json().get("error").asText()).contains("other");
    assertThat(r.field()).isEqualTo("signature_name");
  }

  @Test
  void predict_bothOrNeitherFormat_returns400() {
    assertThat(s.post("/v1/models/mlp_ranker:predict", "{}").status()).isEqualTo(400);
    assertThat(
            s.post("/v1/models/mlp_ranker:predict", "{\"instances\":[[1]],\"inputs\":[[1]]}")
                .status())
        .isEqualTo(400);
  }

  @Test
  void predict_severalInputsWithoutNames_returns400() {
    Response r = s.post("/v1/models/multi_io:predict", "{\"instances\":[[1,2,3,4]]}");
    assertThat(r.status()).isEqualTo(400);
    assertThat(r.json().get("error").asText()).contains("a", "b");
  }

  @Test
  void predict_unknownInputName_returns400() {
    Response r =
        s.post(
            "/v1/models/multi_io:predict",
            "{\"inputs\":{\"a\":[[1,2,3,4]],\"b\":[[1,2,3,4]],\"c\":1}}");
    assertThat(r.status()).isEqualTo(400);
  }

  @Test
  void predict_wrongShape_returns400() {
    Response r = s.post("/v1/models/mlp_ranker:predict", "{\"instances\":[[1,2,3]]}");
    assertThat(r.status()).isEqualTo(400);
    assertThat(r.code()).isEqualTo("USER_ERROR");
  }

  @Test
  void predict_raggedRows_returns400() {
    Response r =
        s.post(
            "/v1/models/multi_io:predict",
            "{\"inputs\":{\"a\":[[1,2,3,4],[1,2,3]],\"b\":[[1,2,3,4],[1,2,3,4]]}}");
    assertThat(r.status()).isEqualTo(400);
  }

  @Test
  void predict_stringInNumbers_returns400() {
    Response r =
        s.post(
            "/v1/models/multi_io:predict",
            "{\"inputs\":{\"a\":[[1,2,3,\"x\"]],\"b\":[[1,2,3,4]]}}");
    assertThat(r.status()).isEqualTo(400);
  }

  @Test
  void predict_malformedJson_returns400() {
    Response r = s.post("/v1/models/mlp_ranker:predict", "{\"instances\": [1,");
    assertThat(r.status()).isEqualTo(400);
    assertThat(r.json().get("error").asText()).contains("line 1");
  }

  @Test
  void predict_unknownModel_returns404() {
    Response r = s.post("/v1/models/nope:predict", "{\"instances\":[[1]]}");
    assertThat(r.status()).isEqualTo(404);
    assertThat(r.json().has("error")).isTrue();
  }

  @Test
  void predict_otherVerb_returns501() {
    assertThat(s.post("/v1/models/mlp_ranker:classify", "{}").status()).isEqualTo(501);
  }

  @Test
  void status_allVersions_available() {
    Response r = s.get("/v1/models/mlp_ranker");
    assertThat(r.status()).as(r.text()).isEqualTo(200);
    JsonNode st = r.json().get("model_version_status");
    assertThat(st).hasSize(2);
    assertThat(st.get(0).get("version").asText()).isEqualTo("1");
    assertThat(st.get(0).get("state").asText()).isEqualTo("AVAILABLE");
    assertThat(st.get(0).get("status").get("error_code").asText()).isEqualTo("OK");
    assertThat(st.get(0).get("status").get("error_message").asText()).isEmpty();
  }

  @Test
  void status_oneVersion() {
    Response r = s.get("/v1/models/mlp_ranker/versions/2");
    assertThat(r.status()).isEqualTo(200);
    assertThat(r.json().get("model_version_status")).hasSize(1);
    assertThat(r.json().get("model_version_status").get(0).get("version").asText()).isEqualTo("2");
  }

  @Test
  void status_unknownModel_returns404() {
    Response r = s.get("/v1/models/nope");
    assertThat(r.status()).isEqualTo(404);
    assertThat(r.json().get("error").asText()).contains("nope");
  }

  @Test
  void metadata_signatureDef() {
    Response r = s.get("/v1/models/multi_io/metadata");
    assertThat(r.status()).as(r.text()).isEqualTo(200);
    JsonNode sig = r.json().at("/metadata/signature_def/signature_def/serving_default");
    assertThat(sig.at("/inputs/b/dtype").asText()).isEqualTo("DT_INT64");
    assertThat(sig.at("/outputs/sum/dtype").asText()).isEqualTo("DT_FLOAT");
  }

  @Test
  void listModels() {
    Response r = s.get("/v1/models");
    assertThat(r.status()).isEqualTo(200);
    assertThat(r.json().get("models").toString()).contains("mlp_ranker", "multi_io");
  }
}
