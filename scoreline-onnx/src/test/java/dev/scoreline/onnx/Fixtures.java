package dev.scoreline.onnx;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.scoreline.core.model.ModelConfig;
import dev.scoreline.core.model.spi.ModelSource;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * The fixture models of {@code scoreline-testing}, copied out of the classpath (they may sit in a
 * jar) into a test's temporary directory.
 */
final class Fixtures {
  private static final String ROOT = "dev/scoreline/testing/models/";
  private static final ObjectMapper JSON = new ObjectMapper();

  private Fixtures() {}

  /** Copies {@code <name>/<version>/model.onnx} under {@code dir} and returns its path. */
  static Path model(Path dir, String name, long version) {
    return copyResource(
        ROOT + name + "/" + version + "/model.onnx",
        dir.resolve(name).resolve(Long.toString(version)).resolve("model.onnx"));
  }

  static ModelSource source(Path dir, String name, long version) {
    return source(dir, name, version, ModelConfig.DEFAULT);
  }

  static ModelSource source(Path dir, String name, long version, ModelConfig config) {
    return new ModelSource(name, version, model(dir, name, version), config);
  }

  /** The {@code expected.json} next to a model's versions. */
  static JsonNode expected(String name) {
    String resource = ROOT + name + "/expected.json";
    try (InputStream in = open(resource)) {
      return JSON.readTree(in);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Copies a classpath resource to {@code target}, creating its directories. */
  static Path copyResource(String resource, Path target) {
    try (InputStream in = open(resource)) {
      Files.createDirectories(target.getParent());
      Files.copy(in, target, StandardCopyOption.REPLACE_EXISTING);
      return target;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static InputStream open(String resource) {
    InputStream in = Fixtures.class.getClassLoader().getResourceAsStream(resource);
    if (in == null) {
      throw new IllegalStateException("test resource " + resource + " is not on the classpath");
    }
    return in;
  }

  static float[] floats(JsonNode matrix) {
    int rows = matrix.size();
    int cols = matrix.get(0).isArray() ? matrix.get(0).size() : 1;
    float[] out = new float[rows * cols];
    for (int r = 0; r < rows; r++) {
      JsonNode row = matrix.get(r);
      for (int c = 0; c < cols; c++) {
        out[r * cols + c] = (float) (row.isArray() ? row.get(c) : row).asDouble();
      }
    }
    return out;
  }

  static long[] longs(JsonNode matrix) {
    int rows = matrix.size();
    int cols = matrix.get(0).isArray() ? matrix.get(0).size() : 1;
    long[] out = new long[rows * cols];
    for (int r = 0; r < rows; r++) {
      JsonNode row = matrix.get(r);
      for (int c = 0; c < cols; c++) {
        out[r * cols + c] = (row.isArray() ? row.get(c) : row).asLong();
      }
    }
    return out;
  }

  /** The shape of a JSON matrix or vector. */
  static long[] shape(JsonNode matrix) {
    return matrix.get(0).isArray()
        ? new long[] {matrix.size(), matrix.get(0).size()}
        : new long[] {matrix.size()};
  }
}
