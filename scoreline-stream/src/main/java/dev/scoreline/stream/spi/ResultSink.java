package dev.scoreline.stream.spi;

import dev.scoreline.stream.StreamResult;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Where results go: the KV store, an outbound log or topic, a webhook. A sink acknowledges a batch
 * (completes the future) once the results are durable or delivered; only then does the processor
 * commit the events' positions. Sinks are idempotent by event id: a result written twice (a replay
 * after a crash) is harmless.
 */
public interface ResultSink extends AutoCloseable {
  /** {@code kv}, {@code log}, {@code kafka}, {@code webhook}. */
  String name();

  /** Writes a batch; fails the future on an error that a retry may fix (the processor retries). */
  CompletableFuture<Void> write(List<StreamResult> results);

  /**
   * A position in the sink's own log before which every result was written earlier than now, or -1
   * when the sink keeps no log. Saved with each commit and passed back to {@link #recover}.
   */
  default long mark() {
    return -1;
  }

  /**
   * Called once before the first write after a restart with the mark saved at the last commit:
   * results written after it may be written again by the replay, and a sink that can tell (an
   * embedded log) skips those event ids.
   */
  default void recover(long mark) {}

  @Override
  default void close() {}
}
