package dev.scoreline.batch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/**
 * The Vector API kernel against the plain loops and the brute-force reference: same lists, bit for
 * bit. Surefire runs this module with {@code --add-modules jdk.incubator.vector}, so both kernels
 * run here; the fallback without the module runs in a child JVM.
 */
class DotProductTopKKernelTest {
  private static final boolean MODULE =
      ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent();

  @Test
  void defaultKernel_withIncubatorModule_isVector() {
    DotProductTopK topK = new DotProductTopK(new float[4 * 2], 4, 2, 1);
    assertThat(topK.kernel()).isEqualTo(MODULE ? "vector" : "plain");
    assertThat(new DotProductTopK(new float[4 * 2], 4, 2, 1, 16, 8, false).kernel())
        .isEqualTo("plain");
  }

  @Test
  void vectorKernel_oddShapes_bitIdenticalToPlainAndReference() {
    assumeThat(MODULE).as("run with --add-modules jdk.incubator.vector").isTrue();
    Random rnd = new Random(11);
    int[][] shapes = {
      // items, users, dim, k, userBlock
      {1, 1, 1, 1, 1},
      {15, 3, 3, 4, 8}, // fewer items than one vector
      {17, 5, 7, 40, 8}, // k larger than the catalog
      {63, 7, 16, 10, 7},
      {65, 9, 64, 50, 4}, // one item into the second strip
      {100, 37, 5, 100, 16}, // k = items
      {1000, 130, 64, 50, 128}, // a partial user block with a partial tile
      {2049, 21, 65, 7, 6}, // dim above 64, odd
      {333, 11, 2, 333, 5},
    };
    for (int[] s : shapes) {
      float[] items = DotProductTopKTest.gaussian(rnd, s[0] * s[2]);
      float[] users = DotProductTopKTest.gaussian(rnd, s[1] * s[2]);
      assertSameLists(items, s[0], users, s[1], s[2], s[3], s[4], Exclusions.NONE);
    }
  }

  @Test
  void vectorKernel_tiesExclusionsAndSpecialValues_bitIdenticalToPlainAndReference() {
    assumeThat(MODULE).as("run with --add-modules jdk.incubator.vector").isTrue();
    Random rnd = new Random(12);
    int m = 301;
    int n = 23;
    int dim = 9;
    float[] items = DotProductTopKTest.gaussian(rnd, m * dim);
    // exact ties: every 7th item repeats item 0, across strips
    for (int i = 7; i < m; i += 7) {
      System.arraycopy(items, 0, items, i * dim, dim);
    }
    items[5 * dim + 3] = Float.NaN; // item 5 scores NaN: never ranked
    items[9 * dim] = Float.POSITIVE_INFINITY; // item 9: +∞ or -∞ or NaN by user
    items[12 * dim + 1] = Float.NEGATIVE_INFINITY;
    float[] users = DotProductTopKTest.gaussian(rnd, n * dim);
    // user 2 scores 0 against everything: all ties, lowest rows win
    java.util.Arrays.fill(users, 2 * dim, 3 * dim, 0f);
    // tiny factors: products underflow to ±0, so some of user 4's scores are -0.0 (ranked equal to
    // +0.0, ties by item, and kept as -0.0)
    for (int i = 20; i < 25; i++) {
      for (int d = 0; d < dim; d++) {
        items[i * dim + d] *= 1e-30f;
      }
    }
    for (int d = 0; d < dim; d++) {
      users[4 * dim + d] = (d % 2 == 0 ? 1e-30f : -1e-30f);
    }
    int[][] excluded = new int[n][];
    excluded[1] = IntStream.range(0, m).filter(i -> i % 3 == 0).toArray();
    excluded[6] = new int[] {0, 7, 14, 64, 65, 300};
    Exclusions ex = Exclusions.of(excluded);
    for (int k : new int[] {1, 5, 64, 400}) {
      assertSameLists(items, m, users, n, dim, k, 8, ex);
    }
  }

