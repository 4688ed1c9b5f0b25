package dev.scoreline.server.grpc;

import static java.util.Objects.requireNonNull;

import dev.scoreline.core.model.ModelManager;
import dev.scoreline.server.Readiness;
import dev.scoreline.server.grpc.proto.GRPCInferenceServiceGrpc;
import io.grpc.Status;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.stub.StreamObserver;
import java.util.function.BooleanSupplier;

/**
 * The standard gRPC health service ({@code grpc.health.v1.Health/Check}), as Triton serves it and
 * as Kubernetes gRPC probes call it: SERVING while the {@link ModelManager} is ready (every model
 * asked for at start-up is loaded and the server is not shutting down) and, when built with the
 * server's {@link Readiness}, the start-up warm-up is done; NOT_SERVING otherwise. It answers for
 * the whole server ({@code service = ""}) and for {@code inference.GRPCInferenceService}; any other
 * service name is NOT_FOUND. {@code Watch} is not implemented (UNIMPLEMENTED).
 */
public final class GrpcHealthService extends HealthGrpc.HealthImplBase {
  private static final String INFERENCE = GRPCInferenceServiceGrpc.SERVICE_NAME;

  private final BooleanSupplier ready;

  public GrpcHealthService(ModelManager manager) {
    requireNonNull(manager, "manager is null");
    this.ready = manager::isReady;
  }

  /** SERVING while {@code readiness} is ready (the models, and the start-up warm-up, are done). */
  public GrpcHealthService(Readiness readiness) {
    requireNonNull(readiness, "readiness is null");
    this.ready = readiness::isReady;
  }

  @Override
  public void check(HealthCheckRequest request, StreamObserver<HealthCheckResponse> response) {
    String service = request.getService();
    if (!service.isEmpty() && !service.equals(INFERENCE)) {
      response.onError(
          Status.NOT_FOUND
              .withDescription(
                  "unknown service '"
                      + service
                      + "'; ask for '' (the server) or '"
                      + INFERENCE
                      + "'")
              .asRuntimeException());
      return;
    }
    ServingStatus status = ready.getAsBoolean() ? ServingStatus.SERVING : ServingStatus.NOT_SERVING;
    response.onNext(HealthCheckResponse.newBuilder().setStatus(status).build());
    response.onCompleted();
  }
}
