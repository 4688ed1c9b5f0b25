package dev.scoreline.duckdb;

import dev.scoreline.core.error.ErrorCode;
import dev.scoreline.core.error.ScorelineException;
import java.sql.SQLException;

/** Translates DuckDB failures into {@link ScorelineException}s, in this one place. */
final class DuckDbErrors {
  private DuckDbErrors() {}

  /**
   * Out of memory is RESOURCE_EXHAUSTED; bad data (a value that does not convert, an unreadable or
   * inconsistent file) is USER_ERROR; anything else is INTERNAL (a bug in the generated SQL).
   */
  static ScorelineException map(SQLException e, String context) {
    String message = e.getMessage() == null ? e.toString() : e.getMessage();
    if (message.startsWith("Out of Memory Error")) {
      return new ScorelineException(
          ErrorCode.RESOURCE_EXHAUSTED,
          context
              + ": DuckDB ran out of memory ("
              + message
              + "); raise the memory limit or free space in the temp directory",
          e);
    }
    if (message.startsWith("Conversion Error")
        || message.startsWith("Invalid Input Error")
        || message.startsWith("IO Error")
        || message.startsWith("Out of Range Error")) {
      return new ScorelineException(ErrorCode.USER_ERROR, context + ": " + message, e);
    }
    return new ScorelineException(ErrorCode.INTERNAL, context + ": " + message, e);
  }
}
