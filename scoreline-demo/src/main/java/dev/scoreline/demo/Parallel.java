package dev.scoreline.demo;

import dev.scoreline.core.error.ErrorCode;
import dev.scoreline.core.error.ScorelineException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;

/**
 * Runs a loop over {@code [0, n)} in fixed chunks on an executor and waits for all of them. The
 * chunking never depends on the number of threads, so work that writes disjoint slices (or keeps
 * one partial result per chunk, combined in chunk order) is deterministic.
 */
final class Parallel {
  /** The body of one chunk: indexes {@code [from, to)}, chunk number {@code chunk}. */
  @FunctionalInterface
  interface Body {
    void run(int chunk, int from, int to);
  }

  private Parallel() {}

  /** The number of chunks {@link #forEach} uses for {@code n} items. */
  static int chunks(int n, int chunkSize) {
    return (n + chunkSize - 1) / chunkSize;
  }

  static void forEach(ExecutorService executor, int n, int chunkSize, Body body) {
    int chunks = chunks(n, chunkSize);
    List<Callable<Void>> tasks = new ArrayList<>(chunks);
    for (int c = 0; c < chunks; c++) {
      int chunk = c;
      int from = c * chunkSize;
      int to = Math.min(n, from + chunkSize);
      tasks.add(
          () -> {
            body.run(chunk, from, to);
            return null;
          });
    }
    try {
      for (Future<Void> f : executor.invokeAll(tasks)) {
        f.get();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new ScorelineException(ErrorCode.UNAVAILABLE, "interrupted", e);
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      if (cause instanceof RuntimeException r) {
        throw r;
      }
      if (cause instanceof Error err) {
        throw err;
      }
      throw new ScorelineException(ErrorCode.INTERNAL, "parallel task failed: " + cause, cause);
    }
  }
}
