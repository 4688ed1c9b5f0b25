package dev.scoreline.core.error;

/**
 * The error codes of Scoreline. Libraries throw {@link ScorelineException} with one of these; only
 * the server and the CLI translate a code into an HTTP status, a gRPC status or an exit code, each
 * in exactly one place.
 */
public enum ErrorCode {
  /** The caller sent something invalid: malformed body, wrong shape, wrong datatype, bad config. */
  USER_ERROR,
  /** A named thing (model, version, feature, surface) does not exist. */
  NOT_FOUND,
  /** The request body or a tensor is larger than the configured limit. */
  TOO_LARGE,
  /** A queue or limit is full; retry later. */
  RESOURCE_EXHAUSTED,
  /** The deadline passed before the work could be done. */
  DEADLINE_EXCEEDED,
  /** The thing exists but is not ready (loading, unloading, shutting down). */
  UNAVAILABLE,
  /** The caller is not authenticated for an admin call. */
  UNAUTHENTICATED,
  /** The operation is valid but not supported by this model, runtime or build. */
  UNSUPPORTED,
  /** A bug or an unexpected failure inside Scoreline or a runtime. */
  INTERNAL
}
