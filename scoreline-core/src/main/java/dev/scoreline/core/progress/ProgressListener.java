package dev.scoreline.core.progress;

/**
 * Receives the progress of long tasks (materialization, batch jobs, index builds), one task at a
 * time: {@link #start}, any number of {@link #advance} calls (per batch, not per item), {@link
 * #finish}. Implementations are thread-safe for {@link #advance}.
 */
public interface ProgressListener {
  /** A listener that ignores everything. */
  ProgressListener NONE =
      new ProgressListener() {
        @Override
        public void start(String task, long total) {}

        @Override
        public void advance(long n) {}

        @Override
        public void finish() {}
      };

  /**
   * Starts a task.
   *
   * @param total the expected number of items, or 0 or less when unknown
   */
  void start(String task, long total);

  /** {@code n} more items are done. */
  void advance(long n);

  /** The task is done (also after fewer items than expected). */
  void finish();
}
