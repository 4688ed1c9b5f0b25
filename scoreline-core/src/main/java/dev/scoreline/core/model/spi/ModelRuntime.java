package dev.scoreline.core.model.spi;

/**
 * A runtime turns a model file into an executable {@link LoadedModel} (ONNX Runtime first). One
 * runtime instance is shared by all models of its platform and owns its native environment.
 */
public interface ModelRuntime extends AutoCloseable {
  /** The platform name used in {@code config.yaml} ({@code onnx}). */
  String platform();

  /** The platform string reported in model metadata ({@code onnx_onnxv1}). */
  String metadataPlatform();

  /**
   * Loads one version. Fails with a {@code USER_ERROR} {@link
   * dev.scoreline.core.error.ScorelineException} when the file or its config is invalid.
   */
  LoadedModel load(ModelSource source);

  @Override
  default void close() {}
}
