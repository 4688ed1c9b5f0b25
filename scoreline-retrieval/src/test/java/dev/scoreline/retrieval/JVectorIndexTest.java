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
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.LongPredicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class JVectorIndexTest {
  private static final long[] IDS = TestData.ids(TestData.N);
  private static final Map<Similarity, float[][]> ITEMS = new EnumMap<>(Similarity.class);
  private static final Map<Similarity, float[][]> QUERIES = new EnumMap<>(Similarity.class);
  private static final Map<Similarity, VectorIndex> GRAPH = new EnumMap<>(Similarity.class);
  private static final Map<Similarity, VectorIndex> EXACT = new EnumMap<>(Similarity.class);

  @BeforeAll
  static void buildIndexes() {
    for (Similarity s : Similarity.values()) {
      // dot product over unnormalized vectors: what factorization embeddings look like
      boolean varyNorms = s == Similarity.DOT_PRODUCT;
      // overlapping clusters (sigma 1): a beam of 10 finds only ~95% of the true top 10
      float[][] items = TestData.clustered(TestData.N, TestData.DIM, 64, 1, varyNorms, 1.0);
      ITEMS.put(s, items);
      QUERIES.put(s, TestData.clustered(TestData.QUERIES, TestData.DIM, 64, 2, varyNorms, 1.0));
      GRAPH.put(s, TestData.build("jvector", s, IDS, items, JVectorOptions.DEFAULTS));
      EXACT.put(s, TestData.build("exact", s, IDS, items, JVectorOptions.DEFAULTS));
    }
  }

  @AfterAll
  static void closeIndexes() {
    GRAPH.values().forEach(VectorIndex::close);
    EXACT.values().forEach(VectorIndex::close);
  }

  @ParameterizedTest
  @EnumSource(Similarity.class)
  void search_clusteredData_recallAt10AtLeast95Percent(Similarity similarity) {
    double recall =
        TestData.recall(GRAPH.get(similarity), EXACT.get(similarity), QUERIES.get(similarity), 10);
    System.out.printf("%s recall@10 = %.4f%n", similarity, recall);
    assertThat(recall).isGreaterThanOrEqualTo(0.95);
  }

  @ParameterizedTest
  @EnumSource(Similarity.class)
  void search_scoresEqualSimilarityScore_bestFirst(Similarity similarity) {
    VectorIndex index = GRAPH.get(similarity);
    for (float[] q : QUERIES.get(similarity)) {
      List<Neighbor> result = index.search(q, 10, null);
      assertThat(result).hasSize(10);
      for (Neighbor n : result) {
        assertThat(n.score()).isEqualTo(similarity.score(q, index.vector(n.id())));
      }
      for (int i = 1; i < result.size(); i++) {
        assertThat(result.get(i).score()).isLessThanOrEqualTo(result.get(i - 1).score());
      }
    }
  }

  @Test
  void search_filter_returnsOnlyAcceptedItemsAndStillK() {
    VectorIndex index = GRAPH.get(Similarity.DOT_PRODUCT);
    VectorIndex exact = EXACT.get(Similarity.DOT_PRODUCT);
    LongPredicate oneInSeven = id -> Math.floorMod(id, 7) == 3;
    long found = 0;
    for (float[] q : QUERIES.get(Similarity.DOT_PRODUCT)) {
      List<Neighbor> result = index.search(q, 10, oneInSeven);
      assertThat(result).hasSize(10);
      assertThat(result).allMatch(n -> oneInSeven.test(n.id()));
      var truth = TestData.idSet(exact.search(q, 10, oneInSeven));
      found += result.stream().filter(n -> truth.contains(n.id())).count();
    }
    assertThat(found / (10.0 * TestData.QUERIES)).isGreaterThanOrEqualTo(0.95);
  }

  @Test
  void search_filterPassingFewerThanK_returnsExactlyThoseItems() {
    VectorIndex index = GRAPH.get(Similarity.EUCLIDEAN);
    LongPredicate three = id -> id == IDS[5] || id == IDS[5_000] || id == IDS[9_999];
    float[] q = QUERIES.get(Similarity.EUCLIDEAN)[0];
    List<Neighbor> result = index.search(q, 10, three);
    assertThat(result)
        .extracting(Neighbor::id)
        .containsExactlyInAnyOrder(IDS[5], IDS[5_000], IDS[9_999]);
    assertThat(result).isEqualTo(EXACT.get(Similarity.EUCLIDEAN).search(q, 10, three));
  }

  @Test
  void search_filterRejectingAll_returnsEmpty() {
    VectorIndex index = GRAPH.get(Similarity.COSINE);
    assertThat(index.search(QUERIES.get(Similarity.COSINE)[0], 10, id -> false)).isEmpty();
  }

  @Test
  void search_largeK_returnsKDistinctItems() {
    VectorIndex index = GRAPH.get(Similarity.DOT_PRODUCT);
    float[] q = QUERIES.get(Similarity.DOT_PRODUCT)[3];
    List<Neighbor> result = index.search(q, 200, null);
    assertThat(result).hasSize(200);
    assertThat(TestData.idSet(result)).hasSize(200);
  }

  @Test
  void search_kAboveSize_returnsEveryItem() {
    float[][] items = TestData.clustered(50, 8, 3, 9, false);
    try (VectorIndex small =
        TestData.build(
            "jvector", Similarity.EUCLIDEAN, TestData.ids(50), items, JVectorOptions.DEFAULTS)) {
      assertThat(small.search(items[0], 500, null)).hasSize(50);
      assertThat(small.search(items[0], 0, null)).isEmpty();
      assertThat(small.search(items[0], 1, null).get(0).id()).isEqualTo(TestData.ids(50)[0]);
    }
  }

  @Test
  void search_concurrentThreads_equalSingleThreadedResults() throws Exception {
    VectorIndex index = GRAPH.get(Similarity.DOT_PRODUCT);
    float[][] queries = QUERIES.get(Similarity.DOT_PRODUCT);
    List<List<Neighbor>> expected = new ArrayList<>();
    for (float[] q : queries) {
      expected.add(index.search(q, 10, null));
    }
    ExecutorService pool = Executors.newFixedThreadPool(6);
    try {
      List<Future<Boolean>> futures = new ArrayList<>();
      for (int t = 0; t < 6; t++) {
        int offset = t * 37;
        futures.add(
            pool.submit(
                () -> {
                  for (int round = 0; round < 3; round++) {
                    for (int i = 0; i < queries.length; i++) {
                      int qi = (i + offset) % queries.length;
                      if (!index.search(queries[qi], 10, null).equals(expected.get(qi))) {
                        return false;
                      }
                    }
                  }
                  return true;
                }));
      }
      for (Future<Boolean> f : futures) {
        assertThat(f.get()).isTrue();
      }
    } finally {
      pool.shutdownNow();
    }
  }

  @ParameterizedTest
  @EnumSource(Similarity.class)
  void saveAndLoad_roundTrip_identicalResults(Similarity similarity, @TempDir Path dir) {
    JVectorIndex built = (JVectorIndex) GRAPH.get(similarity);
    built.save(dir);
    try (VectorIndex loaded = new DefaultVectorIndexes().open(dir)) {
      assertThat(loaded).isInstanceOf(JVectorIndex.class);
      assertThat(loaded.kind()).isEqualTo("jvector");
      assertThat(loaded.similarity()).isEqualTo(similarity);
      assertThat(loaded.dimension()).isEqualTo(TestData.DIM);
      assertThat(loaded.size()).isEqualTo(TestData.N);
      assertThat(((JVectorIndex) loaded).options()).isEqualTo(built.options());
      assertThat(loaded.vector(IDS[77])).isEqualTo(ITEMS.get(similarity)[77]);
      for (float[] q : QUERIES.get(similarity)) {
        assertThat(loaded.search(q, 10, null)).isEqualTo(built.search(q, 10, null));
      }
    }
  }

  @Test
  void saveLoadedIndex_again_identicalResults(@TempDir Path dir) {
    JVectorIndex built = (JVectorIndex) GRAPH.get(Similarity.COSINE);
    built.save(dir.resolve("a"));
    try (JVectorIndex loaded = JVectorIndex.load(dir.resolve("a"), JVectorOptions.DEFAULTS)) {
      loaded.save(dir.resolve("b"));
    }
    try (VectorIndex again = new DefaultVectorIndexes().open(dir.resolve("b"))) {
      for (float[] q : QUERIES.get(Similarity.COSINE)) {
        assertThat(again.search(q, 10, null)).isEqualTo(built.search(q, 10, null));
      }
    }
  }

  @Test
  void containsAndVector_knownAndUnknownIds() {
    VectorIndex index = GRAPH.get(Similarity.DOT_PRODUCT);
    assertThat(index.contains(IDS[0])).isTrue();
    assertThat(index.contains(IDS[0] + 1)).isFalse();
    float[] v = index.vector(IDS[123]);
    assertThat(v).isEqualTo(ITEMS.get(Similarity.DOT_PRODUCT)[123]);
    v[0] = 1e9f;
    assertThat(index.vector(IDS[123])).isEqualTo(ITEMS.get(Similarity.DOT_PRODUCT)[123]);
    assertThat(index.vector(IDS[0] + 1)).isNull();
  }

  @Test
  void search_wrongQueryLength_userError() {
    VectorIndex index = GRAPH.get(Similarity.DOT_PRODUCT);
    assertThatThrownBy(() -> index.search(new float[TestData.DIM - 1], 10, null))
        .isInstanceOfSatisfying(
            ScorelineException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.USER_ERROR));
  }

  @Test
  void search_nanQuery_userError() {
    VectorIndex index = GRAPH.get(Similarity.DOT_PRODUCT);
    float[] q = new float[TestData.DIM];
    q[4] = Float.NaN;
    assertThatThrownBy(() -> index.search(q, 10, null))
        .isInstanceOfSatisfying(
            ScorelineException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.USER_ERROR));
  }

  @Test
  void search_negativeK_userError() {
    VectorIndex index = GRAPH.get(Similarity.DOT_PRODUCT);
    assertThatThrownBy(() -> index.search(new float[TestData.DIM], -1, null))
        .isInstanceOfSatisfying(
            ScorelineException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.USER_ERROR));
  }

  @Test
  void search_afterClose_unavailable() {
    float[][] items = TestData.clustered(20, 4, 2, 3, false);
    VectorIndex index =
        TestData.build(
            "jvector", Similarity.COSINE, TestData.ids(20), items, JVectorOptions.DEFAULTS);
    index.close();
    assertThatThrownBy(() -> index.search(items[0], 1, null))
        .isInstanceOfSatisfying(
            ScorelineException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.UNAVAILABLE));
  }
}
