package dev.scoreline.stream;

import static org.assertj.core.api.Assertions.assertThat;

import dev.scoreline.stream.fraud.CardTransactions;
import dev.scoreline.stream.fraud.FraudExample;
import dev.scoreline.stream.log.EventLog;
import io.micrometer.core.instrument.Timer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A lane's cache of entity states, smaller than the number of entities it sees. */
class StateCacheTest {
  static final String SURFACE = "fraud-check";
  static final String STREAM = "transactions";
  static final long MIN = 60_000_000L;

  @TempDir Path dir;
  StreamFixture f;
  StreamService service;
  final SinkAcknowledgementTest.HeldSink held = new SinkAcknowledgementTest.HeldSink();

  @AfterEach
  void tearDown() {
    held.releaseAll();
    if (service != null) {
      service.close();
    }
    if (f != null) {
      f.close();
    }
  }

  static byte[] txn(String id, long card, long micros) {
    return new CardTransactions.Txn(
            id, card, 12.5, "m-g1", "grocery", "DE", "d-" + card, "chip", micros, false, null)
        .toJson();
  }

  @Test
  void aCachedStateOfABatch_isNotEvictedByTheStatesThatTheBatchLoads() throws Exception {
    // one lane, batches of 4, one batch in flight, a cache of 8 states (twice a batch)
    f =
        new StreamFixture(
            dir,
            FraudExample.surfaceYaml(FraudExample.EMBEDDED_SOURCE, "    held: {}")
                .replace(
                    "  lanes: 2",
                    "  lanes: 1\n  batch-size: 4\n  batches-in-flight: 1\n  state-cache: 8"));
    service =
        f.start(new StreamService.Options(EventLog.Options.defaults(), List.of(held), Set.of()));
    long t = StreamFixture.micros(StreamFixture.NOW);
    // a first event, whose sink write is held, and a second one: once it is processed, the lane
    // waits for the first write to be acknowledged, while the rest is queued; then it takes
    // batches of 4 in order
    StreamProcessor p = service.processor(SURFACE);
    service.append(STREAM, List.of(txn("first", 30, t))).join();
    held.awaitWrites(1);
    service.append(STREAM, List.of(txn("second", 29, t))).join();
    Timer process =
        f.meters
            .find("scoreline.stream.stage")
            .tag("stage", "process")
            .tag("surface", SURFACE)
            .timer();
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (process.count() < 2 && System.nanoTime() < end) {
      Thread.sleep(5);
    }
    assertThat(process.count()).isEqualTo(2);
    long x = 1;
    List<byte[]> rest = new ArrayList<>();
    rest.add(txn("x-1", x, t + MIN)); // batch: x and three cards
    for (long card = 2; card <= 8; card++) { // ... then four more: x is the oldest of 8 cached
      rest.add(txn("a-" + card, card, t + MIN));
    }
    rest.add(txn("x-2", x, t + 2 * MIN)); // batch: x (cached) and three cards loaded
    for (long card = 9; card <= 15; card++) { // ... and one more batch (16 fill the queue)
      rest.add(txn("b-" + card, card, t + 2 * MIN));
    }
    service.append(STREAM, rest).join();
    while (p.status().in() < 2 + rest.size() && System.nanoTime() < end) {
      Thread.sleep(5); // polled: queued for the lane (the last poll's records as it returns)
    }
    held.releaseAll();
    assertThat(p.awaitIdle(Duration.ofSeconds(30))).isTrue();
    assertThat(p.status().results()).isEqualTo(2 + rest.size());

    // x's second event was applied to x's state, not to an empty one
    byte[] key = f.engine.surfaces().get(SURFACE).entityKey(Map.of("card_id", x));
    byte[] stored = f.kv.multiGet("stream-state/" + SURFACE, List.of(key)).get(0);
    int fields = 4; // amount, device_id, country, merchant_id
    EntityState state = EntityState.decode(stored, fields);
    assertThat(state.size()).isEqualTo(2);
    assertThat(state.seen(StreamEvent.hash("x-1"))).isTrue();
  }
}
