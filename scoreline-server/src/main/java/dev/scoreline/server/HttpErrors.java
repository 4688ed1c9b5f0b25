package dev.scoreline.server;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.linecorp.armeria.common.AggregatedHttpResponse;
import com.linecorp.armeria.common.ContentTooLargeException;
import com.linecorp.armeria.common.HttpData;
import com.linecorp.armeria.common.HttpHeaderNames;
import com.linecorp.armeria.common.HttpResponse;
import com.linecorp.armeria.common.HttpStatus;
import com.linecorp.armeria.common.MediaType;
import com.linecorp.armeria.common.RequestHeaders;
import com.linecorp.armeria.common.ResponseHeaders;
import com.linecorp.armeria.common.ShuttingDownException;
import com.linecorp.armeria.common.util.CompositeException;
import com.linecorp.armeria.server.HttpResponseException;
import com.linecorp.armeria.server.HttpStatusException;
import com.linecorp.armeria.server.RequestTimeoutException;
import com.linecorp.armeria.server.ServerErrorHandler;
import com.linecorp.armeria.server.ServiceConfig;
import com.linecorp.armeria.server.ServiceRequestContext;
import dev.scoreline.core.error.ErrorCode;
import dev.scoreline.core.error.ScorelineException;
import io.netty.handler.codec.compression.DecompressionException;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one error body of the REST endpoints, {@code {"error": "...", "code": "USER_ERROR", "field":
 * "inputs[0].shape"}}, with the status from {@link ErrorMapping}; and the server error handler that
 * gives Armeria's own errors (no route, body too large, timeouts) the same body. gRPC calls keep
 * Armeria's gRPC error handling.
 */
final class HttpErrors implements ServerErrorHandler {
  private static final Logger log = LoggerFactory.getLogger(HttpErrors.class);

  private final long maxRequestBytes;

  HttpErrors(long maxRequestBytes) {
    this.maxRequestBytes = maxRequestBytes;
  }

  static byte[] body(ErrorCode code, String field, String message) {
    return Json.bytes(
        g -> {
          g.writeStartObject();
          g.writeStringField("error", message);
          g.writeStringField("code", code.name());
          if (field != null) {
            g.writeStringField("field", field);
          }
          g.writeEndObject();
        });
  }

  static HttpResponse response(ScorelineException e) {
    HttpStatus status = ErrorMapping.httpStatus(e.code());
    byte[] body = body(e.code(), e.field().orElse(null), e.getMessage());
    if (e.code() == ErrorCode.RESOURCE_EXHAUSTED || e.code() == ErrorCode.UNAVAILABLE) {
      // shed load: tell well-behaved clients when to come back instead of retrying at once
      return HttpResponse.of(
          ResponseHeaders.builder(status)
              .contentType(MediaType.JSON)
              .add(HttpHeaderNames.RETRY_AFTER, "1")
              .build(),
          HttpData.wrap(body));
    }
    return HttpResponse.of(status, MediaType.JSON, body);
  }

  /** For failures that are not a Scoreline error code, such as 405. */
  static HttpResponse response(HttpStatus status, ErrorCode code, String message) {
    return HttpResponse.of(status, MediaType.JSON, body(code, null, message));
  }

  /** Any failure of a REST request as the error response; unexpected ones are logged. */
  static HttpResponse response(ServiceRequestContext ctx, Throwable t, long maxRequestBytes) {
    return response(toScoreline(ctx, t, maxRequestBytes));
  }

  static Throwable unwrap(Throwable t) {
    while ((t instanceof CompletionException || t instanceof ExecutionException)
        && t.getCause() != null) {
      t = t.getCause();
    }
    return t;
  }

