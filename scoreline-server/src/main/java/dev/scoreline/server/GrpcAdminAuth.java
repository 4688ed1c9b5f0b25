package dev.scoreline.server;

import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import java.nio.charset.StandardCharsets;

/**
 * The gRPC side of {@link AdminAuth}: the repository RPCs need {@code authorization: Bearer
 * <token>} metadata when a token is configured; others pass.
 */
final class GrpcAdminAuth implements ServerInterceptor {
  private static final Metadata.Key<String> AUTHORIZATION =
      Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);

  private final byte[] token;

  GrpcAdminAuth(String token) {
    this.token = token.getBytes(StandardCharsets.UTF_8);
  }

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(
      ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
    String method = call.getMethodDescriptor().getBareMethodName();
    if (method != null
        && method.startsWith("Repository")
        && !AdminAuth.authorized(headers.get(AUTHORIZATION), token)) {
      call.close(
          Status.UNAUTHENTICATED.withDescription(
              "admin calls need 'authorization: Bearer <token>' metadata (the server's admin token)"),
          new Metadata());
      return new ServerCall.Listener<>() {};
    }
    return next.startCall(call, headers);
  }
}
