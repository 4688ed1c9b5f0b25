package dev.scoreline.demo;

import static org.assertj.core.api.Assertions.assertThat;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The exported ranker, run by the real ONNX Runtime, answers what the Java forward pass does. */
class OnnxExportTest {
  @Test
  void onnxRuntime_matchesJavaForward_onRandomAndRealRows() throws Exception {
    DemoData d = SmallDemo.get();
    byte[] model = Files.readAllBytes(d.projectDir().resolve(ProjectWriter.MODEL));
    Mlp mlp = d.ranker();
    int width = RankerFeatures.WIDTH;

    // 300 random rows and a user's 200 real candidate rows
    int random = 300;
    int real = d.candidateLists().count[0];
    int rows = random + real;
    float[] x = new float[rows * width];
    Rng rng = new Rng(5);
    for (int i = 0; i < random * width; i++) {
      x[i] = (float) (rng.nextGaussian() * 2);
    }
    for (int c = 0; c < real; c++) {
      d.features()
          .fill(
              0,
              d.candidateLists().item[c],
              d.shop().serveContextCategory(0),
              x,
              (random + c) * width);
    }
    float[] expected = new float[rows];
    mlp.forward(x, 0, rows, mlp.activations(rows), expected);

    OrtEnvironment env = OrtEnvironment.getEnvironment();
    try (OrtSession.SessionOptions options = new OrtSession.SessionOptions();
        OrtSession session = env.createSession(model, options);
        OnnxTensor input =
            OnnxTensor.createTensor(env, FloatBuffer.wrap(x), new long[] {rows, width});
        OrtSession.Result result = session.run(Map.of("features", input))) {
      float[][] score = (float[][]) result.get("score").orElseThrow().getValue();
      assertThat(score).hasNumberOfRows(rows);
      double maxDiff = 0;
      for (int r = 0; r < rows; r++) {
        assertThat(score[r]).hasSize(1);
        maxDiff = Math.max(maxDiff, Math.abs(score[r][0] - expected[r]));
      }
      assertThat(maxDiff).isLessThan(1e-5);
    }
  }

  @Test
  void onnxRuntime_readsTheSignature() throws Exception {
    byte[] model = Files.readAllBytes(SmallDemo.get().projectDir().resolve(ProjectWriter.MODEL));
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    try (OrtSession.SessionOptions options = new OrtSession.SessionOptions();
        OrtSession session = env.createSession(model, options)) {
      Map<String, NodeInfo> in = session.getInputInfo();
      Map<String, NodeInfo> out = session.getOutputInfo();
      assertThat(in).containsOnlyKeys("features");
      assertThat(out).containsOnlyKeys("score");
      TensorInfo features = (TensorInfo) in.get("features").getInfo();
      TensorInfo score = (TensorInfo) out.get("score").getInfo();
      assertThat(features.getShape()).containsExactly(-1, RankerFeatures.WIDTH);
      assertThat(score.getShape()).containsExactly(-1, 1);
      assertThat(features.type).isEqualTo(ai.onnxruntime.OnnxJavaType.FLOAT);
      assertThat(session.getMetadata().getProducerName()).isEqualTo("scoreline-demo");
    }
  }

  @Test
  void write_sameModel_sameBytes() {
    DemoData d = SmallDemo.get();
    assertThat(Quickstart.onnx(d.ranker(), d.features()))
        .isEqualTo(Quickstart.onnx(d.ranker(), d.features()));
  }
}