  static ScorelineException toScoreline(ServiceRequestContext ctx, Throwable t, long maxBytes) {
    t = unwrap(t);
    if (t instanceof ScorelineException) {
      ScorelineException e = (ScorelineException) t;
      if (e.code() == ErrorCode.INTERNAL) {
        log.error("internal error serving {}", describe(ctx), e);
      }
      return e;
    }
    if (find(t, ContentTooLargeException.class) != null) {
      return tooLarge(maxBytes);
    }
    DecompressionException d = find(t, DecompressionException.class);
    if (d != null) {
      return ScorelineException.userError(
          null,
          "the request body could not be decompressed ("
              + d.getMessage()
              + "); send it as its Content-Encoding header says, or without compression");
    }
    if (t instanceof JsonProcessingException) {
      return Json.malformed((JsonProcessingException) t);
    }
    if (t instanceof RequestTimeoutException) {
      return new ScorelineException(
          ErrorCode.DEADLINE_EXCEEDED,
          "the request took longer than the server's request timeout; retry, send smaller"
              + " batches or raise the timeout");
    }
    if (t instanceof ShuttingDownException) {
      return new ScorelineException(
          ErrorCode.UNAVAILABLE, "the server is shutting down; retry on another replica");
    }
    log.error("unexpected error serving {}", describe(ctx), t);
    return new ScorelineException(
        ErrorCode.INTERNAL, "internal server error; the server log has the details");
  }

  /** The first throwable of {@code type} in the cause chain, looking inside composites. */
  private static <T extends Throwable> T find(Throwable t, Class<T> type) {
    for (int depth = 0; t != null && depth < 8; depth++) {
      if (type.isInstance(t)) {
        return type.cast(t);
      }
      if (t instanceof CompositeException) {
        for (Throwable e : ((CompositeException) t).getExceptions()) {
          T found = find(e, type);
          if (found != null) {
            return found;
          }
        }
      }
      t = t.getCause() == t ? null : t.getCause();
    }
    return null;
  }

  static ScorelineException tooLarge(long maxBytes) {
    return new ScorelineException(
        ErrorCode.TOO_LARGE,
        "the request body is larger than the limit of "
            + maxBytes
            + " bytes; send smaller batches or raise the server's max request size");
  }

  private static String describe(ServiceRequestContext ctx) {
    return ctx == null ? "a request" : ctx.method() + " " + ctx.path();
  }

  private static boolean isGrpc(RequestHeaders headers) {
    if (headers == null) {
      return false;
    }
    MediaType type = headers.contentType();
    return type != null && type.subtype().startsWith("grpc");
  }

  // ------------------------------------------------------------ ServerErrorHandler

  @Override
  public HttpResponse onServiceException(ServiceRequestContext ctx, Throwable cause) {
    if (isGrpc(ctx.request().headers())
        || cause instanceof HttpStatusException
        || cause instanceof HttpResponseException) {
      return null; // the default handler; statuses come back to renderStatus
    }
    return response(ctx, cause, maxRequestBytes);
  }

  @Override
  public AggregatedHttpResponse renderStatus(
      ServiceRequestContext ctx,
      ServiceConfig config,
      RequestHeaders headers,
      HttpStatus status,
      String description,
      Throwable cause) {
    if (isGrpc(headers)) {
      return null;
    }
    ErrorCode code;
    String message;
    switch (status.code()) {
      case 400:
        code = ErrorCode.USER_ERROR;
        message = "bad request" + (description != null ? ": " + description : "");
        break;
      case 404:
        code = ErrorCode.NOT_FOUND;
        message =
            "no endpoint at "
                + (headers != null ? headers.path() : "this path")
                + "; see GET /v2 (Open Inference Protocol), POST /v1/models/{name}:predict"
                + " (TF Serving) and GET /metrics";
        break;
      case 405:
        code = ErrorCode.USER_ERROR;
        message =
            "method "
                + (headers != null ? headers.method() : "")
                + " is not allowed on "
                + (headers != null ? headers.path() : "this path");
        break;
      case 413:
        code = ErrorCode.TOO_LARGE;
        message =
            tooLarge(config != null ? config.maxRequestLength() : maxRequestBytes).getMessage();
        break;
      case 503:
        code = ErrorCode.UNAVAILABLE;
        message = "the server is unavailable (starting or shutting down); retry shortly";
        break;
      case 408:
      case 504:
        code = ErrorCode.DEADLINE_EXCEEDED;
        message = "the request timed out; retry, or send smaller batches";
        break;
      default:
        code = status.isServerError() ? ErrorCode.INTERNAL : ErrorCode.USER_ERROR;
        message = status.reasonPhrase();
        break;
    }
    return AggregatedHttpResponse.of(status, MediaType.JSON, body(code, null, message));
  }
}
