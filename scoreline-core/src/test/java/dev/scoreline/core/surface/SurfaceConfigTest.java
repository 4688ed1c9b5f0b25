package dev.scoreline.core.surface;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.scoreline.core.config.ConfigLoader;
import dev.scoreline.core.error.ErrorCode;
import dev.scoreline.core.error.ScorelineException;
import dev.scoreline.core.feature.FeatureFixtures;
import dev.scoreline.core.feature.FeatureRegistry;
import dev.scoreline.core.model.ModelMetadata;
import dev.scoreline.core.model.TensorSpec;
import dev.scoreline.core.tensor.DataType;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The {@code warmup} and {@code candidates.query: {model: ...}} keys of a surface file. */
class SurfaceConfigTest {
  static final String SCORING =
      String.join(
          "\n",
          "name: score",
          "entity: user",
          "model: {name: ranker, output: score}",
          "inputs: [{name: features, columns: [{value: user_profile:activity}]}]",
          "");

  static final String ANN =
      String.join(
          "\n",
          "name: feed",
          "entity: user",
          "candidates:",
          "  entity: item",
          "  source: ann",
          "  index: indexes/items",
          "  query:",
          "    model: user-tower",
          "    inputs: {a: user_profile:embedding, b: context.bias}",
          "    output: sum",
          "model: {name: ranker, output: score}",
          "inputs: [{name: features, columns: [{value: candidate.score}]}]",
          "");

  @TempDir Path dir;
  FeatureRegistry registry;

  @BeforeEach
  void setUp() {
    registry = FeatureFixtures.registry(dir, SurfaceEngineTest.FEATURES);
  }

  Surface compile(String yaml) {
    return Surface.compile(
        ConfigLoader.parse("surfaces/s.yaml", yaml, SurfaceSpec.class),
        registry,
        "surfaces/s.yaml");
  }

  static void assertUserError(ThrowingCallable call, String field, String... words) {
    assertThatThrownBy(call)
        .isInstanceOfSatisfying(
            ScorelineException.class,
            e -> {
              assertThat(e.code()).isEqualTo(ErrorCode.USER_ERROR);
              if (field != null) {
                assertThat(e.field()).contains(field);
              }
              assertThat(e.getMessage()).contains("surfaces/s.yaml").contains(words);
            });
  }

  @Test
  void warmup_defaultsToAFewHundredSampledRequests() {
    SurfaceSpec.Warmup w = compile(SCORING).spec().warmup();
    assertThat(w.requests()).isEqualTo(SurfaceSpec.Warmup.DEFAULT_REQUESTS);
    assertThat(w.entities()).isEmpty();
    assertThat(w.maxDuration()).isEqualTo(SurfaceSpec.Warmup.DEFAULT_MAX_DURATION);
  }

  @Test
  void warmup_explicitKeysAndLimitsAreRead() {
    Surface s =
        compile(
            SCORING
                + "warmup: {requests: 40, entities: [7, {user_id: 8}], max-duration: 2s,"
                + " context: {category: 3}}\n");
    SurfaceSpec.Warmup w = s.spec().warmup();
    assertThat(w.requests()).isEqualTo(40);
    assertThat(w.maxDuration()).isEqualTo(Duration.ofSeconds(2));
    assertThat(w.context()).containsEntry("category", 3);
    assertThat(s.warmupKeys).containsExactly(Map.of("user_id", 7), Map.of("user_id", 8));
    assertThat(compile(SCORING + "warmup: {requests: 0}\n").spec().warmup().requests()).isZero();
  }

