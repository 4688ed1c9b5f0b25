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
 */
public record Job(
    Map<String, Tensor> inputs,
    List<String> outputs,
    int priority,
    long enqueuedNanos,
    long deadlineNanos) {}
