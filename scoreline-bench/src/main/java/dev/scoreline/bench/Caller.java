package dev.scoreline.bench;

/**
 * One way of scoring one batch: in process or over the wire. Implementations are thread-safe and
 * check every answer, so a wrong or failed call counts as an error, never as a fast call.
 */
interface Caller extends AutoCloseable {
  /**
   * Scores the caller's fixed batch once.
   *
   * @return the {@code score} column, one value per row
   * @throws Exception when the call fails or the answer is not a [batch, 1] FP32 {@code score}
   */
  float[] call() throws Exception;

  @Override
  default void close() {}

  /** Throws unless {@code shape} is [batch, 1]. */
  static void checkShape(long[] shape, int batch) {
    if (shape.length != 2 || shape[0] != batch || shape[1] != 1) {
      throw new IllegalStateException(
          "score has shape " + java.util.Arrays.toString(shape) + ", expected [" + batch + ", 1]");
    }
  }
}
