package dev.scoreline.onnx;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import dev.langchain4j.model.embedding.onnx.allminilml6v2q.AllMiniLmL6V2QuantizedEmbeddingModel;
import dev.scoreline.core.model.ModelConfig;
import dev.scoreline.core.model.TensorSpec;
import dev.scoreline.core.model.spi.LoadedModel;
import dev.scoreline.core.model.spi.ModelSource;
import dev.scoreline.core.tensor.DataType;
import dev.scoreline.core.tensor.Tensor;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A real third-party model: the quantized all-MiniLM-L6-v2 sentence embedder shipped in
 * langchain4j's jar. Scoreline runs the same ONNX file, and the embedding it yields (mean pooling
 * over the attention mask, then L2 normalisation, as {@code OnnxBertBiEncoder} does) must match
 * langchain4j's own {@code embed()}.
 */
class MiniLmEmbeddingTest {
  private static final String MODEL_RESOURCE = "all-minilm-l6-v2-q.onnx";
  private static final String TOKENIZER_RESOURCE = "all-minilm-l6-v2-q-tokenizer.json";

  @TempDir static Path dir;

  private static LoadedModel model;
  private static HuggingFaceTokenizer tokenizer;
  private static AllMiniLmL6V2QuantizedEmbeddingModel reference;

  @BeforeAll
  static void load() throws IOException {
    Path file = Fixtures.copyResource(MODEL_RESOURCE, dir.resolve("minilm/1/model.onnx"));
    model = new OnnxRuntime().load(new ModelSource("minilm", 1, file, ModelConfig.DEFAULT));
    // The tokenizer langchain4j uses, configured as it configures it (no padding).
    try (InputStream json = Fixtures.open(TOKENIZER_RESOURCE)) {
      tokenizer = HuggingFaceTokenizer.newInstance(json, Map.of("padding", "false"));
    }
    reference = new AllMiniLmL6V2QuantizedEmbeddingModel();
  }

  @AfterAll
  static void close() {
    model.close();
    tokenizer.close();
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "The quick brown fox jumps over the lazy dog.",
        "Scoreline serves the same model online, in streams and in batch.",
        "Fraud checks must answer within a hundred milliseconds.",
        "Grüße aus Zürich: wie spät ist es?"
      })
  void run_allMiniLmL6V2_matchesLangchain4jEmbedding(String sentence) {
    Encoding encoding = tokenizer.encode(sentence, true, false);
    long[] shape = {1, encoding.getIds().length};
    Map<String, Tensor> all = new HashMap<>();
    all.put("input_ids", Tensor.ofLongs("input_ids", shape, encoding.getIds()));
    all.put("attention_mask", Tensor.ofLongs("attention_mask", shape, encoding.getAttentionMask()));
    all.put("token_type_ids", Tensor.ofLongs("token_type_ids", shape, encoding.getTypeIds()));
    Map<String, Tensor> inputs = new HashMap<>();
    for (TensorSpec spec : model.signature().inputs()) {
      assertThat(spec.datatype()).isEqualTo(DataType.INT64);
      inputs.put(spec.name(), all.get(spec.name()));
    }
    String tokenEmbeddings = model.signature().outputs().get(0).name();

    Tensor hidden = model.run(inputs, List.of(tokenEmbeddings)).get(0);

    assertThat(hidden.shape()).containsExactly(1, shape[1], 384);
    float[] ours = meanPoolAndNormalize(hidden.toFloatArray(), encoding.getAttentionMask(), 384);
    float[] theirs = reference.embed(sentence).content().vector();
    assertThat(ours).hasSameSizeAs(theirs);
    for (int i = 0; i < theirs.length; i++) {
      assertThat(ours[i]).as("dimension %d", i).isCloseTo(theirs[i], within(1e-4f));
    }
  }

  /** Mean of the token vectors whose mask is 1, then divided by its L2 norm. */
  private static float[] meanPoolAndNormalize(float[] tokens, long[] mask, int dim) {
    float[] pooled = new float[dim];
    int count = 0;
    for (int t = 0; t < mask.length; t++) {
      if (mask[t] == 0) {
        continue;
      }
      count++;
      for (int d = 0; d < dim; d++) {
        pooled[d] += tokens[t * dim + d];
      }
    }
    float sumOfSquares = 0;
    for (int d = 0; d < dim; d++) {
      pooled[d] /= count;
      sumOfSquares += pooled[d] * pooled[d];
    }
    float norm = (float) Math.sqrt(sumOfSquares);
    for (int d = 0; d < dim; d++) {
      pooled[d] /= norm;
    }
    return pooled;
  }
}
