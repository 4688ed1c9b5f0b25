package dev.scoreline.stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.scoreline.core.error.ErrorCode;
import dev.scoreline.core.error.ScorelineException;
import dev.scoreline.core.feature.FeatureRef;
import dev.scoreline.core.feature.online.FeatureVectors;
import dev.scoreline.core.model.InferenceRequest;
import dev.scoreline.core.surface.SurfaceRequest;
import dev.scoreline.core.surface.SurfaceResult;
import dev.scoreline.stream.fraud.CardTransactions;
import dev.scoreline.stream.fraud.FraudExample;
import dev.scoreline.stream.log.EventLog;
import dev.scoreline.stream.sink.KvResultSink;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The embedded streaming engine end to end: the fraud-check surface with a real ONNX model, RocksDB
 * stores, the durable event log, result log, KV sink and dead letters.
 */
class StreamProcessorTest {
  static final String SURFACE = "fraud-check";
  static final String STREAM = "transactions";

  @TempDir Path dir;
  StreamFixture f;
  StreamService service;

  @AfterEach
  void tearDown() {
    if (service != null) {
      service.close();
    }
    if (f != null) {
      f.close();
    }
  }

  void start(String surfaceYaml) {
    f = new StreamFixture(dir, surfaceYaml);
    service = f.start();
  }

  void send(List<byte[]> events) {
    service.append(STREAM, events).join();
  }

  void await() throws InterruptedException {
    assertThat(service.processor(SURFACE).awaitIdle(Duration.ofSeconds(30))).isTrue();
  }

  static List<JsonNode> read(EventLog log) throws Exception {
    List<JsonNode> out = new ArrayList<>();
    try (EventLog.Reader r = log.reader(0)) {
      for (List<EventLog.Entry> es; !(es = r.poll(1000, 0, TimeUnit.MILLISECONDS)).isEmpty(); ) {
        for (EventLog.Entry e : es) {
          out.add(Json.MAPPER.readTree(e.payload()));
        }
      }
    }
    return out;
  }

  static byte[] txn(String id, long card, double amount, String ts) {
    return String.format(
            java.util.Locale.ROOT,
            "{\"txn_id\":\"%s\",\"card_id\":%d,\"amount\":%.2f,\"merchant_id\":\"m-1\","
                + "\"merchant_category\":\"online\",\"country\":\"US\",\"device_id\":\"d-1-1\","
                + "\"channel\":\"online\",\"ts\":\"%s\"}",
            id,
            card,
            amount,
            ts)
        .getBytes(StandardCharsets.UTF_8);
  }

  @SuppressWarnings("unchecked")
  static Map<String, Object> fields(byte[] event) throws Exception {
    return Json.MAPPER.readValue(event, Map.class);
  }

  @Test
  void everyEvent_getsExactlyOneResult_inTheLogAndTheKvStore() throws Exception {
    start(null);
    List<byte[]> events = new ArrayList<>();
    Set<String> ids = new HashSet<>();
    for (CardTransactions.Txn t : f.data.transactions()) {
      events.add(t.toJson());
      ids.add(t.id());
    }
    for (int i = 0; i < events.size(); i += 100) {
      send(events.subList(i, Math.min(events.size(), i + 100)));
    }
    await();
    List<JsonNode> results = read(service.resultLog(SURFACE));
    assertThat(results).hasSize(events.size());
    Set<String> got = new HashSet<>();
    for (JsonNode r : results) {
      got.add(r.get("event_id").asText());
      assertThat(r.get("score").floatValue()).isBetween(0f, 1f);
      assertThat(r.get("model").asText()).isEqualTo("fraud");
    }
    assertThat(got).isEqualTo(ids);
    // latest result per card in the KV store: the card's last transaction
    CardTransactions.Txn last = f.data.transactions().get(f.data.transactions().size() - 1);
    byte[] key = f.engine.surfaces().get(SURFACE).entityKey(Map.of("card_id", last.cardId()));
    JsonNode latest = Json.MAPPER.readTree(KvResultSink.latest(f.kv, SURFACE, key));
    assertThat(latest.get("event_id").asText()).isEqualTo(last.id());
    StreamProcessor.Status s = service.processor(SURFACE).status();
    assertThat(s.in()).isEqualTo(events.size());
    assertThat(s.results()).isEqualTo(events.size());
    assertThat(s.committed()).containsEntry(0, (long) events.size());
    assertThat(s.lag()).isZero();
  }

