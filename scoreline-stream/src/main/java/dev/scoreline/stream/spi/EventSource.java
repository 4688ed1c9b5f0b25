package dev.scoreline.stream.spi;

import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * Where a streaming surface's events come from: the embedded durable log or a Kafka topic. The
 * processor calls every method from one thread (its dispatcher), as Kafka's consumer requires.
 *
 * <p>Delivery is at-least-once: after a restart the source delivers again from the last {@link
 * #commit}ted positions, so a record may be delivered twice, never skipped.
 */
public interface EventSource extends AutoCloseable {
  /** Called when partitions are taken away (a Kafka group rebalance). */
  @FunctionalInterface
  interface Revocation {
    /**
     * Called before {@code partitions} are revoked: finish the records of these partitions and
     * return the positions to commit for them (next offset per partition).
     */
    Map<Integer, Long> revoking(Collection<Integer> partitions);
  }

  /** For messages and metrics: {@code embedded:transactions}, {@code kafka:card-txns}. */
  String describe();

  /** Starts consuming; {@code revocation} is called from within {@link #poll}. */
  void start(Revocation revocation);

  /** Up to {@code max} records, waiting up to {@code timeout} when there are none. */
  List<SourceRecord> poll(int max, Duration timeout) throws InterruptedException;

  /**
   * Durably records that every record below {@code nextOffsets} (per partition) is processed.
   *
   * @throws dev.scoreline.core.error.ScorelineException UNAVAILABLE when the commit failed (the
   *     processor retries with the next commit)
   */
  void commit(Map<Integer, Long> nextOffsets);

  /**
   * Like {@link #commit}, without waiting: the future completes once the positions are durable, or
   * fails (UNAVAILABLE) when they are not, in which case the processor commits them again with the
   * next commit. It may complete during a later {@link #poll} (Kafka runs commit callbacks there),
   * so the processor keeps polling while it waits. Successive commits carry positions that never go
   * back; a source completes them in the order they were made. The default commits synchronously.
   */
  default CompletableFuture<Void> commitAsync(Map<Integer, Long> nextOffsets) {
    try {
      commit(nextOffsets);
      return CompletableFuture.completedFuture(null);
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  /** Records accepted by the source and not yet committed, or -1 when unknown. */
  long lag();

  @Override
  void close();
}
