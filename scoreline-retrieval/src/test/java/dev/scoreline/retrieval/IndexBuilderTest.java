package dev.scoreline.retrieval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.scoreline.core.error.ErrorCode;
import dev.scoreline.core.error.ScorelineException;
import dev.scoreline.core.progress.ProgressListener;
import dev.scoreline.core.retrieval.Neighbor;
import dev.scoreline.core.retrieval.Similarity;
import dev.scoreline.core.retrieval.VectorIndex;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class IndexBuilderTest {

  private static void assertUserError(ThrowingCallable call, String mentions) {
    assertThatThrownBy(call)
        .isInstanceOfSatisfying(
            ScorelineException.class,
            e -> {
              assertThat(e.code()).isEqualTo(ErrorCode.USER_ERROR);
              assertThat(e.getMessage()).contains(mentions);
            });
  }

  /** Records what a build reports. */
  private static final class RecordingListener implements ProgressListener {
    final List<String> events = new ArrayList<>();
    final AtomicLong advanced = new AtomicLong();
    long total = -1;

    @Override
    public synchronized void start(String task, long total) {
      events.add("start");
      this.total = total;
    }

    @Override
    public void advance(long n) {
      advanced.addAndGet(n);
    }

    @Override
    public synchronized void finish() {
      events.add("finish");
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"jvector", "exact"})
  void add_duplicateId_userErrorNamingTheId(String kind) {
    IndexBuilder b =
        IndexBuilder.of(kind, 2, Similarity.EUCLIDEAN, JVectorOptions.DEFAULTS)
            .add(424242, new float[] {1, 2});
    assertUserError(() -> b.add(424242, new float[] {3, 4}), "424242");
  }

  @ParameterizedTest
  @ValueSource(strings = {"jvector", "exact"})
  void add_wrongDimension_userErrorNamingTheId(String kind) {
    IndexBuilder b = IndexBuilder.of(kind, 3, Similarity.COSINE, JVectorOptions.DEFAULTS);
    assertUserError(() -> b.add(777001, new float[] {1, 2}), "777001");
  }

  @Test
  void add_nanOrInfinity_userErrorNamingTheId() {
    IndexBuilder b = IndexBuilder.jvector(2, Similarity.DOT_PRODUCT, JVectorOptions.DEFAULTS);
    assertUserError(() -> b.add(-9001, new float[] {1, Float.NaN}), "-9001");
    assertUserError(() -> b.add(9002, new float[] {Float.POSITIVE_INFINITY, 1}), "9002");
    assertUserError(() -> b.add(9003, new float[] {1, Float.NEGATIVE_INFINITY}), "9003");
    assertUserError(() -> b.add(9004, null), "9004");
    // nothing invalid was kept
    assertThat(b.size()).isZero();
  }

  @Test
  void addAll_lengthMismatch_userError() {
    IndexBuilder b = IndexBuilder.exact(2, Similarity.DOT_PRODUCT);
    assertUserError(() -> b.addAll(new long[] {1, 2}, new float[][] {{1, 2}}), "vectors");
  }

  @Test
  void build_noItems_userError() {
    assertUserError(() -> IndexBuilder.exact(2, Similarity.DOT_PRODUCT).build(), "no items");
  }

  @Test
  void of_unknownKind_userError() {
    assertUserError(
        () -> IndexBuilder.of("hnsw", 2, Similarity.DOT_PRODUCT, JVectorOptions.DEFAULTS), "hnsw");
  }

  @Test
  void options_outOfRange_userErrorNamingTheField() {
    assertUserError(() -> new JVectorOptions(1, 100, 1.2f, 1.2f, 100, 1.5f, 0), "max-degree");
    assertUserError(() -> new JVectorOptions(32, 100, 1.2f, 0.5f, 100, 1.5f, 0), "alpha");
    assertUserError(() -> JVectorOptions.DEFAULTS.withSearchBeamWidth(0), "search-beam-width");
  }

  @Test
  void build_twice_illegalState() {
    IndexBuilder b = IndexBuilder.exact(1, Similarity.EUCLIDEAN).add(1, new float[] {1});
    b.build().close();
    assertThatThrownBy(b::build).isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> b.add(2, new float[] {2})).isInstanceOf(IllegalStateException.class);
  }

  @ParameterizedTest
  @ValueSource(strings = {"jvector", "exact"})
  void build_reportsProgressOfEveryItem(String kind) {
    int n = 3_000;
    RecordingListener listener = new RecordingListener();
    float[][] items = TestData.clustered(n, 8, 4, 5, false);
    try (VectorIndex index =
        IndexBuilder.of(kind, 8, Similarity.EUCLIDEAN, JVectorOptions.DEFAULTS.withBuildThreads(2))
            .progress(listener)
            .addAll(TestData.ids(n), items)
            .build()) {
      assertThat(index.size()).isEqualTo(n);
      assertThat(index.kind()).isEqualTo(kind);
    }
    assertThat(listener.events).containsExactly("start", "finish");
    assertThat(listener.total).isEqualTo(n);
    assertThat(listener.advanced.get()).isEqualTo(n);
  }

  @Test
  void addAll_iterator_buildsAndSaves(@TempDir Path dir) {
    float[][] items = TestData.clustered(300, 4, 3, 8, true);
    long[] ids = TestData.ids(300);
    List<IndexBuilder.Item> list = new ArrayList<>();
    for (int i = 0; i < ids.length; i++) {
      list.add(new IndexBuilder.Item(ids[i], items[i]));
    }
    try (VectorIndex built =
        IndexBuilder.jvector(4, Similarity.DOT_PRODUCT, JVectorOptions.DEFAULTS)
            .addAll(list.iterator())
            .buildAndSave(dir)) {
      try (VectorIndex loaded = new DefaultVectorIndexes().open(dir)) {
        assertThat(loaded.size()).isEqualTo(300);
        assertThat(loaded.search(items[7], 5, null)).isEqualTo(built.search(items[7], 5, null));
      }
    }
  }

  @Test
  void add_copiesTheVector() {
    float[] v = {1, 2};
    IndexBuilder b = IndexBuilder.exact(2, Similarity.DOT_PRODUCT).add(5, v);
    v[0] = 100;
    try (VectorIndex index = b.build()) {
      assertThat(index.vector(5)).containsExactly(1, 2);
    }
  }

  @Test
  void add_manyItems_growsBeyondInitialCapacity() {
    IndexBuilder b = IndexBuilder.exact(3, Similarity.EUCLIDEAN);
    for (int i = 0; i < 5_000; i++) {
      b.add(i * 31L, new float[] {i, -i, 1});
    }
    try (VectorIndex index = b.build()) {
      assertThat(index.size()).isEqualTo(5_000);
      assertThat(index.vector(4_999 * 31L)).containsExactly(4_999, -4_999, 1);
      assertThat(index.search(new float[] {10, -10, 1}, 1, null).get(0).id()).isEqualTo(310L);
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"jvector", "exact"})
  void build_singleItem_searchesAndRoundTrips(String kind, @TempDir Path dir) {
    try (VectorIndex index =
        IndexBuilder.of(kind, 3, Similarity.DOT_PRODUCT, JVectorOptions.DEFAULTS)
            .add(-17, new float[] {1, 2, 3})
            .buildAndSave(dir)) {
      assertThat(index.search(new float[] {1, 0, 0}, 5, null))
          .containsExactly(new Neighbor(-17, 1f));
      try (VectorIndex loaded = new DefaultVectorIndexes().open(dir)) {
        assertThat(loaded.search(new float[] {1, 0, 0}, 5, null))
            .isEqualTo(index.search(new float[] {1, 0, 0}, 5, null));
      }
    }
  }
}
