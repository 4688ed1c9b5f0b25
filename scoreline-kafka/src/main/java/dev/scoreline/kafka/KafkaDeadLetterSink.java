package dev.scoreline.kafka;

import dev.scoreline.stream.DeadLetter;
import dev.scoreline.stream.spi.DeadLetterSink;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.header.internals.RecordHeaders;

/**
 * Poison events to a dead-letter topic: the value is the original event bytes, unchanged (replay it
 * by producing it to the source topic again); provenance and reason travel in headers:
 *
 * <ul>
 *   <li>{@code scoreline.dlt.original.topic}, {@code .partition}, {@code .offset}: where it was
 *       read (for a Kafka source; {@code .source} names any source);
 *   <li>{@code scoreline.dlt.reason}, {@code .stage} (parse, event, features, model), {@code .code}
 *       (USER_ERROR, INTERNAL, ...), {@code .surface}, {@code .failed-at} (ISO-8601), and {@code
 *       scoreline.event-id} when the event had one.
 * </ul>
 *
 * Keyed by {@code <partition>:<offset>} of the original record.
 */
final class KafkaDeadLetterSink implements DeadLetterSink {
  static final String PREFIX = "scoreline.dlt.";

  private final String topic;
  private final KafkaProducer<byte[], byte[]> producer;

  KafkaDeadLetterSink(String topic, KafkaSettings settings) {
    this.topic = topic;
    this.producer = KafkaResultSink.producer(settings);
  }

  @Override
  public CompletableFuture<Void> write(List<DeadLetter> letters) {
    CompletableFuture<Void> done = new CompletableFuture<>();
    AtomicInteger pending = new AtomicInteger(1);
    try {
      for (DeadLetter d : letters) {
        RecordHeaders h = new RecordHeaders();
        String source = d.source();
        if (source.startsWith("kafka:")) {
          h.add(PREFIX + "original.topic", utf8(source.substring("kafka:".length())));
        }
        h.add(PREFIX + "source", utf8(source));
        h.add(PREFIX + "original.partition", utf8(Integer.toString(d.partition())));
        h.add(PREFIX + "original.offset", utf8(Long.toString(d.offset())));
        h.add(PREFIX + "reason", utf8(d.reason()));
        h.add(PREFIX + "stage", utf8(d.stage()));
        h.add(PREFIX + "code", utf8(d.code().name()));
        h.add(PREFIX + "surface", utf8(d.surface()));
        h.add(
            PREFIX + "failed-at",
            utf8(
                Instant.ofEpochSecond(
                        d.failedMicros() / 1_000_000, (d.failedMicros() % 1_000_000) * 1000)
                    .toString()));
        if (d.eventId() != null) {
          h.add(KafkaResultSink.EVENT_ID, utf8(d.eventId()));
        }
        pending.incrementAndGet();
        producer.send(
            new ProducerRecord<>(topic, null, utf8(d.id()), d.event(), h),
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

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  @Override
  public void close() {
    producer.close(Duration.ofSeconds(10));
  }
}
