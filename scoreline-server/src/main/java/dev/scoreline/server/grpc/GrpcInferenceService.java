package dev.scoreline.server.grpc;

import static java.util.Objects.requireNonNull;

import com.linecorp.armeria.server.ServiceRequestContext;
import dev.scoreline.core.error.ErrorCode;
import dev.scoreline.core.error.ScorelineException;
import dev.scoreline.core.model.InferenceRequest;
import dev.scoreline.core.model.InferenceResponse;
import dev.scoreline.core.model.ModelManager;
import dev.scoreline.core.model.ModelMetadata;
import dev.scoreline.core.model.ModelState;
import dev.scoreline.core.model.ModelStatus;
import dev.scoreline.core.model.TensorSpec;
import dev.scoreline.server.ErrorMapping;
import dev.scoreline.server.InlineHint;
import dev.scoreline.server.RequestDeadlines;
import dev.scoreline.server.ServerInfo;
import dev.scoreline.server.grpc.proto.GRPCInferenceServiceGrpc;
import dev.scoreline.server.grpc.proto.ModelConfig;
import dev.scoreline.server.grpc.proto.ModelConfigRequest;
import dev.scoreline.server.grpc.proto.ModelConfigResponse;
import dev.scoreline.server.grpc.proto.ModelInferRequest;
import dev.scoreline.server.grpc.proto.ModelInferResponse;
import dev.scoreline.server.grpc.proto.ModelInput;
import dev.scoreline.server.grpc.proto.ModelMetadataRequest;
import dev.scoreline.server.grpc.proto.ModelMetadataResponse;
import dev.scoreline.server.grpc.proto.ModelMetadataResponse.TensorMetadata;
import dev.scoreline.server.grpc.proto.ModelOutput;
import dev.scoreline.server.grpc.proto.ModelReadyRequest;
import dev.scoreline.server.grpc.proto.ModelReadyResponse;
import dev.scoreline.server.grpc.proto.RepositoryIndexRequest;
import dev.scoreline.server.grpc.proto.RepositoryIndexResponse;
import dev.scoreline.server.grpc.proto.RepositoryModelLoadRequest;
import dev.scoreline.server.grpc.proto.RepositoryModelLoadResponse;
import dev.scoreline.server.grpc.proto.RepositoryModelUnloadRequest;
import dev.scoreline.server.grpc.proto.RepositoryModelUnloadResponse;
import dev.scoreline.server.grpc.proto.ServerLiveRequest;
import dev.scoreline.server.grpc.proto.ServerLiveResponse;
import dev.scoreline.server.grpc.proto.ServerMetadataRequest;
import dev.scoreline.server.grpc.proto.ServerMetadataResponse;
import dev.scoreline.server.grpc.proto.ServerReadyRequest;
import dev.scoreline.server.grpc.proto.ServerReadyResponse;
import io.grpc.Context;
import io.grpc.Deadline;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Open Inference Protocol gRPC service ({@code inference.GRPCInferenceService}) over a {@link
 * ModelManager}, with Triton's model-repository RPCs, so that Triton's clients and perf_analyzer
 * work unchanged.
 *
 * <p>Inference runs on the manager's executor and answers from there; the calling (event-loop)
 * thread is never blocked. Repository load and unload, which read files and drain in-flight calls,
 * run on Armeria's blocking-task executor when served by Armeria. Errors become gRPC statuses
 * through {@link ErrorMapping}, with a description that names the request field at fault.
 */