  @Test
  void vectorKernel_catalogWithManyTies_bootstrapStripsBitIdenticalToPlainAndReference() {
    assumeThat(MODULE).as("run with --add-modules jdk.incubator.vector").isTrue();
    Random rnd = new Random(15);
    int m = 1500; // more than the strips the vector kernel scores up front
    int n = 19;
    int dim = 9;
    // 20 distinct item vectors: every score ties with ~75 others, so each list ends in ties
    float[] distinct = DotProductTopKTest.gaussian(rnd, 20 * dim);
    float[] items = new float[m * dim];
    for (int i = 0; i < m; i++) {
      System.arraycopy(distinct, rnd.nextInt(20) * dim, items, i * dim, dim);
    }
    items[700 * dim + 2] = Float.NaN;
    items[3 * dim] = Float.POSITIVE_INFINITY;
    items[600 * dim + 1] = Float.NEGATIVE_INFINITY;
    float[] users = DotProductTopKTest.gaussian(rnd, n * dim);
    java.util.Arrays.fill(users, 2 * dim, 3 * dim, 0f);
    int[][] excluded = new int[n][];
    excluded[1] = IntStream.range(0, m).filter(i -> i % 3 == 0).toArray();
    excluded[6] = new int[] {0, 1, 2, 64, 65, 511, 512, 1499};
    Exclusions ex = Exclusions.of(excluded);
    for (int k : new int[] {1, 7, 50, 128}) {
      assertSameLists(items, m, users, n, dim, k, 8, ex);
    }
  }

  @Test
  void vectorKernel_tiesBetweenItemsOfDifferentNorms_lowerRowWinsAsInReference() {
    assumeThat(MODULE).as("run with --add-modules jdk.incubator.vector").isTrue();
    Random rnd = new Random(16);
    int m = 3000; // enough strips for the up-front ones
    int n = 40;
    int dim = 3;
    // the score of user (a, 0, 0) is a × the item's first factor, one of 8 values: ties everywhere;
    // the other factors only change the norm, so the kernel's norm order is not the row order and
    // tied items with a higher row come first
    float[] items = new float[m * dim];
    for (int i = 0; i < m; i++) {
      items[i * dim] = rnd.nextInt(8) * 0.25f;
      items[i * dim + 1] = (float) rnd.nextGaussian() * 3f;
      items[i * dim + 2] = (float) rnd.nextGaussian() * 3f;
    }
    float[] users = DotProductTopKTest.gaussian(rnd, n * dim);
    for (int u = 0; u < n; u += 2) {
      users[u * dim] = 1f + u;
      users[u * dim + 1] = 0f;
      users[u * dim + 2] = 0f;
    }
    int[][] excluded = new int[n][];
    excluded[4] = IntStream.range(0, m).filter(i -> i % 5 == 0).toArray();
    Exclusions ex = Exclusions.of(excluded);
    for (int k : new int[] {1, 50, 300}) {
      assertSameLists(items, m, users, n, dim, k, 40, ex);
    }
  }

  @Test
  void vectorKernel_severalGroupsOfUpFrontScores_bitIdenticalToPlainAndReference() {
    assumeThat(MODULE).as("run with --add-modules jdk.incubator.vector").isTrue();
    Random rnd = new Random(17);
    int m = 4200; // all the up-front strips, and users in groups of 32 for them
    int n = 150;
    int dim = 8;
    float[] items = DotProductTopKTest.gaussian(rnd, m * dim);
    float[] users = DotProductTopKTest.gaussian(rnd, n * dim);
    int[][] excluded = new int[n][];
    excluded[40] = new int[] {0, 5, 77, 1000, 4199};
    Exclusions ex = Exclusions.of(excluded);
    for (int k : new int[] {10, 50, 512}) {
      assertSameLists(items, m, users, n, dim, k, 75, ex); // groups of 32, 32 and 11 users
    }
  }

  @Test
  void itemOrder_isDescendingNormWithTiesByRow_andAPermutation() {
    assumeThat(MODULE).as("run with --add-modules jdk.incubator.vector").isTrue();
    float[] items = {
      1f, 0f, // row 0: norm 1
      0f, 3f, // row 1: norm 9
      0f, 1f, // row 2: norm 1, ties with row 0
      Float.NaN, 0f, // row 3: NaN first
      0f, 0f, // row 4: 0
      2f, 2f, // row 5: 8
    };
    assertThat(VectorTopKKernel.byDescendingNorm(items, 6, 2)).containsExactly(3, 1, 5, 0, 2, 4);
  }

