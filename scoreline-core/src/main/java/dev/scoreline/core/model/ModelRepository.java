package dev.scoreline.core.model;

import static java.util.Objects.requireNonNull;

import dev.scoreline.core.config.ConfigLoader;
import dev.scoreline.core.error.ErrorCode;
import dev.scoreline.core.error.ScorelineException;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * A model repository on disk: {@code <root>/<name>/config.yaml} (optional) and {@code
 * <root>/<name>/<version>/model.onnx}, versions being positive integers.
 */
public final class ModelRepository {
  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]*");
  private static final Pattern VERSION = Pattern.compile("[1-9][0-9]{0,17}");

  private final Path root;

  public ModelRepository(Path root) {
    this.root = requireNonNull(root, "root is null").toAbsolutePath().normalize();
  }

  public Path root() {
    return root;
  }

  /** A model as found on disk: its config and the model file of each version present. */
  public record Definition(String name, ModelConfig config, SortedMap<Long, Path> versions) {}

  /** Names of the models in the repository, sorted. */
  public List<String> modelNames() {
    if (!Files.isDirectory(root)) {
      throw new ScorelineException(
          ErrorCode.USER_ERROR,
          "model repository "
              + root
              + " is not a directory; pass --models <dir> with one folder per model");
    }
    List<String> names = new ArrayList<>();
    try (DirectoryStream<Path> dirs = Files.newDirectoryStream(root, Files::isDirectory)) {
      for (Path d : dirs) {
        String n = d.getFileName().toString();
        if (NAME.matcher(n).matches()) {
          names.add(n);
        }
      }
    } catch (IOException e) {
      throw new ScorelineException(ErrorCode.INTERNAL, "cannot list " + root + ": " + e, e);
    }
    names.sort(null);
    return names;
  }

  /** Reads one model's config and versions. */
  public Definition read(String name) {
    if (!NAME.matcher(name).matches()) {
      throw ScorelineException.userError(
          "name", "'" + name + "' is not a valid model name (letters, digits, '_', '.', '-')");
    }
    Path dir = root.resolve(name);
    if (!Files.isDirectory(dir)) {
      throw ScorelineException.notFound(
          "model '"
              + name
              + "' is not in the repository "
              + root
              + "; models there: "
              + modelNames());
    }
    Path configFile = dir.resolve("config.yaml");
    ModelConfig config =
        Files.exists(configFile)
            ? ConfigLoader.load(configFile, ModelConfig.class)
            : ModelConfig.DEFAULT;
    SortedMap<Long, Path> versions = new TreeMap<>();
    try (DirectoryStream<Path> dirs = Files.newDirectoryStream(dir, Files::isDirectory)) {
      for (Path d : dirs) {
        String v = d.getFileName().toString();
        if (VERSION.matcher(v).matches()) {
          versions.put(Long.parseLong(v), d.resolve(config.defaultModelFilename()));
        }
      }
    } catch (IOException e) {
      throw new ScorelineException(ErrorCode.INTERNAL, "cannot list " + dir + ": " + e, e);
    }
    return new Definition(name, config, versions);
  }
}
