package dev.scoreline.stream.spi;

import dev.scoreline.stream.DeadLetter;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Where poison events go with the reason: the embedded dead-letter log, or a Kafka dead-letter
 * topic with provenance headers. Acknowledges like a {@link ResultSink}.
 */
public interface DeadLetterSink extends AutoCloseable {
  CompletableFuture<Void> write(List<DeadLetter> letters);

  /** See {@link ResultSink#mark()}. */
  default long mark() {
    return -1;
  }

  /** See {@link ResultSink#recover(long)}; dead letters are identified by partition and offset. */
  default void recover(long mark) {}

  @Override
  default void close() {}
}
