package dev.scoreline.kafka;

import dev.scoreline.core.error.ErrorCode;
import dev.scoreline.core.error.ScorelineException;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Publishes events to a Kafka topic (what a Kafka-sourced surface reads): for load drivers, the
 * fraud example's demo, and tools. Idempotent producer, {@code acks=all}, {@code linger.ms=5}.
 */
public final class KafkaEvents implements AutoCloseable {
  private final String topic;
  private final Map<String, Object> config;
  private final KafkaProducer<byte[], byte[]> producer;

  private KafkaEvents(String bootstrapServers, String topic, Map<String, String> properties) {
    this.topic = topic;
    this.config = new LinkedHashMap<>(properties);
    config.put("bootstrap.servers", bootstrapServers);
    Map<String, Object> c = new LinkedHashMap<>(config);
    c.putIfAbsent("acks", "all");
    c.putIfAbsent("enable.idempotence", "true");
    c.putIfAbsent("linger.ms", "5");
    this.producer = new KafkaProducer<>(c, new ByteArraySerializer(), new ByteArraySerializer());
  }

  public static KafkaEvents open(
      String bootstrapServers, String topic, Map<String, String> properties) {
    return new KafkaEvents(bootstrapServers, topic, properties == null ? Map.of() : properties);
  }

  /**
   * Creates the topic when it does not exist, and waits until every partition answers (a producer
   * started right after topic creation can otherwise lose its first batch, KAFKA-15591).
   */
  public void createTopicIfMissing(int partitions, short replication) {
    try (Admin a = Admin.create(config)) {
      try {
        a.createTopics(List.of(new NewTopic(topic, partitions, replication)))
            .all()
            .get(30, TimeUnit.SECONDS);
      } catch (ExecutionException e) {
        if (!(e.getCause() instanceof TopicExistsException)) {
          throw e;
        }
      }
      long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (true) {
        try {
          var d = a.describeTopics(List.of(topic)).allTopicNames().get(30, TimeUnit.SECONDS);
          boolean led = d.get(topic).partitions().stream().allMatch(p -> p.leader() != null);
          if (led) {
            return;
          }
        } catch (ExecutionException e) {
          if (System.nanoTime() > end) {
            throw e;
          }
        }
        if (System.nanoTime() > end) {
          throw new TimeoutException("topic " + topic + " has partitions without a leader");
        }
        Thread.sleep(50);
      }
    } catch (ExecutionException | TimeoutException e) {
      throw new ScorelineException(
          ErrorCode.UNAVAILABLE, "cannot create Kafka topic " + topic + ": " + e, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new ScorelineException(ErrorCode.UNAVAILABLE, "interrupted", e);
    }
  }

  /**
   * Sends events with their keys (same length; a null key lets Kafka pick the partition); the
   * future completes when all are acknowledged.
   */
  public CompletableFuture<Void> send(List<byte[]> keys, List<byte[]> events) {
    CompletableFuture<Void> done = new CompletableFuture<>();
    AtomicInteger pending = new AtomicInteger(events.size() + 1);
    for (int i = 0; i < events.size(); i++) {
      producer.send(
          new ProducerRecord<>(topic, keys == null ? null : keys.get(i), events.get(i)),
          (md, e) -> {
            if (e != null) {
              done.completeExceptionally(e);
            } else if (pending.decrementAndGet() == 0) {
              done.complete(null);
            }
          });
    }
    if (pending.decrementAndGet() == 0) {
      done.complete(null);
    }
    return done;
  }

  @Override
  public void close() {
    producer.close(Duration.ofSeconds(10));
  }
}
