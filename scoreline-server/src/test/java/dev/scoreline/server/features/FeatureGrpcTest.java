package dev.scoreline.server.features;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.google.protobuf.ByteString;
import dev.scoreline.server.features.proto.FeatureList;
import dev.scoreline.server.features.proto.FeatureServiceGrpc;
import dev.scoreline.server.features.proto.FeatureStatus;
import dev.scoreline.server.features.proto.FeatureVector;
import dev.scoreline.server.features.proto.FloatList;
import dev.scoreline.server.features.proto.GetOnlineFeaturesRequest;
import dev.scoreline.server.features.proto.GetOnlineFeaturesResponse;
import dev.scoreline.server.features.proto.Int64List;
import dev.scoreline.server.features.proto.PushRequest;
import dev.scoreline.server.features.proto.PushResponse;
import dev.scoreline.server.features.proto.PushTarget;
import dev.scoreline.server.features.proto.Row;
import dev.scoreline.server.features.proto.StringList;
import dev.scoreline.server.features.proto.Value;
import dev.scoreline.server.features.proto.Values;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code scoreline.features.v1.FeatureService} over the wire, on the server's one port. */
class FeatureGrpcTest {
  @TempDir static Path project;
  private static FeatureServer server;
  private static ManagedChannel channel;
  private static FeatureServiceGrpc.FeatureServiceBlockingStub stub;

  @BeforeAll
  static void start() {
    server = FeatureServer.start(project);
    channel = ManagedChannelBuilder.forAddress("127.0.0.1", server.port()).usePlaintext().build();
    stub = FeatureServiceGrpc.newBlockingStub(channel);
  }

  @AfterAll
  static void stop() throws InterruptedException {
    channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    server.close();
  }

  @BeforeEach
  void reset() {
    server.reset();
  }

  private FeatureServiceGrpc.FeatureServiceBlockingStub stub() {
    return stub.withDeadlineAfter(30, TimeUnit.SECONDS);
  }

  private static Value i64(long v) {
    return Value.newBuilder().setInt64Value(v).build();
  }

  private static Value str(String v) {
    return Value.newBuilder().setStringValue(v).build();
  }

  private static Values column(Value... values) {
    return Values.newBuilder().addAllValues(List.of(values)).build();
  }

  private static Row row(Object... nameValue) {
    Row.Builder b = Row.newBuilder();
    for (int i = 0; i < nameValue.length; i += 2) {
      b.putColumns((String) nameValue[i], (Value) nameValue[i + 1]);
    }
    return b.build();
  }

  private static long micros(String iso) {
    Instant t = Instant.parse(iso);
    return t.getEpochSecond() * 1_000_000L + t.getNano() / 1000;
  }

  private PushResponse push(String view, Row... rows) {
    return stub()
        .push(PushRequest.newBuilder().setFeatureView(view).addAllRows(List.of(rows)).build());
  }

