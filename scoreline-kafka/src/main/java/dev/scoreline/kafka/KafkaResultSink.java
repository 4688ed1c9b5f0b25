package dev.scoreline.kafka;

import dev.scoreline.stream.StreamResult;
import dev.scoreline.stream.spi.ResultSink;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Results to a Kafka topic: value the result JSON, key the event id (or the entity key JSON with
 * {@code key: entity}), headers {@code scoreline.event-id} and {@code scoreline.surface}. The
 * producer is idempotent with {@code acks=all} and {@code linger.ms=0} (overridable in {@code
 * properties}); a batch is acknowledged when every record is. Delivery is at-least-once: after a
 * crash a result can be produced again with the same event id, so consumers deduplicate by it (or
 * read a compacted topic keyed by event id).
 */
final class KafkaResultSink implements ResultSink {
  static final String EVENT_ID = "scoreline.event-id";
  static final String SURFACE = "scoreline.surface";

  private final String topic;
  private final boolean entityKey;
  private final boolean onlyAlerts;
  private final KafkaProducer<byte[], byte[]> producer;

  KafkaResultSink(String topic, KafkaSettings settings, boolean entityKey, boolean onlyAlerts) {
    this.topic = topic;
    this.entityKey = entityKey;
    this.onlyAlerts = onlyAlerts;
    this.producer = producer(settings);
  }

  static KafkaProducer<byte[], byte[]> producer(KafkaSettings settings) {
    Map<String, Object> c = settings.clientConfig();
    c.putIfAbsent("acks", "all");
    c.putIfAbsent("enable.idempotence", "true");
    c.putIfAbsent("linger.ms", "0");
    return new KafkaProducer<>(c, new ByteArraySerializer(), new ByteArraySerializer());
  }

  @Override
  public String name() {
    return "kafka";
  }

  @Override
  public CompletableFuture<Void> write(List<StreamResult> results) {
    CompletableFuture<Void> done = new CompletableFuture<>();
    AtomicInteger pending = new AtomicInteger(1);
    try {
      String surface = null;
      byte[] surfaceBytes = null;
      for (StreamResult r : results) {
        if (onlyAlerts && !r.alerted()) {
          continue;
        }
        if (!r.surface().equals(surface)) {
          surface = r.surface();
          surfaceBytes = surface.getBytes(StandardCharsets.UTF_8);
        }
        byte[] id = r.eventId().getBytes(StandardCharsets.UTF_8);
        RecordHeaders h = new RecordHeaders();
        h.add(EVENT_ID, id);
        h.add(SURFACE, surfaceBytes);
        byte[] key = entityKey ? StreamResultKeys.entityJson(r) : id;
        pending.incrementAndGet();
        producer.send(
            new ProducerRecord<>(topic, null, key, r.toJson(), h),
            (md, e) -> {
              if (e != null) {
                done.completeExceptionally(e);
              } else if (pending.decrementAndGet() == 0) {
                done.complete(null);
              }
            });
      }
    } catch (KafkaException e) {
      done.completeExceptionally(e);
      return done;
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
