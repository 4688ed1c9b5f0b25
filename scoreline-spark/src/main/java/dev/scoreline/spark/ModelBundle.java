package dev.scoreline.spark;

import static java.util.Objects.requireNonNull;

import dev.scoreline.core.error.ErrorCode;
import dev.scoreline.core.error.ScorelineException;
import dev.scoreline.core.model.ModelRepository;
import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * One model's repository entry as bytes: its {@code config.yaml} and the version directories its
 * version policy selects, read on the driver and broadcast, so that every executor loads exactly
 * the files the driver planned the run with (a model pushed to the shared repository during the run
 * cannot reach half the executors), and reads them from the broadcast instead of the shared file
 * system. An executor writes the bundle into a private model repository ({@link #writeTo}) and
 * loads it from there as the local engine loads a repository.
 *
 * <p>A plain serializable class (not a record), so that Java and Kryo serialization both carry it.
 */
final class ModelBundle implements Serializable {
  private static final long serialVersionUID = 1L;

  /** The largest bundle (Java arrays and Spark's broadcast blocks stay well below 2 GiB). */
  static final long MAX_BYTES = 1L << 30;

  private final String name;
  private final String[] paths;
  private final byte[][] contents;

  private ModelBundle(String name, String[] paths, byte[][] contents) {
    this.name = name;
    this.paths = paths;
    this.contents = contents;
  }

  /**
   * Reads model {@code name} of the repository at {@code models}: {@code config.yaml} when present
   * and every file of the version directories its policy selects.
   */
  static ModelBundle read(Path models, String name) {
    requireNonNull(models, "models is null");
    ModelRepository.Definition def = new ModelRepository(models).read(name);
    Path modelDir = models.resolve(name);
    List<Path> files = new ArrayList<>();
    Path config = modelDir.resolve("config.yaml");
    if (Files.isRegularFile(config)) {
      files.add(config);
    }
    for (Long version : def.config().versionPolicy().select(def.versions().keySet())) {
      try (Stream<Path> walk = Files.walk(modelDir.resolve(Long.toString(version)))) {
        walk.filter(Files::isRegularFile).sorted().forEach(files::add);
      } catch (IOException e) {
        throw new UncheckedIOException("cannot list version " + version + " of " + name, e);
      }
    }
    String[] paths = new String[files.size()];
    byte[][] contents = new byte[files.size()][];
    long total = 0;
    for (int i = 0; i < files.size(); i++) {
      Path f = files.get(i);
      paths[i] = modelDir.relativize(f).toString().replace('\\', '/');
      try {
        total += Files.size(f);
        if (total > MAX_BYTES) {
          throw new ScorelineException(
              ErrorCode.USER_ERROR,
              "model '"
                  + name
                  + "' is over "
                  + (MAX_BYTES >> 20)
                  + " MiB: too large to broadcast; keep only the versions the run needs"
                  + " (version-policy in config.yaml)");
        }
        contents[i] = Files.readAllBytes(f);
      } catch (IOException e) {
        throw new UncheckedIOException("cannot read " + f, e);
      }
    }
    return new ModelBundle(name, paths, contents);
  }

  String name() {
    return name;
  }

  /** Bytes of all files. */
  long bytes() {
    long n = 0;
    for (byte[] c : contents) {
      n += c.length;
    }
    return n;
  }

  /**
   * Files in the bundle, relative to the model's directory ({@code config.yaml}, {@code 1/...}).
   */
  List<String> paths() {
    return List.of(paths);
  }

  /** Writes the bundle as {@code root/<name>/...}, a model repository holding this one model. */
  void writeTo(Path root) {
    Path modelDir = root.resolve(name).normalize();
    for (int i = 0; i < paths.length; i++) {
      Path target = modelDir.resolve(paths[i]).normalize();
      if (!target.startsWith(modelDir)) {
        throw new IllegalStateException("bundle path escapes the model directory: " + paths[i]);
      }
      try {
        Files.createDirectories(target.getParent());
        Files.write(target, contents[i]);
      } catch (IOException e) {
        throw new UncheckedIOException("cannot write " + target, e);
      }
    }
  }

  /** Deletes a directory tree, quietly (a temporary repository at close). */
  static void deleteQuietly(Path dir) {
    try (Stream<Path> walk = Files.walk(dir)) {
      for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    } catch (IOException | UncheckedIOException e) {
      // a temporary directory; the OS cleans it eventually
    }
  }
}
