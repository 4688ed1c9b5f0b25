package dev.scoreline.spark;

import static org.assertj.core.api.Assertions.assertThat;

import dev.scoreline.core.model.ModelRepository;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelBundleTest {
  @TempDir Path dir;

  @Test
  void read_takesConfigAndThePolicysVersions_andWritesAnEqualRepository() throws Exception {
    Path models = dir.resolve("models");
    Path ranker = models.resolve("ranker");
    Files.createDirectories(ranker);
    Files.writeString(ranker.resolve("config.yaml"), "version-policy: {latest: 2}\n");
    for (int v = 1; v <= 3; v++) {
      Files.createDirectories(ranker.resolve(v + "/assets"));
      Files.write(ranker.resolve(v + "/model.onnx"), bytes("model " + v));
      Files.write(ranker.resolve(v + "/assets/vocab.txt"), bytes("vocab " + v));
    }

    ModelBundle bundle = roundTrip(ModelBundle.read(models, "ranker"));

    assertThat(bundle.name()).isEqualTo("ranker");
    assertThat(bundle.paths())
        .containsExactly(
            "config.yaml",
            "2/assets/vocab.txt",
            "2/model.onnx",
            "3/assets/vocab.txt",
            "3/model.onnx");
    assertThat(bundle.bytes()).isEqualTo(Files.size(ranker.resolve("config.yaml")) + 4 * 7);
    Path copy = dir.resolve("copy");
    bundle.writeTo(copy);
    ModelRepository.Definition def = new ModelRepository(copy).read("ranker");
    assertThat(def.versions()).containsOnlyKeys(2L, 3L);
    assertThat(def.config().versionPolicy().latest()).isEqualTo(2);
    assertThat(Files.readAllBytes(copy.resolve("ranker/3/assets/vocab.txt")))
        .isEqualTo(bytes("vocab 3"));
    assertThat(Files.readAllBytes(copy.resolve("ranker/2/model.onnx"))).isEqualTo(bytes("model 2"));

    ModelBundle.deleteQuietly(copy);
    assertThat(copy).doesNotExist();
  }

  @Test
  void read_withoutConfig_takesTheLatestVersionOnly() throws Exception {
    Path models = dir.resolve("models");
    Files.createDirectories(models.resolve("m/1"));
    Files.createDirectories(models.resolve("m/7"));
    Files.write(models.resolve("m/1/model.onnx"), bytes("one"));
    Files.write(models.resolve("m/7/model.onnx"), bytes("seven"));

    assertThat(ModelBundle.read(models, "m").paths()).containsExactly("7/model.onnx");
  }

  /** Through Java serialization, as Spark's default serializer ships a broadcast. */
  private static ModelBundle roundTrip(ModelBundle b) throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (ObjectOutputStream o = new ObjectOutputStream(out)) {
      o.writeObject(b);
    }
    try (ObjectInputStream in =
        new ObjectInputStream(new ByteArrayInputStream(out.toByteArray()))) {
      return (ModelBundle) in.readObject();
    }
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}
