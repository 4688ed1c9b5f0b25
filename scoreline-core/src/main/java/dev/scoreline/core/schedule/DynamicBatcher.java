package dev.scoreline.core.schedule;

import static java.util.Objects.requireNonNull;

import dev.scoreline.core.error.ErrorCode;
import dev.scoreline.core.error.ScorelineException;
import dev.scoreline.core.model.InferenceMetrics;
import dev.scoreline.core.model.TensorSpec;
import dev.scoreline.core.model.spi.LoadedModel;
import dev.scoreline.core.tensor.Batches;
import dev.scoreline.core.tensor.Tensor;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A per-version dynamic batcher (Triton's semantics): requests with the same trailing input
 * dimensions and the same requested outputs are concatenated along the batch dimension up to {@code
 * max-batch-size}; a batch leaves when it is full, reaches the largest preferred size, or its
 * oldest request has waited {@code max-queue-delay}. One worker thread per model instance forms and
 * runs batches, so N instances run N batches in parallel.
 *
 * <p>Load shedding: a full queue, or a deadline that the queue ahead cannot meet, is refused at
 * once with RESOURCE_EXHAUSTED; a request whose deadline passes while queued, or whose future its
 * caller cancelled, is dropped before compute. "Cannot meet" is predicted from the batches seen so
 * far ({@link BatchCost}): when the earliest worker is free, plus the batches of equal or higher
 * priority queued ahead, plus the request's own batch. A request that would start at once is always
 * admitted, so a stale prediction (a burst of slow batches) cannot lock the batcher out: the next
 * request that can run, runs, and updates the prediction.
 */
public final class DynamicBatcher implements Scheduler {
  private static final Logger log = LoggerFactory.getLogger(DynamicBatcher.class);

  private final String model;
  private final String version;
  private final List<TensorSpec> inputSpecs;
  private final int maxBatch;
  private final BatchingConfig config;
  private final InferenceMetrics metrics;
  private final long maxDelayNanos;
  private final int largestPreferred;
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition changed = lock.newCondition();
  private final ArrayDeque<Pending>[] queues;
  private final List<Thread> workers = new ArrayList<>();
  private int queued;

  /** Queued rows per priority level (index 0 = level 1, the highest). */
  private final long[] levelRows;

  /**
   * Per worker: when its running batch is predicted to finish ({@link System#nanoTime()}), or
   * {@link #IDLE}. Guarded by {@link #lock}, like the cost model.
   */
  private final long[] busyUntil;

  private final BatchCost cost = new BatchCost();
  private volatile boolean closed;

  private static final long IDLE = Long.MIN_VALUE;

  @SuppressWarnings("unchecked")
  public DynamicBatcher(
      String model,
      String version,
      List<LoadedModel> instances,
      int maxBatch,
      BatchingConfig config,
      InferenceMetrics metrics) {
    this.model = requireNonNull(model, "model is null");
    this.version = requireNonNull(version, "version is null");
    this.inputSpecs = instances.get(0).signature().inputs();
    if (maxBatch < 1) {
      throw new IllegalArgumentException("dynamic batching needs max-batch-size >= 1");
    }
    this.maxBatch = maxBatch;
    this.config = requireNonNull(config, "config is null");
    this.metrics = requireNonNull(metrics, "metrics is null");
    this.maxDelayNanos = config.maxQueueDelay().toNanos();
    int lp = 0;
    for (int s : config.preferredBatchSizes()) {
      if (s <= maxBatch) {
        lp = s;
      }
    }
    this.largestPreferred = lp;
    this.queues = new ArrayDeque[config.priorityLevels()];
    for (int i = 0; i < queues.length; i++) {
      queues[i] = new ArrayDeque<>();
    }
    this.levelRows = new long[queues.length];
    this.busyUntil = new long[instances.size()];
    Arrays.fill(busyUntil, IDLE);
    metrics.queueDepth(model, version, this, b -> b.depth());
    for (int i = 0; i < instances.size(); i++) {
      LoadedModel instance = instances.get(i);
      int worker = i;
      Thread t =
          new Thread(
              () -> workLoop(worker, instance),
              "scoreline-batch-" + model + "-v" + version + "-" + i);
      t.setDaemon(true);
      workers.add(t);
      t.start();
    }
  }

  /** Requests waiting for a batch. */
  public int depth() {
    lock.lock();
    try {
      return queued;
    } finally {
      lock.unlock();
    }
  }

  @Override
  public CompletableFuture<List<Tensor>> submit(Job job) {
    int level = job.priority() == 0 ? config.defaultPriority() : job.priority();
    if (level < 1 || level > queues.length) {
      throw ScorelineException.userError(
          "parameters.priority",
          "priority "
              + job.priority()
              + " is out of range; model '"
              + model
              + "' has levels 1.."
              + queues.length
              + " (1 is the highest, 0 the default)");
    }
    Pending p = new Pending(job, rowsOf(job), shapeKey(job), level - 1);
    if (p.rows > maxBatch) {
      throw ScorelineException.userError(
          "inputs", "batch of " + p.rows + " rows exceeds max-batch-size " + maxBatch);
    }
    long deadline = job.deadlineNanos();
    lock.lock();
    try {
      if (closed) {
        throw new ScorelineException(
            ErrorCode.UNAVAILABLE,
            "model '" + model + "' version " + version + " is unloading; retry shortly");
      }
      if (queued >= config.maxQueueSize()) {
        metrics.rejected(model, version, "queue_full");
        throw new ScorelineException(
            ErrorCode.RESOURCE_EXHAUSTED,
            "model '"
                + model
                + "' has "
                + queued
                + " requests queued (max-queue-size "
                + config.maxQueueSize()
                + "); retry after a short delay");
      }
      if (deadline != 0 && cost.known()) {
        long now = System.nanoTime();
        long expectedDone = expectedDone(now, p);
        if (expectedDone - deadline > 0) {
          metrics.rejected(model, version, "deadline");
          throw new ScorelineException(
              ErrorCode.RESOURCE_EXHAUSTED,
              "model '"
                  + model
                  + "' cannot meet the request's deadline: it would be answered in about "
                  + TimeUnit.NANOSECONDS.toMicros(expectedDone - now)
                  + " us (queued work ahead plus its own batch) but has "
                  + Math.max(0, TimeUnit.NANOSECONDS.toMicros(deadline - now))
                  + " us left; retry later or allow a longer timeout");
        }
      }
      queues[p.level].addLast(p);
      account(p, +1);
      changed.signal();
    } finally {
      lock.unlock();
    }
    return p.future;
  }

  /**
   * When {@code p} would be answered if admitted now: the earliest worker is free, the full batches
   * of equal or higher priority ahead of it run on all workers, then its own batch (the rest of the
   * rows ahead plus its own) runs. A request that would start at once (a worker idle, nothing of
   * its priority or higher queued) is never predicted late: it runs, and its batch keeps the
   * prediction current. Called with the lock held.
   */
  private long expectedDone(long now, Pending p) {
    long free = Long.MAX_VALUE;
    boolean idle = false;
    for (long until : busyUntil) {
      idle |= until == IDLE;
      long at = until == IDLE || until - now < 0 ? now : until;
      free = Math.min(free, at);
    }
    long ahead = 0;
    for (int l = 0; l <= p.level; l++) {
      ahead += levelRows[l];
    }
    if (idle && ahead == 0) {
      return now;
    }
    long fullBatches = ahead / maxBatch;
    long ownBatchRows = Math.min(maxBatch, ahead % maxBatch + p.rows);
    return free
        + fullBatches * cost.estimateNanos(maxBatch) / busyUntil.length
        + cost.estimateNanos(ownBatchRows);
  }

  /** Counts {@code p} into ({@code sign} +1) or out of (-1) the queue totals. */
  private void account(Pending p, int sign) {
    queued += sign;
    levelRows[p.level] += sign * p.rows;
  }

  private long rowsOf(Job job) {
    long rows = -1;
    for (Tensor t : job.inputs().values()) {
      rows = t.dim(0);
      break;
    }
    return Math.max(rows, 0);
  }

  /** Requests batch together when their trailing input dims and requested outputs are equal. */
  private String shapeKey(Job job) {
    StringBuilder sb = new StringBuilder();
    for (TensorSpec s : inputSpecs) {
      Tensor t = job.inputs().get(s.name());
      long[] shape = t.shape();
      for (int i = 1; i < shape.length; i++) {
        sb.append(shape[i]).append(',');
      }
      sb.append(';');
    }
    for (String o : job.outputs()) {
      sb.append(o).append(';');
    }
    return sb.toString();
  }

  private void workLoop(int worker, LoadedModel instance) {
    while (true) {
      List<Pending> batch;
      try {
        batch = takeBatch(worker);
      } catch (InterruptedException e) {
        return;
      }
      if (batch == null) {
        return;
      }
      run(worker, instance, batch);
    }
  }

  /** Blocks until a batch is due; null once closed and drained. */
  private List<Pending> takeBatch(int worker) throws InterruptedException {
    lock.lock();
    try {
      busyUntil[worker] = IDLE;
      while (true) {
        long now = System.nanoTime();
        Pending head = dropExpiredAndPeek(now);
        if (head == null) {
          if (closed) {
            return null;
          }
          changed.await();
          continue;
        }
        List<Pending> batch = new ArrayList<>();
        long rows = collect(head, batch);
        long due = head.job.enqueuedNanos() + maxDelayNanos;
        boolean full = rows >= maxBatch || (largestPreferred > 0 && rows >= largestPreferred);
        if (full || closed || now - due >= 0) {
          trimToPreferred(batch, rows, full);
          long taken = 0;
          for (Pending p : batch) {
            remove(p);
            taken += p.rows;
          }
          busyUntil[worker] = now + cost.estimateNanos(taken);
          return batch;
        }
        changed.awaitNanos(due - now);
      }
    } finally {
      lock.unlock();
    }
  }

  /** At the delay, prefer the largest preferred size reachable over an odd size (Triton). */
  private void trimToPreferred(List<Pending> batch, long rows, boolean full) {
    if (full || config.preferredBatchSizes().isEmpty()) {
      return;
    }
    int target = 0;
    for (int s : config.preferredBatchSizes()) {
      if (s <= rows) {
        target = s;
      }
    }
    if (target == 0) {
      return;
    }
    long sum = 0;
    int keep = 0;
    for (Pending p : batch) {
      if (sum + p.rows > target) {
        break;
      }
      sum += p.rows;
      keep++;
    }
    if (keep > 0 && sum == target) {
      batch.subList(keep, batch.size()).clear();
    }
  }

  private Pending dropExpiredAndPeek(long now) {
    Pending head = null;
    for (ArrayDeque<Pending> q : queues) {
      Iterator<Pending> it = q.iterator();
      while (it.hasNext()) {
        Pending p = it.next();
        if (p.future.isDone()) { // cancelled by its caller: nobody waits for the answer
          it.remove();
          account(p, -1);
          metrics.rejected(model, version, "cancelled");
          continue;
        }
        long deadline = p.job.deadlineNanos();
        if (deadline != 0 && now - deadline >= 0) {
          it.remove();
          account(p, -1);
          metrics.rejected(model, version, "expired");
          p.future.completeExceptionally(
              new ScorelineException(
                  ErrorCode.DEADLINE_EXCEEDED,
                  "the request's deadline passed after "
                      + TimeUnit.NANOSECONDS.toMicros(now - p.job.enqueuedNanos())
                      + " us in the queue of model '"
                      + model
                      + "'; it was not run"));
          continue;
        }
        if (head == null) {
          head = p;
        }
      }
    }
    return head;
  }

  /** Adds compatible requests, highest priority first, while they fit; returns the rows taken. */
  private long collect(Pending head, List<Pending> batch) {
    long rows = 0;
    for (ArrayDeque<Pending> q : queues) {
      for (Pending p : q) {
        if (rows + p.rows > maxBatch) {
          if (rows >= maxBatch) {
            return rows;
          }
          continue;
        }
        if (p == head || p.key.equals(head.key)) {
          batch.add(p);
          rows += p.rows;
        }
      }
    }
    return rows;
  }

  private void remove(Pending p) {
    for (ArrayDeque<Pending> q : queues) {
      if (q.remove(p)) {
        account(p, -1);
        return;
      }
    }
  }

  private void run(int worker, LoadedModel instance, List<Pending> batch) {
    long start = System.nanoTime();
    long rows = 0;
    for (Pending p : batch) {
      rows += p.rows;
      metrics.queue(model, version, start - p.job.enqueuedNanos());
    }
    try {
      Map<String, Tensor> inputs;
      if (batch.size() == 1) {
        inputs = batch.get(0).job.inputs();
      } else {
        inputs = new HashMap<>();
        for (TensorSpec s : inputSpecs) {
          List<Tensor> parts = new ArrayList<>(batch.size());
          for (Pending p : batch) {
            parts.add(p.job.inputs().get(s.name()));
          }
          inputs.put(s.name(), Batches.concat(parts));
        }
      }
      List<Tensor> outputs = instance.run(inputs, batch.get(0).job.outputs());
      long took = System.nanoTime() - start;
      lock.lock();
      try {
        cost.observe(rows, took);
        // free for the next batch already: answering the callers below must not make the
        // deadline check wait for a batch that has finished computing
        busyUntil[worker] = IDLE;
      } finally {
        lock.unlock();
      }
      metrics.compute(model, version, took);
      metrics.batch(model, version, rows);
      if (batch.size() == 1) {
        batch.get(0).future.complete(outputs);
        return;
      }
      for (Tensor o : outputs) {
        Batches.checkRows(model, o, rows);
      }
      long at = 0;
      for (Pending p : batch) {
        Tensor[] mine = new Tensor[outputs.size()];
        for (int i = 0; i < mine.length; i++) {
          mine[i] = Batches.rows(outputs.get(i), at, at + p.rows);
        }
        at += p.rows;
        p.future.complete(Arrays.asList(mine));
      }
    } catch (RuntimeException e) {
      for (Pending p : batch) {
        p.future.completeExceptionally(e);
      }
    }
  }

  /** Stops taking requests, finishes those queued, and stops the workers. */
  @Override
  public void close() {
    lock.lock();
    try {
      closed = true;
      changed.signalAll();
    } finally {
      lock.unlock();
    }
    for (Thread t : workers) {
      try {
        t.join(TimeUnit.SECONDS.toMillis(30));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
    metrics.removeQueueDepth(model, version);
    log.debug("batcher for '{}' version {} stopped", model, version);
  }

  private static final class Pending {
    final Job job;
    final long rows;
    final String key;

    /** Priority level - 1: the index of its queue. */
    final int level;

    final CompletableFuture<List<Tensor>> future = new CompletableFuture<>();

    Pending(Job job, long rows, String key, int level) {
      this.job = job;
      this.rows = rows;
      this.key = key;
      this.level = level;
    }
  }
}
