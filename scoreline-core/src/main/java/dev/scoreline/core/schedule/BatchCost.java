package dev.scoreline.core.schedule;

/**
 * A model's batch compute time as a function of the rows in the batch, learnt from the batches it
 * ran: {@code time(rows) = fixed + perRow * rows}, fitted by least squares over exponentially
 * weighted moments (each new batch weighs 1/8), so it follows a model whose speed changes.
 *
 * <p>A batch of a few rows costs much more per row than a full one (weights are read once per
 * batch), so one average batch time would be wrong at both ends: too long for a lone request after
 * a burst of full batches (refusing requests that would have been served in time) and too short for
 * a deep queue. While every batch seen had about the same size, the fit is undefined and the
 * average time is used for every size. The prediction errs on the short side where it must guess: a
 * request admitted on a too-short prediction is still dropped before compute once its deadline
 * passes in the queue, while a request refused on a too-long one is lost work. Not thread-safe:
 * {@link DynamicBatcher} guards it with its lock.
 */
final class BatchCost {
  /** Weight of a new observation. */
  private static final double ALPHA = 1.0 / 8;

  /** Below this variance of the batch sizes (rows squared) the slope is not trusted. */
  private static final double MIN_ROWS_VARIANCE = 0.25;

  private long batches;
  private double rows;
  private double nanos;
  private double rowsSquared;
  private double rowsTimesNanos;

  /** Whether any batch was observed; before that nothing is predicted. */
  boolean known() {
    return batches > 0;
  }

  /** Records a batch of {@code batchRows} rows that computed in {@code batchNanos}. */
  void observe(long batchRows, long batchNanos) {
    double r = batchRows;
    double t = batchNanos;
    if (batches++ == 0) {
      rows = r;
      nanos = t;
      rowsSquared = r * r;
      rowsTimesNanos = r * t;
      return;
    }
    rows += ALPHA * (r - rows);
    nanos += ALPHA * (t - nanos);
    rowsSquared += ALPHA * (r * r - rowsSquared);
    rowsTimesNanos += ALPHA * (r * t - rowsTimesNanos);
  }

  /** Predicted compute time of a batch of {@code batchRows} rows; 0 when nothing is known. */
  long estimateNanos(long batchRows) {
    if (batches == 0) {
      return 0;
    }
    double variance = rowsSquared - rows * rows;
    if (variance >= MIN_ROWS_VARIANCE) {
      double perRow = (rowsTimesNanos - rows * nanos) / variance;
      if (perRow > 0) {
        double fixed = Math.max(0, nanos - perRow * rows);
        return (long) (fixed + perRow * batchRows);
      }
    }
    return (long) nanos;
  }
}
