package dev.scoreline.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.scoreline.stream.StreamProcessor;
import dev.scoreline.stream.StreamResult;
import dev.scoreline.stream.StreamService;
import dev.scoreline.stream.fraud.CardTransactions;
import dev.scoreline.stream.spi.DeadLetterSink;
import dev.scoreline.stream.spi.EventSource;
import dev.scoreline.stream.spi.ResultSink;
import dev.scoreline.stream.spi.StreamConnector;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The fraud-check surface on a real in-process Kafka 4 broker: a keyed source topic with 3
 * partitions, results to a topic, poison events to a dead-letter topic with provenance headers,
 * offsets committed for the surface's consumer group only after the sinks acknowledged.
 */
class KafkaStreamTest {
  static final ObjectMapper MAPPER = new ObjectMapper();
  static final Instant NOW = Instant.parse("2030-01-01T00:00:00Z");
  static EmbeddedKafka kafka;
  static byte[] model;

  @TempDir Path dir;

  @BeforeAll
  static void start() throws Exception {
    kafka = EmbeddedKafka.start();
    model = FraudKafkaProject.trainModel();
  }

  @AfterAll
  static void stop() throws Exception {
    kafka.close();
  }

  /** The project, its stores and engine, with the surface reading {@code topic}. */
  final class Project extends FraudKafkaProject {
    Project(String topic, String group) throws Exception {
      super(
          dir.resolve("project"),
          CardTransactions.generate(3, 30, 2, NOW.getEpochSecond() * 1_000_000L, 0.2),
          topic,
          group,
          kafka.bootstrapServers(),
          model,
          NOW);
    }

    StreamService start() {
      return startService();
    }
  }

  static void produce(String topic, List<byte[]> keys, List<byte[]> values) throws Exception {
    try (KafkaProducer<byte[], byte[]> p =
        new KafkaProducer<>(
            Map.of("bootstrap.servers", kafka.bootstrapServers(), "acks", "all", "linger.ms", "5"),
            new ByteArraySerializer(),
            new ByteArraySerializer())) {
      List<java.util.concurrent.Future<?>> fs = new ArrayList<>();
      for (int i = 0; i < values.size(); i++) {
        fs.add(p.send(new ProducerRecord<>(topic, keys.get(i), values.get(i))));
      }
      for (java.util.concurrent.Future<?> f : fs) {
        f.get(30, TimeUnit.SECONDS);
      }
    }
  }

  static List<ConsumerRecord<byte[], byte[]>> consume(String topic, int atLeast, Duration timeout) {
    List<ConsumerRecord<byte[], byte[]>> out = new ArrayList<>();
    try (KafkaConsumer<byte[], byte[]> c =
        new KafkaConsumer<>(
            Map.of(
                "bootstrap.servers",
                kafka.bootstrapServers(),
                "group.id",
                "reader-" + topic + "-" + System.nanoTime(),
                "auto.offset.reset",
                "earliest"),
            new ByteArrayDeserializer(),
            new ByteArrayDeserializer())) {
      c.subscribe(List.of(topic));
      long end = System.nanoTime() + timeout.toNanos();
      while (out.size() < atLeast && System.nanoTime() < end) {
        c.poll(Duration.ofMillis(200)).forEach(out::add);
      }
      // anything more that is already there
      c.poll(Duration.ofMillis(300)).forEach(out::add);
    }
    return out;
  }

  static long committed(String group, String topic, int partitions) throws Exception {
    try (Admin a = Admin.create(Map.of("bootstrap.servers", kafka.bootstrapServers()))) {
      Map<TopicPartition, OffsetAndMetadata> m =
          a.listConsumerGroupOffsets(group)
              .partitionsToOffsetAndMetadata()
              .get(30, TimeUnit.SECONDS);
      long sum = 0;
      for (Map.Entry<TopicPartition, OffsetAndMetadata> e : m.entrySet()) {
        if (e.getKey().topic().equals(topic) && e.getValue() != null) {
          sum += e.getValue().offset();
        }
      }
      return sum;
    }
  }

  static long endOffsets(String topic, int partitions) throws Exception {
    try (Admin a = Admin.create(Map.of("bootstrap.servers", kafka.bootstrapServers()))) {
      Map<TopicPartition, OffsetSpec> q = new HashMap<>();
      for (int p = 0; p < partitions; p++) {
        q.put(new TopicPartition(topic, p), OffsetSpec.latest());
      }
      long sum = 0;
      for (var e : a.listOffsets(q).all().get(30, TimeUnit.SECONDS).values()) {
        sum += e.offset();
      }
      return sum;
    }
  }