  @Test
  void vectorKernel_compiledByC2_bitIdenticalToReference() {
    assumeThat(MODULE).as("run with --add-modules jdk.incubator.vector").isTrue();
    Random rnd = new Random(13);
    int m = 3000;
    int n = 256;
    int dim = 32;
    float[] items = DotProductTopKTest.gaussian(rnd, m * dim);
    float[] users = DotProductTopKTest.gaussian(rnd, n * dim);
    DotProductTopK topK = new DotProductTopK(items, m, dim, 20, 1024, 64, true);
    DotProductTopK.Scorer scorer = topK.newScorer();
    for (int pass = 0; pass < 30; pass++) { // enough that the tile loop runs compiled
      scorer.score(users, 0, 64, Exclusions.NONE);
    }
    for (int from = 0; from < n; from += 64) {
      TopKBlock fast = scorer.score(users, from, from + 64, Exclusions.NONE);
      TopKBlock ref =
          DotProductTopK.referenceTopK(items, m, dim, users, from, from + 64, 20, Exclusions.NONE);
      assertThat(fast.counts()).isEqualTo(ref.counts());
      assertThat(fast.items()).isEqualTo(ref.items());
      assertThat(fast.scores()).isEqualTo(ref.scores());
    }
  }

  @Test
  void jvmWithoutIncubatorModule_fallsBackToPlainKernel() throws Exception {
    String classpath = System.getProperty("surefire.test.class.path");
    if (classpath == null || classpath.isEmpty()) {
      classpath = System.getProperty("java.class.path");
    }
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.add("-cp");
    cmd.add(classpath);
    cmd.add(FallbackMain.class.getName());
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out;
    try (var in = p.getInputStream()) {
      out = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(out).isZero();
    assertThat(out).contains("kernel=plain module=false matches=true");
  }

  /** The child JVM of {@link #jvmWithoutIncubatorModule_fallsBackToPlainKernel}. */
  static final class FallbackMain {
    private FallbackMain() {}

    public static void main(String[] args) {
      Random rnd = new Random(14);
      int m = 200;
      int n = 10;
      int dim = 8;
      float[] items = DotProductTopKTest.gaussian(rnd, m * dim);
      float[] users = DotProductTopKTest.gaussian(rnd, n * dim);
      DotProductTopK topK = new DotProductTopK(items, m, dim, 10);
      TopKBlock b = topK.newScorer().score(users, 0, n, Exclusions.NONE);
      TopKBlock ref = DotProductTopK.referenceTopK(items, m, dim, users, 0, n, 10, Exclusions.NONE);
      boolean matches =
          java.util.Arrays.equals(b.items(), ref.items())
              && java.util.Arrays.equals(b.scores(), ref.scores());
      System.out.println(
          "kernel="
              + topK.kernel()
              + " module="
              + ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent()
              + " matches="
              + matches);
      System.out.flush();
    }
  }

  /** Both kernels and the reference give the same lists for every user block. */
  private static void assertSameLists(
      float[] items, int m, float[] users, int n, int dim, int k, int userBlock, Exclusions ex) {
    DotProductTopK plain = new DotProductTopK(items, m, dim, k, 16, userBlock, false);
    DotProductTopK vector = new DotProductTopK(items, m, dim, k, 16, userBlock, true);
    assertThat(vector.kernel()).isEqualTo("vector");
    DotProductTopK.Scorer ps = plain.newScorer();
    DotProductTopK.Scorer vs = vector.newScorer();
    for (int from = 0; from < n; from += userBlock) {
      int to = Math.min(n, from + userBlock);
      TopKBlock p = ps.score(users, from, to, ex);
      TopKBlock v = vs.score(users, from, to, ex);
      TopKBlock ref = DotProductTopK.referenceTopK(items, m, dim, users, from, to, k, ex);
      String shape = m + " items × " + dim + " dims, k " + k + ", users from " + from;
      assertThat(v.counts()).as(shape).isEqualTo(ref.counts());
      assertThat(v.items()).as(shape).isEqualTo(ref.items());
      assertThat(v.scores()).as(shape).isEqualTo(ref.scores());
      assertThat(v.items()).as(shape).isEqualTo(p.items());
      assertThat(v.scores()).as(shape).isEqualTo(p.scores());
    }
  }
}
