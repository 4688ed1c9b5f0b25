package dev.scoreline.stream;

import static org.assertj.core.api.Assertions.assertThat;

import dev.scoreline.stream.fraud.CardTransactions;
import dev.scoreline.stream.fraud.FraudExample;
import dev.scoreline.stream.log.EventLog;
import dev.scoreline.stream.spi.DeadLetterSink;
import dev.scoreline.stream.spi.EventSource;
import dev.scoreline.stream.spi.ResultSink;
import dev.scoreline.stream.spi.StreamConnector;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Commits and sink acknowledgements: with several batches' sink writes outstanding per lane, the
 * committed position never passes an event whose results a sink has not acknowledged, whatever
 * order the sinks acknowledge in, and a stop with writes unacknowledged loses nothing.
 */
class SinkAcknowledgementTest {
  static final String SURFACE = "fraud-check";
  static final String STREAM = "transactions";

  @TempDir Path dir;
  StreamFixture f;
  StreamService service;
  final HeldSink held = new HeldSink();

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

  /** A sink whose writes the test acknowledges, in any order ({@code type: held}). */
  static final class HeldSink implements ResultSink, StreamConnector {
    record Write(List<StreamResult> results, CompletableFuture<Void> ack) {}

    final List<Write> writes = new CopyOnWriteArrayList<>();
    final Set<String> acknowledged = ConcurrentHashMap.newKeySet();
    volatile boolean autoAck;

    @Override
    public String name() {
      return "held";
    }

    @Override
    public synchronized CompletableFuture<Void> write(List<StreamResult> results) {
      Write w = new Write(List.copyOf(results), new CompletableFuture<>());
      writes.add(w);
      if (autoAck) {
        ack(w);
      }
      return w.ack;
    }

    synchronized void ack(int i) {
      ack(writes.get(i));
    }

    private void ack(Write w) {
      for (StreamResult r : w.results) {
        acknowledged.add(r.eventId());
      }
      w.ack.complete(null);
    }

    /** Fails every write not acknowledged yet, as a sink that is down would. */
    synchronized void failPending() {
      for (Write w : writes) {
        w.ack.completeExceptionally(new IllegalStateException("sink down"));
      }
    }

    synchronized void releaseAll() {
      autoAck = true;
      for (Write w : writes) {
        if (!w.ack.isDone()) {
          ack(w);
        }
      }
    }

    long minOffset(int i) {
      return writes.get(i).results.stream().mapToLong(StreamResult::offset).min().orElseThrow();
    }

    void awaitResults(int n) throws InterruptedException {
      long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (writes.stream().mapToInt(w -> w.results.size()).sum() < n && System.nanoTime() < end) {
        Thread.sleep(5);
      }
      assertThat(writes.stream().mapToInt(w -> w.results.size()).sum()).isEqualTo(n);
    }

    void awaitWrites(int n) throws InterruptedException {
      long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (writes.size() < n && System.nanoTime() < end) {
        Thread.sleep(5);
      }
      assertThat(writes).hasSizeGreaterThanOrEqualTo(n);
    }

    // the connector: `sinks: {held: {}}` finds this sink

    @Override
    public String type() {
      return "held";
    }

    @Override
    public EventSource source(Context context, String field, Map<String, Object> config) {
      throw new UnsupportedOperationException();
    }

    @Override
    public ResultSink sink(Context context, String field, Map<String, Object> config) {
      return this;
    }

    @Override
    public DeadLetterSink deadLetters(Context context, String field, Map<String, Object> config) {
      throw new UnsupportedOperationException();
    }

    @Override
    public void close() {}
  }

  /** One lane, batches of 5, a commit whenever one is due. */
  static String surfaceYaml(int batchesInFlight) {
    return FraudExample.surfaceYaml(FraudExample.EMBEDDED_SOURCE, "    held: {}")
        .replace(
            "  lanes: 2",
            "  lanes: 1\n  batch-size: 5\n  batches-in-flight: "
                + batchesInFlight
                + "\n  commit-interval: 1ms");
  }

  StreamService startService() {
    return f.start(new StreamService.Options(EventLog.Options.defaults(), List.of(held), Set.of()));
  }

  List<byte[]> events(int n) {
    List<byte[]> out = new ArrayList<>();
    for (CardTransactions.Txn t : f.data.transactions().subList(0, n)) {
      out.add(t.toJson());
    }
    return out;
  }

  long committed() {
    return service.embedded().committed(STREAM, SURFACE);
  }

  @Test
  void aSinkAcknowledgingOutOfOrder_neverLetsTheCommitPassAnUnacknowledgedEvent() throws Exception {
    // room for every batch in flight: the lane never waits for the oldest, it is idle and
    // notices each acknowledgement as it comes
    f = new StreamFixture(dir, surfaceYaml(64));
    service = startService();
    service.append(STREAM, events(40)).join();
    held.awaitResults(40);
    long firstHeld = held.minOffset(0);
    for (int i = held.writes.size() - 1; i > 0; i--) {
      held.ack(i);
    }
    // the later batches are acknowledged; the first is not, so nothing at or after it is committed
    Thread.sleep(300);
    assertThat(committed()).isLessThanOrEqualTo(firstHeld);
    assertThat(service.processor(SURFACE).status().committed().getOrDefault(0, 0L))
        .isLessThanOrEqualTo(firstHeld);

    held.releaseAll();
    assertThat(service.processor(SURFACE).awaitIdle(Duration.ofSeconds(30))).isTrue();
    assertThat(committed()).isEqualTo(40);
    Set<String> ids = new HashSet<>();
    for (CardTransactions.Txn t : f.data.transactions().subList(0, 40)) {
      ids.add(t.id());
    }
    assertThat(held.acknowledged).isEqualTo(ids);
  }

  @Test
  void aStopWithSomeBatchesUnacknowledged_losesNothing_theRestartRedeliversThem() throws Exception {
    f = new StreamFixture(dir, surfaceYaml(4));
    service = startService();
    service.append(STREAM, events(40)).join();
    // four batches are written and none acknowledged: the lane waits for the oldest
    held.awaitWrites(4);
    Thread.sleep(100);
    assertThat(held.writes).hasSize(4);
    long firstHeld = held.minOffset(1);
    held.ack(0);
    held.ack(2);
    held.ack(3);
    // stop while batch 1 is unacknowledged; the sink then fails it, as a sink that is down would
    Thread stopping = new Thread(service::close);
    stopping.start();
    Thread.sleep(100);
    held.failPending();
    stopping.join(60_000);
    assertThat(stopping.isAlive()).isFalse();
    service = null;
    // the writes of the stopped processor are gone with it: none of them is acknowledged later
    held.writes.clear();
    try (StreamService s = startService()) {
      assertThat(s.embedded().committed(STREAM, SURFACE)).isLessThanOrEqualTo(firstHeld);
      held.releaseAll();
      assertThat(s.processor(SURFACE).awaitIdle(Duration.ofSeconds(30))).isTrue();
      assertThat(s.embedded().committed(STREAM, SURFACE)).isEqualTo(40);
    }
    Set<String> ids = new HashSet<>();
    for (CardTransactions.Txn t : f.data.transactions().subList(0, 40)) {
      ids.add(t.id());
    }
    // every event's result was acknowledged, in the first run or after the restart
    assertThat(held.acknowledged).isEqualTo(ids);
  }
}