  @Test
  void featureUpdates_areVisibleToTheNextEventOfTheSameCard_andMatchOnlineScoring()
      throws Exception {
    start(null);
    List<FeatureRef> velocity =
        List.of(
            new FeatureRef("card_velocity", "txn_count_10m"),
            new FeatureRef("card_velocity", "amount_sum_10m"),
            new FeatureRef("card_velocity", "seconds_since_previous"));
    String[] ts = {"2029-12-31T10:00:00Z", "2029-12-31T10:01:00Z", "2029-12-31T10:03:30Z"};
    double[] amounts = {2.5, 3.0, 1.25};
    double sum = 0;
    for (int i = 0; i < 3; i++) {
      byte[] e = txn("v-" + i, 1, amounts[i], ts[i]);
      send(List.of(e));
      await();
      sum += amounts[i];
      FeatureVectors v = f.store.get(velocity, List.of(Map.of("card_id", 1)));
      assertThat(v.value(0, 0)).isEqualTo((long) (i + 1));
      assertThat((Double) v.value(1, 0))
          .isCloseTo(sum, org.assertj.core.api.Assertions.within(1e-9));
      if (i == 0) {
        assertThat(v.value(2, 0)).isNull();
      } else {
        assertThat((Double) v.value(2, 0)).isEqualTo(i == 1 ? 60.0 : 150.0);
      }
      // mode parity: the online path gives the same score for the same card state and event
      JsonNode result = read(service.resultLog(SURFACE)).get(i);
      SurfaceResult online =
          f.engine.recommend(
              SURFACE,
              new SurfaceRequest(Map.of("card_id", 1L), fields(e), null, Map.of(), false, null));
      assertThat(online.fallback()).isFalse();
      assertThat(result.get("event_id").asText()).isEqualTo("v-" + i);
      assertThat(result.get("score").floatValue()).isEqualTo(online.score());
    }
  }

  @Test
  void modeParity_everyCardsLastEvent_scoresTheSameOnline() throws Exception {
    start(null);
    List<byte[]> events = new ArrayList<>();
    Map<Long, byte[]> lastOfCard = new LinkedHashMap<>();
    for (CardTransactions.Txn t : f.data.transactions()) {
      events.add(t.toJson());
      lastOfCard.put(t.cardId(), t.toJson());
    }
    send(events);
    await();
    Map<String, Float> streamed = new java.util.HashMap<>();
    for (JsonNode r : read(service.resultLog(SURFACE))) {
      streamed.put(r.get("event_id").asText(), r.get("score").floatValue());
    }
    int compared = 0;
    for (Map.Entry<Long, byte[]> e : lastOfCard.entrySet()) {
      Map<String, Object> ctx = fields(e.getValue());
      SurfaceResult online =
          f.engine.recommend(
              SURFACE,
              new SurfaceRequest(Map.of("card_id", e.getKey()), ctx, null, Map.of(), false, null));
      assertThat(online.score()).isEqualTo(streamed.get((String) ctx.get("txn_id")));
      compared++;
    }
    assertThat(compared).isEqualTo(f.data.cards().size());
  }