  static String header(ConsumerRecord<byte[], byte[]> r, String name) {
    Header h = r.headers().lastHeader(name);
    return h == null ? null : new String(h.value(), StandardCharsets.UTF_8);
  }

  static void awaitCommitted(String group, String topic, int partitions, long expected)
      throws Exception {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (committed(group, topic, partitions) < expected && System.nanoTime() < end) {
      Thread.sleep(100);
    }
    assertThat(committed(group, topic, partitions)).isEqualTo(expected);
  }

  @Test
  void kafkaSource_everyEventScored_offsetsCommitted_poisonToTheDeadLetterTopic() throws Exception {
    String topic = "card-txns";
    kafka.createTopic(topic, 3);
    kafka.createTopic(topic + ".scores", 3);
    kafka.createTopic(topic + ".dead-letters", 1);
    try (Project p = new Project(topic, "g1")) {
      List<byte[]> keys = new ArrayList<>();
      List<byte[]> values = new ArrayList<>();
      Set<String> ids = new HashSet<>();
      for (CardTransactions.Txn t : p.data.transactions()) {
        keys.add(Long.toString(t.cardId()).getBytes(StandardCharsets.UTF_8));
        values.add(t.toJson());
        ids.add(t.id());
      }
      keys.add("x".getBytes(StandardCharsets.UTF_8));
      values.add("{not json".getBytes(StandardCharsets.UTF_8));
      keys.add("y".getBytes(StandardCharsets.UTF_8));
      values.add("{\"txn_id\": \"no-card\"}".getBytes(StandardCharsets.UTF_8));
      produce(topic, keys, values);

      try (StreamService svc = p.start()) {
        StreamProcessor proc = svc.processor("fraud-check");
        assertThat(proc.status().source()).isEqualTo("kafka:card-txns");
        List<ConsumerRecord<byte[], byte[]>> results =
            consume(topic + ".scores", ids.size(), Duration.ofSeconds(60));
        Set<String> got = new HashSet<>();
        for (ConsumerRecord<byte[], byte[]> r : results) {
          JsonNode n = MAPPER.readTree(r.value());
          String id = n.get("event_id").asText();
          got.add(id);
          assertThat(new String(r.key(), StandardCharsets.UTF_8)).isEqualTo(id);
          assertThat(header(r, "scoreline.event-id")).isEqualTo(id);
        }
        assertThat(got).isEqualTo(ids);
        awaitCommitted("g1", topic, 3, values.size());
        assertThat(proc.status().deadLetters()).isEqualTo(2);

        List<ConsumerRecord<byte[], byte[]>> dead =
            consume(topic + ".dead-letters", 2, Duration.ofSeconds(30));
        assertThat(dead).hasSize(2);
        Map<String, ConsumerRecord<byte[], byte[]>> byValue = new HashMap<>();
        for (ConsumerRecord<byte[], byte[]> r : dead) {
          byValue.put(new String(r.value(), StandardCharsets.UTF_8), r);
          assertThat(header(r, "scoreline.dlt.original.topic")).isEqualTo(topic);
          assertThat(header(r, "scoreline.dlt.original.partition")).isNotNull();
          assertThat(header(r, "scoreline.dlt.original.offset")).isNotNull();
          assertThat(header(r, "scoreline.dlt.surface")).isEqualTo("fraud-check");
        }
        assertThat(header(byValue.get("{not json"), "scoreline.dlt.stage")).isEqualTo("parse");
        ConsumerRecord<byte[], byte[]> noCard = byValue.get("{\"txn_id\": \"no-card\"}");
        assertThat(header(noCard, "scoreline.dlt.stage")).isEqualTo("event");
        assertThat(header(noCard, "scoreline.dlt.reason")).contains("card_id");
        assertThat(header(noCard, "scoreline.event-id")).isEqualTo("no-card");
      }
    }
  }

