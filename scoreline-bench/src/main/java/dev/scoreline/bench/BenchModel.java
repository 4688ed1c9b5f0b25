package dev.scoreline.bench;

import dev.scoreline.core.tensor.Tensor;
import dev.scoreline.testing.TestModels;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.SplittableRandom;
import java.util.stream.Stream;

/**
 * The model every benchmark here serves: the {@code mlp_ranker} fixture, version 1 (FP32 {@code
 * features} [batch, 64] to {@code score} [batch, 1]), in a temporary repository with a fixed
 * config.
 */
public final class BenchModel {
  public static final String NAME = "mlp_ranker";
  public static final String VERSION = "1";
  public static final String INPUT = "features";
  public static final String OUTPUT = "score";
  public static final int FEATURES = 64;

  /** The {@code config.yaml} written next to the model; docs/benchmarks.md quotes it. */
  public static final String CONFIG =
      String.join(
          "\n",
          "max-batch-size: 64",
          "version-policy: {specific: [1]}",
          "runtime: {intra-op-threads: 1, inter-op-threads: 1}",
          "");

  private BenchModel() {}

  /** Creates a repository with the model and {@link #CONFIG} under a new temporary directory. */
  static Path createRepository() {
    return createRepository(CONFIG);
  }

  /**
   * Creates a repository with the model and the given {@code config.yaml} under a new temporary
   * directory.
   */
  public static Path createRepository(String config) {
    try {
      Path root = Files.createTempDirectory("scoreline-bench-");
      TestModels.copyTo(root, NAME);
      Files.writeString(root.resolve(NAME).resolve("config.yaml"), config, StandardCharsets.UTF_8);
      return root;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Deletes a directory made by {@link #createRepository()}. */
  public static void deleteRepository(Path root) {
    try (Stream<Path> paths = Files.walk(root)) {
      for (Path p : (Iterable<Path>) paths.sorted(Comparator.reverseOrder())::iterator) {
        Files.deleteIfExists(p);
      }
    } catch (IOException e) {
      System.err.println("could not delete " + root + ": " + e);
    }
  }

  /** Deterministic features in [-1, 1), {@code batch} rows of {@link #FEATURES}. */
  public static float[] features(int batch) {
    SplittableRandom random = new SplittableRandom(42L + batch);
    float[] x = new float[batch * FEATURES];
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) (random.nextDouble() * 2 - 1);
    }
    return x;
  }

  public static Tensor input(int batch) {
    return Tensor.ofFloats(INPUT, new long[] {batch, FEATURES}, features(batch));
  }
}
