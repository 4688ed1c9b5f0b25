package dev.scoreline.stream.fraud;

import static org.assertj.core.api.Assertions.assertThat;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import dev.scoreline.rocksdb.RocksDbKvStore;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The example's model is genuinely learned: trained on one synthetic dataset, it separates fraud
 * from legitimate transactions of another (other cards, other seed); and the exported ONNX model
 * computes what the Java reference computes.
 */
class FraudModelTest {
  static final Instant END = Instant.parse("2030-01-01T00:00:00Z");
  static final long END_MICROS = END.getEpochSecond() * 1_000_000L;

  @TempDir Path dir;

  @Test
  void trainedModel_separatesFraudOnUnseenCards_andOnnxMatchesJava() throws Exception {
    CardTransactions train = CardTransactions.generate(11, 300, 4, END_MICROS, 0.08);
    CardTransactions test = CardTransactions.generate(12, 200, 4, END_MICROS, 0.08);
    Instant asOf = END.minusSeconds(30 * 86_400);
    Path p1 = dir.resolve("train");
    Path p2 = dir.resolve("test");
    FraudExample.writeProject(p1, train, asOf);
    FraudExample.writeProject(p2, test, asOf);
    FraudExample.TrainingSet a;
    FraudExample.TrainingSet b;
    try (RocksDbKvStore k1 = RocksDbKvStore.open(p1.resolve("kv"));
        RocksDbKvStore k2 = RocksDbKvStore.open(p2.resolve("kv"))) {
      a = FraudExample.inputs(p1, k1, train, asOf);
      b = FraudExample.inputs(p2, k2, test, asOf);
    }
    assertThat(a.x()[0]).hasSize(21);
    FraudExample.Report r = FraudExample.train(a, b, new Mlp.Settings(16, 8, 128, 0.005, 1e-5, 7));
    assertThat(r.trainFraud()).isGreaterThan(20);
    assertThat(r.testFraud()).isGreaterThan(20);
    assertThat(r.testAuc()).isGreaterThan(0.95);
    assertThat(r.precisionAt09()).isGreaterThan(0.7);

    byte[] onnx = r.model().toOnnx("features", "score", "test");
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    try (OrtSession s = env.createSession(onnx, new OrtSession.SessionOptions())) {
      float[][] rows = new float[50][];
      System.arraycopy(b.x(), 0, rows, 0, 50);
      try (OnnxTensor in = OnnxTensor.createTensor(env, rows);
          OrtSession.Result out = s.run(Map.of("features", in))) {
        float[][] scores = (float[][]) out.get(0).getValue();
        for (int i = 0; i < rows.length; i++) {
          assertThat(scores[i][0])
              .isCloseTo(r.model().predict(rows[i]), org.assertj.core.api.Assertions.within(1e-5f));
        }
      }
    }
  }
}
