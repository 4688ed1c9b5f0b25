package dev.scoreline.stream.spi;

import static java.util.Objects.requireNonNull;

/**
 * One event as a source delivers it.
 *
 * @param partition the source partition (0 for the embedded log; the Kafka partition)
 * @param offset the record's offset in its partition
 * @param appendMicros when the source accepted it (epoch microseconds): the start of the
 *     event-to-result latency
 * @param value the event, a JSON object in UTF-8
 */
public record SourceRecord(int partition, long offset, long appendMicros, byte[] value) {
  public SourceRecord {
    requireNonNull(value, "value is null");
  }
}