  @Test
  void poisonEvents_goToTheDeadLetters_andTheStreamContinues_thenReplay() throws Exception {
    start(null);
    float bad = (float) Math.log1p(666.0);
    f.fault =
        r ->
            firstColumnHas(r, bad)
                ? new ScorelineException(ErrorCode.INTERNAL, "injected model failure")
                : null;
    List<byte[]> events =
        List.of(
            txn("ok-1", 1, 10, "2029-12-31T10:00:00Z"),
            "{not json".getBytes(StandardCharsets.UTF_8),
            "[1, 2]".getBytes(StandardCharsets.UTF_8),
            "{\"txn_id\": \"no-card\", \"amount\": 3}".getBytes(StandardCharsets.UTF_8),
            "{\"txn_id\": \"bad-amount\", \"card_id\": 2, \"amount\": \"lots\"}"
                .getBytes(StandardCharsets.UTF_8),
            txn("model-fails", 3, 666, "2029-12-31T10:00:00Z"),
            txn("ok-2", 4, 10, "2029-12-31T10:00:00Z"));
    send(events);
    await();
    List<JsonNode> results = read(service.resultLog(SURFACE));
    assertThat(results).extracting(r -> r.get("event_id").asText()).containsExactly("ok-1", "ok-2");
    DeadLetters dl = service.deadLetters(SURFACE);
    List<DeadLetters.Entry> letters = new ArrayList<>(dl.list(0, 100));
    // lanes write their dead letters independently: order them by source offset
    letters.sort(java.util.Comparator.comparingLong(e -> e.letter().offset()));
    assertThat(letters)
        .extracting(e -> e.letter().stage())
        .containsExactly("parse", "parse", "event", "event", "model");
    assertThat(letters).extracting(e -> e.letter().offset()).containsExactly(1L, 2L, 3L, 4L, 5L);
    assertThat(letters.get(2).letter().reason()).contains("card_id");
    assertThat(letters.get(3).letter().reason()).contains("amount").contains("number");
    assertThat(letters.get(4).letter().eventId()).isEqualTo("model-fails");
    assertThat(letters.get(4).letter().code()).isEqualTo(ErrorCode.INTERNAL);
    assertThat(new String(letters.get(0).letter().event(), StandardCharsets.UTF_8))
        .isEqualTo("{not json");
    assertThat(service.processor(SURFACE).status().deadLetters()).isEqualTo(5);

    // fix the model and replay: the model failure now scores, the malformed ones come back
    f.fault = r -> null;
    assertThat(service.replay(SURFACE, 0, 5, false)).isEqualTo(5);
    assertThat(service.replay(SURFACE, 0, 5, false)).isZero(); // replayed once
    await();
    assertThat(read(service.resultLog(SURFACE)))
        .extracting(r -> r.get("event_id").asText())
        .containsExactly("ok-1", "ok-2", "model-fails");
    List<DeadLetters.Entry> after = dl.list(0, 100);
    assertThat(after).hasSize(9);
    assertThat(after.subList(0, 5)).allMatch(DeadLetters.Entry::replayed);
  }

  /** Whether any row of a model call has {@code v} in its first column (log1p of the amount). */
  static boolean firstColumnHas(InferenceRequest r, float v) {
    float[] x = r.inputs().get(0).toFloatArray();
    int width = (int) r.inputs().get(0).dim(1);
    for (int i = 0; i < x.length; i += width) {
      if (x[i] == v) {
        return true;
      }
    }
    return false;
  }

