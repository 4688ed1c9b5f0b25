package dev.scoreline.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.scoreline.server.ServerFixture.Response;
import dev.scoreline.testing.TestModels;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Health, server and model metadata, model readiness, model config and routing of {@code /v2}. */
class V2EndpointsTest {
  @TempDir static Path repo;
  static ServerFixture s;

  @BeforeAll
  static void start() {
    TestModels.copyTo(repo, "mlp_ranker", "multi_io", "string_identity");
    s = ServerFixture.start(repo);
  }

  @AfterAll
  static void stop() {
    s.close();
  }

  @Test
  void live_returns200() {
    Response r = s.get("/v2/health/live");
    assertThat(r.status()).isEqualTo(200);
    assertThat(r.json().get("live").asBoolean()).isTrue();
    assertThat(r.header("content-type")).startsWith("application/json");
  }

  @Test
  void ready_allModelsLoaded_returns200() {
    Response r = s.get("/v2/health/ready");
    assertThat(r.status()).isEqualTo(200);
    assertThat(r.json().get("ready").asBoolean()).isTrue();
  }

  @Test
  void serverMetadata_namesVersionAndExtensions() {
    Response r = s.get("/v2");
    assertThat(r.status()).isEqualTo(200);
    JsonNode j = r.json();
    assertThat(j.get("name").asText()).isEqualTo("scoreline");
    assertThat(j.get("version").asText()).isEqualTo(ServerInfo.current().version());
    assertThat(j.get("extensions").toString())
        .contains("binary_tensor_data", "model_repository", "parameters");
    assertThat(s.get("/v2/").status()).isEqualTo(200);
  }

  @Test
  void modelMetadata_listsVersionsPlatformAndTensors() {
    Response r = s.get("/v2/models/mlp_ranker");
    assertThat(r.status()).isEqualTo(200);
    JsonNode j = r.json();
    assertThat(j.get("name").asText()).isEqualTo("mlp_ranker");
    assertThat(j.get("versions").isArray()).isTrue();
    assertThat(j.get("versions").get(j.get("versions").size() - 1).asText()).isEqualTo("2");
    assertThat(j.get("platform").asText()).isEqualTo("onnx_onnxv1");
    JsonNode in = j.get("inputs").get(0);
    assertThat(in.get("name").asText()).isEqualTo("features");
    assertThat(in.get("datatype").asText()).isEqualTo("FP32");
    assertThat(in.get("shape").toString()).isEqualTo("[-1,64]");
    JsonNode out = j.get("outputs").get(0);
    assertThat(out.get("name").asText()).isEqualTo("score");
    assertThat(out.get("shape").toString()).isEqualTo("[-1,1]");
  }

  @Test
  void modelMetadata_withVersion_returnsThatVersion() {
    Response r = s.get("/v2/models/mlp_ranker/versions/2");
    assertThat(r.status()).isEqualTo(200);
    assertThat(r.json().get("name").asText()).isEqualTo("mlp_ranker");
  }

  @Test
  void modelMetadata_multipleInputsAndStrings() {
    JsonNode j = s.get("/v2/models/multi_io").json();
    assertThat(j.get("inputs").get(1).get("datatype").asText()).isEqualTo("INT64");
    assertThat(j.get("outputs")).hasSize(3);
    JsonNode t = s.get("/v2/models/string_identity").json();
    assertThat(t.get("inputs").get(0).get("datatype").asText()).isEqualTo("BYTES");
  }

  @Test
  void modelMetadata_unknownModel_returns404() {
    Response r = s.get("/v2/models/nope");
    assertThat(r.status()).isEqualTo(404);
    assertThat(r.code()).isEqualTo("NOT_FOUND");
    assertThat(r.json().get("error").asText()).contains("nope");
  }

  @Test
  void modelMetadata_unknownVersion_returns404() {
    Response r = s.get("/v2/models/mlp_ranker/versions/9");
    assertThat(r.status()).isEqualTo(404);
    assertThat(r.code()).isEqualTo("NOT_FOUND");
  }

  @Test
  void modelMetadata_badVersion_returns400() {
    Response r = s.get("/v2/models/mlp_ranker/versions/0");
    assertThat(r.status()).isEqualTo(400);
    assertThat(r.field()).isEqualTo("model_version");
  }

  @Test
  void modelMetadata_unknownLabel_returns404() {
    Response r = s.get("/v2/models/mlp_ranker/versions/stable");
    assertThat(r.status()).isEqualTo(404);
    assertThat(r.json().get("error").asText()).contains("stable");
  }

  @Test
  void modelReady_loaded_returns200() {
    Response r = s.get("/v2/models/mlp_ranker/ready");
    assertThat(r.status()).isEqualTo(200);
    assertThat(r.json().get("name").asText()).isEqualTo("mlp_ranker");
    assertThat(r.json().get("ready").asBoolean()).isTrue();
    assertThat(s.get("/v2/models/mlp_ranker/versions/2/ready").status()).isEqualTo(200);
  }

  @Test
  void modelReady_unknownModel_returns404() {
    Response r = s.get("/v2/models/nope/ready");
    assertThat(r.status()).isEqualTo(404);
    assertThat(r.code()).isEqualTo("NOT_FOUND");
  }

  @Test
  void modelReady_versionNotServed_returns503() {
    // version policy latest: 1 serves version 2 only
    Response r = s.get("/v2/models/mlp_ranker/versions/1/ready");
    assertThat(r.status()).isEqualTo(503);
    assertThat(r.json().get("ready").asBoolean()).isFalse();
  }

  @Test
  void modelConfig_tritonStyle() {
    Response r = s.get("/v2/models/multi_io/config");
    assertThat(r.status()).isEqualTo(200);
    JsonNode j = r.json();
    assertThat(j.get("name").asText()).isEqualTo("multi_io");
    assertThat(j.get("max_batch_size").asInt()).isZero();
    assertThat(j.get("input").get(1).get("data_type").asText()).isEqualTo("TYPE_INT64");
    assertThat(j.get("input").get(1).get("dims").toString()).isEqualTo("[-1,4]");
  }

  @Test
  void unknownPath_returns404Json() {
    for (String path : new String[] {"/v2/nothing", "/", "/v2/models/mlp_ranker/x/y", "/v3"}) {
      Response r = s.get(path);
      assertThat(r.status()).as(path).isEqualTo(404);
      assertThat(r.code()).as(path).isEqualTo("NOT_FOUND");
    }
  }

  @Test
  void wrongMethod_returns405Json() {
    Response r = s.get("/v2/models/mlp_ranker/infer");
    assertThat(r.status()).isEqualTo(405);
    assertThat(r.json().get("error").asText()).contains("GET");
    assertThat(s.post("/v2/health/live", "{}").status()).isEqualTo(405);
  }
}
