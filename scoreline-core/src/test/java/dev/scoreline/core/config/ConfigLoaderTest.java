package dev.scoreline.core.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.scoreline.core.error.ErrorCode;
import dev.scoreline.core.error.ScorelineException;
import dev.scoreline.core.model.ModelConfig;
import dev.scoreline.core.tensor.DataType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigLoaderTest {
  @Test
  void parse_fullModelConfig_bindsKebabCaseKeys() {
    ModelConfig c =
        ConfigLoader.parse(
            "config.yaml",
            String.join(
                "\n",
                "platform: onnx",
                "max-batch-size: 64",
                "max-concurrency: 2",
                "inputs:",
                "  - name: features",
                "    datatype: FP32",
                "    shape: [-1, 64]",
                "    allow-nan: true",
                "outputs:",
                "  - {name: score, datatype: TYPE_FP32, dims: [-1, 1]}",
                "runtime:",
                "  intra-op-threads: 2",
                "  inter-op-threads: 1",
                "  optimization-level: extended",
                "  execution-provider: cuda",
                "version-policy:",
                "  latest: 2"),
            ModelConfig.class);
    assertThat(c.maxBatchSize()).isEqualTo(64);
    assertThat(c.maxConcurrency()).isEqualTo(2);
    assertThat(c.inputs().get(0).datatype()).isEqualTo(DataType.FP32);
    assertThat(c.inputs().get(0).shape()).containsExactly(-1, 64);
    assertThat(c.inputs().get(0).allowNan()).isTrue();
    assertThat(c.outputs().get(0).shape()).containsExactly(-1, 1);
    assertThat(c.runtime().intraOpThreads()).isEqualTo(2);
    assertThat(c.runtime().optimizationLevel()).isEqualTo("extended");
    assertThat(c.runtime().executionProvider()).isEqualTo("cuda");
    assertThat(c.versionPolicy().select(List.of(1L, 2L, 3L))).containsExactly(2L, 3L);
  }

  @Test
  void parse_emptyFile_givesDefaults() {
    ModelConfig c = ConfigLoader.parse("config.yaml", "", ModelConfig.class);
    assertThat(c.platform()).isEqualTo("onnx");
    assertThat(c.inputs()).isNull();
    assertThat(c.defaultModelFilename()).isEqualTo("model.onnx");
  }

  @Test
  void parse_unknownKey_namesFileLineKeyAndNearestValidKey() {
    assertThatThrownBy(
            () ->
                ConfigLoader.parse(
                    "models/r/config.yaml",
                    "platform: onnx\nmax-batch-sise: 4\n",
                    ModelConfig.class))
        .isInstanceOfSatisfying(
            ScorelineException.class,
            e -> {
              assertThat(e.code()).isEqualTo(ErrorCode.USER_ERROR);
              assertThat(e.getMessage())
                  .contains("models/r/config.yaml:2")
                  .contains("max-batch-sise")
                  .contains("did you mean 'max-batch-size'");
            });
  }

  @Test
  void parse_invalidValues_areUserErrorsWithTheReason() {
    assertThatThrownBy(() -> ConfigLoader.parse("c", "max-batch-size: -1", ModelConfig.class))
        .isInstanceOf(ScorelineException.class)
        .hasMessageContaining("max-batch-size must be >= 0");
    assertThatThrownBy(
            () ->
                ConfigLoader.parse("c", "runtime: {optimization-level: turbo}", ModelConfig.class))
        .hasMessageContaining("turbo");
    assertThatThrownBy(
            () -> ConfigLoader.parse("c", "inputs: [{name: x, datatype: FP99}]", ModelConfig.class))
        .hasMessageContaining("FP99");
    assertThatThrownBy(
            () ->
                ConfigLoader.parse(
                    "c", "version-policy: {latest: 1, all: true}", ModelConfig.class))
        .hasMessageContaining("exactly one");
    assertThatThrownBy(
            () ->
                ConfigLoader.parse(
                    "c",
                    "inputs: [{name: x, datatype: FP32}, {name: x, datatype: FP32}]",
                    ModelConfig.class))
        .hasMessageContaining("twice");
    assertThatThrownBy(() -> ConfigLoader.parse("c", "max-batch-size: [1", ModelConfig.class))
        .isInstanceOf(ScorelineException.class);
  }

  @Test
  void load_missingFile_isUserError(@TempDir Path dir) {
    assertThatThrownBy(() -> ConfigLoader.load(dir.resolve("nope.yaml"), ModelConfig.class))
        .isInstanceOfSatisfying(
            ScorelineException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.USER_ERROR));
  }

  @Test
  void load_readsFile(@TempDir Path dir) throws Exception {
    Path f = dir.resolve("config.yaml");
    Files.writeString(f, "max-batch-size: 8\n");
    assertThat(ConfigLoader.load(f, ModelConfig.class).maxBatchSize()).isEqualTo(8);
  }

  @Test
  void versionPolicy_specificAndAll() {
    ModelConfig specific =
        ConfigLoader.parse("c", "version-policy: {specific: [1, 3]}", ModelConfig.class);
    assertThat(specific.versionPolicy().select(List.of(3L, 2L, 1L))).containsExactly(1L, 3L);
    ModelConfig all = ConfigLoader.parse("c", "version-policy: {all: true}", ModelConfig.class);
    assertThat(all.versionPolicy().select(List.of(3L, 2L, 1L))).containsExactly(1L, 2L, 3L);
  }
}