  @Test
  void aPoisonEventInARound_failsOnlyItself_theRoundsOtherEventsAreScored() throws Exception {
    String yaml =
        FraudExample.surfaceYaml(FraudExample.EMBEDDED_SOURCE, "")
            .replace("  lanes: 2", "  lanes: 1\n  batch-size: 64");
    start(yaml);
    float bad = (float) Math.log1p(666.0);
    AtomicBoolean hold = new AtomicBoolean(true);
    AtomicInteger badCallRows = new AtomicInteger();
    AtomicInteger calls = new AtomicInteger();
    f.fault =
        r -> {
          calls.incrementAndGet();
          if (hold.get()) {
            // transient: the lane retries its first batch while the others queue up behind it
            return new ScorelineException(ErrorCode.RESOURCE_EXHAUSTED, "model busy");
          }
          if (firstColumnHas(r, bad)) {
            badCallRows.accumulateAndGet((int) r.inputs().get(0).dim(0), Math::max);
            return new ScorelineException(ErrorCode.INTERNAL, "injected model failure");
          }
          return null;
        };
    List<byte[]> events = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      // one event per card: all of them in the first round of a batch
      events.add(txn("r-" + i, 100 + i, i == 12 ? 666 : 10 + i, "2029-12-31T10:00:00Z"));
    }
    send(events);
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (service.processor(SURFACE).status().in() < events.size() && System.nanoTime() < end) {
      Thread.sleep(5);
    }
    Thread.sleep(100); // the dispatcher hands the polled events to the lane's queue
    hold.set(false);
    await();
    // the bad event was scored together with good ones, and the call failed as a whole
    assertThat(badCallRows.get()).isGreaterThan(1);
    List<JsonNode> results = read(service.resultLog(SURFACE));
    Set<String> ids = new HashSet<>();
    for (JsonNode r : results) {
      ids.add(r.get("event_id").asText());
    }
    assertThat(results).hasSize(19);
    assertThat(ids).hasSize(19).doesNotContain("r-12");
    List<DeadLetters.Entry> letters = service.deadLetters(SURFACE).list(0, 100);
    assertThat(letters).hasSize(1);
    assertThat(letters.get(0).letter().eventId()).isEqualTo("r-12");
    assertThat(letters.get(0).letter().stage()).isEqualTo("model");
    assertThat(letters.get(0).letter().code()).isEqualTo(ErrorCode.INTERNAL);
    StreamProcessor.Status st = service.processor(SURFACE).status();
    assertThat(st.results()).isEqualTo(19);
    assertThat(st.deadLetters()).isEqualTo(1);
    assertThat(st.committed()).containsEntry(0, 20L);
  }

  @Test
  void aResentEventId_isNotScoredTwice() throws Exception {
    start(null);
    byte[] e = txn("dup-1", 5, 12, "2029-12-31T10:00:00Z");
    send(List.of(e));
    await();
    send(List.of(e, txn("dup-2", 5, 13, "2029-12-31T10:00:10Z")));
    await();
    assertThat(read(service.resultLog(SURFACE)))
        .extracting(r -> r.get("event_id").asText())
        .containsExactly("dup-1", "dup-2");
    assertThat(service.processor(SURFACE).status().duplicates()).isEqualTo(1);
    FeatureVectors v =
        f.store.get(
            List.of(new FeatureRef("card_velocity", "txn_count_10m")),
            List.of(Map.of("card_id", 5)));
    assertThat(v.value(0, 0)).isEqualTo(2L);
  }

  @Test
  void transientModelFailures_areRetriedInPlace_andIngestRefusesPastMaxLag() throws Exception {
    String yaml =
        FraudExample.surfaceYaml(FraudExample.EMBEDDED_SOURCE, "")
            .replace("  lanes: 2", "  lanes: 2\n  max-lag: 40\n  batch-size: 8");
    start(yaml);
    f.fault = r -> new ScorelineException(ErrorCode.RESOURCE_EXHAUSTED, "model queue full");
    List<byte[]> events = new ArrayList<>();
    for (int i = 0; i < 40; i++) {
      events.add(txn("bp-" + i, 1 + i % 7, 5 + i, "2029-12-31T10:00:00Z"));
    }
    send(events);
    assertThatThrownBy(() -> send(List.of(txn("bp-over", 1, 1, "2029-12-31T10:00:00Z"))))
        .isInstanceOf(ScorelineException.class)
        .extracting(e -> ((ScorelineException) e).code())
        .isEqualTo(ErrorCode.RESOURCE_EXHAUSTED);
    f.fault = r -> null;
    await();
    send(List.of(txn("bp-after", 1, 1, "2029-12-31T10:05:00Z")));
    await();
    assertThat(read(service.resultLog(SURFACE))).hasSize(41);
    assertThat(service.deadLetters(SURFACE).size()).isZero();
  }

  @Test
  void restart_resumesFromTheCommittedPosition() throws Exception {
    start(null);
    List<CardTransactions.Txn> txns = f.data.transactions();
    int half = txns.size() / 2;
    List<byte[]> first = new ArrayList<>();
    for (int i = 0; i < half; i++) {
      first.add(txns.get(i).toJson());
    }
    send(first);
    await();
    service.close();
    service = f.start();
    List<byte[]> second = new ArrayList<>();
    for (int i = half; i < txns.size(); i++) {
      second.add(txns.get(i).toJson());
    }
    send(second);
    await();
    List<JsonNode> results = read(service.resultLog(SURFACE));
    assertThat(results).hasSize(txns.size());
    assertThat(results.stream().map(r -> r.get("event_id").asText()).distinct().count())
        .isEqualTo(txns.size());
    assertThat(service.processor(SURFACE).status().committed())
        .containsEntry(0, (long) txns.size());
  }
}
