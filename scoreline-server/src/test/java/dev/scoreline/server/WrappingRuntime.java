package dev.scoreline.server;

import dev.scoreline.core.model.ModelSignature;
import dev.scoreline.core.model.spi.LoadedModel;
import dev.scoreline.core.model.spi.ModelRuntime;
import dev.scoreline.core.model.spi.ModelSource;
import dev.scoreline.core.tensor.Tensor;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/** A runtime that delegates to a real one and runs a hook (sleep, throw) before each call. */
final class WrappingRuntime implements ModelRuntime {
  private final ModelRuntime delegate;
  private final Consumer<String> beforeRun;

  /**
   * @param beforeRun gets the model name before every run
   */
  WrappingRuntime(ModelRuntime delegate, Consumer<String> beforeRun) {
    this.delegate = delegate;
    this.beforeRun = beforeRun;
  }

  @Override
  public String platform() {
    return delegate.platform();
  }

  @Override
  public String metadataPlatform() {
    return delegate.metadataPlatform();
  }

  @Override
  public LoadedModel load(ModelSource source) {
    LoadedModel model = delegate.load(source);
    return new LoadedModel() {
      @Override
      public ModelSignature signature() {
        return model.signature();
      }

      @Override
      public List<Tensor> run(Map<String, Tensor> inputs, List<String> outputs) {
        beforeRun.accept(source.name());
        return model.run(inputs, outputs);
      }

      @Override
      public String device() {
        return model.device();
      }

      @Override
      public void close() {
        model.close();
      }
    };
  }

  @Override
  public void close() {
    delegate.close();
  }
}
