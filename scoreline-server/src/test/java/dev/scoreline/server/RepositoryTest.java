package dev.scoreline.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.scoreline.server.ServerFixture.Response;
import dev.scoreline.testing.TestModels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * The model repository extension and readiness with a model that fails to load. The tests change
 * the server's state, so they run in order.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class RepositoryTest {
  static final String STRINGS =
      "{\"inputs\":[{\"name\":\"text\",\"shape\":[1],\"datatype\":\"BYTES\",\"data\":[\"a\"]}]}";

  @TempDir static Path repo;
  static ServerFixture s;

  @BeforeAll
  static void start() throws Exception {
    TestModels.copyTo(repo, "mlp_ranker", "string_identity");
    Files.createDirectories(repo.resolve("broken/1"));
    Files.write(
        repo.resolve("broken/1/model.onnx"),
        new byte[] {1, 2, 3, 'n', 'o', 't', 'o', 'n', 'n', 'x'});
    s = ServerFixture.start(repo);
  }

  @AfterAll
  static void stop() {
    s.close();
  }

  static JsonNode row(JsonNode index, String name) {
    for (JsonNode r : index) {
      if (r.get("name").asText().equals(name)) {
        return r;
      }
    }
    return null;
  }

  @Test
  @Order(1)
  void ready_modelFailedToLoad_returns503() {
    Response r = s.get("/v2/health/ready");
    assertThat(r.status()).isEqualTo(503);
    assertThat(r.json().get("ready").asBoolean()).isFalse();
    assertThat(s.get("/v2/health/live").status()).isEqualTo(200);
  }

  @Test
  @Order(2)
  void modelReady_failedModel_returns503() {
    Response r = s.get("/v2/models/broken/ready");
    assertThat(r.status()).isEqualTo(503);
    assertThat(r.json().get("name").asText()).isEqualTo("broken");
    assertThat(r.json().get("ready").asBoolean()).isFalse();
  }

  @Test
  @Order(3)
  void infer_failedModel_returns503() {
    Response r = s.post("/v2/models/broken/infer", STRINGS);
    assertThat(r.status()).isEqualTo(503);
    assertThat(r.code()).isEqualTo("UNAVAILABLE");
  }

  @Test
  @Order(4)
  void index_listsEveryVersionWithStateAndReason() {
    Response r = s.post("/v2/repository/index", "");
    assertThat(r.status()).as(r.text()).isEqualTo(200);
    JsonNode index = r.json();
    JsonNode mlp = row(index, "mlp_ranker");
    assertThat(mlp.get("version").asText()).isEqualTo("2");
    assertThat(mlp.get("state").asText()).isEqualTo("READY");
    assertThat(mlp.get("reason").asText()).isEmpty();
    JsonNode broken = row(index, "broken");
    assertThat(broken.get("state").asText()).isEqualTo("UNAVAILABLE");
    assertThat(broken.get("reason").asText()).isNotEmpty();
  }

  @Test
  @Order(5)
  void index_readyOnly_omitsFailedModels() {
    Response r = s.post("/v2/repository/index", "{\"ready\": true}");
    assertThat(r.status()).isEqualTo(200);
    assertThat(row(r.json(), "broken")).isNull();
    assertThat(row(r.json(), "mlp_ranker")).isNotNull();
  }

  @Test
  @Order(6)
  void index_badBody_returns400() {
    assertThat(s.post("/v2/repository/index", "{\"ready\": ").status()).isEqualTo(400);
    assertThat(s.post("/v2/repository/index", "{\"ready\": \"x\"}").status()).isEqualTo(400);
  }

  @Test
  @Order(7)
  void tfStatus_failedModel_end() {
    Response r = s.get("/v1/models/broken");
    assertThat(r.status()).isEqualTo(200);
    JsonNode st = r.json().get("model_version_status").get(0);
    assertThat(st.get("state").asText()).isEqualTo("END");
    assertThat(st.get("status").get("error_code").asText()).isEqualTo("UNKNOWN");
  }

  @Test
  @Order(8)
  void unload_thenModelNotReadyAndInferFails() {
    Response r = s.post("/v2/repository/models/string_identity/unload", "");
    assertThat(r.status()).as(r.text()).isEqualTo(200);
    assertThat(r.json().size()).isZero();
    assertThat(s.get("/v2/models/string_identity/ready").status()).isEqualTo(503);
    assertThat(s.post("/v2/models/string_identity/infer", STRINGS).status()).isEqualTo(404);
    JsonNode row = row(s.post("/v2/repository/index", "{}").json(), "string_identity");
    assertThat(row.get("state").asText()).isEqualTo("UNAVAILABLE");
  }

  @Test
  @Order(9)
  void load_thenReadyAndInferWorks() {
    Response r = s.post("/v2/repository/models/string_identity/load", "");
    assertThat(r.status()).as(r.text()).isEqualTo(200);
    assertThat(s.get("/v2/models/string_identity/ready").status()).isEqualTo(200);
    assertThat(s.post("/v2/models/string_identity/infer", STRINGS).status()).isEqualTo(200);
  }

  @Test
  @Order(10)
  void load_unknownModel_returns404() {
    Response r = s.post("/v2/repository/models/nope/load", "{}");
    assertThat(r.status()).isEqualTo(404);
    assertThat(r.code()).isEqualTo("NOT_FOUND");
  }

  @Test
  @Order(11)
  void unload_unknownModel_returns404() {
    assertThat(s.post("/v2/repository/models/nope/unload", "{}").status()).isEqualTo(404);
  }

  @Test
  @Order(12)
  void load_brokenModel_returns400WithReason() {
    Response r = s.post("/v2/repository/models/broken/load", "");
    assertThat(r.status()).isEqualTo(400);
    assertThat(r.json().get("error").asText()).contains("broken");
  }

  @Test
  @Order(13)
  void load_configOverride_returns501() {
    Response r =
        s.post("/v2/repository/models/mlp_ranker/load", "{\"parameters\":{\"config\":\"{}\"}}");
    assertThat(r.status()).isEqualTo(501);
    assertThat(r.code()).isEqualTo("UNSUPPORTED");
  }

  @Test
  @Order(14)
  void load_fixedModel_serverBecomesReady() throws Exception {
    Files.copy(
        repo.resolve("mlp_ranker/2/model.onnx"),
        repo.resolve("broken/1/model.onnx"),
        StandardCopyOption.REPLACE_EXISTING);
    Response r = s.post("/v2/repository/models/broken/load", "");
    assertThat(r.status()).as(r.text()).isEqualTo(200);
    assertThat(s.get("/v2/models/broken/ready").status()).isEqualTo(200);
    assertThat(s.get("/v2/health/ready").status()).isEqualTo(200);
  }

  @Test
  @Order(15)
  void repository_wrongMethod_returns405() {
    assertThat(s.get("/v2/repository/index").status()).isEqualTo(405);
  }
}
