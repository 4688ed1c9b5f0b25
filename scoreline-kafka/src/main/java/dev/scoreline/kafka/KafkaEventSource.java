package dev.scoreline.kafka;

import dev.scoreline.core.error.ErrorCode;
import dev.scoreline.core.error.ScorelineException;
import dev.scoreline.stream.spi.EventSource;
import dev.scoreline.stream.spi.SourceRecord;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.record.TimestampType;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A Kafka topic as a streaming surface's source: one consumer in the surface's consumer group
 * ({@code scoreline-<surface>} unless configured), auto-commit off. Offsets are committed only
 * through {@link #commit} and {@link #commitAsync}, which the processor calls once every record
 * below the offsets was acknowledged by the sinks: asynchronously while it runs ({@code
 * commitAsync}, whose callback Kafka runs in a later {@code poll}, so the poll loop never waits for
 * the group coordinator), synchronously at shutdown; on a rebalance the processor first finishes
 * the records in flight of the revoked partitions and the source commits their positions
 * synchronously before giving them up. Scale out by adding partitions and instances with the same
 * group.
 *
 * <p>Per-entity ordering across instances requires the topic to be keyed by the entity (the
 * producer's record key), so one entity's events live in one partition.
 *
 * <p>Used by one thread (the processor's dispatcher), as {@link KafkaConsumer} requires; {@link
 * #lag} reads values that thread publishes.
 */
final class KafkaEventSource implements EventSource {
  private static final Logger log = LoggerFactory.getLogger(KafkaEventSource.class);

  private final String topic;
  private final String group;
  private final KafkaConsumer<byte[], byte[]> consumer;
  private final Duration pollTimeout;
  private final Map<Integer, Long> delivered = new ConcurrentHashMap<>();
  private final Map<Integer, Long> committed = new ConcurrentHashMap<>();
  private final Map<Integer, Long> behind = new ConcurrentHashMap<>();

  /** Fetched and not yet handed to the processor (a poll returns at most its {@code max}). */
  private final ArrayDeque<ConsumerRecord<byte[], byte[]>> pending = new ArrayDeque<>();

  /** {@code pending.size()}, for {@link #lag} on other threads. */
  private volatile int buffered;

  KafkaEventSource(
      String topic, String group, String reset, KafkaSettings settings, Duration pollTimeout) {
    this.topic = topic;
    this.group = group;
    this.pollTimeout = pollTimeout;
    Map<String, Object> c = settings.clientConfig();
    c.put("group.id", group);
    c.put("enable.auto.commit", "false");
    c.putIfAbsent("auto.offset.reset", reset);
    c.putIfAbsent("client.id", group + "-" + ProcessHandle.current().pid());
    try {
      this.consumer =
          new KafkaConsumer<>(c, new ByteArrayDeserializer(), new ByteArrayDeserializer());
    } catch (KafkaException e) {
      throw new ScorelineException(
          ErrorCode.USER_ERROR,
          "stream.source",
          "cannot create the Kafka consumer: " + e.getMessage(),
          e);
    }
  }

  @Override
  public String describe() {
    return "kafka:" + topic;
  }

  @Override
  public void start(Revocation revocation) {
    consumer.subscribe(
        List.of(topic),
        new ConsumerRebalanceListener() {
          @Override
          public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
            List<Integer> ps = new ArrayList<>();
            for (TopicPartition tp : partitions) {
              ps.add(tp.partition());
            }
            Map<Integer, Long> offsets = revocation.revoking(ps);
            commitNow(offsets);
            // not handed to the processor yet: the partitions' next owner reads them
            pending.removeIf(r -> ps.contains(r.partition()));
            buffered = pending.size();
            for (Integer p : ps) {
              delivered.remove(p);
              committed.remove(p);
              behind.remove(p);
            }
            log.info("{}: partitions {} revoked after committing {}", describe(), ps, offsets);
          }

          @Override
          public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
            log.info("{}: partitions assigned {}", describe(), partitions);
          }
        });
  }

  @Override
  public List<SourceRecord> poll(int max, Duration timeout) {
    if (pending.isEmpty()) {
      ConsumerRecords<byte[], byte[]> recs =
          consumer.poll(timeout.compareTo(pollTimeout) < 0 ? timeout : pollTimeout);
      for (ConsumerRecord<byte[], byte[]> r : recs) {
        pending.add(r);
      }
      for (TopicPartition tp : consumer.assignment()) {
        OptionalLong lag = consumer.currentLag(tp);
        behind.put(tp.partition(), lag.isPresent() ? lag.getAsLong() : 0L);
      }
    }
    // at most max, as the contract says: the rest waits here for the next call (the consumer
    // hands out up to max.poll.records, which the processor's batches need not match)
    int n = Math.min(Math.max(1, max), pending.size());
    List<SourceRecord> out = new ArrayList<>(n);
    Map<Integer, Long> next = new HashMap<>();
    for (int i = 0; i < n; i++) {
      ConsumerRecord<byte[], byte[]> r = pending.poll();
      long micros =
          r.timestampType() == TimestampType.NO_TIMESTAMP_TYPE
              ? System.currentTimeMillis() * 1000
              : r.timestamp() * 1000;
      byte[] value = r.value() == null ? new byte[0] : r.value();
      out.add(new SourceRecord(r.partition(), r.offset(), micros, value));
      next.put(r.partition(), r.offset() + 1);
    }
    next.forEach((p, o) -> delivered.merge(p, o, Math::max));
    buffered = pending.size();
    return out;
  }

  @Override
  public void commit(Map<Integer, Long> nextOffsets) {
    commitNow(nextOffsets);
  }

  @Override
  public CompletableFuture<Void> commitAsync(Map<Integer, Long> nextOffsets) {
    if (nextOffsets.isEmpty()) {
      return CompletableFuture.completedFuture(null);
    }
    CompletableFuture<Void> done = new CompletableFuture<>();
    try {
      consumer.commitAsync(
          offsets(nextOffsets),
          (offsets, e) -> {
            if (e != null) {
              done.completeExceptionally(commitFailed(e));
            } else {
              nextOffsets.forEach((p, o) -> committed.merge(p, o, Math::max));
              done.complete(null);
            }
          });
    } catch (KafkaException e) {
      done.completeExceptionally(commitFailed(e));
    }
    return done;
  }

  private Map<TopicPartition, OffsetAndMetadata> offsets(Map<Integer, Long> nextOffsets) {
    Map<TopicPartition, OffsetAndMetadata> m = new HashMap<>();
    nextOffsets.forEach((p, o) -> m.put(new TopicPartition(topic, p), new OffsetAndMetadata(o)));
    return m;
  }

  private void commitNow(Map<Integer, Long> nextOffsets) {
    if (nextOffsets.isEmpty()) {
      return;
    }
    try {
      consumer.commitSync(offsets(nextOffsets));
    } catch (KafkaException e) {
      throw commitFailed(e);
    }
    nextOffsets.forEach((p, o) -> committed.merge(p, o, Math::max));
  }

  private ScorelineException commitFailed(Exception e) {
    return new ScorelineException(
        ErrorCode.UNAVAILABLE, "Kafka offset commit for group " + group + " failed: " + e, e);
  }

  @Override
  public long lag() {
    long lag = buffered;
    for (Map.Entry<Integer, Long> e : delivered.entrySet()) {
      lag += Math.max(0, e.getValue() - committed.getOrDefault(e.getKey(), 0L));
    }
    for (Long b : behind.values()) {
      lag += b;
    }
    return lag;
  }

  @Override
  public void close() {
    try {
      consumer.close(
          org.apache.kafka.clients.consumer.CloseOptions.timeout(Duration.ofSeconds(10)));
    } catch (KafkaException e) {
      log.warn("{}: closing the consumer: {}", describe(), e.toString());
    }
  }
}
