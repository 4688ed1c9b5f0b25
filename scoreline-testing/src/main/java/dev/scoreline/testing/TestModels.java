package dev.scoreline.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;

/**
 * The tiny ONNX fixture models made by {@code fixtures/generate_models.py}, copied out of the
 * classpath into a real model repository directory (they may live inside a jar).
 */
public final class TestModels {
  private static final String ROOT = "dev/scoreline/testing/models/";

  /** Every fixture: model name and its version directories. */
  private static final List<String[]> FILES =
      List.of(
          new String[] {"mlp_ranker", "1", "2"},
          new String[] {"multi_io", "1"},
          new String[] {"string_identity", "1"},
          new String[] {"all_types", "1"},
          new String[] {"fp16_mlp", "1"},
          new String[] {"mlp_ranker_large", "1"});

  private static final List<String> EXPECTED =
      List.of("mlp_ranker", "multi_io", "fp16_mlp", "mlp_ranker_large");

  /**
   * Fixtures copied only when named: {@code mlp_ranker_large} (3.2 M parameters, materialized when
   * its session is created) is the batching benchmark's model, too big to load in every test.
   */
  private static final List<String> ONLY_WHEN_NAMED = List.of("mlp_ranker_large");

  private TestModels() {}

  /**
   * Copies the named fixture models (when none are named: all but {@code mlp_ranker_large}) into
   * {@code repository}, in the layout {@code <repository>/<name>/<version>/model.onnx}, with {@code
   * expected.json} where there is one.
   *
   * @return {@code repository}
   */
  public static Path copyTo(Path repository, String... names) {
    List<String> wanted = List.of(names);
    for (String[] f : FILES) {
      if (wanted.isEmpty() ? ONLY_WHEN_NAMED.contains(f[0]) : !wanted.contains(f[0])) {
        continue;
      }
      for (int i = 1; i < f.length; i++) {
        copy(
            f[0] + "/" + f[i] + "/model.onnx",
            repository.resolve(f[0]).resolve(f[i]).resolve("model.onnx"));
      }
      if (EXPECTED.contains(f[0])) {
        copy(f[0] + "/expected.json", repository.resolve(f[0]).resolve("expected.json"));
      }
    }
    return repository;
  }

  /** The bytes of one fixture resource, such as {@code mlp_ranker/expected.json}. */
  public static byte[] read(String resource) {
    try (InputStream in = open(resource)) {
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static void copy(String resource, Path target) {
    try (InputStream in = open(resource)) {
      Files.createDirectories(target.getParent());
      Files.copy(in, target, StandardCopyOption.REPLACE_EXISTING);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static InputStream open(String resource) {
    InputStream in = TestModels.class.getClassLoader().getResourceAsStream(ROOT + resource);
    if (in == null) {
      throw new IllegalStateException(
          "fixture "
              + ROOT
              + resource
              + " is missing; run scoreline-testing/fixtures/generate_models.py");
    }
    return in;
  }
}