public final class GrpcInferenceService
    extends GRPCInferenceServiceGrpc.GRPCInferenceServiceImplBase {
  private static final Logger log = LoggerFactory.getLogger(GrpcInferenceService.class);

  private final ModelManager manager;
  private final ServerInfo info;
  private final java.util.function.BooleanSupplier ready;

  /** A service reporting {@link ServerInfo#current()} as server metadata. */
  public GrpcInferenceService(ModelManager manager) {
    this(manager, ServerInfo.current());
  }

  public GrpcInferenceService(ModelManager manager, ServerInfo info) {
    this.manager = requireNonNull(manager, "manager is null");
    this.info = requireNonNull(info, "info is null");
    this.ready = manager::isReady;
  }

  /**
   * A service whose {@code ServerReady} answers from the server's {@code readiness} (the models and
   * the start-up warm-up), as {@code /v2/health/ready} does.
   */
  public GrpcInferenceService(ModelManager manager, dev.scoreline.server.Readiness readiness) {
    this.manager = requireNonNull(manager, "manager is null");
    this.info = ServerInfo.current();
    this.ready = requireNonNull(readiness, "readiness is null")::isReady;
  }

  // ---------------------------------------------------------------- health and metadata

  @Override
  public void serverLive(ServerLiveRequest request, StreamObserver<ServerLiveResponse> response) {
    GrpcCalls.reply(response, () -> ServerLiveResponse.newBuilder().setLive(true).build());
  }

  @Override
  public void serverReady(
      ServerReadyRequest request, StreamObserver<ServerReadyResponse> response) {
    GrpcCalls.reply(
        response, () -> ServerReadyResponse.newBuilder().setReady(ready.getAsBoolean()).build());
  }

  @Override
  public void modelReady(ModelReadyRequest request, StreamObserver<ModelReadyResponse> response) {
    GrpcCalls.reply(
        response,
        () ->
            ModelReadyResponse.newBuilder()
                .setReady(manager.isReady(request.getName(), request.getVersion()))
                .build());
  }

  @Override
  public void serverMetadata(
      ServerMetadataRequest request, StreamObserver<ServerMetadataResponse> response) {
    GrpcCalls.reply(
        response,
        () ->
            ServerMetadataResponse.newBuilder()
                .setName(info.name())
                .setVersion(info.version())
                .addAllExtensions(info.extensions())
                .build());
  }

  @Override
  public void modelMetadata(
      ModelMetadataRequest request, StreamObserver<ModelMetadataResponse> response) {
    GrpcCalls.reply(
        response,
        () -> {
          ModelMetadata m = manager.metadata(request.getName(), request.getVersion());
          ModelMetadataResponse.Builder b =
              ModelMetadataResponse.newBuilder()
                  .setName(m.name())
                  .addAllVersions(m.versions())
                  .setPlatform(m.platform() == null ? "" : m.platform());
          for (TensorSpec s : m.inputs()) {
            b.addInputs(tensorMetadata(s));
          }
          for (TensorSpec s : m.outputs()) {
            b.addOutputs(tensorMetadata(s));
          }
          return b.build();
        });
  }

  private static TensorMetadata tensorMetadata(TensorSpec s) {
    TensorMetadata.Builder b =
        TensorMetadata.newBuilder().setName(s.name()).setDatatype(s.datatype().name());
    long[] shape = s.shape();
    if (shape != null) {
      for (long d : shape) {
        b.addShape(d);
      }
    }
    return b.build();
  }

  @Override
  public void modelConfig(
      ModelConfigRequest request, StreamObserver<ModelConfigResponse> response) {
    GrpcCalls.reply(
        response,
        () -> {
          ModelMetadata m = manager.metadata(request.getName(), request.getVersion());
          int maxBatch = m.maxBatchSize();
          ModelConfig.Builder c =
              ModelConfig.newBuilder()
                  .setName(m.name())
                  .setPlatform(m.platform() == null ? "" : m.platform())
                  .setMaxBatchSize(maxBatch);
          for (TensorSpec s : m.inputs()) {
            c.addInput(
                ModelInput.newBuilder()
                    .setName(s.name())
                    .setDataType(configType(s.datatype()))
                    .addAllDims(configDims(s, maxBatch)));
          }
          for (TensorSpec s : m.outputs()) {
            c.addOutput(
                ModelOutput.newBuilder()
                    .setName(s.name())
                    .setDataType(configType(s.datatype()))
                    .addAllDims(configDims(s, maxBatch)));
          }
          return ModelConfigResponse.newBuilder().setConfig(c).build();
        });
  }

  /** Triton's config enum for a datatype: {@code TYPE_} + the name, BYTES being TYPE_STRING. */
  private static dev.scoreline.server.grpc.proto.DataType configType(
      dev.scoreline.core.tensor.DataType type) {
    return type == dev.scoreline.core.tensor.DataType.BYTES
        ? dev.scoreline.server.grpc.proto.DataType.TYPE_STRING
        : dev.scoreline.server.grpc.proto.DataType.valueOf("TYPE_" + type.name());
  }

  /** Triton config dims: the shape without the batch dimension when the model batches. */
  private static List<Long> configDims(TensorSpec s, int maxBatch) {
    long[] shape = s.shape();
    if (shape == null) {
      return List.of();
    }
    int from = maxBatch > 0 && shape.length > 0 ? 1 : 0;
    List<Long> dims = new ArrayList<>(shape.length - from);
    for (int i = from; i < shape.length; i++) {
      dims.add(shape[i]);
    }
    return dims;
  }

  // ---------------------------------------------------------------- inference

  /**
   * Passes the client's gRPC deadline ({@code grpc-timeout}) on as the {@code timeout} parameter
   * (µs) unless the request sets one, so a request whose client gave up is dropped before compute.
   * The model manager keeps the shorter of it and the model's default timeout.
   */
  private static java.util.Map<String, Object> withClientDeadline(java.util.Map<String, Object> p) {
    if (p.containsKey("timeout")) {
      return p;
    }
    com.linecorp.armeria.server.ServiceRequestContext ctx =
        com.linecorp.armeria.server.ServiceRequestContext.currentOrNull();
    String header = ctx == null ? null : ctx.request().headers().get("grpc-timeout");
    long micros = grpcTimeoutMicros(header);
    if (micros <= 0 || micros > Integer.MAX_VALUE) { // beyond ~35 min: no useful deadline
      return p;
    }
    java.util.Map<String, Object> out = new java.util.HashMap<>(p);
    out.put("timeout", micros);
    return out;
  }

  /** Parses a {@code grpc-timeout} header ({@code 100m}, {@code 5S}, ...) to µs; 0 when absent. */
  static long grpcTimeoutMicros(String header) {
    return RequestDeadlines.grpcTimeoutMicros(header);
  }

  @Override
  public void modelInfer(ModelInferRequest request, StreamObserver<ModelInferResponse> response) {
    InferenceRequest call;
    ServiceRequestContext ctx = ServiceRequestContext.currentOrNull();
    long arrival = RequestDeadlines.arrivalNanos(ctx);
    try {
      checkDeadline();
      call =
          new InferenceRequest(
              request.getModelName(),
              request.getModelVersion().isEmpty() ? null : request.getModelVersion(),
              request.getId(),
              withClientDeadline(GrpcTensors.parameters(request.getParametersMap(), "parameters")),
              GrpcTensors.inputs(request),
              GrpcTensors.requestedOutputs(request));
    } catch (RuntimeException e) {
      response.onError(toStatus(e).asRuntimeException());
      return;
    }
    CompletableFuture<InferenceResponse> pending =
        manager.inferAsync(call, arrival, InlineHint.mayRunInline(ctx), InlineHint.answerOn(ctx));
    if (response instanceof ServerCallStreamObserver) {
      // the client cancelled (or its deadline passed): drop the request before compute
      ((ServerCallStreamObserver<ModelInferResponse>) response)
          .setOnCancelHandler(() -> pending.cancel(false));
    }
    pending.whenComplete(
        (result, error) -> {
          if (isCancelled(response)) {
            return; // the client gave up or its deadline passed; nobody reads the answer
          }
          if (error != null) {
            response.onError(toStatus(error).asRuntimeException());
            return;
          }
          ModelInferResponse out;
          try {
            out = toProto(result);
          } catch (RuntimeException e) {
            response.onError(toStatus(e).asRuntimeException());
            return;
          }
          response.onNext(out);
          response.onCompleted();
        });
  }

  private static ModelInferResponse toProto(InferenceResponse result) {
    ModelInferResponse.Builder b =
        ModelInferResponse.newBuilder()
            .setModelName(result.model())
            .setModelVersion(result.version() == null ? "" : result.version())
            .setId(result.id() == null ? "" : result.id())
            .putAllParameters(GrpcTensors.toProto(result.parameters()));
    GrpcTensors.addOutputs(b, result.outputs());
    return b.build();
  }

  /**
   * Refuses a call whose deadline has already passed, before any work is done. Armeria turns the
   * client's {@code grpc-timeout} into the request timeout of its {@link ServiceRequestContext}; a
   * plain grpc-java server puts it on the gRPC {@link Context}. Both are checked.
   */
  private static void checkDeadline() {
    Deadline deadline = Context.current().getDeadline();
    ServiceRequestContext ctx = ServiceRequestContext.currentOrNull();
    if ((deadline != null && deadline.isExpired()) || (ctx != null && ctx.isTimedOut())) {
      throw new ScorelineException(
          ErrorCode.DEADLINE_EXCEEDED,
          "the call's deadline passed before inference started; allow more time (grpc-timeout)");
    }
  }

  private static boolean isCancelled(StreamObserver<?> response) {
    return response instanceof ServerCallStreamObserver
        && ((ServerCallStreamObserver<?>) response).isCancelled();
  }

  // ---------------------------------------------------------------- model repository

  @Override
  public void repositoryIndex(
      RepositoryIndexRequest request, StreamObserver<RepositoryIndexResponse> response) {
    GrpcCalls.offload(
        response,
        () -> {
          checkRepository(request.getRepositoryName());
          RepositoryIndexResponse.Builder b = RepositoryIndexResponse.newBuilder();
          for (ModelStatus s : manager.index()) {
            if (request.getReady() && s.state() != ModelState.READY) {
              continue;
            }
            b.addModelsBuilder()
                .setName(s.name())
                .setVersion(s.version() == null ? "" : s.version())
                .setState(s.state().name())
                .setReason(s.reason() == null ? "" : s.reason());
          }
          return b.build();
        });
  }

  @Override
  public void repositoryModelLoad(
      RepositoryModelLoadRequest request, StreamObserver<RepositoryModelLoadResponse> response) {
    GrpcCalls.offload(
        response,
        () -> {
          checkRepository(request.getRepositoryName());
          for (String key : request.getParametersMap().keySet()) {
            if (key.equals("config") || key.startsWith("file:")) {
              throw new ScorelineException(
                  ErrorCode.UNSUPPORTED,
                  "parameters." + key,
                  "loading a model from a config or files sent in the request is not supported;"
                      + " put the model in the repository and load it by name",
                  null);
            }
          }
          manager.load(requireModelName(request.getModelName()));
          return RepositoryModelLoadResponse.getDefaultInstance();
        });
  }

  @Override
  public void repositoryModelUnload(
      RepositoryModelUnloadRequest request,
      StreamObserver<RepositoryModelUnloadResponse> response) {
    GrpcCalls.offload(
        response,
        () -> {
          checkRepository(request.getRepositoryName());
          manager.unload(requireModelName(request.getModelName()));
          return RepositoryModelUnloadResponse.getDefaultInstance();
        });
  }

  private static void checkRepository(String name) {
    if (!name.isEmpty()) {
      throw ScorelineException.notFound(
          "unknown repository '"
              + name
              + "'; this server has one model repository, addressed by an empty repository_name");
    }
  }

  private static String requireModelName(String name) {
    if (name.isEmpty()) {
      throw ScorelineException.userError("model_name", "model_name is missing");
    }
    return name;
  }

  // ---------------------------------------------------------------- plumbing

  static Status toStatus(Throwable t) {
    return GrpcCalls.toStatus(t);
  }
}
