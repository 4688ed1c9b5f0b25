package dev.scoreline.retrieval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.scoreline.core.error.ErrorCode;
import dev.scoreline.core.error.ScorelineException;
import dev.scoreline.core.retrieval.Similarity;
import dev.scoreline.core.retrieval.VectorIndex;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DefaultVectorIndexesTest {
  private static final int N = 400;
  private static final long[] IDS = TestData.ids(N);
  private static final float[][] ITEMS = TestData.clustered(N, 8, 4, 21, true);

  @TempDir Path tmp;

  private final DefaultVectorIndexes indexes = new DefaultVectorIndexes();

  private Path saved(String kind) {
    Path dir = tmp.resolve(kind);
    IndexBuilder.of(kind, 8, Similarity.DOT_PRODUCT, JVectorOptions.DEFAULTS)
        .addAll(IDS, ITEMS)
        .buildAndSave(dir)
        .close();
    return dir;
  }

  private static void assertError(ThrowingCallable call, ErrorCode code, String mentions) {
    assertThatThrownBy(call)
        .isInstanceOfSatisfying(
            ScorelineException.class,
            e -> {
              assertThat(e.code()).isEqualTo(code);
              assertThat(e.getMessage()).contains(mentions);
            });
  }

  private static void replaceInManifest(Path dir, String from, String to) throws IOException {
    Path manifest = dir.resolve("index.properties");
    String text = Files.readString(manifest, StandardCharsets.UTF_8);
    assertThat(text).contains(from);
    Files.writeString(manifest, text.replace(from, to), StandardCharsets.UTF_8);
  }

  private static void flipByte(Path file, long position) throws IOException {
    try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
      f.seek(position);
      int b = f.read();
      f.seek(position);
      f.write(b ^ 0x5a);
    }
  }

  @Test
  void open_eachKind_opensTheRightImplementation() {
    try (VectorIndex exact = indexes.open(saved("exact"));
        VectorIndex graph = indexes.open(saved("jvector"))) {
      assertThat(exact).isInstanceOf(ExactIndex.class);
      assertThat(graph).isInstanceOf(JVectorIndex.class);
      assertThat(graph.search(ITEMS[0], 5, null)).isEqualTo(exact.search(ITEMS[0], 5, null));
    }
  }

  @Test
  void manifest_recordsFormatKindAndBuildParameters() throws IOException {
    String text = Files.readString(saved("jvector").resolve("index.properties"));
    assertThat(text)
        .contains("format=scoreline-vector-index")
        .contains("format-version=1")
        .contains("kind=jvector")
        .contains("similarity=dot-product")
        .contains("dimension=8")
        .contains("count=400")
        .contains("jvector.max-degree=32")
        .contains("jvector.beam-width=100")
        .contains("jvector.alpha=1.2");
  }

  @Test
  void exactLoad_ofJVectorDirectory_opensTheRecallBaseline() {
    try (VectorIndex baseline = ExactIndex.load(saved("jvector"))) {
      assertThat(baseline.kind()).isEqualTo("exact");
      assertThat(baseline.size()).isEqualTo(N);
      assertThat(baseline.vector(IDS[9])).isEqualTo(ITEMS[9]);
    }
  }

  @Test
  void open_missingDirectory_notFound() {
    assertError(() -> indexes.open(tmp.resolve("nope")), ErrorCode.NOT_FOUND, "nope");
  }

  @Test
  void open_directoryWithoutManifest_notFound() throws IOException {
    Files.createDirectories(tmp.resolve("empty"));
    assertError(() -> indexes.open(tmp.resolve("empty")), ErrorCode.NOT_FOUND, "index.properties");
  }

  @Test
  void open_newerFormatVersion_userErrorNamingTheManifest() throws IOException {
    Path dir = saved("exact");
    replaceInManifest(dir, "format-version=1", "format-version=2");
    assertError(() -> indexes.open(dir), ErrorCode.USER_ERROR, "index.properties");
  }

  @Test
  void open_unknownKind_userError() throws IOException {
    Path dir = saved("exact");
    replaceInManifest(dir, "kind=exact", "kind=annoy");
    assertError(() -> indexes.open(dir), ErrorCode.USER_ERROR, "annoy");
  }

  @Test
  void open_badDimension_userErrorNamingTheManifest() throws IOException {
    Path dir = saved("exact");
    replaceInManifest(dir, "dimension=8", "dimension=eight");
    assertError(() -> indexes.open(dir), ErrorCode.USER_ERROR, "index.properties");
  }

  @Test
  void open_truncatedIds_userErrorNamingTheFile() throws IOException {
    Path dir = saved("exact");
    Path ids = dir.resolve("ids.bin");
    byte[] bytes = Files.readAllBytes(ids);
    Files.write(ids, java.util.Arrays.copyOf(bytes, bytes.length - 8));
    assertError(() -> indexes.open(dir), ErrorCode.USER_ERROR, "ids.bin");
  }

  @Test
  void open_damagedVectors_userErrorNamingTheFile() throws IOException {
    Path dir = saved("exact");
    flipByte(dir.resolve("vectors.fvecs"), 100);
    assertError(() -> indexes.open(dir), ErrorCode.USER_ERROR, "vectors.fvecs");
  }

  @Test
  void open_missingVectors_userErrorNamingTheFile() throws IOException {
    Path dir = saved("jvector");
    Files.delete(dir.resolve("vectors.fvecs"));
    assertError(() -> indexes.open(dir), ErrorCode.USER_ERROR, "vectors.fvecs");
  }

  @Test
  void open_damagedGraph_userErrorNamingTheFile() throws IOException {
    Path dir = saved("jvector");
    Path graph = dir.resolve("graph.jvector");
    flipByte(graph, Files.size(graph) / 2);
    assertError(() -> indexes.open(dir), ErrorCode.USER_ERROR, "graph.jvector");
  }

  @Test
  void open_missingGraph_userErrorNamingTheFile() throws IOException {
    Path dir = saved("jvector");
    Files.delete(dir.resolve("graph.jvector"));
    assertError(() -> indexes.open(dir), ErrorCode.USER_ERROR, "graph.jvector");
  }

  @Test
  void jvectorLoad_ofExactDirectory_userError() {
    Path dir = saved("exact");
    assertError(
        () -> JVectorIndex.load(dir, JVectorOptions.DEFAULTS), ErrorCode.USER_ERROR, "kind=exact");
  }

  @Test
  void save_overExistingIndex_replacesIt() {
    Path dir = saved("exact");
    IndexBuilder.exact(2, Similarity.EUCLIDEAN)
        .add(1, new float[] {1, 1})
        .buildAndSave(dir)
        .close();
    try (VectorIndex index = indexes.open(dir)) {
      assertThat(index.size()).isEqualTo(1);
      assertThat(index.dimension()).isEqualTo(2);
    }
  }
}
