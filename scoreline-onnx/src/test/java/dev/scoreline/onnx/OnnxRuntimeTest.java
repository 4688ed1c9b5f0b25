package dev.scoreline.onnx;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.tuple;
import static org.assertj.core.api.Assertions.within;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.fasterxml.jackson.databind.JsonNode;
import dev.scoreline.core.error.ErrorCode;
import dev.scoreline.core.error.ScorelineException;
import dev.scoreline.core.model.ModelConfig;
import dev.scoreline.core.model.ModelSignature;
import dev.scoreline.core.model.RuntimeOptions;
import dev.scoreline.core.model.TensorSpec;
import dev.scoreline.core.model.spi.LoadedModel;
import dev.scoreline.core.model.spi.ModelSource;
import dev.scoreline.core.tensor.DataType;
import dev.scoreline.core.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.slf4j.LoggerFactory;

/** Loading: signatures, config checks, bad files, runtime options, CUDA fallback, close. */
class OnnxRuntimeTest {
  private final OnnxRuntime runtime = new OnnxRuntime();

  @TempDir Path dir;

  @Test
  void platform_isOnnx() {
    assertThat(runtime.platform()).isEqualTo("onnx");
    assertThat(runtime.metadataPlatform()).isEqualTo("onnx_onnxv1");
  }

  @Test
  void load_defaultConfig_derivesSignatureFromFile() {
    try (LoadedModel mlp = runtime.load(Fixtures.source(dir, "mlp_ranker", 1));
        LoadedModel multi = runtime.load(Fixtures.source(dir, "multi_io", 1));
        LoadedModel strings = runtime.load(Fixtures.source(dir, "string_identity", 1))) {
      assertThat(mlp.signature())
          .isEqualTo(
              new ModelSignature(
                  List.of(new TensorSpec("features", DataType.FP32, new long[] {-1, 64})),
                  List.of(new TensorSpec("score", DataType.FP32, new long[] {-1, 1})),
                  0));
      assertThat(multi.signature().inputs())
          .containsExactly(
              new TensorSpec("a", DataType.FP32, new long[] {-1, 4}),
              new TensorSpec("b", DataType.INT64, new long[] {-1, 4}));
      assertThat(multi.signature().outputs())
          .containsExactly(
              new TensorSpec("sum", DataType.FP32, new long[] {-1, 4}),
              new TensorSpec("prod", DataType.INT64, new long[] {-1, 4}),
              new TensorSpec("label", DataType.INT64, new long[] {-1}));
      assertThat(strings.signature().inputs())
          .containsExactly(new TensorSpec("text", DataType.BYTES, new long[] {-1}));
      assertThat(mlp.device()).isEqualTo("cpu");
    }
  }

  @Test
  void load_allTypes_mapsEveryElementType() {
    try (LoadedModel model = runtime.load(Fixtures.source(dir, "all_types", 1))) {
      assertThat(model.signature().inputs())
          .extracting(TensorSpec::name, TensorSpec::datatype)
          .containsExactly(
              tuple("x_bool", DataType.BOOL),
              tuple("x_uint8", DataType.UINT8),
              tuple("x_int8", DataType.INT8),
              tuple("x_uint16", DataType.UINT16),
              tuple("x_int16", DataType.INT16),
              tuple("x_int32", DataType.INT32),
              tuple("x_int64", DataType.INT64),
              tuple("x_fp16", DataType.FP16),
              tuple("x_fp32", DataType.FP32),
              tuple("x_fp64", DataType.FP64),
              tuple("x_uint32", DataType.UINT32),
              tuple("x_uint64", DataType.UINT64));
      assertThat(model.signature().outputs()).hasSize(12);
      assertThat(model.signature().output("y_uint64").datatype()).isEqualTo(DataType.UINT64);
    }
  }

  @Test
  void load_configMatchingFile_usesConfiguredBatchAndShape() {
    ModelConfig config =
        new ModelConfig(
            "onnx",
            64,
            List.of(new TensorSpec("features", DataType.FP32, new long[] {-1, 64})),
            List.of(new TensorSpec("score", DataType.FP32, null)),
            new RuntimeOptions(1, 1, "all", "cpu", 0),
            null,
            null,
            0);
    try (LoadedModel model = runtime.load(Fixtures.source(dir, "mlp_ranker", 1, config))) {
      assertThat(model.signature().maxBatchSize()).isEqualTo(64);
      assertThat(model.signature().output("score").shape()).containsExactly(-1, 1);
    }
  }

