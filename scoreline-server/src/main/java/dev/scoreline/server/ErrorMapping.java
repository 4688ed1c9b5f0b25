package dev.scoreline.server;

import com.linecorp.armeria.common.HttpStatus;
import dev.scoreline.core.error.ErrorCode;
import io.grpc.Status;

/**
 * The one place where Scoreline error codes become HTTP and gRPC statuses. Every endpoint, REST or
 * gRPC, maps errors through here.
 */
public final class ErrorMapping {
  private ErrorMapping() {}

  public static HttpStatus httpStatus(ErrorCode code) {
    switch (code) {
      case USER_ERROR:
        return HttpStatus.BAD_REQUEST;
      case NOT_FOUND:
        return HttpStatus.NOT_FOUND;
      case TOO_LARGE:
        return HttpStatus.REQUEST_ENTITY_TOO_LARGE;
      case RESOURCE_EXHAUSTED:
        return HttpStatus.TOO_MANY_REQUESTS;
      case DEADLINE_EXCEEDED:
        return HttpStatus.GATEWAY_TIMEOUT;
      case UNAVAILABLE:
        return HttpStatus.SERVICE_UNAVAILABLE;
      case UNAUTHENTICATED:
        return HttpStatus.UNAUTHORIZED;
      case UNSUPPORTED:
        return HttpStatus.NOT_IMPLEMENTED;
      case INTERNAL:
      default:
        return HttpStatus.INTERNAL_SERVER_ERROR;
    }
  }

  public static Status grpcStatus(ErrorCode code) {
    switch (code) {
      case USER_ERROR:
        return Status.INVALID_ARGUMENT;
      case NOT_FOUND:
        return Status.NOT_FOUND;
      case TOO_LARGE:
        return Status.RESOURCE_EXHAUSTED;
      case RESOURCE_EXHAUSTED:
        return Status.RESOURCE_EXHAUSTED;
      case DEADLINE_EXCEEDED:
        return Status.DEADLINE_EXCEEDED;
      case UNAVAILABLE:
        return Status.UNAVAILABLE;
      case UNAUTHENTICATED:
        return Status.UNAUTHENTICATED;
      case UNSUPPORTED:
        return Status.UNIMPLEMENTED;
      case INTERNAL:
      default:
        return Status.INTERNAL;
    }
  }
}
