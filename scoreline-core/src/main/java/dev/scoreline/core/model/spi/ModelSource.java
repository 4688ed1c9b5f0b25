package dev.scoreline.core.model.spi;

import static java.util.Objects.requireNonNull;

import dev.scoreline.core.model.ModelConfig;
import java.nio.file.Path;

/** What a runtime needs to load one model version. */
public record ModelSource(String name, long version, Path file, ModelConfig config) {
  public ModelSource {
    requireNonNull(name, "name is null");
    requireNonNull(file, "file is null");
    requireNonNull(config, "config is null");
  }
}
