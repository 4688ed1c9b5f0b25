package dev.scoreline.cli;

import dev.scoreline.core.error.ErrorCode;

/** The one mapping from error codes to process exit codes. */
final class ExitCodes {
  static final int OK = 0;
  static final int INTERNAL = 1;
  static final int USAGE = 2;
  static final int NOT_FOUND = 3;
  static final int UNAVAILABLE = 4;

  private ExitCodes() {}

  static int of(ErrorCode code) {
    switch (code) {
      case USER_ERROR:
      case TOO_LARGE:
      case UNSUPPORTED:
        return USAGE;
      case NOT_FOUND:
        return NOT_FOUND;
      case UNAVAILABLE:
      case RESOURCE_EXHAUSTED:
      case DEADLINE_EXCEEDED:
      case UNAUTHENTICATED:
        return UNAVAILABLE;
      case INTERNAL:
      default:
        return INTERNAL;
    }
  }
}
