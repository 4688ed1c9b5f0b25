package dev.scoreline.server.grpc;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.ByteString;
import com.linecorp.armeria.common.HttpMethod;
import com.linecorp.armeria.common.HttpRequest;
import com.linecorp.armeria.common.util.SafeCloseable;
import com.linecorp.armeria.server.ServiceRequestContext;
import dev.scoreline.core.model.InferenceMetrics;
import dev.scoreline.core.model.ModelManager;
import dev.scoreline.core.model.ModelRepository;
import dev.scoreline.core.tensor.DataType;
import dev.scoreline.core.tensor.Fp16;
import dev.scoreline.core.tensor.Tensor;
import dev.scoreline.onnx.OnnxRuntime;
import dev.scoreline.server.ServerInfo;
import dev.scoreline.server.grpc.proto.GRPCInferenceServiceGrpc;
import dev.scoreline.server.grpc.proto.GRPCInferenceServiceGrpc.GRPCInferenceServiceBlockingStub;
import dev.scoreline.server.grpc.proto.InferParameter;
import dev.scoreline.server.grpc.proto.InferTensorContents;
import dev.scoreline.server.grpc.proto.ModelConfig;
import dev.scoreline.server.grpc.proto.ModelConfigRequest;
import dev.scoreline.server.grpc.proto.ModelInferRequest;
import dev.scoreline.server.grpc.proto.ModelInferRequest.InferInputTensor;
import dev.scoreline.server.grpc.proto.ModelInferRequest.InferRequestedOutputTensor;
import dev.scoreline.server.grpc.proto.ModelInferResponse;
import dev.scoreline.server.grpc.proto.ModelMetadataRequest;
import dev.scoreline.server.grpc.proto.ModelMetadataResponse;
import dev.scoreline.server.grpc.proto.ModelReadyRequest;
import dev.scoreline.server.grpc.proto.RepositoryIndexRequest;
import dev.scoreline.server.grpc.proto.RepositoryIndexResponse;
import dev.scoreline.server.grpc.proto.RepositoryIndexResponse.ModelIndex;
import dev.scoreline.server.grpc.proto.RepositoryModelLoadRequest;
import dev.scoreline.server.grpc.proto.RepositoryModelUnloadRequest;
import dev.scoreline.server.grpc.proto.ServerLiveRequest;
import dev.scoreline.server.grpc.proto.ServerMetadataRequest;
import dev.scoreline.server.grpc.proto.ServerMetadataResponse;
import dev.scoreline.server.grpc.proto.ServerReadyRequest;
import dev.scoreline.testing.TestModels;
import io.grpc.Context;
import io.grpc.Deadline;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.stub.StreamObserver;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The gRPC Open Inference Protocol service, tested over the wire: a real server on an ephemeral
 * port, the real ONNX fixture models, and a plain grpc-java client built from Scoreline's proto.
 */
class GrpcInferenceServiceTest {
  /**
   * The quickstart's config of mlp_ranker (no allow-nan, so NaN inputs are refused), serving both
   * versions.
   */
  private static final String MLP_RANKER_CONFIG =
      String.join(
          "\n",
          "platform: onnx",
          "max-batch-size: 64",
          "inputs:",
          "  - name: features",
          "    datatype: FP32",
          "    shape: [-1, 64]",
          "outputs:",
          "  - name: score",
          "    datatype: FP32",
          "    shape: [-1, 1]",
          "runtime:",
          "  intra-op-threads: 1",
          "  inter-op-threads: 1",
          "  optimization-level: all",
          "version-policy:",
          "  all: true",
          "");

  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir static Path repository;

  private static final PrometheusMeterRegistry registry =
      new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private static ExecutorService executor;
  private static ModelManager manager;
  private static TestServer server;
  private static ManagedChannel channel;
  private static GRPCInferenceServiceBlockingStub stub;

  @BeforeAll
  static void start() throws IOException {
    TestModels.copyTo(repository);
    Files.writeString(repository.resolve("mlp_ranker").resolve("config.yaml"), MLP_RANKER_CONFIG);
    executor = Executors.newFixedThreadPool(4);
    manager =
        new ModelManager(
            new ModelRepository(repository),
            List.of(new OnnxRuntime()),
            new InferenceMetrics(registry),
            executor);
    // fp16_mlp stays unloaded: the repository tests load and unload it.
    manager.loadAll(List.of("mlp_ranker", "multi_io", "string_identity", "all_types"));
    server = TestServer.start(manager, registry);
    channel = ManagedChannelBuilder.forAddress("127.0.0.1", server.port()).usePlaintext().build();
    stub = GRPCInferenceServiceGrpc.newBlockingStub(channel).withDeadlineAfter(1, TimeUnit.HOURS);
  }

  @AfterAll
  static void stop() throws InterruptedException {
    if (channel != null) {
      channel.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
    }
    if (server != null) {
      server.close();
    }
    if (manager != null) {
      manager.close();
    }
    if (executor != null) {
      executor.shutdownNow();
    }
  }

  private static GRPCInferenceServiceBlockingStub stub() {
    return stub.withDeadlineAfter(30, TimeUnit.SECONDS);
  }

  // ---------------------------------------------------------------- health and metadata

  @Test
  void serverLive_returnsTrue() {
    assertThat(stub().serverLive(ServerLiveRequest.getDefaultInstance()).getLive()).isTrue();
  }

  @Test
  void serverReady_allStartupModelsLoaded_returnsTrue() {
    assertThat(stub().serverReady(ServerReadyRequest.getDefaultInstance()).getReady()).isTrue();
  }

