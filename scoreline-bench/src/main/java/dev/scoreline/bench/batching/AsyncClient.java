package dev.scoreline.bench.batching;

/**
 * A non-blocking client of the served model: one call scores one row (batch 1) and reports how it
 * ended through a callback, so that one thread can keep many calls in flight (the closed loop at
 * concurrency 64, the open-loop generator at a fixed rate) without a thread per call.
 *
 * <p>Each client sends one of {@link #ROWS} fixed rows and checks every successful answer against
 * that row's in-process score, so a batching bug that mixed up rows would count as an error.
 */
interface AsyncClient extends AutoCloseable {
  /** Distinct one-row requests the clients cycle through. */
  int ROWS = 16;

  /** How a call ended. */
  enum Outcome {
    /** A checked answer. */
    OK,
    /** RESOURCE_EXHAUSTED / HTTP 429: refused by load shedding. */
    REJECTED,
    /** DEADLINE_EXCEEDED / HTTP 504 from the server before the client's own deadline. */
    EXPIRED,
    /** The client's own deadline passed (or the call never completed). */
    TIMEOUT,
    /** Any other failure of the call (status, transport, connection). */
    ERROR,
    /** An answer that is not the row's in-process score, or not a [1, 1] FP32 score: a bug. */
    WRONG
  }

  /** Receives the end of one call, on a client I/O thread. */
  interface Callback {
    /**
     * @param outcome how the call ended
     * @param endNanos {@link System#nanoTime()} when the client saw the end
     * @param detail null for {@link Outcome#OK}, else a short description
     */
    void done(Outcome outcome, long endNanos, String detail);
  }

  /**
   * Sends row {@code row} (0 .. {@link #ROWS} - 1); {@code timeoutMicros} > 0 adds the {@code
   * timeout} request parameter. Never blocks and never throws: failures reach {@code callback}.
   */
  void call(int row, long timeoutMicros, Callback callback);

  /**
   * Like {@link #call(int, long, Callback)}, with the client's deadline at {@code deadlineNanos}
   * ({@link System#nanoTime()}) instead of a fixed time after the send: the open loop counts it
   * from each call's due time, as a user-facing caller would. The default ignores it.
   */
  default void call(int row, long timeoutMicros, long deadlineNanos, Callback callback) {
    call(row, timeoutMicros, callback);
  }

  /** A name for reports: {@code grpc} or {@code rest-binary}. */
  String transport();

  @Override
  void close();

  /** The expected score of each row, and the check applied to an answer. */
  final class Expected {
    private final float[] scores;
    private final float tolerance;

    /**
     * @param tolerance batched and unbatched GEMMs may round differently; scores are sigmoids in
     *     (0, 1)
     */
    Expected(float[] scores, float tolerance) {
      if (scores.length != ROWS) {
        throw new IllegalArgumentException("need " + ROWS + " scores");
      }
      this.scores = scores.clone();
      this.tolerance = tolerance;
    }

    /** Null when {@code got} is row {@code row}'s score, else what is wrong. */
    String check(int row, float got) {
      float want = scores[row];
      return Math.abs(got - want) <= tolerance
          ? null
          : "row " + row + ": score " + got + ", expected " + want;
    }
  }
}
