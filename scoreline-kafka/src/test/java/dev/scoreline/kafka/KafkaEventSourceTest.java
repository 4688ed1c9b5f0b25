package dev.scoreline.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import dev.scoreline.stream.spi.SourceRecord;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The Kafka source on its own, against a real in-process broker. */
class KafkaEventSourceTest {
  static EmbeddedKafka kafka;

  @BeforeAll
  static void start() throws Exception {
    kafka = EmbeddedKafka.start();
  }

  @AfterAll
  static void stop() throws Exception {
    kafka.close();
  }

  @Test
  void poll_returnsAtMostMax_andKeepsTheRestForTheNextPoll() throws Exception {
    String topic = "source-max";
    kafka.createTopic(topic, 1);
    int n = 100;
    try (KafkaProducer<byte[], byte[]> p =
        new KafkaProducer<>(
            Map.of("bootstrap.servers", kafka.bootstrapServers()),
            new ByteArraySerializer(),
            new ByteArraySerializer())) {
      List<Future<?>> acks = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        acks.add(
            p.send(
                new ProducerRecord<>(
                    topic, ("{\"i\":" + i + "}").getBytes(StandardCharsets.UTF_8))));
      }
      for (Future<?> f : acks) {
        f.get(30, TimeUnit.SECONDS);
      }
    }
    KafkaSettings settings =
        new KafkaSettings(kafka.bootstrapServers(), Map.of("max.poll.records", "500"));
    try (KafkaEventSource source =
        new KafkaEventSource(topic, "g-source-max", "earliest", settings, Duration.ofMillis(100))) {
      source.start(partitions -> Map.of());
      List<SourceRecord> first = List.of();
      long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (first.isEmpty() && System.nanoTime() < end) {
        first = source.poll(7, Duration.ofMillis(100));
      }
      assertThat(first).hasSize(7);
      // the records fetched and not handed over yet count as lag, like the delivered ones
      assertThat(source.lag()).isEqualTo(n);

      List<Long> offsets = new ArrayList<>();
      first.forEach(r -> offsets.add(r.offset()));
      while (offsets.size() < n && System.nanoTime() < end) {
        List<SourceRecord> recs = source.poll(7, Duration.ofMillis(100));
        assertThat(recs.size()).isLessThanOrEqualTo(7);
        recs.forEach(r -> offsets.add(r.offset()));
      }
      List<Long> expected = new ArrayList<>();
      for (long o = 0; o < n; o++) {
        expected.add(o);
      }
      assertThat(offsets).isEqualTo(expected);
      source.commit(Map.of(0, (long) n));
      assertThat(source.lag()).isZero();
    }
  }

  @Test
  void commitAsync_completesInALaterPoll_andTheGroupOffsetIsDurable() throws Exception {
    String topic = "source-async-commit";
    kafka.createTopic(topic, 1);
    try (KafkaProducer<byte[], byte[]> p =
        new KafkaProducer<>(
            Map.of("bootstrap.servers", kafka.bootstrapServers()),
            new ByteArraySerializer(),
            new ByteArraySerializer())) {
      for (int i = 0; i < 10; i++) {
        p.send(new ProducerRecord<>(topic, ("{\"i\":" + i + "}").getBytes(StandardCharsets.UTF_8)))
            .get(30, TimeUnit.SECONDS);
      }
    }
    KafkaSettings settings = new KafkaSettings(kafka.bootstrapServers(), Map.of());
    String group = "g-async-commit";
    try (KafkaEventSource source =
        new KafkaEventSource(topic, group, "earliest", settings, Duration.ofMillis(50))) {
      source.start(partitions -> Map.of());
      int got = 0;
      long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (got < 10 && System.nanoTime() < end) {
        got += source.poll(100, Duration.ofMillis(50)).size();
      }
      assertThat(got).isEqualTo(10);
      CompletableFuture<Void> first = source.commitAsync(Map.of(0, 4L));
      CompletableFuture<Void> second = source.commitAsync(Map.of(0, 10L));
      // the callbacks run in the consumer's poll, as the processor's dispatcher keeps polling
      while (!second.isDone() && System.nanoTime() < end) {
        source.poll(100, Duration.ofMillis(20));
      }
      assertThat(first).isCompleted();
      assertThat(second).isCompleted();
      assertThat(source.lag()).isZero();
    }
    try (Admin a = Admin.create(Map.of("bootstrap.servers", kafka.bootstrapServers()))) {
      Map<TopicPartition, OffsetAndMetadata> m =
          a.listConsumerGroupOffsets(group)
              .partitionsToOffsetAndMetadata()
              .get(30, TimeUnit.SECONDS);
      assertThat(m.get(new TopicPartition(topic, 0)).offset()).isEqualTo(10);
    }
  }
}
