package dev.scoreline.batch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.scoreline.core.error.ErrorCode;
import dev.scoreline.core.error.ScorelineException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

class DotProductTopKTest {

  static float[] gaussian(Random rnd, int n) {
    float[] f = new float[n];
    for (int i = 0; i < n; i++) {
      f[i] = (float) (rnd.nextGaussian() * 0.1);
    }
    return f;
  }

  /** Scores every user with the fast path, one block at a time, and compares with the reference. */
  private static void assertMatchesReference(
      float[] items,
      int m,
      float[] users,
      int n,
      int dim,
      int k,
      int itemBlock,
      int userBlock,
      Exclusions ex) {
    DotProductTopK topK = new DotProductTopK(items, m, dim, k, itemBlock, userBlock);
    DotProductTopK.Scorer scorer = topK.newScorer();
    for (int from = 0; from < n; from += userBlock) {
      int to = Math.min(n, from + userBlock);
      TopKBlock fast = scorer.score(users, from, to, ex);
      TopKBlock ref = DotProductTopK.referenceTopK(items, m, dim, users, from, to, k, ex);
      assertThat(fast.counts()).as("counts of users from %d", from).isEqualTo(ref.counts());
      for (int i = 0; i < to - from; i++) {
        for (int r = 0; r < fast.count(i); r++) {
          assertThat(fast.item(i, r))
              .as("user %d rank %d item", from + i, r)
              .isEqualTo(ref.item(i, r));
          assertThat(fast.score(i, r))
              .as("user %d rank %d score", from + i, r)
              .isEqualTo(ref.score(i, r));
        }
      }
    }
  }

  @Test
  void score_randomCatalogs_equalsBruteForceExactly() {
    Random rnd = new Random(1);
    int[][] shapes = {
      // items, users, dim, k, itemBlock, userBlock
      {100, 37, 8, 10, 16, 8},
      {1000, 50, 64, 50, 256, 16},
      {333, 20, 7, 5, 32, 3}, // dim not a multiple of 4, partial last block
      {17, 9, 3, 4, 16, 4}, // dim < 4
      {2048, 10, 16, 100, 1024, 10},
      {1, 5, 5, 1, 16, 2},
    };
    for (int[] s : shapes) {
      float[] items = gaussian(rnd, s[0] * s[2]);
      float[] users = gaussian(rnd, s[1] * s[2]);
      assertMatchesReference(items, s[0], users, s[1], s[2], s[3], s[4], s[5], Exclusions.NONE);
    }
  }

  @Test
  void score_compiledSimdPath_isBitIdenticalToReference() {
    // enough passes that C2 compiles (and vectorizes) the kernel before the checked pass
    Random rnd = new Random(9);
    int m = 4096;
    int n = 300;
    int dim = 24;
    float[] items = gaussian(rnd, m * dim);
    float[] users = gaussian(rnd, n * dim);
    DotProductTopK topK = new DotProductTopK(items, m, dim, 20, 1024, 100);
    DotProductTopK.Scorer scorer = topK.newScorer();
    for (int pass = 0; pass < 20; pass++) {
      scorer.score(users, 0, 100, Exclusions.NONE);
    }
    for (int from = 0; from < n; from += 100) {
      TopKBlock fast = scorer.score(users, from, from + 100, Exclusions.NONE);
      TopKBlock ref =
          DotProductTopK.referenceTopK(items, m, dim, users, from, from + 100, 20, Exclusions.NONE);
      assertThat(fast.items()).isEqualTo(ref.items());
      assertThat(fast.scores()).isEqualTo(ref.scores());
    }
  }

  @Test
  void score_kLargerThanCatalog_returnsEveryItemRanked() {
    Random rnd = new Random(2);
    float[] items = gaussian(rnd, 10 * 4);
    float[] users = gaussian(rnd, 3 * 4);
    assertMatchesReference(items, 10, users, 3, 4, 25, 16, 2, Exclusions.NONE);
    TopKBlock b =
        new DotProductTopK(items, 10, 4, 25, 16, 4).newScorer().score(users, 0, 3, Exclusions.NONE);
    assertThat(b.counts()).containsExactly(10, 10, 10);
  }

  @Test
  void score_withExclusions_neverReturnsExcludedItems() {
    Random rnd = new Random(3);
    int m = 500;
    int n = 40;
    int dim = 12;
    float[] items = gaussian(rnd, m * dim);
    float[] users = gaussian(rnd, n * dim);
    int[][] per = new int[n][];
    for (int u = 0; u < n; u++) {
      if (u % 5 == 0) {
        continue; // some users without exclusions
      }
      TreeSet<Integer> set = new TreeSet<>();
      for (int i = 0; i < 1 + rnd.nextInt(200); i++) {
        set.add(rnd.nextInt(m));
      }
      per[u] = set.stream().mapToInt(Integer::intValue).toArray();
    }
    // exclude the reference's own top items for one user, so exclusion changes the list
    per[1] = topItems(items, m, users, 1, dim, 20);
    Exclusions ex = Exclusions.of(per);
    assertMatchesReference(items, m, users, n, dim, 20, 64, 7, ex);
    TopKBlock b = new DotProductTopK(items, m, dim, 20, 64, 7).newScorer().score(users, 0, 7, ex);
    for (int r = 0; r < b.count(1); r++) {
      assertThat(per[1]).doesNotContain(b.item(1, r));
    }
  }