  @Test
  void restart_resumesFromTheCommittedOffsets() throws Exception {
    String topic = "restart-txns";
    kafka.createTopic(topic, 2);
    kafka.createTopic(topic + ".scores", 1);
    kafka.createTopic(topic + ".dead-letters", 1);
    try (Project p = new Project(topic, "g2")) {
      List<CardTransactions.Txn> txns = p.data.transactions();
      int half = txns.size() / 2;
      List<byte[]> keys = new ArrayList<>();
      List<byte[]> values = new ArrayList<>();
      for (CardTransactions.Txn t : txns) {
        keys.add(Long.toString(t.cardId()).getBytes(StandardCharsets.UTF_8));
        values.add(t.toJson());
      }
      produce(topic, keys.subList(0, half), values.subList(0, half));
      try (StreamService svc = p.start()) {
        awaitCommitted("g2", topic, 2, half);
      }
      produce(topic, keys.subList(half, txns.size()), values.subList(half, txns.size()));
      try (StreamService svc = p.start()) {
        awaitCommitted("g2", topic, 2, txns.size());
      }
      assertThat(endOffsets(topic, 2)).isEqualTo(txns.size());
      // a graceful stop commits everything it processed: each event was scored exactly once
      List<ConsumerRecord<byte[], byte[]>> results =
          consume(topic + ".scores", txns.size(), Duration.ofSeconds(30));
      Map<String, Integer> count = new HashMap<>();
      for (ConsumerRecord<byte[], byte[]> r : results) {
        count.merge(new String(r.key(), StandardCharsets.UTF_8), 1, Integer::sum);
      }
      assertThat(count).hasSize(txns.size());
      assertThat(count.values()).allMatch(c -> c == 1);
    }
  }

  /** A sink whose writes the test acknowledges, in any order ({@code sinks: {held: {}}}). */
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

    void awaitWrites(int n) throws InterruptedException {
      long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (writes.size() < n && System.nanoTime() < end) {
        Thread.sleep(5);
      }
      assertThat(writes).hasSizeGreaterThanOrEqualTo(n);
    }

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

  @Test
  void
      aSinkAcknowledgingOutOfOrder_neverLetsTheGroupOffsetPassAnUnacknowledgedEvent_andAStopLosesNothing()
          throws Exception {
    String topic = "held-txns";
    String group = "g3";
    kafka.createTopic(topic, 1);
    kafka.createTopic(topic + ".dead-letters", 1);
    HeldSink held = new HeldSink();
    try (FraudKafkaProject p =
        new FraudKafkaProject(
            dir.resolve("project"),
            CardTransactions.generate(3, 30, 2, NOW.getEpochSecond() * 1_000_000L, 0.2),
            topic,
            group,
            kafka.bootstrapServers(),
            model,
            NOW,
            "    held: {}",
            "\n  batch-size: 5\n  batches-in-flight: 4\n  commit-interval: 1ms")) {
      List<CardTransactions.Txn> txns = p.data.transactions().subList(0, 60);
      List<byte[]> keys = new ArrayList<>();
      List<byte[]> values = new ArrayList<>();
      Set<String> ids = new HashSet<>();
      for (CardTransactions.Txn t : txns) {
        keys.add(Long.toString(t.cardId()).getBytes(StandardCharsets.UTF_8));
        values.add(t.toJson());
        ids.add(t.id());
      }
      produce(topic, keys, values);
      StreamService svc = p.startService(held);
      Set<String> heldIds = new HashSet<>();
      try {
        // each of the 2 lanes keeps up to 4 batches unacknowledged: write 0 stays so while the
        // later writes are acknowledged
        held.awaitWrites(6);
        long firstHeld = Long.MAX_VALUE;
        for (StreamResult r : held.writes.get(0).results()) {
          firstHeld = Math.min(firstHeld, r.offset());
          heldIds.add(r.eventId());
        }
        for (int i = held.writes.size() - 1; i > 0; i--) {
          held.ack(i);
        }
        Thread.sleep(300);
        assertThat(committed(group, topic, 1)).isLessThanOrEqualTo(firstHeld);
        // stop, the unacknowledged write then failing as a sink that is down would
        Thread stopping = new Thread(svc::close);
        stopping.start();
        Thread.sleep(100);
        held.failPending();
        stopping.join(60_000);
        assertThat(stopping.isAlive()).isFalse();
        assertThat(committed(group, topic, 1)).isLessThanOrEqualTo(firstHeld);
      } finally {
        svc.close();
      }
      // the writes of the stopped processor are gone with it; the restart acknowledges at once
      Set<String> first = Set.copyOf(held.acknowledged);
      held.writes.clear();
      held.acknowledged.clear();
      held.autoAck = true;
      try (StreamService again = p.startService(held)) {
        awaitCommitted(group, topic, 1, txns.size());
      }
      assertThat(heldIds).isNotEmpty().doesNotContainAnyElementsOf(first);
      assertThat(held.acknowledged).containsAll(heldIds);
      Set<String> all = new HashSet<>(first);
      all.addAll(held.acknowledged);
      assertThat(all).isEqualTo(ids);
    }
  }
}
