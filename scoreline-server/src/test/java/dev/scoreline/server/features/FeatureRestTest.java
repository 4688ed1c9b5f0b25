package dev.scoreline.server.features;

import static dev.scoreline.server.features.FeatureServer.json;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.scoreline.server.features.FeatureServer.Response;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code POST /v1/features} and {@code POST /v1/features/push} over the wire, RocksDB behind. */
class FeatureRestTest {
  @TempDir static Path project;
  private static FeatureServer server;

  @BeforeAll
  static void start() {
    server = FeatureServer.start(project);
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  @BeforeEach
  void reset() {
    server.reset();
  }

  private Response features(String singleQuotedJson) {
    return server.post("/v1/features", json(singleQuotedJson));
  }

  private Response push(String singleQuotedJson) {
    return server.post("/v1/features/push", json(singleQuotedJson));
  }

  private void pushOk(String singleQuotedJson) {
    Response r = push(singleQuotedJson);
    assertThat(r.status()).as(r.toString()).isEqualTo(200);
  }

  private static List<String> texts(JsonNode array) {
    List<String> out = new ArrayList<>();
    array.forEach(n -> out.add(n.isNull() ? null : n.asText()));
    return out;
  }

  /** Seeds user 1 (user_stats, user_profile) and item "a" (item_stats). */
  private void seed() {
    pushOk(
        "{'feature_view': 'user_stats', 'rows': [{'user_id': 1, 'clicks_7d': 17, 'ctr': 0.25,"
            + " 'event_ts': '2026-11-28T11:30:00Z'}]}");
    pushOk(
        "{'feature_view': 'user_profile', 'rows': [{'user_id': 1, 'country': 'NZ',"
            + " 'embedding': [0.5, -1.25], 'event_timestamp': '2026-01-01T00:00:00Z'}]}");
    pushOk(
        "{'feature_view': 'item_stats', 'rows': [{'item_id': 'a', 'price': 9.5,"
            + " 'in_stock': true, 'event_timestamp': "
            + Instant.parse("2026-11-28T08:00:00Z").toEpochMilli()
            + "}]}");
  }

  // ------------------------------------------------------------------ get

  @Test
  void getByService_keyColumnsThenFeaturesInFeastShape() {
    seed();
    Response r =
        features(
            "{'feature_service': 'ranker', 'entities': [{'user_id': 1, 'item_id': 'a'},"
                + " {'user_id': 2, 'item_id': 'b'}]}");

    assertThat(r.status()).as(r.toString()).isEqualTo(200);
    assertThat(r.contentType()).startsWith("application/json");
    JsonNode body = r.json();
    assertThat(texts(body.path("metadata").path("feature_names")))
        .containsExactly(
            "user_id",
            "item_id",
            "user_stats:clicks_7d",
            "user_profile:embedding",
            "item_stats:price",
            "item_stats:in_stock");
    JsonNode results = body.path("results");
    assertThat(results).hasSize(6);
    // key columns echoed, PRESENT, no timestamp
    assertThat(results.get(0).path("values").toString()).isEqualTo("[1,2]");
    assertThat(results.get(1).path("values").toString()).isEqualTo("[\"a\",\"b\"]");
    assertThat(texts(results.get(0).path("statuses"))).containsExactly("PRESENT", "PRESENT");
    assertThat(results.get(0).path("event_timestamps").toString()).isEqualTo("[null,null]");
    // features: one element per row
    JsonNode clicks = results.get(2);
    assertThat(clicks.path("values").toString()).isEqualTo("[17,null]");
    assertThat(texts(clicks.path("statuses"))).containsExactly("PRESENT", "NOT_FOUND");
    assertThat(texts(clicks.path("event_timestamps")))
        .containsExactly("2026-11-28T11:30:00Z", null);
    assertThat(results.get(3).path("values").toString()).isEqualTo("[[0.5,-1.25],null]");
    assertThat(texts(results.get(3).path("event_timestamps")))
        .containsExactly("2026-01-01T00:00:00Z", null);
    assertThat(results.get(4).path("values").get(0).asDouble()).isEqualTo(9.5);
    assertThat(results.get(5).path("values").toString()).isEqualTo("[true,null]");
    assertThat(texts(results.get(5).path("event_timestamps")))
        .containsExactly("2026-11-28T08:00:00Z", null);
  }

  @Test
  void getByList_viewStarExpandsAndColumnarEntitiesAccepted() {
    seed();
    Response r =
        features(
            "{'features': ['user_stats:*', 'user_profile:country'],"
                + " 'entities': {'user_id': [2, 1, 1]}}");

    assertThat(r.status()).as(r.toString()).isEqualTo(200);
    JsonNode body = r.json();
    assertThat(texts(body.path("metadata").path("feature_names")))
        .containsExactly(
            "user_id", "user_stats:clicks_7d", "user_stats:ctr", "user_profile:country");
    JsonNode results = body.path("results");
    assertThat(results.get(0).path("values").toString()).isEqualTo("[2,1,1]");
    assertThat(results.get(1).path("values").toString()).isEqualTo("[null,17,17]");
    assertThat(results.get(2).path("values").toString()).isEqualTo("[null,0.25,0.25]");
    assertThat(results.get(3).path("values").toString()).isEqualTo("[null,\"NZ\",\"NZ\"]");
  }

  @Test
  void get_fullFeatureNames_viewDoubleUnderscoreFeatureAsInTrainingSets() {
    seed();
    Response r =
        features(
            "{'features': ['user_stats:clicks_7d'], 'entities': [{'user_id': 1}],"
                + " 'full_feature_names': true}");

    assertThat(texts(r.json().path("metadata").path("feature_names")))
        .containsExactly("user_id", "user_stats__clicks_7d");
  }

  @Test
  void get_int64KeyAsDigitString_acceptedAndEchoedAsNumber() {
    seed();
    Response r = features("{'features': ['user_stats:clicks_7d'], 'entities': [{'user_id': '1'}]}");

    assertThat(r.status()).as(r.toString()).isEqualTo(200);
    assertThat(r.json().path("results").get(0).path("values").toString()).isEqualTo("[1]");
    assertThat(r.json().path("results").get(1).path("values").toString()).isEqualTo("[17]");
  }

  @Test
  void get_statuses_presentNotFoundExpiredAndNull() {
    // user 1: fresh with a null ctr; user 2: older than the 1h TTL; user 3: never written
    pushOk(
        "{'feature_view': 'user_stats', 'rows': ["
            + "{'user_id': 1, 'clicks_7d': 5, 'event_ts': '2026-11-28T11:59:00Z'},"
            + "{'user_id': 2, 'clicks_7d': 6, 'ctr': 0.5, 'event_ts': '2026-11-28T10:00:00Z'}]}");

    Response r =
        features(
            "{'features': ['user_stats:clicks_7d', 'user_stats:ctr'],"
                + " 'entities': {'user_id': [1, 2, 3]}}");

    JsonNode results = r.json().path("results");
    JsonNode clicks = results.get(1);
    JsonNode ctr = results.get(2);
    assertThat(texts(clicks.path("statuses"))).containsExactly("PRESENT", "EXPIRED", "NOT_FOUND");
    assertThat(clicks.path("values").toString()).isEqualTo("[5,null,null]");
    assertThat(texts(clicks.path("event_timestamps")))
        .containsExactly("2026-11-28T11:59:00Z", "2026-11-28T10:00:00Z", null);
    assertThat(texts(ctr.path("statuses"))).containsExactly("NULL", "EXPIRED", "NOT_FOUND");
    assertThat(ctr.path("values").toString()).isEqualTo("[null,null,null]");
  }

  @Test
  void get_ttl_exactlyTtlOldPresentThenExpiredAsTheClockMoves() {
    pushOk(
        "{'feature_view': 'user_stats', 'rows': [{'user_id': 1, 'clicks_7d': 5,"
            + " 'event_ts': '2026-11-28T11:00:00Z'}]}");
    String request = "{'features': ['user_stats:clicks_7d'], 'entities': [{'user_id': 1}]}";

    assertThat(texts(features(request).json().path("results").get(1).path("statuses")))
        .containsExactly("PRESENT");
    server.clock.advance(Duration.ofNanos(1000));
    assertThat(texts(features(request).json().path("results").get(1).path("statuses")))
        .containsExactly("EXPIRED");
  }

  @Test
  void get_everyValueType_roundTripsThroughJson() {
    byte[] raw = {0, 1, (byte) 0xff};
    pushOk(
        "{'feature_view': 'all_types', 'rows': [{'user_id': 7, 'i64': 9007199254740993,"
            + " 'f64': 0.1, 'f32': 1.5, 's': 'héllo', 'b': false, 'raw': '"
            + Base64.getEncoder().encodeToString(raw)
            + "', 'vec': [1, 2.5], 'ids': [-1, 3], 'tags': ['x', 'y'],"
            + " 'event_timestamp': '2026-11-28T11:00:00.123456Z'}]}");

    Response r = features("{'features': ['all_types:*'], 'entities': [{'user_id': 7}]}");

    assertThat(r.status()).as(r.toString()).isEqualTo(200);
    JsonNode results = r.json().path("results");
    assertThat(results.get(1).path("values").get(0).asLong()).isEqualTo(9007199254740993L);
    assertThat(results.get(2).path("values").get(0).asDouble()).isEqualTo(0.1);
    assertThat(results.get(3).path("values").get(0).asDouble()).isEqualTo(1.5);
    assertThat(results.get(4).path("values").get(0).asText()).isEqualTo("héllo");
    assertThat(results.get(5).path("values").get(0).asBoolean(true)).isFalse();
    assertThat(Base64.getDecoder().decode(results.get(6).path("values").get(0).asText()))
        .containsExactly(raw);
    assertThat(results.get(7).path("values").get(0).toString()).isEqualTo("[1.0,2.5]");
    assertThat(results.get(8).path("values").get(0).toString()).isEqualTo("[-1,3]");
    assertThat(results.get(9).path("values").get(0).toString()).isEqualTo("[\"x\",\"y\"]");
    for (int f = 1; f <= 9; f++) {
      assertThat(results.get(f).path("statuses").get(0).asText()).isEqualTo("PRESENT");
      assertThat(results.get(f).path("event_timestamps").get(0).asText())
          .isEqualTo("2026-11-28T11:00:00.123456Z");
    }
  }

  @Test
  void get_noEntities_emptyResults() {
    Response r = features("{'feature_service': 'ranker', 'entities': []}");

    assertThat(r.status()).as(r.toString()).isEqualTo(200);
    assertThat(r.json().path("results").get(2).path("values").size()).isZero();
  }

  @Test
  void get_gzipBody_decoded() throws IOException {
    seed();
    byte[] body =
        json("{'features': ['user_stats:clicks_7d'], 'entities': [{'user_id': 1}]}")
            .getBytes(StandardCharsets.UTF_8);
    java.io.ByteArrayOutputStream gz = new java.io.ByteArrayOutputStream();
    try (java.util.zip.GZIPOutputStream out = new java.util.zip.GZIPOutputStream(gz)) {
      out.write(body);
    }
    java.net.http.HttpRequest.Builder req =
        java.net.http.HttpRequest.newBuilder(java.net.URI.create(server.base + "/v1/features"))
            .header("Content-Type", "application/json")
            .header("Content-Encoding", "gzip")
            .POST(java.net.http.HttpRequest.BodyPublishers.ofByteArray(gz.toByteArray()));
    try {
      java.net.http.HttpResponse<String> r =
          java.net.http.HttpClient.newHttpClient()
              .send(req.build(), java.net.http.HttpResponse.BodyHandlers.ofString());
      assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
      assertThat(r.body()).contains("[17]");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  // ------------------------------------------------------------------ push

  @Test
  void push_thenGet_seesPushedValues() {
    Response p =
        push(
            "{'feature_view': 'user_stats', 'rows': ["
                + "{'user_id': 1, 'clicks_7d': 3, 'event_ts': '2026-11-28T11:00:00Z'},"
                + "{'user_id': 2, 'clicks_7d': 4, 'event_ts': '2026-11-28T11:00:00Z'}]}");

    assertThat(p.status()).as(p.toString()).isEqualTo(200);
    assertThat(p.json().path("written").asInt()).isEqualTo(2);
    assertThat(p.json().path("applied").asInt()).isEqualTo(2);
    Response r =
        features("{'features': ['user_stats:clicks_7d'], 'entities': {'user_id': [2, 1]}}");
    assertThat(r.json().path("results").get(1).path("values").toString()).isEqualTo("[4,3]");
  }

  @Test
  void push_olderEvent_ignoredLastWriteWins() {
    pushOk(
        "{'feature_view': 'user_stats', 'rows': [{'user_id': 1, 'clicks_7d': 10,"
            + " 'event_ts': '2026-11-28T11:30:00Z'}]}");

    Response older =
        push(
            "{'feature_view': 'user_stats', 'rows': [{'user_id': 1, 'clicks_7d': 99,"
                + " 'event_ts': '2026-11-28T11:00:00Z'}]}");

    assertThat(older.json().path("written").asInt()).isEqualTo(1);
    assertThat(older.json().path("applied").asInt()).isZero();
    JsonNode clicks =
        features("{'features': ['user_stats:clicks_7d'], 'entities': [{'user_id': 1}]}")
            .json()
            .path("results")
            .get(1);
    assertThat(clicks.path("values").toString()).isEqualTo("[10]");
    assertThat(clicks.path("event_timestamps").get(0).asText()).isEqualTo("2026-11-28T11:30:00Z");
  }

  @Test
  void push_sameEventLaterCreated_replaces() {
    pushOk(
        "{'feature_view': 'user_stats', 'rows': [{'user_id': 1, 'clicks_7d': 10,"
            + " 'event_ts': '2026-11-28T11:30:00Z', 'created_ts': '2026-11-28T11:31:00Z'}]}");

    Response later =
        push(
            "{'feature_view': 'user_stats', 'rows': [{'user_id': 1, 'clicks_7d': 11,"
                + " 'event_ts': '2026-11-28T11:30:00Z', 'created_ts': '2026-11-28T11:40:00Z'}]}");

    assertThat(later.json().path("applied").asInt()).isEqualTo(1);
    assertThat(
            features("{'features': ['user_stats:clicks_7d'], 'entities': [{'user_id': 1}]}")
                .json()
                .path("results")
                .get(1)
                .path("values")
                .toString())
        .isEqualTo("[11]");
  }

  @Test
  void push_toOnlineAndOffline_appendsToTheOfflineLog() throws IOException {
    pushOk(
        "{'feature_view': 'user_stats', 'to': 'online_and_offline', 'rows': [{'user_id': 1,"
            + " 'clicks_7d': 3, 'event_ts': '2026-11-28T11:00:00Z'}]}");
    pushOk(
        "{'feature_view': 'user_stats', 'to': 'online', 'rows': [{'user_id': 2,"
            + " 'clicks_7d': 4, 'event_ts': '2026-11-28T11:00:00Z'}]}");

    Path log = project.resolve("data/pushed/user_stats/2026-11-28.jsonl");
    assertThat(log).exists();
    List<String> lines = Files.readAllLines(log);
    assertThat(lines).hasSize(1);
    assertThat(FeatureServer.MAPPER.readTree(lines.get(0)).path("clicks_7d").asLong()).isEqualTo(3);
  }

  @Test
  void push_defaultTarget_isTheStoresOption() {
    pushOk(
        "{'feature_view': 'user_stats', 'rows': [{'user_id': 1, 'clicks_7d': 3,"
            + " 'event_ts': '2026-11-28T11:00:00Z'}]}");

    assertThat(project.resolve("data/pushed")).doesNotExist();
  }

  // ------------------------------------------------------------------ errors

  private static void assertError(Response r, int status, String code, String field) {
    assertThat(r.status()).as(r.toString()).isEqualTo(status);
    assertThat(r.contentType()).startsWith("application/json");
    assertThat(r.code()).as(r.toString()).isEqualTo(code);
    assertThat(r.field()).as(r.toString()).isEqualTo(field);
    assertThat(r.error()).isNotBlank();
  }

  @Test
  void get_unknownService_404NamingIt() {
    Response r = features("{'feature_service': 'rankr', 'entities': [{'user_id': 1}]}");

    assertError(r, 404, "NOT_FOUND", "feature_service");
    assertThat(r.error()).contains("rankr").contains("ranker");
  }

  @Test
  void get_unknownView_404NamingIt() {
    Response r = features("{'features': ['nope:clicks'], 'entities': [{'user_id': 1}]}");

    assertError(r, 404, "NOT_FOUND", "features[0]");
    assertThat(r.error()).contains("nope");
  }

  @Test
  void get_unknownFeature_404NamingIt() {
    Response r =
        features(
            "{'features': ['user_stats:clicks_7d', 'user_stats:clickz'],"
                + " 'entities': [{'user_id': 1}]}");

    assertError(r, 404, "NOT_FOUND", "features[1]");
    assertThat(r.error()).contains("clickz").contains("clicks_7d");
  }

  @Test
  void get_malformedFeatureReference_400() {
    assertError(
        features("{'features': ['clicks_7d'], 'entities': [{'user_id': 1}]}"),
        400,
        "USER_ERROR",
        "features[0]");
  }

  @Test
  void get_offlineOnlyView_400() {
    assertError(
        features("{'features': ['archive:old'], 'entities': [{'user_id': 1}]}"),
        400,
        "USER_ERROR",
        "features[0]");
  }

  @Test
  void get_wrongKeyType_400NamingTheField() {
    Response rows =
        features(
            "{'features': ['user_stats:clicks_7d'], 'entities': [{'user_id': 1},"
                + " {'user_id': 'x1'}]}");
    Response columns =
        features("{'features': ['user_stats:clicks_7d'], 'entities': {'user_id': [1, true]}}");
    Response stringKey =
        features("{'features': ['item_stats:price'], 'entities': [{'item_id': 5}]}");

    assertError(rows, 400, "USER_ERROR", "entities[1].user_id");
    assertThat(rows.error()).contains("entities[1].user_id").doesNotContain("entityRows");
    assertError(columns, 400, "USER_ERROR", "entities.user_id[1]");
    assertError(stringKey, 400, "USER_ERROR", "entities[0].item_id");
  }

  @Test
  void get_missingKey_400NamingTheField() {
    Response rows =
        features(
            "{'feature_service': 'ranker', 'entities': [{'user_id': 1, 'item_id': 'a'},"
                + " {'user_id': 2}]}");
    Response columns = features("{'feature_service': 'ranker', 'entities': {'user_id': [1]}}");

    assertError(rows, 400, "USER_ERROR", "entities[1].item_id");
    assertError(columns, 400, "USER_ERROR", "entities.item_id[0]");
  }

  @Test
  void get_tooManyEntities_400WithTheLimit() {
    StringBuilder ids = new StringBuilder();
    for (int i = 0; i < 51; i++) {
      ids.append(i == 0 ? "" : ",").append(i);
    }
    Response r =
        features("{'features': ['user_stats:clicks_7d'], 'entities': {'user_id': [" + ids + "]}}");

    assertError(r, 400, "USER_ERROR", "entities");
    assertThat(r.error()).contains("50");
  }

  @Test
  void get_columnsOfDifferentLengths_400NamingTheColumn() {
    assertError(
        features(
            "{'feature_service': 'ranker', 'entities': {'user_id': [1, 2], 'item_id': ['a']}}"),
        400,
        "USER_ERROR",
        "entities.item_id");
  }

  @Test
  void get_serviceAndFeaturesOrNeither_400() {
    assertError(features("{'entities': [{'user_id': 1}]}"), 400, "USER_ERROR", "feature_service");
    assertError(
        features(
            "{'feature_service': 'ranker', 'features': ['user_stats:ctr'],"
                + " 'entities': [{'user_id': 1}]}"),
        400,
        "USER_ERROR",
        "feature_service");
  }

  @Test
  void get_missingEntities_400() {
    assertError(features("{'feature_service': 'ranker'}"), 400, "USER_ERROR", "entities");
  }

  @Test
  void get_unknownField_400NamingTheNearest() {
    Response r = features("{'feature_servce': 'ranker', 'entities': []}");

    assertError(r, 400, "USER_ERROR", "feature_servce");
    assertThat(r.error()).contains("feature_service");
  }

  @Test
  void malformedJson_400() {
    assertError(
        server.post("/v1/features", "{\"feature_service\": \"ranker\", \"entities\": ["),
        400,
        "USER_ERROR",
        null);
    assertError(server.post("/v1/features/push", "{\"rows\": [}"), 400, "USER_ERROR", null);
    assertError(server.post("/v1/features", "[1, 2]"), 400, "USER_ERROR", null);
    assertError(server.post("/v1/features", ""), 400, "USER_ERROR", null);
  }

  @Test
  void oversizedBody_413() {
    byte[] body = new byte[(1 << 20) + 1];
    java.util.Arrays.fill(body, (byte) ' ');

    assertError(server.post("/v1/features", body), 413, "TOO_LARGE", null);
    assertError(server.post("/v1/features/push", body), 413, "TOO_LARGE", null);
  }

  @Test
  void getMethod_405() {
    Response r = server.get("/v1/features");

    assertThat(r.status()).isEqualTo(405);
    assertThat(r.code()).isEqualTo("USER_ERROR");
  }

  @Test
  void push_unknownView_404NamingIt() {
    Response r = push("{'feature_view': 'user_statz', 'rows': []}");

    assertError(r, 404, "NOT_FOUND", "feature_view");
    assertThat(r.error()).contains("user_statz").contains("user_stats");
  }

  @Test
  void push_offlineOnlyView_400() {
    assertError(push("{'feature_view': 'archive', 'rows': []}"), 400, "USER_ERROR", "feature_view");
  }

  @Test
  void push_unknownColumn_400NamingItAndTheValidOnes() {
    Response r =
        push(
            "{'feature_view': 'user_stats', 'rows': [{'user_id': 1, 'clicks': 3,"
                + " 'event_ts': '2026-11-28T11:00:00Z'}]}");

    assertError(r, 400, "USER_ERROR", "rows[0].clicks");
    assertThat(r.error()).contains("clicks_7d");
  }

  @Test
  void push_wrongKeyTypeOrMissingKeyOrTimestamp_400NamingTheField() {
    assertError(
        push(
            "{'feature_view': 'user_stats', 'rows': [{'user_id': 1.5, 'event_ts':"
                + " '2026-11-28T11:00:00Z'}]}"),
        400,
        "USER_ERROR",
        "rows[0].user_id");
    assertError(
        push("{'feature_view': 'user_stats', 'rows': [{'event_ts': '2026-11-28T11:00:00Z'}]}"),
        400,
        "USER_ERROR",
        "rows[0].user_id");
    assertError(
        push("{'feature_view': 'user_stats', 'rows': [{'user_id': 1, 'clicks_7d': 3}]}"),
        400,
        "USER_ERROR",
        "rows[0].event_ts");
    assertError(
        push(
            "{'feature_view': 'user_stats', 'rows': [{'user_id': 1, 'clicks_7d': 'many',"
                + " 'event_ts': '2026-11-28T11:00:00Z'}]}"),
        400,
        "USER_ERROR",
        "rows[0].clicks_7d");
  }

  @Test
  void push_badTarget_400() {
    assertError(
        push("{'feature_view': 'user_stats', 'rows': [], 'to': 'offline'}"),
        400,
        "USER_ERROR",
        "to");
  }

  @Test
  void push_missingViewOrRows_400() {
    assertError(push("{'rows': []}"), 400, "USER_ERROR", "feature_view");
    assertError(push("{'feature_view': 'user_stats'}"), 400, "USER_ERROR", "rows");
  }

  @Test
  void noFeatureStore_404SayingSo(@TempDir Path other) {
    try (FeatureServer bare = FeatureServer.withoutFeatures(other)) {
      Response get =
          bare.post("/v1/features", json("{'feature_service': 'ranker', 'entities': []}"));
      Response push = bare.post("/v1/features/push", json("{'feature_view': 'x', 'rows': []}"));

      assertError(get, 404, "NOT_FOUND", null);
      assertThat(get.error()).contains("no feature store configured");
      assertError(push, 404, "NOT_FOUND", null);
    }
  }

  @Test
  void tfServingRoutesUnderV1_stillServed() {
    Response r = server.get("/v1/models/nope");

    assertThat(r.status()).isEqualTo(404);
    assertThat(r.error()).doesNotContain("feature");
  }
}
