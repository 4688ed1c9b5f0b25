package dev.scoreline.bench;

import com.linecorp.armeria.server.Server;
import com.linecorp.armeria.server.grpc.GrpcService;
import dev.scoreline.server.grpc.proto.GRPCInferenceServiceGrpc;
import dev.scoreline.server.grpc.proto.ModelInferRequest;
import dev.scoreline.server.grpc.proto.ModelInferResponse;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * {@code grpc-floor}: the cost of the transport alone, as the reference for what Scoreline's server
 * adds. A bare Armeria server (same Armeria and grpc-java as {@code scoreline serve}, its default
 * settings, one gRPC service, no decorators, no metrics, no admission control, no model) answers
 * {@code ModelInfer} on its event loop with a response prepared before the run: the model's real
 * scores for the benchmark's fixed input, computed once in process. The same {@link GrpcCallers}
 * client calls it and checks every answer, so {@code grpc} minus {@code grpc-floor} is the time
 * Scoreline spends on a call beyond the protocol itself.
 */
final class GrpcFloor implements AutoCloseable {
  private final Map<Integer, ModelInferResponse> byInputBytes = new ConcurrentHashMap<>();
  private final Server server;

  GrpcFloor() {
    server =
        Server.builder()
            .http(0)
            .service(GrpcService.builder().addService(new Service()).build())
            .build();
    server.start().join();
  }

  int port() {
    return server.activeLocalPort();
  }

  /** Prepares the answer to a {@code batch}-row request: {@code scores}, one per row. */
  void prepare(int batch, float[] scores) {
    ModelInferResponse response =
        ModelInferResponse.newBuilder()
            .setModelName(BenchModel.NAME)
            .setModelVersion(BenchModel.VERSION)
            .addOutputs(
                ModelInferResponse.InferOutputTensor.newBuilder()
                    .setName(BenchModel.OUTPUT)
                    .setDatatype("FP32")
                    .addShape(batch)
                    .addShape(1))
            .addRawOutputContents(GrpcCallers.rawLittleEndian(scores))
            .build();
    byInputBytes.put(batch * BenchModel.FEATURES * Float.BYTES, response);
  }

  @Override
  public void close() {
    server.stop().join();
  }

  private final class Service extends GRPCInferenceServiceGrpc.GRPCInferenceServiceImplBase {
    @Override
    public void modelInfer(ModelInferRequest request, StreamObserver<ModelInferResponse> response) {
      int bytes =
          request.getRawInputContentsCount() == 1 ? request.getRawInputContents(0).size() : -1;
      ModelInferResponse answer = byInputBytes.get(bytes);
      if (answer == null) {
        response.onError(
            Status.INVALID_ARGUMENT
                .withDescription("no prepared answer for " + bytes + " input bytes")
                .asRuntimeException());
        return;
      }
      response.onNext(answer);
      response.onCompleted();
    }
  }
}
