package dev.scoreline.retrieval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.scoreline.core.error.ErrorCode;
import dev.scoreline.core.error.ScorelineException;
import dev.scoreline.core.retrieval.Neighbor;
import dev.scoreline.core.retrieval.Similarity;
import dev.scoreline.core.retrieval.VectorIndex;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.function.LongPredicate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class ExactIndexTest {
  private static final int N = 500;
  private static final long[] IDS = TestData.ids(N);
  private static final float[][] ITEMS = TestData.clustered(N, 16, 5, 11, true, 1.0);
  private static final float[][] QUERIES = TestData.clustered(20, 16, 5, 12, true, 1.0);

  /** The reference answer: every item scored with Similarity.score, sorted, ties by position. */
  private static List<Neighbor> reference(
      Similarity similarity, float[] query, int k, LongPredicate filter) {
    List<Integer> ords = new ArrayList<>();
    for (int i = 0; i < N; i++) {
      if (filter == null || filter.test(IDS[i])) {
        ords.add(i);
      }
    }
    ords.sort(
        Comparator.<Integer>comparingDouble(i -> -similarity.score(query, ITEMS[i]))
            .thenComparingInt(i -> i));
    List<Neighbor> out = new ArrayList<>();
    for (int i = 0; i < Math.min(k, ords.size()); i++) {
      int o = ords.get(i);
      out.add(new Neighbor(IDS[o], similarity.score(query, ITEMS[o])));
    }
    return out;
  }

  private static VectorIndex exact(Similarity similarity) {
    return TestData.build("exact", similarity, IDS, ITEMS, JVectorOptions.DEFAULTS);
  }

  @ParameterizedTest
  @EnumSource(Similarity.class)
  void search_equalsFullSortOfSimilarityScores(Similarity similarity) {
    try (VectorIndex index = exact(similarity)) {
      for (float[] q : QUERIES) {
        assertThat(index.search(q, 7, null)).isEqualTo(reference(similarity, q, 7, null));
      }
    }
  }

  @ParameterizedTest
  @EnumSource(Similarity.class)
  void search_filter_equalsFilteredFullSort(Similarity similarity) {
    LongPredicate even = id -> (id & 1) == 0;
    try (VectorIndex index = exact(similarity)) {
      for (float[] q : QUERIES) {
        List<Neighbor> result = index.search(q, 12, even);
        assertThat(result).hasSize(12).allMatch(n -> even.test(n.id()));
        assertThat(result).isEqualTo(reference(similarity, q, 12, even));
      }
    }
  }

  @Test
  void search_equalVectors_tieGoesToFirstAdded() {
    float[] v = {1, 2, 3};
    VectorIndex index =
        IndexBuilder.exact(3, Similarity.DOT_PRODUCT)
            .add(30, v)
            .add(10, v)
            .add(20, v)
            .add(40, new float[] {0, 0, 0})
            .build();
    assertThat(index.search(v, 2, null)).extracting(Neighbor::id).containsExactly(30L, 10L);
  }

  @Test
  void search_kAboveSizeAndZero() {
    try (VectorIndex index = exact(Similarity.EUCLIDEAN)) {
      assertThat(index.search(QUERIES[0], 10_000, null)).hasSize(N);
      assertThat(index.search(QUERIES[0], 0, null)).isEmpty();
      assertThat(index.search(QUERIES[0], 5, id -> false)).isEmpty();
    }
  }

  @Test
  void search_cosineZeroVector_scoresZero() {
    VectorIndex index =
        IndexBuilder.exact(2, Similarity.COSINE)
            .add(1, new float[] {0, 0})
            .add(2, new float[] {1, 0})
            .build();
    assertThat(index.search(new float[] {1, 1}, 2, null))
        .containsExactly(
            new Neighbor(2, Similarity.COSINE.score(new float[] {1, 1}, new float[] {1, 0})),
            new Neighbor(1, 0f));
    assertThat(index.search(new float[] {0, 0}, 2, null))
        .extracting(Neighbor::score)
        .containsExactly(0f, 0f);
  }

  @ParameterizedTest
  @EnumSource(Similarity.class)
  void saveAndLoad_roundTrip_identicalResults(Similarity similarity, @TempDir Path dir) {
    try (ExactIndex built = (ExactIndex) exact(similarity)) {
      built.save(dir);
      try (VectorIndex loaded = new DefaultVectorIndexes().open(dir)) {
        assertThat(loaded).isInstanceOf(ExactIndex.class);
        assertThat(loaded.similarity()).isEqualTo(similarity);
        assertThat(loaded.size()).isEqualTo(N);
        assertThat(loaded.dimension()).isEqualTo(16);
        for (int i = 0; i < N; i++) {
          assertThat(loaded.vector(IDS[i])).isEqualTo(ITEMS[i]);
        }
        for (float[] q : QUERIES) {
          assertThat(loaded.search(q, 10, null)).isEqualTo(built.search(q, 10, null));
        }
      }
    }
  }

  @Test
  void containsAndVector() {
    try (VectorIndex index = exact(Similarity.DOT_PRODUCT)) {
      assertThat(index.contains(IDS[499])).isTrue();
      assertThat(index.contains(12345L)).isFalse();
      assertThat(index.vector(IDS[3])).isEqualTo(ITEMS[3]);
      assertThat(index.vector(12345L)).isNull();
      assertThat(index.kind()).isEqualTo("exact");
    }
  }

  @Test
  void search_wrongQueryLength_userError() {
    try (VectorIndex index = exact(Similarity.DOT_PRODUCT)) {
      assertThatThrownBy(() -> index.search(new float[3], 1, null))
          .isInstanceOfSatisfying(
              ScorelineException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.USER_ERROR));
      assertThatThrownBy(() -> index.search(null, 1, null))
          .isInstanceOfSatisfying(
              ScorelineException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.USER_ERROR));
    }
  }
}
