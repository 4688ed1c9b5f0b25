package dev.scoreline.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.scoreline.stream.StreamProcessor;
import dev.scoreline.stream.StreamService;
import dev.scoreline.stream.fraud.CardTransactions;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.MemberDescription;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two processor instances in one consumer group on a real in-process Kafka broker: the partitions
 * are split between them, every event is scored exactly once, and when one instance stops the other
 * takes its partitions over from the committed offsets without losing an event.
 */
class KafkaConsumerGroupTest {
  static final ObjectMapper MAPPER = new ObjectMapper();
  static final Instant NOW = Instant.parse("2030-01-01T00:00:00Z");
  static final String TOPIC = "group-txns";
  static final String GROUP = "scoreline-two-instances";
  static final int PARTITIONS = 4;
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

  /** One instance: its own project directory, stores and engine, reading TOPIC in GROUP. */
  static final class Instance extends FraudKafkaProject {
    StreamService service;

    Instance(Path project, CardTransactions data) throws Exception {
      super(project, data, TOPIC, GROUP, kafka.bootstrapServers(), model, NOW);
    }

    StreamProcessor start() {
      service = startService();
      return service.processor("fraud-check");
    }

    /** Stops the processor (a graceful stop: finishes and commits what it holds). */
    void stopProcessor() {
      if (service != null) {
        service.close();
        service = null;
      }
    }

    @Override
    public void close() {
      stopProcessor();
      super.close();
    }
  }

  @Test
  void twoInstancesInOneGroup_splitThePartitions_andOneStopping_losesNothing() throws Exception {
    kafka.createTopic(TOPIC, PARTITIONS);
    kafka.createTopic(TOPIC + ".scores", 2);
    kafka.createTopic(TOPIC + ".dead-letters", 1);
    CardTransactions data =
        CardTransactions.generate(7, 120, 1, NOW.getEpochSecond() * 1_000_000L, 0.1);
    List<CardTransactions.Txn> txns = data.transactions();
    int third = txns.size() / 3;
    assertThat(third).isGreaterThan(50);
    try (Instance a = new Instance(dir.resolve("a"), data);
        Instance b = new Instance(dir.resolve("b"), data)) {
      StreamProcessor pa = a.start();
      StreamProcessor pb = b.start();
      awaitMembers(2);

      // 1. both instances hold partitions: each scores a share of the first third
      produce(txns.subList(0, third));
      awaitCommitted(third);
      assertThat(pa.status().results()).isPositive();
      assertThat(pb.status().results()).isPositive();
      assertThat(pa.status().results() + pb.status().results()).isEqualTo(third);

      // 2. b stops (gracefully) while the second third arrives; then a is alone in the group
      produce(txns.subList(third, 2 * third));
      long bResults = stopAndCount(b, pb);
      awaitMembers(1);

      // 3. the last third, on all partitions (b's included), is scored by a alone
      produce(txns.subList(2 * third, txns.size()));
      awaitCommitted(txns.size());
      assertThat(pa.status().results() + bResults).isEqualTo(txns.size());
      assertThat(pa.status().deadLetters()).isZero();

      // every event has exactly one result on the results topic: nothing lost, nothing twice
      Map<String, Integer> count = new HashMap<>();
      for (ConsumerRecord<byte[], byte[]> r : consume(TOPIC + ".scores", txns.size())) {
        String id = MAPPER.readTree(r.value()).get("event_id").asText();
        count.merge(id, 1, Integer::sum);
      }
      Set<String> ids = new TreeSet<>();
      for (CardTransactions.Txn t : txns) {
        ids.add(t.id());
      }
      assertThat(count.keySet()).isEqualTo(ids);
      assertThat(count.values()).allMatch(c -> c == 1);
    }
  }

  private static long stopAndCount(Instance instance, StreamProcessor p) {
    instance.stopProcessor();
    return p.status().results();
  }

  static void produce(List<CardTransactions.Txn> txns) throws Exception {
    try (KafkaProducer<byte[], byte[]> p =
        new KafkaProducer<>(
            Map.of("bootstrap.servers", kafka.bootstrapServers(), "acks", "all"),
            new ByteArraySerializer(),
            new ByteArraySerializer())) {
      List<java.util.concurrent.Future<?>> fs = new ArrayList<>();
      for (CardTransactions.Txn t : txns) {
        byte[] key = Long.toString(t.cardId()).getBytes(StandardCharsets.UTF_8);
        fs.add(p.send(new ProducerRecord<>(TOPIC, key, t.toJson())));
      }
      for (java.util.concurrent.Future<?> f : fs) {
        f.get(30, TimeUnit.SECONDS);
      }
    }
  }

  /** Waits until the group has {@code n} members, each with at least one partition. */
  static void awaitMembers(int n) throws Exception {
    try (Admin admin = Admin.create(Map.of("bootstrap.servers", kafka.bootstrapServers()))) {
      long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      List<Integer> sizes = List.of();
      while (System.nanoTime() < end) {
        ConsumerGroupDescription d =
            admin.describeConsumerGroups(List.of(GROUP)).all().get(30, TimeUnit.SECONDS).get(GROUP);
        sizes = new ArrayList<>();
        int total = 0;
        for (MemberDescription m : d.members()) {
          int size = m.assignment().topicPartitions().size();
          sizes.add(size);
          total += size;
        }
        if (sizes.size() == n && total == PARTITIONS && !sizes.contains(0)) {
          return;
        }
        Thread.sleep(100);
      }
      assertThat(sizes).as("partitions per member of " + GROUP).hasSize(n).doesNotContain(0);
    }
  }

  static long committed() throws Exception {
    try (Admin admin = Admin.create(Map.of("bootstrap.servers", kafka.bootstrapServers()))) {
      Map<TopicPartition, OffsetAndMetadata> m =
          admin
              .listConsumerGroupOffsets(GROUP)
              .partitionsToOffsetAndMetadata()
              .get(30, TimeUnit.SECONDS);
      long sum = 0;
      for (Map.Entry<TopicPartition, OffsetAndMetadata> e : m.entrySet()) {
        if (e.getKey().topic().equals(TOPIC) && e.getValue() != null) {
          sum += e.getValue().offset();
        }
      }
      return sum;
    }
  }

  static void awaitCommitted(long expected) throws Exception {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (committed() < expected && System.nanoTime() < end) {
      Thread.sleep(100);
    }
    assertThat(committed()).isEqualTo(expected);
  }

  static List<ConsumerRecord<byte[], byte[]>> consume(String topic, int atLeast) {
    List<ConsumerRecord<byte[], byte[]>> out = new ArrayList<>();
    try (KafkaConsumer<byte[], byte[]> c =
        new KafkaConsumer<>(
            Map.of(
                "bootstrap.servers",
                kafka.bootstrapServers(),
                "group.id",
                "reader-" + System.nanoTime(),
                "auto.offset.reset",
                "earliest"),
            new ByteArrayDeserializer(),
            new ByteArrayDeserializer())) {
      c.subscribe(List.of(topic));
      long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (out.size() < atLeast && System.nanoTime() < end) {
        c.poll(Duration.ofMillis(200)).forEach(out::add);
      }
      // a duplicate would arrive after the expected count: read what else is there
      c.poll(Duration.ofMillis(500)).forEach(out::add);
    }
    return out;
  }
}
