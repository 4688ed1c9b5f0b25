package dev.scoreline.core.schedule;

import static java.util.Objects.requireNonNull;

import dev.scoreline.core.error.ErrorCode;
import dev.scoreline.core.error.ScorelineException;
import dev.scoreline.core.model.InferenceMetrics;
import dev.scoreline.core.model.spi.LoadedModel;
import dev.scoreline.core.tensor.Tensor;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Runs each call on its own (no batching): asynchronous calls on the shared worker executor, at
 * most {@code concurrency} at once per version, spread round-robin over the version's instances.
 */
public final class DirectScheduler implements Scheduler {
  private final String model;
  private final String version;
  private final List<LoadedModel> instances;
  private final Semaphore permits;
  private final Executor executor;
  private final InferenceMetrics metrics;
  private final AtomicInteger next = new AtomicInteger();

  public DirectScheduler(
      String model,
      String version,
      List<LoadedModel> instances,
      int concurrency,
      Executor executor,
      InferenceMetrics metrics) {
    this.model = requireNonNull(model, "model is null");
    this.version = requireNonNull(version, "version is null");
    this.instances = List.copyOf(instances);
    this.permits = new Semaphore(concurrency);
    this.executor = requireNonNull(executor, "executor is null");
    this.metrics = requireNonNull(metrics, "metrics is null");
  }

  @Override
  public CompletableFuture<List<Tensor>> submit(Job job) {
    CompletableFuture<List<Tensor>> f = new CompletableFuture<>();
    try {
      executor.execute(
          () -> {
            if (f.isDone()) { // cancelled by its caller while waiting for a worker
              metrics.rejected(model, version, "cancelled");
              return;
            }
            try {
              f.complete(run(job));
            } catch (Throwable t) {
              f.completeExceptionally(t);
            }
          });
    } catch (RejectedExecutionException e) {
      metrics.rejected(model, version, "queue_full");
      throw new ScorelineException(
          ErrorCode.RESOURCE_EXHAUSTED, "the inference queue is full; retry after a short delay");
    }
    return f;
  }

  /** Runs a job on the calling thread. */
  @Override
  public List<Tensor> run(Job job) {
    permits.acquireUninterruptibly();
    try {
      long start = System.nanoTime();
      long deadline = job.deadlineNanos();
      if (deadline != 0 && start - deadline >= 0) {
        metrics.rejected(model, version, "expired");
        throw new ScorelineException(
            ErrorCode.DEADLINE_EXCEEDED,
            "the request's deadline passed after "
                + TimeUnit.NANOSECONDS.toMicros(start - job.enqueuedNanos())
                + " us in the queue of model '"
                + model
                + "'; it was not run");
      }
      metrics.queue(model, version, start - job.enqueuedNanos());
      LoadedModel instance =
          instances.size() == 1
              ? instances.get(0)
              : instances.get(Math.floorMod(next.getAndIncrement(), instances.size()));
      List<Tensor> out = instance.run(job.inputs(), job.outputs());
      metrics.compute(model, version, System.nanoTime() - start);
      return out;
    } finally {
      permits.release();
    }
  }

  @Override
  public void close() {}
}