  @Test
  void warmup_badValuesNameTheKeyAndTheFix() {
    assertUserError(
        () -> compile(SCORING + "warmup: {requests: -1}\n"),
        "warmup",
        "warmup.requests",
        "0 (no warm-up)");
    assertUserError(
        () -> compile(SCORING + "warmup: {request: 5}\n"),
        "warmup.request",
        "unknown key 'request'",
        "did you mean 'requests'");
    assertUserError(
        () -> compile(SCORING + "warmup: {max-duration: 0s}\n"),
        "warmup",
        "warmup.max-duration",
        "positive");
    assertUserError(
        () -> compile(SCORING + "warmup: {entities: [{user: 1}]}\n"),
        "warmup.entities[0]",
        "user_id");
    assertUserError(
        () -> compile(SCORING + "warmup: {entities: [[1, 2]]}\n"),
        "warmup.entities[0]",
        "map of its key columns");
  }

  @Test
  void queryModel_isReadWithItsInputsInOrder() {
    Surface s = compile(ANN);
    SurfaceSpec.QueryModel q = s.spec().candidates().queryModel();
    assertThat(q.model()).isEqualTo("user-tower");
    assertThat(q.output()).isEqualTo("sum");
    assertThat(q.inputs().keySet()).containsExactly("a", "b");
    assertThat(s.spec().candidates().query()).isNull();
    assertThat(s.queryInputs).extracting(i -> i.name).containsExactly("a", "b");
    // the feature feeding the model is read with the entity's features
    assertThat(s.entityFeatures()).extracting(Object::toString).contains("user_profile:embedding");
  }

  @Test
  void queryModel_badConfigNamesTheKeyAndTheFix() {
    assertUserError(
        () -> compile(ANN.replace("    output: sum", "    outptu: sum")),
        "candidates",
        "unknown key 'outptu'",
        "did you mean 'output'");
    assertUserError(
        () -> compile(ANN.replace("user_profile:embedding", "user_profile:nope")),
        "candidates.query.inputs.a",
        "has no feature 'nope'");
    assertUserError(
        () -> compile(ANN.replace("user_profile:embedding", "item_profile:embedding")),
        "candidates.query.inputs.a",
        "entity user");
    assertUserError(
        () ->
            compile(ANN.replace("    inputs: {a: user_profile:embedding, b: context.bias}\n", "")),
        "candidates",
        "candidates.query.inputs",
        "missing");
    assertUserError(
        () -> compile(ANN.replace("source: ann", "source: precomputed\n  snapshot: s")),
        "candidates",
        "source ann or all-items");
  }

  @Test
  void queryModel_isCheckedAgainstTheModelAndTheIndex() {
    Surface s = compile(ANN);
    ModelMetadata tower =
        new ModelMetadata(
            "user-tower",
            List.of("1"),
            "onnx",
            List.of(
                new TensorSpec("a", DataType.FP32, new long[] {-1, 2}),
                new TensorSpec("b", DataType.INT64, new long[] {-1, 2})),
            List.of(
                new TensorSpec("sum", DataType.FP32, new long[] {-1, 2}),
                new TensorSpec("label", DataType.INT64, new long[] {-1})),
            0);
    s.checkQueryModel(tower, 2);
    assertThat(s.queryInputs.get(1).datatype).isEqualTo(DataType.INT64);
    assertThat(s.queryInputs.get(0).width).isEqualTo(2);

    assertUserError(
        () -> s.checkQueryModel(tower, 3), "candidates.query.output", "dimension 3", "[1, 3]");
    assertUserError(
        () -> s.checkQueryModel(null, 2),
        "candidates.query.model",
        "user-tower",
        "models/user-tower/<version>/model.onnx");
    assertUserError(
        () -> compile(ANN.replace("output: sum", "output: label")).checkQueryModel(tower, 2),
        "candidates.query.output",
        "INT64");
    assertUserError(
        () ->
            compile(
                    ANN.replace(
                        "inputs: {a: user_profile:embedding, b: context.bias}",
                        "inputs: {a: user_profile:embedding}"))
                .checkQueryModel(tower, 2),
        "candidates.query.inputs",
        "'b' is not fed");
    assertUserError(
        () -> compile(ANN.replace("b: context.bias", "c: context.bias")).checkQueryModel(tower, 2),
        "candidates.query.inputs.c",
        "has no input 'c'");
  }
}
