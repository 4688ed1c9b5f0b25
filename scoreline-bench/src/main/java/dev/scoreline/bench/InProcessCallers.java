package dev.scoreline.bench;

import dev.scoreline.core.model.InferenceRequest;
import dev.scoreline.core.model.ModelManager;
import dev.scoreline.core.model.ModelRepository;
import dev.scoreline.core.model.spi.LoadedModel;
import dev.scoreline.core.model.spi.ModelSource;
import dev.scoreline.core.tensor.DataType;
import dev.scoreline.core.tensor.Tensor;
import dev.scoreline.onnx.OnnxRuntime;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/** The two in-process references: the model manager, and the bare ONNX Runtime session. */
final class InProcessCallers {
  private InProcessCallers() {}

  /**
   * {@code inproc}: {@link ModelManager#infer} on the calling thread, as a library user calls it.
   */
  static Caller manager(ModelManager manager, int batch) {
    InferenceRequest request =
        new InferenceRequest(
            BenchModel.NAME,
            BenchModel.VERSION,
            "",
            Map.of(),
            List.of(BenchModel.input(batch)),
            List.of());
    return () -> scores(manager.infer(request).outputs(), batch);
  }

  /**
   * {@code ort}: {@link LoadedModel#run} on a session of its own (same file and config), without
   * the manager's routing, validation and metrics.
   */
  static final class Ort implements AutoCloseable {
    private final OnnxRuntime runtime = new OnnxRuntime();
    private final LoadedModel model;

    Ort(Path repository) {
      ModelRepository.Definition def = new ModelRepository(repository).read(BenchModel.NAME);
      long version = Long.parseLong(BenchModel.VERSION);
      try {
        this.model =
            runtime.load(
                new ModelSource(
                    BenchModel.NAME, version, def.versions().get(version), def.config()));
      } catch (RuntimeException e) {
        runtime.close();
        throw e;
      }
    }

    Caller caller(int batch) {
      Map<String, Tensor> inputs = Map.of(BenchModel.INPUT, BenchModel.input(batch));
      List<String> outputs = List.of(BenchModel.OUTPUT);
      return () -> scores(model.run(inputs, outputs), batch);
    }

    @Override
    public void close() {
      model.close();
      runtime.close();
    }
  }

  private static float[] scores(List<Tensor> outputs, int batch) {
    if (outputs.size() != 1) {
      throw new IllegalStateException("expected one output, got " + outputs.size());
    }
    Tensor score = outputs.get(0);
    if (!score.name().equals(BenchModel.OUTPUT) || score.type() != DataType.FP32) {
      throw new IllegalStateException("unexpected output " + score);
    }
    Caller.checkShape(score.shape(), batch);
    return score.toFloatArray();
  }
}