  @Test
  void healthCheck_readyServer_returnsServing() {
    HealthGrpc.HealthBlockingStub health =
        HealthGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS);
    assertThat(health.check(HealthCheckRequest.getDefaultInstance()).getStatus())
        .isEqualTo(HealthCheckResponse.ServingStatus.SERVING);
    assertThat(
            health
                .check(
                    HealthCheckRequest.newBuilder()
                        .setService("inference.GRPCInferenceService")
                        .build())
                .getStatus())
        .isEqualTo(HealthCheckResponse.ServingStatus.SERVING);
  }

  @Test
  void healthCheck_managerShuttingDown_returnsNotServing() throws Exception {
    try (ModelManager stopping =
        new ModelManager(
            new ModelRepository(repository),
            List.of(new OnnxRuntime()),
            new InferenceMetrics(new PrometheusMeterRegistry(PrometheusConfig.DEFAULT)),
            executor)) {
      stopping.beginShutdown();
      RecordingObserver<HealthCheckResponse> observer = new RecordingObserver<>();
      new GrpcHealthService(stopping).check(HealthCheckRequest.getDefaultInstance(), observer);
      assertThat(observer.result.get(10, TimeUnit.SECONDS).getStatus())
          .isEqualTo(HealthCheckResponse.ServingStatus.NOT_SERVING);
    }
  }

  @Test
  void healthCheck_unknownService_returnsNotFound() {
    assertStatus(
        () ->
            HealthGrpc.newBlockingStub(channel)
                .withDeadlineAfter(30, TimeUnit.SECONDS)
                .check(HealthCheckRequest.newBuilder().setService("nope").build()),
        Status.Code.NOT_FOUND);
  }

  @Test
  void modelReady_loadedModel_returnsTrue() {
    assertThat(stub().modelReady(ready("mlp_ranker", "")).getReady()).isTrue();
    assertThat(stub().modelReady(ready("mlp_ranker", "1")).getReady()).isTrue();
    assertThat(stub().modelReady(ready("mlp_ranker", "2")).getReady()).isTrue();
  }

  @Test
  void modelReady_unknownModelOrVersion_returnsFalse() {
    assertThat(stub().modelReady(ready("no_such_model", "")).getReady()).isFalse();
    assertThat(stub().modelReady(ready("mlp_ranker", "9")).getReady()).isFalse();
  }

  @Test
  void serverMetadata_returnsNameVersionAndExtensions() {
    ServerMetadataResponse r = stub().serverMetadata(ServerMetadataRequest.getDefaultInstance());
    ServerInfo info = ServerInfo.current();
    assertThat(r.getName()).isEqualTo(info.name());
    assertThat(r.getVersion()).isEqualTo(info.version());
    assertThat(r.getExtensionsList()).containsExactlyElementsOf(info.extensions());
  }

  @Test
  void modelMetadata_mlpRanker_returnsSignatureAndVersions() {
    ModelMetadataResponse r =
        stub().modelMetadata(ModelMetadataRequest.newBuilder().setName("mlp_ranker").build());
    assertThat(r.getName()).isEqualTo("mlp_ranker");
    assertThat(r.getVersionsList()).containsExactly("1", "2");
    assertThat(r.getPlatform()).isNotEmpty();
    assertThat(r.getInputsCount()).isEqualTo(1);
    assertThat(r.getInputs(0).getName()).isEqualTo("features");
    assertThat(r.getInputs(0).getDatatype()).isEqualTo("FP32");
    assertThat(r.getInputs(0).getShapeList()).containsExactly(-1L, 64L);
    assertThat(r.getOutputs(0).getName()).isEqualTo("score");
    assertThat(r.getOutputs(0).getDatatype()).isEqualTo("FP32");
    assertThat(r.getOutputs(0).getShapeList()).containsExactly(-1L, 1L);
  }

  @Test
  void modelMetadata_multiIo_listsEveryTensor() {
    ModelMetadataResponse r =
        stub()
            .modelMetadata(
                ModelMetadataRequest.newBuilder().setName("multi_io").setVersion("1").build());
    assertThat(r.getInputsList())
        .extracting(ModelMetadataResponse.TensorMetadata::getName)
        .containsExactly("a", "b");
    assertThat(r.getOutputsList())
        .extracting(ModelMetadataResponse.TensorMetadata::getDatatype)
        .containsExactly("FP32", "INT64", "INT64");
  }

  @Test
  void modelConfig_mlpRanker_returnsTritonConfigWithoutBatchDimension() {
    ModelConfig c =
        stub()
            .modelConfig(ModelConfigRequest.newBuilder().setName("mlp_ranker").build())
            .getConfig();
    assertThat(c.getName()).isEqualTo("mlp_ranker");
    assertThat(c.getMaxBatchSize()).isEqualTo(64);
    assertThat(c.getInputCount()).isEqualTo(1);
    assertThat(c.getInput(0).getName()).isEqualTo("features");
    assertThat(c.getInput(0).getDataType())
        .isEqualTo(dev.scoreline.server.grpc.proto.DataType.TYPE_FP32);
    assertThat(c.getInput(0).getDimsList()).containsExactly(64L);
    assertThat(c.getOutput(0).getName()).isEqualTo("score");
    assertThat(c.getOutput(0).getDimsList()).containsExactly(1L);
  }

  @Test
  void modelConfig_stringIdentity_reportsBytesAsTypeString() {
    ModelConfig c =
        stub()
            .modelConfig(ModelConfigRequest.newBuilder().setName("string_identity").build())
            .getConfig();
    assertThat(c.getInput(0).getDataType())
        .isEqualTo(dev.scoreline.server.grpc.proto.DataType.TYPE_STRING);
  }

  @Test
  void modelConfig_unknownModel_returnsNotFound() {
    assertStatus(
        () -> stub().modelConfig(ModelConfigRequest.newBuilder().setName("nope").build()),
        Status.Code.NOT_FOUND);
  }

  @Test
  void modelMetadata_unknownModel_returnsNotFound() {
    assertStatus(
        () -> stub().modelMetadata(ModelMetadataRequest.newBuilder().setName("nope").build()),
        Status.Code.NOT_FOUND);
  }

  // ---------------------------------------------------------------- inference: results

  @Test
  void modelInfer_mlpRanker_matchesExpectedForEveryVersion() throws IOException {
    JsonNode expected = expected("mlp_ranker");
    float[] input = flatFloats(expected.get("input"));
    for (String version : new String[] {"1", "2", ""}) {
      ModelInferResponse r =
          stub()
              .modelInfer(
                  ModelInferRequest.newBuilder()
                      .setModelName("mlp_ranker")
                      .setModelVersion(version)
                      .addInputs(input("features", "FP32", 2, 64))
                      .addRawInputContents(fp32Raw(input))
                      .build());
      String want = version.isEmpty() ? "2" : version;
      assertThat(r.getModelName()).isEqualTo("mlp_ranker");
      assertThat(r.getModelVersion()).isEqualTo(want);
      assertThat(r.getOutputsCount()).isEqualTo(1);
      assertThat(r.getOutputs(0).getName()).isEqualTo("score");
      assertThat(r.getOutputs(0).getDatatype()).isEqualTo("FP32");
      assertThat(r.getOutputs(0).getShapeList()).containsExactly(2L, 1L);
      assertThat(r.getRawOutputContentsCount()).isEqualTo(1);
      assertClose(fp32(r.getRawOutputContents(0)), flatFloats(expected.get("v" + want)));
    }
  }

  @Test
  void modelInfer_mlpRankerTypedContents_matchesExpected() throws IOException {
    JsonNode expected = expected("mlp_ranker");
    float[] input = flatFloats(expected.get("input"));
    InferTensorContents.Builder c = InferTensorContents.newBuilder();
    for (float v : input) {
      c.addFp32Contents(v);
    }
    ModelInferResponse r =
        stub()
            .modelInfer(
                ModelInferRequest.newBuilder()
                    .setModelName("mlp_ranker")
                    .setModelVersion("1")
                    .addInputs(input("features", "FP32", 2, 64).setContents(c))
                    .build());
    assertClose(fp32(r.getRawOutputContents(0)), flatFloats(expected.get("v1")));
  }

  @Test
  void modelInfer_requestId_isEchoed() {
    ModelInferResponse r =
        stub()
            .modelInfer(
                mlpRequest(new float[64])
                    .setId("req-42")
                    .putParameters("priority", InferParameter.newBuilder().setInt64Param(1).build())
                    .build());
    assertThat(r.getId()).isEqualTo("req-42");
  }

  @Test
  void modelInfer_multiIoTypedContents_matchesExpected() throws IOException {
    JsonNode expected = expected("multi_io");
    InferTensorContents.Builder a = InferTensorContents.newBuilder();
    for (float v : flatFloats(expected.get("inputs").get("a"))) {
      a.addFp32Contents(v);
    }
    InferTensorContents.Builder b = InferTensorContents.newBuilder();
    for (long v : flatLongs(expected.get("inputs").get("b"))) {
      b.addInt64Contents(v);
    }
    ModelInferResponse r =
        stub()
            .modelInfer(
                ModelInferRequest.newBuilder()
                    .setModelName("multi_io")
                    .addInputs(input("a", "FP32", 3, 4).setContents(a))
                    .addInputs(input("b", "INT64", 3, 4).setContents(b))
                    .build());
    assertMultiIo(r, expected.get("outputs"), List.of("sum", "prod", "label"));
  }

  @Test
  void modelInfer_multiIoRaw_matchesExpected() throws IOException {
    JsonNode expected = expected("multi_io");
    ModelInferResponse r =
        stub()
            .modelInfer(
                ModelInferRequest.newBuilder()
                    .setModelName("multi_io")
                    .addInputs(input("a", "FP32", 3, 4))
                    .addInputs(input("b", "INT64", 3, 4))
                    .addRawInputContents(fp32Raw(flatFloats(expected.get("inputs").get("a"))))
                    .addRawInputContents(int64Raw(flatLongs(expected.get("inputs").get("b"))))
                    .build());
    assertMultiIo(r, expected.get("outputs"), List.of("sum", "prod", "label"));
  }

  @Test
  void modelInfer_requestedOutputSubset_returnsOnlyThoseInRequestedOrder() throws IOException {
    JsonNode expected = expected("multi_io");
    ModelInferResponse r =
        stub()
            .modelInfer(
                ModelInferRequest.newBuilder()
                    .setModelName("multi_io")
                    .addInputs(input("a", "FP32", 3, 4))
                    .addInputs(input("b", "INT64", 3, 4))
                    .addRawInputContents(fp32Raw(flatFloats(expected.get("inputs").get("a"))))
                    .addRawInputContents(int64Raw(flatLongs(expected.get("inputs").get("b"))))
                    .addOutputs(InferRequestedOutputTensor.newBuilder().setName("label"))
                    .addOutputs(InferRequestedOutputTensor.newBuilder().setName("sum"))
                    .build());
    assertMultiIo(r, expected.get("outputs"), List.of("label", "sum"));
  }

  @Test
  void modelInfer_allTypesRaw_roundTripsEveryDatatype() {
    ModelInferRequest.Builder req = ModelInferRequest.newBuilder().setModelName("all_types");
    List<ByteString> sent = new ArrayList<>();
    for (String[] t : ALL_TYPES) {
      DataType type = DataType.valueOf(t[1]);
      ByteString raw = rawOf(type, sampleValues(type));
      req.addInputs(input("x_" + t[0], t[1], 2, 3)).addRawInputContents(raw);
      sent.add(raw);
    }
    ModelInferResponse r = stub().modelInfer(req.build());
    assertThat(r.getOutputsCount()).isEqualTo(ALL_TYPES.length);
    for (int i = 0; i < r.getOutputsCount(); i++) {
      String suffix = r.getOutputs(i).getName().substring(2);
      int k = indexOfType(suffix);
      assertThat(r.getOutputs(i).getDatatype()).isEqualTo(ALL_TYPES[k][1]);
      assertThat(r.getOutputs(i).getShapeList()).containsExactly(2L, 3L);
      assertThat(r.getRawOutputContents(i)).as(suffix).isEqualTo(sent.get(k));
    }
  }

  @Test
  void inputs_typedContentsOfEveryTypedDatatype_decodeToProtocolBytes() {
    for (String[] t : ALL_TYPES) {
      DataType type = DataType.valueOf(t[1]);
      if (type == DataType.FP16) {
        continue; // raw only
      }
      double[] values = sampleValues(type);
      InferTensorContents.Builder c = InferTensorContents.newBuilder();
      for (double v : values) {
        switch (type) {
          case BOOL -> c.addBoolContents(v != 0);
          case INT8, INT16, INT32 -> c.addIntContents((int) v);
          case INT64 -> c.addInt64Contents((long) v);
          case UINT8, UINT16, UINT32 -> c.addUintContents((int) (long) v);
          case UINT64 -> c.addUint64Contents((long) v);
          case FP32 -> c.addFp32Contents((float) v);
          case FP64 -> c.addFp64Contents(v);
          default -> throw new AssertionError(type);
        }
      }
      ModelInferRequest request =
          ModelInferRequest.newBuilder()
              .addInputs(input("x_" + t[0], t[1], 2, 3).setContents(c))
              .build();
      Tensor tensor = GrpcTensors.inputs(request).get(0);
      assertThat(tensor.type()).isEqualTo(type);
      assertThat(tensor.shape()).containsExactly(2, 3);
      assertThat(GrpcTensors.raw(tensor)).as(t[1]).isEqualTo(rawOf(type, values));
    }
  }

  @Test
  void modelInfer_fp16TypedContents_returnsInvalidArgumentNamingField() {
    assertStatus(
        () ->
            stub()
                .modelInfer(
                    ModelInferRequest.newBuilder()
                        .setModelName("all_types")
                        .addInputs(
                            input("x_fp16", "FP16", 1, 1)
                                .setContents(InferTensorContents.newBuilder().addFp32Contents(1f)))
                        .build()),
        Status.Code.INVALID_ARGUMENT,
        "inputs[0].contents");
  }

  @Test
  void modelInfer_typedValueOutOfRange_returnsInvalidArgumentNamingElement() {
    assertStatus(
        () ->
            stub()
                .modelInfer(
                    ModelInferRequest.newBuilder()
                        .setModelName("all_types")
                        .addInputs(
                            input("x_int8", "INT8", 1, 2)
                                .setContents(
                                    InferTensorContents.newBuilder()
                                        .addIntContents(1)
                                        .addIntContents(300)))
                        .build()),
        Status.Code.INVALID_ARGUMENT,
        "inputs[0].contents.int_contents[1]");
  }

  @Test
  void modelInfer_stringIdentityTypedContents_returnsSameStrings() {
    List<String> values = List.of("hello", "", "ünïcödé ✓");
    InferTensorContents.Builder c = InferTensorContents.newBuilder();
    for (String v : values) {
      c.addBytesContents(ByteString.copyFromUtf8(v));
    }
    ModelInferResponse r =
        stub()
            .modelInfer(
                ModelInferRequest.newBuilder()
                    .setModelName("string_identity")
                    .addInputs(input("text", "BYTES", 3).setContents(c))
                    .build());
    assertThat(r.getOutputs(0).getName()).isEqualTo("text_out");
    assertThat(r.getOutputs(0).getDatatype()).isEqualTo("BYTES");
    assertThat(r.getOutputs(0).getShapeList()).containsExactly(3L);
    assertThat(strings(r.getRawOutputContents(0))).containsExactlyElementsOf(values);
  }

  @Test
  void modelInfer_stringIdentityRaw_returnsSameStrings() {
    List<String> values = List.of("a", "bb", "", "long ".repeat(100));
    ModelInferResponse r =
        stub()
            .modelInfer(
                ModelInferRequest.newBuilder()
                    .setModelName("string_identity")
                    .addInputs(input("text", "BYTES", 4))
                    .addRawInputContents(bytesRaw(values))
                    .build());
    assertThat(r.getRawOutputContents(0)).isEqualTo(bytesRaw(values));
    assertThat(strings(r.getRawOutputContents(0))).containsExactlyElementsOf(values);
  }

  // ---------------------------------------------------------------- inference: errors

  @Test
  void modelInfer_unknownModel_returnsNotFound() {
    assertStatus(
        () -> stub().modelInfer(mlpRequest(new float[64]).setModelName("no_such_model").build()),
        Status.Code.NOT_FOUND);
  }

  @Test
  void modelInfer_unknownVersion_returnsNotFound() {
    assertStatus(
        () -> stub().modelInfer(mlpRequest(new float[64]).setModelVersion("7").build()),
        Status.Code.NOT_FOUND);
  }

  @Test
  void modelInfer_wrongInputName_returnsInvalidArgumentNamingField() {
    assertStatus(
        () ->
            stub()
                .modelInfer(
                    mlpRequest(new float[64])
                        .setInputs(0, input("feature", "FP32", 1, 64))
                        .build()),
        Status.Code.INVALID_ARGUMENT,
        "inputs[0].name");
  }

  @Test
  void modelInfer_wrongDatatype_returnsInvalidArgumentNamingField() {
    assertStatus(
        () ->
            stub()
                .modelInfer(
                    mlpRequest(new float[128])
                        .setInputs(0, input("features", "FP64", 1, 64))
                        .build()),
        Status.Code.INVALID_ARGUMENT,
        "inputs[0].datatype");
  }

  @Test
  void modelInfer_unknownDatatype_returnsInvalidArgumentNamingField() {
    assertStatus(
        () ->
            stub()
                .modelInfer(
                    mlpRequest(new float[64])
                        .setInputs(0, input("features", "FP99", 1, 64))
                        .build()),
        Status.Code.INVALID_ARGUMENT,
        "inputs[0].datatype");
  }

  @Test
  void modelInfer_wrongShape_returnsInvalidArgumentNamingField() {
    assertStatus(
        () ->
            stub()
                .modelInfer(
                    mlpRequest(new float[63])
                        .setInputs(0, input("features", "FP32", 1, 63))
                        .build()),
        Status.Code.INVALID_ARGUMENT,
        "inputs[0].shape");
  }

  @Test
  void modelInfer_negativeDimension_returnsInvalidArgumentNamingField() {
    assertStatus(
        () ->
            stub()
                .modelInfer(
                    mlpRequest(new float[64])
                        .setInputs(0, input("features", "FP32", -1, 64))
                        .build()),
        Status.Code.INVALID_ARGUMENT,
        "inputs[0].shape");
  }

  @Test
  void modelInfer_elementCountMismatch_returnsInvalidArgumentNamingField() {
    InferTensorContents.Builder c = InferTensorContents.newBuilder();
    for (int i = 0; i < 63; i++) {
      c.addFp32Contents(0.5f);
    }
    assertStatus(
        () ->
            stub()
                .modelInfer(
                    ModelInferRequest.newBuilder()
                        .setModelName("mlp_ranker")
                        .addInputs(input("features", "FP32", 1, 64).setContents(c))
                        .build()),
        Status.Code.INVALID_ARGUMENT,
        "inputs[0].contents.fp32_contents");
  }

  @Test
  void modelInfer_contentsInWrongTypedField_returnsInvalidArgumentNamingField() {
    InferTensorContents.Builder c = InferTensorContents.newBuilder();
    for (int i = 0; i < 64; i++) {
      c.addFp64Contents(0.5);
    }
    assertStatus(
        () ->
            stub()
                .modelInfer(
                    ModelInferRequest.newBuilder()
                        .setModelName("mlp_ranker")
                        .addInputs(input("features", "FP32", 1, 64).setContents(c))
                        .build()),
        Status.Code.INVALID_ARGUMENT,
        "inputs[0].contents.fp64_contents");
  }

  @Test
  void modelInfer_bothContentsAndRaw_returnsInvalidArgumentNamingField() {
    InferTensorContents.Builder c = InferTensorContents.newBuilder();
    for (int i = 0; i < 64; i++) {
      c.addFp32Contents(0.5f);
    }
    assertStatus(
        () ->
            stub()
                .modelInfer(
                    mlpRequest(new float[64])
                        .setInputs(0, input("features", "FP32", 1, 64).setContents(c))
                        .build()),
        Status.Code.INVALID_ARGUMENT,
        "inputs[0].contents");
  }

  @Test
  void modelInfer_rawLengthMismatch_returnsInvalidArgumentNamingField() {
    ModelInferRequest request =
        ModelInferRequest.newBuilder()
            .setModelName("mlp_ranker")
            .addInputs(input("features", "FP32", 1, 64))
            .addRawInputContents(ByteString.copyFrom(new byte[252]))
            .build();
    StatusRuntimeException e =
        assertStatus(
            () -> stub().modelInfer(request),
            Status.Code.INVALID_ARGUMENT,
            "raw_input_contents[0]");
    assertThat(e.getStatus().getDescription()).contains("256").contains("252");
  }

  @Test
  void modelInfer_rawEntryCountMismatch_returnsInvalidArgumentNamingField() {
    assertStatus(
        () ->
            stub()
                .modelInfer(
                    ModelInferRequest.newBuilder()
                        .setModelName("multi_io")
                        .addInputs(input("a", "FP32", 1, 4))
                        .addInputs(input("b", "INT64", 1, 4))
                        .addRawInputContents(fp32Raw(new float[4]))
                        .build()),
        Status.Code.INVALID_ARGUMENT,
        "raw_input_contents");
  }

  @Test
  void modelInfer_truncatedBytesElement_returnsInvalidArgumentNamingField() {
    ByteString raw = bytesRaw(List.of("abc", "de"));
    assertStatus(
        () ->
            stub()
                .modelInfer(
                    ModelInferRequest.newBuilder()
                        .setModelName("string_identity")
                        .addInputs(input("text", "BYTES", 2))
                        .addRawInputContents(raw.substring(0, raw.size() - 1))
                        .build()),
        Status.Code.INVALID_ARGUMENT,
        "raw_input_contents[0]");
  }

  @Test
  void modelInfer_nanWithoutAllowNan_returnsInvalidArgumentNamingField() {
    float[] input = new float[64];
    input[5] = Float.NaN;
    assertStatus(
        () -> stub().modelInfer(mlpRequest(input).build()),
        Status.Code.INVALID_ARGUMENT,
        "inputs[0].data");
  }

  @Test
  void modelInfer_unknownRequestedOutput_returnsInvalidArgumentNamingField() {
    assertStatus(
        () ->
            stub()
                .modelInfer(
                    mlpRequest(new float[64])
                        .addOutputs(InferRequestedOutputTensor.newBuilder().setName("scores"))
                        .build()),
        Status.Code.INVALID_ARGUMENT,
        "outputs[0].name");
  }

  @Test
  void modelInfer_errorDescription_carriesNoStackTrace() {
    StatusRuntimeException e =
        assertStatus(
            () -> stub().modelInfer(mlpRequest(new float[64]).setModelName("x y").build()),
            Status.Code.NOT_FOUND);
    assertThat(e.getStatus().getDescription()).doesNotContain("\tat ").doesNotContain("Exception");
  }

  @Test
  void modelInfer_deadlineAlreadyExpired_returnsDeadlineExceeded() throws Exception {
    GrpcInferenceService service = new GrpcInferenceService(manager);
    ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
    try (Context.CancellableContext ctx =
        Context.current().withDeadline(Deadline.after(-1, TimeUnit.SECONDS), timer)) {
      RecordingObserver<ModelInferResponse> observer = new RecordingObserver<>();
      ctx.run(() -> service.modelInfer(mlpRequest(new float[64]).build(), observer));
      Throwable error = observer.result.handle((r, t) -> t).get(10, TimeUnit.SECONDS);
      assertThat(Status.fromThrowable(error).getCode()).isEqualTo(Status.Code.DEADLINE_EXCEEDED);
    } finally {
      timer.shutdownNow();
    }
  }

  @Test
  void modelInfer_armeriaRequestAlreadyTimedOut_returnsDeadlineExceeded() throws Exception {
    GrpcInferenceService service = new GrpcInferenceService(manager);
    ServiceRequestContext ctx =
        ServiceRequestContext.builder(HttpRequest.of(HttpMethod.POST, "/")).timedOut(true).build();
    RecordingObserver<ModelInferResponse> observer = new RecordingObserver<>();
    SafeCloseable pushed = ctx.push();
    try {
      service.modelInfer(mlpRequest(new float[64]).build(), observer);
    } finally {
      pushed.close();
    }
    Throwable error = observer.result.handle((r, t) -> t).get(10, TimeUnit.SECONDS);
    assertThat(Status.fromThrowable(error).getCode()).isEqualTo(Status.Code.DEADLINE_EXCEEDED);
  }

  @Test
  void modelInfer_deadlinePassesWhileQueued_returnsDeadlineExceededAndServerStaysHealthy()
      throws Exception {
    // A manager whose inference queue holds every call for 300 ms, so a 50 ms deadline passes
    // while the call waits.
    ScheduledExecutorService delayer = Executors.newSingleThreadScheduledExecutor();
    Executor slow = r -> delayer.schedule(() -> executor.execute(r), 300, TimeUnit.MILLISECONDS);
    PrometheusMeterRegistry slowRegistry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    try (ModelManager slowManager =
            new ModelManager(
                new ModelRepository(repository),
                List.of(new OnnxRuntime()),
                new InferenceMetrics(slowRegistry),
                slow);
        TestServer slowServer = startLoaded(slowManager, slowRegistry)) {
      ManagedChannel ch =
          ManagedChannelBuilder.forAddress("127.0.0.1", slowServer.port()).usePlaintext().build();
      try {
        GRPCInferenceServiceBlockingStub slowStub = GRPCInferenceServiceGrpc.newBlockingStub(ch);
        assertStatus(
            () ->
                slowStub
                    .withDeadlineAfter(50, TimeUnit.MILLISECONDS)
                    .modelInfer(mlpRequest(new float[64]).build()),
            Status.Code.DEADLINE_EXCEEDED);
        ModelInferResponse ok =
            slowStub
                .withDeadlineAfter(30, TimeUnit.SECONDS)
                .modelInfer(mlpRequest(new float[64]).build());
        assertThat(ok.getRawOutputContentsCount()).isEqualTo(1);
      } finally {
        ch.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
      }
    } finally {
      delayer.shutdownNow();
    }
  }

  private static TestServer startLoaded(ModelManager m, PrometheusMeterRegistry r) {
    m.loadAll(List.of("mlp_ranker"));
    return TestServer.start(m, r);
  }

  // ---------------------------------------------------------------- model repository

  @Test
  void repository_loadInferUnload_fp16Mlp() throws IOException {
    assertThat(index(false))
        .filteredOn(m -> m.getName().equals("fp16_mlp"))
        .extracting(ModelIndex::getState)
        .containsExactly("UNAVAILABLE");
    assertThat(index(true)).extracting(ModelIndex::getName).doesNotContain("fp16_mlp");

    stub()
        .repositoryModelLoad(
            RepositoryModelLoadRequest.newBuilder().setModelName("fp16_mlp").build());
    assertThat(index(true))
        .filteredOn(m -> m.getName().equals("fp16_mlp"))
        .extracting(ModelIndex::getVersion, ModelIndex::getState)
        .containsExactly(org.assertj.core.groups.Tuple.tuple("1", "READY"));
    assertThat(stub().modelReady(ready("fp16_mlp", "1")).getReady()).isTrue();

    JsonNode expected = expected("fp16_mlp");
    float[] x = flatFloats(expected.get("inputs").get("x"));
    ModelInferResponse r =
        stub()
            .modelInfer(
                ModelInferRequest.newBuilder()
                    .setModelName("fp16_mlp")
                    .addInputs(input("x", "FP16", 2, 8))
                    .addRawInputContents(fp16Raw(x))
                    .build());
    assertThat(r.getOutputs(0).getDatatype()).isEqualTo("FP16");
    assertThat(fp16(r.getRawOutputContents(0)))
        .containsExactly(flatFloats(expected.get("outputs").get("y")));

    stub()
        .repositoryModelUnload(
            RepositoryModelUnloadRequest.newBuilder().setModelName("fp16_mlp").build());
    assertThat(stub().modelReady(ready("fp16_mlp", "")).getReady()).isFalse();
    assertThat(index(true)).extracting(ModelIndex::getName).doesNotContain("fp16_mlp");
    assertStatus(
        () ->
            stub()
                .modelInfer(
                    ModelInferRequest.newBuilder()
                        .setModelName("fp16_mlp")
                        .addInputs(input("x", "FP16", 2, 8))
                        .addRawInputContents(fp16Raw(x))
                        .build()),
        Status.Code.NOT_FOUND);
  }

  @Test
  void repositoryIndex_listsLoadedVersions() {
    assertThat(index(true))
        .extracting(ModelIndex::getName, ModelIndex::getVersion, ModelIndex::getState)
        .contains(
            org.assertj.core.groups.Tuple.tuple("mlp_ranker", "1", "READY"),
            org.assertj.core.groups.Tuple.tuple("mlp_ranker", "2", "READY"),
            org.assertj.core.groups.Tuple.tuple("string_identity", "1", "READY"));
  }

  @Test
  void repositoryIndex_namedRepository_returnsNotFound() {
    assertStatus(
        () ->
            stub()
                .repositoryIndex(
                    RepositoryIndexRequest.newBuilder().setRepositoryName("other").build()),
        Status.Code.NOT_FOUND);
  }

  @Test
  void repositoryModelLoad_unknownModel_returnsNotFound() {
    assertStatus(
        () ->
            stub()
                .repositoryModelLoad(
                    RepositoryModelLoadRequest.newBuilder().setModelName("no_such_model").build()),
        Status.Code.NOT_FOUND);
  }

  @Test
  void repositoryModelLoad_configOverride_returnsUnimplementedNamingField() {
    assertStatus(
        () ->
            stub()
                .repositoryModelLoad(
                    RepositoryModelLoadRequest.newBuilder()
                        .setModelName("mlp_ranker")
                        .putParameters(
                            "config",
                            dev.scoreline.server.grpc.proto.ModelRepositoryParameter.newBuilder()
                                .setStringParam("{}")
                                .build())
                        .build()),
        Status.Code.UNIMPLEMENTED,
        "parameters.config");
  }

  @Test
  void repositoryModelUnload_notLoadedModel_returnsNotFound() {
    assertStatus(
        () ->
            stub()
                .repositoryModelUnload(
                    RepositoryModelUnloadRequest.newBuilder()
                        .setModelName("no_such_model")
                        .build()),
        Status.Code.NOT_FOUND);
  }

  // ---------------------------------------------------------------- codec units

  @Test
  void parameters_everyKind_becomesJavaValue() {
    Map<String, Object> p =
        GrpcTensors.parameters(
            Map.of(
                "b", InferParameter.newBuilder().setBoolParam(true).build(),
                "i", InferParameter.newBuilder().setInt64Param(-7).build(),
                "s", InferParameter.newBuilder().setStringParam("x").build(),
                "d", InferParameter.newBuilder().setDoubleParam(0.25).build(),
                "u", InferParameter.newBuilder().setUint64Param(9).build()),
            "parameters");
    assertThat(p)
        .containsExactlyInAnyOrderEntriesOf(
            Map.of("b", true, "i", -7L, "s", "x", "d", 0.25, "u", 9L));
  }

  @Test
  void parameters_uint64AboveLongRange_isRefusedNamingField() {
    assertThatThrownBy(
            () ->
                GrpcTensors.parameters(
                    Map.of("u", InferParameter.newBuilder().setUint64Param(-1L).build()),
                    "parameters"))
        .isInstanceOfSatisfying(
            dev.scoreline.core.error.ScorelineException.class,
            e -> assertThat(e.field()).contains("parameters.u"));
  }

  // ---------------------------------------------------------------- helpers

  /** Suffix and protocol datatype of each all_types input. */
  private static final String[][] ALL_TYPES = {
    {"bool", "BOOL"},
    {"uint8", "UINT8"},
    {"int8", "INT8"},
    {"uint16", "UINT16"},
    {"int16", "INT16"},
    {"int32", "INT32"},
    {"int64", "INT64"},
    {"fp16", "FP16"},
    {"fp32", "FP32"},
    {"fp64", "FP64"},
    {"uint32", "UINT32"},
    {"uint64", "UINT64"}
  };

  private static int indexOfType(String suffix) {
    for (int i = 0; i < ALL_TYPES.length; i++) {
      if (ALL_TYPES[i][0].equals(suffix)) {
        return i;
      }
    }
    throw new IllegalArgumentException(suffix);
  }

  /** Six values that fit {@code type}, including its extremes where they are exact as doubles. */
  private static double[] sampleValues(DataType type) {
    return switch (type) {
      case BOOL -> new double[] {1, 0, 1, 1, 0, 0};
      case UINT8 -> new double[] {0, 1, 2, 127, 128, 255};
      case INT8 -> new double[] {-128, -1, 0, 1, 2, 127};
      case UINT16 -> new double[] {0, 1, 300, 32767, 32768, 65535};
      case INT16 -> new double[] {-32768, -1, 0, 1, 300, 32767};
      case INT32 -> new double[] {Integer.MIN_VALUE, -1, 0, 1, 70000, Integer.MAX_VALUE};
      case UINT32 -> new double[] {0, 1, 70000, 2147483647, 3, 5};
      case INT64, UINT64 -> new double[] {-1 << 20, -1, 0, 1, 1L << 40, 12345};
      case FP16 -> new double[] {-2.5, -0.125, 0, 1, 1024, 0.333251953125};
      case FP32, FP64 -> new double[] {-1.5e10, -0.1, 0, 1, 3.25, 1e-30};
      default -> throw new IllegalArgumentException(type.name());
    };
  }

  private static ByteString rawOf(DataType type, double[] values) {
    if (type == DataType.UINT64) {
      ByteBuffer b = ByteBuffer.allocate(values.length * 8).order(ByteOrder.LITTLE_ENDIAN);
      for (double v : values) {
        b.putLong((long) v);
      }
      return ByteString.copyFrom(b.array());
    }
    return ByteString.copyFrom(
        Tensor.ofNumbers("x", type, new long[] {values.length}, values).data());
  }

  private static ModelReadyRequest ready(String name, String version) {
    return ModelReadyRequest.newBuilder().setName(name).setVersion(version).build();
  }

  private static List<ModelIndex> index(boolean readyOnly) {
    RepositoryIndexResponse r =
        stub().repositoryIndex(RepositoryIndexRequest.newBuilder().setReady(readyOnly).build());
    return r.getModelsList();
  }

  private static InferInputTensor.Builder input(String name, String datatype, long... shape) {
    InferInputTensor.Builder b = InferInputTensor.newBuilder().setName(name).setDatatype(datatype);
    for (long d : shape) {
      b.addShape(d);
    }
    return b;
  }

  /** A raw mlp_ranker request with one row. */
  private static ModelInferRequest.Builder mlpRequest(float[] row) {
    return ModelInferRequest.newBuilder()
        .setModelName("mlp_ranker")
        .addInputs(input("features", "FP32", 1, row.length))
        .addRawInputContents(fp32Raw(row));
  }

  private static JsonNode expected(String model) throws IOException {
    return JSON.readTree(TestModels.read(model + "/expected.json"));
  }

  private static float[] flatFloats(JsonNode node) {
    List<Double> out = new ArrayList<>();
    flatten(node, out);
    float[] f = new float[out.size()];
    for (int i = 0; i < f.length; i++) {
      f[i] = out.get(i).floatValue();
    }
    return f;
  }

  private static long[] flatLongs(JsonNode node) {
    List<Double> out = new ArrayList<>();
    flatten(node, out);
    long[] l = new long[out.size()];
    for (int i = 0; i < l.length; i++) {
      l[i] = out.get(i).longValue();
    }
    return l;
  }

  private static void flatten(JsonNode node, List<Double> out) {
    if (node.isArray()) {
      for (JsonNode n : node) {
        flatten(n, out);
      }
    } else {
      out.add(node.asDouble());
    }
  }

  private static ByteString fp32Raw(float[] values) {
    ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    b.asFloatBuffer().put(values);
    return ByteString.copyFrom(b.array());
  }

  private static ByteString int64Raw(long[] values) {
    ByteBuffer b = ByteBuffer.allocate(values.length * 8).order(ByteOrder.LITTLE_ENDIAN);
    b.asLongBuffer().put(values);
    return ByteString.copyFrom(b.array());
  }

  private static ByteString fp16Raw(float[] values) {
    ByteBuffer b = ByteBuffer.allocate(values.length * 2).order(ByteOrder.LITTLE_ENDIAN);
    for (float v : values) {
      b.putShort(Fp16.fromFloat(v));
    }
    return ByteString.copyFrom(b.array());
  }

  private static ByteString bytesRaw(List<String> values) {
    ByteString.Output out = ByteString.newOutput();
    for (String v : values) {
      byte[] b = v.getBytes(UTF_8);
      ByteBuffer len = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(b.length);
      out.write(len.array(), 0, 4);
      out.write(b, 0, b.length);
    }
    return out.toByteString();
  }

  private static float[] fp32(ByteString raw) {
    float[] out = new float[raw.size() / 4];
    raw.asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(out);
    return out;
  }

  private static long[] int64(ByteString raw) {
    long[] out = new long[raw.size() / 8];
    raw.asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN).asLongBuffer().get(out);
    return out;
  }

  private static float[] fp16(ByteString raw) {
    ByteBuffer b = raw.asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
    float[] out = new float[raw.size() / 2];
    for (int i = 0; i < out.length; i++) {
      out[i] = Fp16.toFloat(b.getShort());
    }
    return out;
  }

  private static List<String> strings(ByteString raw) {
    ByteBuffer b = raw.asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
    List<String> out = new ArrayList<>();
    while (b.hasRemaining()) {
      byte[] v = new byte[b.getInt()];
      b.get(v);
      out.add(new String(v, UTF_8));
    }
    return out;
  }

  private static void assertClose(float[] actual, float[] expected) {
    assertThat(actual).hasSameSizeAs(expected);
    for (int i = 0; i < expected.length; i++) {
      assertThat(actual[i]).as("element %d", i).isCloseTo(expected[i], within(1e-5f));
    }
  }

  private static void assertMultiIo(ModelInferResponse r, JsonNode expected, List<String> names) {
    assertThat(r.getOutputsList())
        .extracting(ModelInferResponse.InferOutputTensor::getName)
        .containsExactlyElementsOf(names);
    assertThat(r.getRawOutputContentsCount()).isEqualTo(names.size());
    for (int i = 0; i < names.size(); i++) {
      ModelInferResponse.InferOutputTensor o = r.getOutputs(i);
      ByteString raw = r.getRawOutputContents(i);
      switch (o.getName()) {
        case "sum" -> {
          assertThat(o.getDatatype()).isEqualTo("FP32");
          assertThat(o.getShapeList()).containsExactly(3L, 4L);
          assertClose(fp32(raw), flatFloats(expected.get("sum")));
        }
        case "prod" -> {
          assertThat(o.getDatatype()).isEqualTo("INT64");
          assertThat(int64(raw)).containsExactly(flatLongs(expected.get("prod")));
        }
        case "label" -> {
          assertThat(o.getDatatype()).isEqualTo("INT64");
          assertThat(o.getShapeList()).containsExactly(3L);
          assertThat(int64(raw)).containsExactly(flatLongs(expected.get("label")));
        }
        default -> throw new AssertionError("unexpected output " + o.getName());
      }
    }
  }

  private static StatusRuntimeException assertStatus(ThrowingCallable call, Status.Code code) {
    return assertStatus(call, code, null);
  }

  /** Asserts the call fails with {@code code} and a description that starts with {@code field}. */
  private static StatusRuntimeException assertStatus(
      ThrowingCallable call, Status.Code code, String field) {
    Throwable t = org.assertj.core.api.Assertions.catchThrowable(call);
    assertThat(t).isInstanceOf(StatusRuntimeException.class);
    StatusRuntimeException e = (StatusRuntimeException) t;
    assertThat(e.getStatus().getCode()).as(String.valueOf(e.getStatus())).isEqualTo(code);
    if (field != null) {
      assertThat(e.getStatus().getDescription()).startsWith(field);
    }
    return e;
  }

  /** Records the one answer of a unary call. */
  private static final class RecordingObserver<T> implements StreamObserver<T> {
    final CompletableFuture<T> result = new CompletableFuture<>();
    private T value;

    @Override
    public void onNext(T v) {
      value = v;
    }

    @Override
    public void onError(Throwable t) {
      result.completeExceptionally(t);
    }

    @Override
    public void onCompleted() {
      result.complete(value);
    }
  }
}