  @Test
  void push_thenGetByService_valuesStatusesAndTimestamps() {
    PushResponse p =
        push(
            "user_stats",
            row(
                "user_id", i64(1),
                "clicks_7d", i64(17),
                "event_ts", str("2026-11-28T11:30:00Z")));
    push(
        "user_profile",
        row(
            "user_id",
            str("1"),
            "embedding",
            Value.newBuilder().setFloatList(FloatList.newBuilder().addValues(0.5f)).build(),
            "event_timestamp",
            i64(Instant.parse("2026-01-01T00:00:00Z").toEpochMilli())));
    push(
        "item_stats",
        row(
            "item_id", str("a"),
            "price", Value.newBuilder().setDoubleValue(9.5).build(),
            "event_timestamp", str("2026-11-28T08:00:00Z")));

    GetOnlineFeaturesResponse r =
        stub()
            .getOnlineFeatures(
                GetOnlineFeaturesRequest.newBuilder()
                    .setFeatureService("ranker")
                    .putEntities("user_id", column(i64(1), i64(2)))
                    .putEntities("item_id", column(str("a"), str("b")))
                    .build());

    assertThat(p.getWritten()).isEqualTo(1);
    assertThat(p.getApplied()).isEqualTo(1);
    assertThat(r.getFeatureNamesList())
        .containsExactly(
            "user_id",
            "item_id",
            "user_stats:clicks_7d",
            "user_profile:embedding",
            "item_stats:price",
            "item_stats:in_stock");
    assertThat(r.getResults(0).getValuesList()).containsExactly(i64(1), i64(2));
    assertThat(r.getResults(1).getValuesList()).containsExactly(str("a"), str("b"));
    FeatureVector clicks = r.getResults(2);
    assertThat(clicks.getValuesList()).containsExactly(i64(17), Value.getDefaultInstance());
    assertThat(clicks.getStatusesList())
        .containsExactly(FeatureStatus.PRESENT, FeatureStatus.NOT_FOUND);
    assertThat(clicks.getEventTimestampsMicrosList())
        .containsExactly(micros("2026-11-28T11:30:00Z"), 0L);
    assertThat(r.getResults(3).getValues(0).getFloatList().getValuesList()).containsExactly(0.5f);
    assertThat(r.getResults(4).getValues(0).getFloatValue()).isEqualTo(9.5f);
    FeatureVector inStock = r.getResults(5);
    assertThat(inStock.getStatusesList())
        .containsExactly(FeatureStatus.NULL_VALUE, FeatureStatus.NOT_FOUND);
    assertThat(inStock.getEventTimestampsMicros(0)).isEqualTo(micros("2026-11-28T08:00:00Z"));
  }

  @Test
  void getByList_everyValueTypeAndFullNames() {
    push(
        "all_types",
        row(
            "user_id",
            i64(7),
            "i64",
            i64(-3),
            "f64",
            Value.newBuilder().setDoubleValue(0.1).build(),
            "f32",
            Value.newBuilder().setFloatValue(1.5f).build(),
            "s",
            str("x"),
            "b",
            Value.newBuilder().setBoolValue(true).build(),
            "raw",
            Value.newBuilder().setBytesValue(ByteString.copyFrom(new byte[] {1, 2})).build(),
            "vec",
            Value.newBuilder().setFloatList(FloatList.newBuilder().addValues(2f)).build(),
            "ids",
            Value.newBuilder().setInt64List(Int64List.newBuilder().addValues(5)).build(),
            "tags",
            Value.newBuilder().setStringList(StringList.newBuilder().addValues("t")).build(),
            "event_timestamp",
            str("2026-11-28T11:00:00Z")));

    GetOnlineFeaturesResponse r =
        stub()
            .getOnlineFeatures(
                GetOnlineFeaturesRequest.newBuilder()
                    .setFeatures(FeatureList.newBuilder().addFeatures("all_types:*"))
                    .putEntities("user_id", column(i64(7)))
                    .setFullFeatureNames(true)
                    .build());

    assertThat(r.getFeatureNames(1)).isEqualTo("all_types__i64");
    assertThat(r.getResults(1).getValues(0).getInt64Value()).isEqualTo(-3);
    assertThat(r.getResults(2).getValues(0).getDoubleValue()).isEqualTo(0.1);
    assertThat(r.getResults(3).getValues(0).getFloatValue()).isEqualTo(1.5f);
    assertThat(r.getResults(4).getValues(0).getStringValue()).isEqualTo("x");
    assertThat(r.getResults(5).getValues(0).getBoolValue()).isTrue();
    assertThat(r.getResults(6).getValues(0).getBytesValue().toByteArray()).containsExactly(1, 2);
    assertThat(r.getResults(7).getValues(0).getFloatList().getValuesList()).containsExactly(2f);
    assertThat(r.getResults(8).getValues(0).getInt64List().getValuesList()).containsExactly(5L);
    assertThat(r.getResults(9).getValues(0).getStringList().getValuesList()).containsExactly("t");
  }

