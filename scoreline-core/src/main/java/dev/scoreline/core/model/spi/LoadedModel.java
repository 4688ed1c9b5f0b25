package dev.scoreline.core.model.spi;

import dev.scoreline.core.model.ModelSignature;
import dev.scoreline.core.tensor.Tensor;
import java.util.List;
import java.util.Map;

/** One loaded, executable model version. {@link #run} is safe to call from many threads. */
public interface LoadedModel extends AutoCloseable {
  ModelSignature signature();

  /**
   * Runs the model. {@code inputs} are already validated against {@link #signature()}; {@code
   * outputs} names the outputs wanted, in order (never empty). Returns those outputs in that order.
   */
  List<Tensor> run(Map<String, Tensor> inputs, List<String> outputs);

  /** A short description of where it runs, such as {@code cpu} or {@code cuda:0}. */
  String device();

  @Override
  void close();
}
