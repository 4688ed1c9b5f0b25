package dev.scoreline.core.schedule;

import dev.scoreline.core.tensor.Tensor;
import java.util.List;
import java.util.Map;

/**
 * One validated inference call.
 *
 * @param inputs inputs by name
 * @param outputs outputs wanted, in order
 * @param priority 1 is the highest; 0 means the model's default
 * @param enqueuedNanos {@link System#nanoTime()} when the call arrived
 * @param deadlineNanos {@link System#nanoTime()} by which it must have run; 0 means none
 * @param mayRunInline false when the caller knows other requests are in flight with it (a busy
 *     server), so a scheduler should not run it on the submitting thread
 */
public record Job(
    Map<String, Tensor> inputs,
    List<String> outputs,
    int priority,
    long enqueuedNanos,
    long deadlineNanos,
    boolean mayRunInline) {

  /** A job that may run inline. */
  public Job(
      Map<String, Tensor> inputs,
      List<String> outputs,
      int priority,
      long enqueuedNanos,
      long deadlineNanos) {
    this(inputs, outputs, priority, enqueuedNanos, deadlineNanos, true);
  }
}