  @Test
  void score_excludedItemAboveThreshold_doesNotLowerTheThreshold() {
    // dim 1, user factor 1: the scores are the item factors, offered in item order. Items 0 and 1
    // fill the list (k = 2), item 2 raises the threshold to 10, item 3 beats it but is excluded;
    // item 4 (score 2) must not enter: it is below the list's worst entry (10)
    float[] items = {1, 10, 11, 12, 2};
    float[] users = {1};
    Exclusions ex = Exclusions.of(new int[][] {{3}});
    for (int itemBlock : new int[] {16, 1024}) {
      TopKBlock b =
          new DotProductTopK(items, 5, 1, 2, itemBlock, 4).newScorer().score(users, 0, 1, ex);
      assertThat(b.count(0)).isEqualTo(2);
      assertThat(new int[] {b.item(0, 0), b.item(0, 1)}).containsExactly(2, 1);
      assertThat(new float[] {b.score(0, 0), b.score(0, 1)}).containsExactly(11f, 10f);
    }
    assertMatchesReference(items, 5, users, 1, 1, 2, 16, 4, ex);
  }

  @Test
  void score_everyItemExcluded_returnsEmptyList() {
    Random rnd = new Random(4);
    float[] items = gaussian(rnd, 20 * 4);
    float[] users = gaussian(rnd, 2 * 4);
    int[] all = new int[20];
    for (int i = 0; i < 20; i++) {
      all[i] = i;
    }
    TopKBlock b =
        new DotProductTopK(items, 20, 4, 5, 16, 2)
            .newScorer()
            .score(users, 0, 2, Exclusions.of(new int[][] {all, {0, 1}}));
    assertThat(b.counts()).containsExactly(0, 5);
  }

  @Test
  void score_ties_brokenByItemRowAscending() {
    int dim = 4;
    int m = 300;
    float[] items = new float[m * dim];
    // every third item has the same vector: many exact ties across blocks
    for (int i = 0; i < m; i++) {
      float v = i % 3 == 0 ? 1f : (i % 7) * 0.01f;
      for (int d = 0; d < dim; d++) {
        items[i * dim + d] = v;
      }
    }
    float[] users = {1f, 1f, 1f, 1f, 0f, 0f, 0f, 0f};
    assertMatchesReference(items, m, users, 2, dim, 30, 32, 2, Exclusions.NONE);
    TopKBlock b =
        new DotProductTopK(items, m, dim, 30, 32, 2)
            .newScorer()
            .score(users, 0, 2, Exclusions.NONE);
    for (int r = 0; r < 30; r++) {
      assertThat(b.item(0, r)).isEqualTo(3 * r);
      assertThat(b.item(1, r)).isEqualTo(r); // all scores are zero: the lowest rows win
    }
  }

  @Test
  void score_nanScores_areNeverRanked() {
    float[] items = {1f, Float.NaN, 2f, 3f};
    float[] users = {1f};
    TopKBlock b =
        new DotProductTopK(items, 4, 1, 4, 16, 1).newScorer().score(users, 0, 1, Exclusions.NONE);
    assertThat(b.counts()).containsExactly(3);
    assertThat(new int[] {b.item(0, 0), b.item(0, 1), b.item(0, 2)}).containsExactly(3, 2, 0);
  }

  @Test
  void run_parallel_streamsEveryBlockOnce_sameAsSingleThread() {
    Random rnd = new Random(5);
    int m = 700;
    int n = 1000;
    int dim = 32;
    float[] items = gaussian(rnd, m * dim);
    float[] users = gaussian(rnd, n * dim);
    DotProductTopK topK = new DotProductTopK(items, m, dim, 10, 128, 64);
    List<TopKBlock> blocks = Collections.synchronizedList(new ArrayList<>());
    topK.run(users, n, Exclusions.NONE, 3, blocks::add);
    assertThat(blocks).hasSize((n + 63) / 64);
    DotProductTopK.Scorer scorer = topK.newScorer();
    for (TopKBlock b : blocks) {
      TopKBlock single =
          scorer.score(users, b.firstUser(), b.firstUser() + b.users(), Exclusions.NONE);
      assertThat(b.items()).isEqualTo(single.items());
      assertThat(b.scores()).isEqualTo(single.scores());
    }
  }

  @Test
  void run_consumerThrows_failsWithItsError() {
    Random rnd = new Random(6);
    float[] items = gaussian(rnd, 50 * 4);
    float[] users = gaussian(rnd, 500 * 4);
    DotProductTopK topK = new DotProductTopK(items, 50, 4, 5, 16, 10);
    assertThatThrownBy(
            () ->
                topK.run(
                    users,
                    500,
                    Exclusions.NONE,
                    2,
                    b -> {
                      throw ScorelineException.userError("x", "boom");
                    }))
        .isInstanceOfSatisfying(
            ScorelineException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.USER_ERROR));
  }

  @Test
  void constructor_wrongFactorLength_isUserError() {
    assertThatThrownBy(() -> new DotProductTopK(new float[10], 3, 4, 5))
        .isInstanceOfSatisfying(
            ScorelineException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.USER_ERROR));
    assertThatThrownBy(() -> new DotProductTopK(new float[12], 3, 4, 0))
        .isInstanceOf(ScorelineException.class);
  }

  private static int[] topItems(float[] items, int m, float[] users, int user, int dim, int k) {
    TopKBlock ref =
        DotProductTopK.referenceTopK(items, m, dim, users, user, user + 1, k, Exclusions.NONE);
    int[] top = new int[ref.count(0)];
    for (int r = 0; r < top.length; r++) {
      top[r] = ref.item(0, r);
    }
    java.util.Arrays.sort(top);
    return top;
  }
}
