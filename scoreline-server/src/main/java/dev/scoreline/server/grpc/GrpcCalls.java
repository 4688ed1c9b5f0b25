package dev.scoreline.server.grpc;

import com.linecorp.armeria.server.ServiceRequestContext;
import dev.scoreline.core.error.ErrorCode;
import dev.scoreline.core.error.ScorelineException;
import dev.scoreline.server.ErrorMapping;
import io.grpc.Context;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Plumbing shared by Scoreline's gRPC services: replies, offloading, and error statuses. */
public final class GrpcCalls {
  private static final Logger log = LoggerFactory.getLogger(GrpcCalls.class);

  private GrpcCalls() {}

  /** Answers with {@code body}'s result, or with the status of what it threw. */
  public static <T> void reply(StreamObserver<T> response, Supplier<T> body) {
    T out;
    try {
      out = body.get();
    } catch (RuntimeException e) {
      response.onError(toStatus(e).asRuntimeException());
      return;
    }
    response.onNext(out);
    response.onCompleted();
  }

  /**
   * Runs {@code body} off the event loop: on Armeria's blocking-task executor when served by
   * Armeria, else on the calling thread (a plain grpc-java server already calls services on its
   * executor).
   */
  public static <T> void offload(StreamObserver<T> response, Supplier<T> body) {
    ServiceRequestContext ctx = ServiceRequestContext.currentOrNull();
    Executor executor = ctx == null ? Runnable::run : ctx.blockingTaskExecutor();
    Context grpcContext = Context.current();
    try {
      executor.execute(grpcContext.wrap(() -> reply(response, body)));
    } catch (RejectedExecutionException e) {
      response.onError(
          toStatus(
                  new ScorelineException(
                      ErrorCode.RESOURCE_EXHAUSTED, "the server is busy; retry shortly"))
              .asRuntimeException());
    }
  }

  /**
   * The gRPC status of a failure, its description naming the field at fault; never a stack trace.
   */
  public static Status toStatus(Throwable t) {
    Throwable e = t;
    while (e instanceof CompletionException && e.getCause() != null) {
      e = e.getCause();
    }
    if (e instanceof ScorelineException) {
      ScorelineException se = (ScorelineException) e;
      if (se.code() == ErrorCode.INTERNAL) {
        log.error("gRPC call failed", se);
      }
      String message = se.getMessage();
      String field = se.field().orElse(null);
      String description =
          field == null || field.isEmpty() || message.startsWith(field)
              ? message
              : field + ": " + message;
      return ErrorMapping.grpcStatus(se.code()).withDescription(description);
    }
    log.error("gRPC call failed unexpectedly", e);
    return Status.INTERNAL.withDescription(
        "internal error (" + e.getClass().getSimpleName() + "); see the server log");
  }
}