  @Test
  void load_configWrongDatatype_isUserError() {
    ModelConfig config =
        configWithInputs(new TensorSpec("features", DataType.FP64, new long[] {-1, 64}));

    assertThatThrownBy(() -> runtime.load(Fixtures.source(dir, "mlp_ranker", 1, config)))
        .isInstanceOfSatisfying(
            ScorelineException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.USER_ERROR));
  }

  @Test
  void load_configUnknownInputName_isUserError() {
    ModelConfig config =
        configWithInputs(new TensorSpec("feature", DataType.FP32, new long[] {-1, 64}));

    assertThatThrownBy(() -> runtime.load(Fixtures.source(dir, "mlp_ranker", 1, config)))
        .isInstanceOfSatisfying(
            ScorelineException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.USER_ERROR));
  }

  @Test
  void load_corruptFile_isUserErrorNamingTheFile() throws IOException {
    Path file = Fixtures.model(dir, "mlp_ranker", 1);
    Files.write(file, new byte[] {0x08, (byte) 0xff, 0x13, 0x37, 'n', 'o', 't', 0, 'o', 'n', 'n'});

    assertThatThrownBy(
            () -> runtime.load(new ModelSource("mlp_ranker", 1, file, ModelConfig.DEFAULT)))
        .isInstanceOfSatisfying(
            ScorelineException.class,
            e -> {
              assertThat(e.code()).isEqualTo(ErrorCode.USER_ERROR);
              assertThat(e.getMessage()).contains(file.toString());
            });
  }

  @Test
  void load_missingFile_isUserError() {
    Path file = dir.resolve("absent/1/model.onnx");

    assertThatThrownBy(() -> runtime.load(new ModelSource("absent", 1, file, ModelConfig.DEFAULT)))
        .isInstanceOfSatisfying(
            ScorelineException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.USER_ERROR));
  }

  @Test
  void load_sequenceOutput_isUserError() throws IOException {
    // y = SequenceConstruct(x): a valid ONNX model whose output is a sequence, not a tensor.
    OnnxProto floatTensor = OnnxProto.tensorType(1);
    OnnxProto sequenceOfFloat = new OnnxProto().message(4, new OnnxProto().message(1, floatTensor));
    byte[] bytes =
        OnnxProto.model(
            "sequence_out",
            OnnxProto.node("SequenceConstruct", "x", "y"),
            OnnxProto.valueInfo("x", floatTensor),
            OnnxProto.valueInfo("y", sequenceOfFloat));
    Path file = dir.resolve("sequence_out/1/model.onnx");
    Files.createDirectories(file.getParent());
    Files.write(file, bytes);

    assertThatThrownBy(
            () -> runtime.load(new ModelSource("sequence_out", 1, file, ModelConfig.DEFAULT)))
        .isInstanceOfSatisfying(
            ScorelineException.class,
            e -> {
              assertThat(e.code()).isEqualTo(ErrorCode.USER_ERROR);
              assertThat(e.getMessage()).contains("'y'");
            });
  }

  @Test
  void load_elementTypeWithoutDatatype_isUserError() throws IOException {
    // y = Identity(x) over COMPLEX64 (ONNX element type 14): no Open Inference Protocol datatype.
    OnnxProto complex = OnnxProto.tensorType(14);
    Path file = dir.resolve("complex/1/model.onnx");
    Files.createDirectories(file.getParent());
    Files.write(
        file,
        OnnxProto.model(
            "complex",
            OnnxProto.node("Identity", "x", "y"),
            OnnxProto.valueInfo("x", complex),
            OnnxProto.valueInfo("y", complex)));

    assertThatThrownBy(() -> runtime.load(new ModelSource("complex", 1, file, ModelConfig.DEFAULT)))
        .isInstanceOfSatisfying(
            ScorelineException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.USER_ERROR));
  }

  @ParameterizedTest
  @ValueSource(strings = {"none", "basic", "extended", "all"})
  void load_eachOptimizationLevelAndThreadCounts_giveSameScores(String level) {
    JsonNode expected = Fixtures.expected("mlp_ranker");
    ModelConfig config =
        new ModelConfig(
            null, 0, null, null, new RuntimeOptions(2, 1, level, "cpu", 0), null, null, 0);
    try (LoadedModel model = runtime.load(Fixtures.source(dir, "mlp_ranker", 1, config))) {
      Tensor features =
          Tensor.ofFloats(
              "features",
              Fixtures.shape(expected.get("input")),
              Fixtures.floats(expected.get("input")));

      float[] scores =
          model.run(Map.of("features", features), List.of("score")).get(0).toFloatArray();

      float[] want = Fixtures.floats(expected.get("v1"));
      for (int i = 0; i < want.length; i++) {
        assertThat(scores[i]).isCloseTo(want[i], within(1e-5f));
      }
    }
  }

  @Test
  void load_cudaOnCpuOnlyBuild_fallsBackToCpuWithWarning() {
    Logger logger = (Logger) LoggerFactory.getLogger(OnnxRuntime.class);
    ListAppender<ILoggingEvent> appender = new ListAppender<>();
    appender.start();
    logger.addAppender(appender);
    ModelConfig config =
        new ModelConfig(
            null, 0, null, null, new RuntimeOptions(0, 0, "all", "cuda", 0), null, null, 0);
    try (LoadedModel model = runtime.load(Fixtures.source(dir, "mlp_ranker", 1, config))) {
      assertThat(model.device()).isEqualTo("cpu");
      Tensor features = Tensor.ofFloats("features", new long[] {1, 64}, new float[64]);
      assertThat(model.run(Map.of("features", features), List.of("score")).get(0).shape())
          .containsExactly(1, 1);
      assertThat(appender.list)
          .anySatisfy(
              event -> {
                assertThat(event.getLevel()).isEqualTo(Level.WARN);
                assertThat(event.getFormattedMessage())
                    .contains("mlp_ranker")
                    .contains("onnxruntime_gpu");
              });
    } finally {
      logger.detachAppender(appender);
    }
  }

  @Test
  void close_thenRun_isUnavailable() {
    LoadedModel model = runtime.load(Fixtures.source(dir, "mlp_ranker", 1));
    model.close();
    model.close(); // idempotent
    Tensor features = Tensor.ofFloats("features", new long[] {1, 64}, new float[64]);

    assertThatThrownBy(() -> model.run(Map.of("features", features), List.of("score")))
        .isInstanceOfSatisfying(
            ScorelineException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.UNAVAILABLE));
  }

  private static ModelConfig configWithInputs(TensorSpec... inputs) {
    return new ModelConfig(null, 0, List.of(inputs), null, null, null, null, 0);
  }
}
