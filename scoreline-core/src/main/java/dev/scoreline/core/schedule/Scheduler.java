package dev.scoreline.core.schedule;

import dev.scoreline.core.tensor.Tensor;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/** Runs validated inference jobs on a model version's instances. */
public interface Scheduler extends AutoCloseable {
  /**
   * Queues a job. Throws RESOURCE_EXHAUSTED at once when it cannot be admitted; the future fails
   * with DEADLINE_EXCEEDED when its deadline passes before it runs.
   */
  CompletableFuture<List<Tensor>> submit(Job job);

  /** Runs a job and waits for its result on the calling thread. */
  default List<Tensor> run(Job job) {
    try {
      return submit(job).join();
    } catch (java.util.concurrent.CompletionException e) {
      if (e.getCause() instanceof RuntimeException) {
        throw (RuntimeException) e.getCause();
      }
      throw e;
    }
  }

  @Override
  void close();
}