  @Test
  void push_olderEvent_notApplied() {
    push(
        "user_stats",
        row("user_id", i64(1), "clicks_7d", i64(10), "event_ts", str("2026-11-28T11:30:00Z")));

    PushResponse older =
        push(
            "user_stats",
            row("user_id", i64(1), "clicks_7d", i64(99), "event_ts", str("2026-11-28T11:00:00Z")));

    assertThat(older.getApplied()).isZero();
    GetOnlineFeaturesResponse r =
        stub()
            .getOnlineFeatures(
                GetOnlineFeaturesRequest.newBuilder()
                    .setFeatures(FeatureList.newBuilder().addFeatures("user_stats:clicks_7d"))
                    .putEntities("user_id", column(i64(1)))
                    .build());
    assertThat(r.getResults(1).getValues(0).getInt64Value()).isEqualTo(10);
  }

  @Test
  void push_onlineAndOffline_appendsToTheOfflineLog() {
    stub()
        .push(
            PushRequest.newBuilder()
                .setFeatureView("user_stats")
                .setTo(PushTarget.ONLINE_AND_OFFLINE)
                .addRows(
                    row(
                        "user_id",
                        i64(1),
                        "clicks_7d",
                        i64(1),
                        "event_ts",
                        str("2026-11-28T11:00:00Z")))
                .build());

    assertThat(Files.exists(project.resolve("data/pushed/user_stats/2026-11-28.jsonl"))).isTrue();
  }

  private static StatusRuntimeException error(Runnable call) {
    return catchThrowableOfType(StatusRuntimeException.class, call::run);
  }

  @Test
  void errors_mapToGrpcStatusesNamingTheField() {
    StatusRuntimeException unknownService =
        error(
            () ->
                stub()
                    .getOnlineFeatures(
                        GetOnlineFeaturesRequest.newBuilder()
                            .setFeatureService("nope")
                            .putEntities("user_id", column(i64(1)))
                            .build()));
    StatusRuntimeException unknownFeature =
        error(
            () ->
                stub()
                    .getOnlineFeatures(
                        GetOnlineFeaturesRequest.newBuilder()
                            .setFeatures(FeatureList.newBuilder().addFeatures("user_stats:nope"))
                            .putEntities("user_id", column(i64(1)))
                            .build()));
    StatusRuntimeException wrongKey =
        error(
            () ->
                stub()
                    .getOnlineFeatures(
                        GetOnlineFeaturesRequest.newBuilder()
                            .setFeatureService("ranker")
                            .putEntities("user_id", column(i64(1), str("x")))
                            .putEntities("item_id", column(str("a"), str("b")))
                            .build()));
    StatusRuntimeException neither =
        error(
            () ->
                stub()
                    .getOnlineFeatures(
                        GetOnlineFeaturesRequest.newBuilder()
                            .putEntities("user_id", column(i64(1)))
                            .build()));
    StatusRuntimeException unknownView = error(() -> push("nope", row("user_id", i64(1))));

    assertThat(unknownService.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND);
    assertThat(unknownService.getStatus().getDescription()).contains("nope");
    assertThat(unknownFeature.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND);
    assertThat(unknownFeature.getStatus().getDescription()).startsWith("features[0]");
    assertThat(wrongKey.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
    assertThat(wrongKey.getStatus().getDescription()).startsWith("entities.user_id[1]");
    assertThat(neither.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
    assertThat(unknownView.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND);
    assertThat(unknownView.getStatus().getDescription()).startsWith("feature_view");
  }

  @Test
  void withoutFeatureStore_unimplemented(@TempDir Path other) throws InterruptedException {
    try (FeatureServer bare = FeatureServer.withoutFeatures(other)) {
      ManagedChannel ch =
          ManagedChannelBuilder.forAddress("127.0.0.1", bare.port()).usePlaintext().build();
      try {
        StatusRuntimeException e =
            error(
                () ->
                    FeatureServiceGrpc.newBlockingStub(ch)
                        .withDeadlineAfter(30, TimeUnit.SECONDS)
                        .getOnlineFeatures(
                            GetOnlineFeaturesRequest.newBuilder().setFeatureService("x").build()));
        assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNIMPLEMENTED);
      } finally {
        ch.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      }
    }
  }
}
