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
 * The models the benchmarks serve. {@link #SMALL} is the {@code mlp_ranker} fixture, version 1
 * (FP32 {@code features} [batch, 64] to {@code score} [batch, 1], 2 k parameters): every benchmark
 * uses it unless it says otherwise. {@link #LARGE} is {@code mlp_ranker_large} (FP32 {@code
 * features} [batch, 256] through 2048, 1024 and 512 relu units to {@code score} [batch, 1], 3.2 M
 * parameters), which the batching benchmark can serve instead ({@code --model large}). The static
 * members are {@link #SMALL}'s.
 */
public final class BenchModel {
  /**
   * One served model.
   *
   * @param features width of the one FP32 input
   * @param tolerance largest difference between a served score and the in-process one, batched or
   *     not (batched and unbatched GEMMs sum in different orders)
   */
  public record Spec(
      String name,
      String version,
      String input,
      String output,
      int features,
      float tolerance,
      String label) {

    /** Creates a repository with this model and the given {@code config.yaml}. */
    public Path createRepository(String config) {
      try {
        Path root = Files.createTempDirectory("scoreline-bench-");
        TestModels.copyTo(root, name);
        Files.writeString(
            root.resolve(name).resolve("config.yaml"), config, StandardCharsets.UTF_8);
        return root;
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }

    /** Deterministic features in [-1, 1), {@code batch} rows of {@link #features}. */
    public float[] features(int batch) {
      SplittableRandom random = new SplittableRandom(42L + batch);
      float[] x = new float[batch * features];
      for (int i = 0; i < x.length; i++) {
        x[i] = (float) (random.nextDouble() * 2 - 1);
      }
      return x;
    }
  }

  public static final Spec SMALL =
      new Spec("mlp_ranker", "1", "features", "score", 64, 1e-5f, "mlp_ranker (64-32-1)");
  public static final Spec LARGE =
      new Spec(
          "mlp_ranker_large",
          "1",
          "features",
          "score",
          256,
          1e-4f,
          "mlp_ranker_large (256-2048-1024-512-1)");

  public static final String NAME = SMALL.name();
  public static final String VERSION = SMALL.version();
  public static final String INPUT = SMALL.input();
  public static final String OUTPUT = SMALL.output();
  public static final int FEATURES = SMALL.features();

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

  /** {@link Spec#createRepository} of {@link #SMALL}. */
  public static Path createRepository(String config) {
    return SMALL.createRepository(config);
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

  /** {@link Spec#features} of {@link #SMALL}. */
  public static float[] features(int batch) {
    return SMALL.features(batch);
  }

  public static Tensor input(int batch) {
    return Tensor.ofFloats(INPUT, new long[] {batch, FEATURES}, features(batch));
  }
}
