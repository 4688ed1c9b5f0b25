package dev.scoreline.core.error;

import static java.util.Objects.requireNonNull;

import java.util.Optional;

/**
 * The one unchecked exception type of Scoreline. It carries an {@link ErrorCode}, a message for a
 * human that says what was wrong and how to fix it, and optionally the request field at fault (for
 * example {@code inputs[0].shape}).
 */
public class ScorelineException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final ErrorCode code;
  private final String field;

  public ScorelineException(ErrorCode code, String message) {
    this(code, null, message, null);
  }

  public ScorelineException(ErrorCode code, String message, Throwable cause) {
    this(code, null, message, cause);
  }

  public ScorelineException(ErrorCode code, String field, String message, Throwable cause) {
    super(requireNonNull(message, "message is null"), cause);
    this.code = requireNonNull(code, "code is null");
    this.field = field;
  }

  public static ScorelineException userError(String field, String message) {
    return new ScorelineException(ErrorCode.USER_ERROR, field, message, null);
  }

  public static ScorelineException notFound(String message) {
    return new ScorelineException(ErrorCode.NOT_FOUND, message);
  }

  public ErrorCode code() {
    return code;
  }

  /** The request field at fault, such as {@code inputs[1].datatype}, when there is one. */
  public Optional<String> field() {
    return Optional.ofNullable(field);
  }
}
