package dev.scoreline.batch;

import static jdk.incubator.vector.VectorOperators.GE;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The register-blocked {@link TopKKernel} on the Vector API ({@code jdk.incubator.vector}, needs
 * {@code --add-modules jdk.incubator.vector}). Only {@link DotProductTopK} creates it, by
 * reflection and only when the module is in the boot layer, so a JVM without the module never loads
 * this class.
 *
 * <h2>Layout</h2>
 *
 * The items are cut into <i>strips</i> of {@link #WIDTH} items ({@link #VECTORS} vectors of the
 * preferred species: 64 items with AVX-512), in order of descending norm ({@link
 * #byDescendingNorm}; {@code ids[x]} is the item row at position {@code x}). A strip is stored
 * dimension-major and contiguous: dimension {@code d} of the item at position {@code x} of strip
 * {@code s} is at {@code LEAD + (s * dim + d) * WIDTH + x}. The last strip is padded with zero
 * items, which are never offered.
 *
 * <h2>Micro-kernel</h2>
 *
 * A tile is {@link #USERS} users × one strip: {@code USERS × VECTORS} accumulators (16 AVX-512
 * registers) stay in registers across all dimensions; per dimension it loads the strip's {@code
 * VECTORS} vectors once, broadcasts each user's factor and does {@code USERS × VECTORS} fused
 * multiply-adds (8 loads per 16 FMAs, where the plain loops need more memory operations than FMAs).
 * The block's user factors are first copied interleaved per tile ({@link #interleave}), so a
 * dimension's four factors sit side by side and the loop needs one index for them. Each accumulator
 * starts at zero and takes {@code fma(u[d], v[d], acc)} for {@code d = 0, 1, ...}: exactly {@link
 * DotProductTopK}'s order, so every score is bit-identical to the plain path and to {@link
 * DotProductTopK#referenceTopK}. The finished tile is compared with each user's current threshold
 * (its K-th best so far) by one vector compare per vector; only a vector with a lane at or above it
 * is stored, and its lanes from the first to the last one at or above are scanned in scalar code.
 *
 * <p>The loop runs strip by strip, and within a strip over the block's users: one strip (16 KiB at
 * 64 dimensions) stays in L1 while the block's user rows stream past it.
 *
 * <h2>Order of the items, and ties</h2>
 *
 * An exact top-K that sees a user's items one by one must offer every item that reaches the K-th
 * best so far: about {@code K (1 + ln(N / K))} items when the scores come in no particular order
 * (350 of 20,000 items for K = 50). Items with a larger norm score higher on average, so seen first
 * they raise the thresholds early and fewer items reach the lists (about a fifth fewer for Gaussian
 * factors, more for trained factors, where the norm follows popularity). Since the items no longer
 * come in ascending row order, a score equal to a user's threshold is offered too (it wins a tie
 * against the list's worst entry when its row is lower), and the list ranks by score and row alone:
 * the lists do not depend on the order.
 *
 * <h2>The first strips, without a heap walk per item</h2>
 *
 * Most of those offers come early, while the K-th best is still low. So the first {@link
 * #BOOT_STRIPS} strips (2,048 items; at most half the strips) are scored for a group of users into
 * a scratch buffer without any top-K work; then, per user, a <i>floor</i> is found from those
 * scores alone: a value with at least K scores at or above it (so the user's K-th best is at or
 * above it), from the least of the lane-wise maxima of K / lanes groups of vectors, raised by
 * bisection with vector compares and counts until at most 1.25 K scores remain above it. Only the
 * items at or above the floor are offered to the user's heap (about K of them instead of about 5
 * K), which leaves exactly the heap and threshold the item-by-item path would have left; the
 * remaining strips then run as above. A user with excluded items gets no floor (an excluded item
 * could hold a place above it): its first strips' items are offered one by one as elsewhere. No
 * strips are scored up front when K is more than a quarter of their items. Users go through this in
 * groups whose buffer (256 KiB) and strips stay in L2.
 *
 * <p>Immutable; {@link #score} may run on several threads at once.
 */
final class VectorTopKKernel implements TopKKernel {
  private static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;
  private static final int LANES = SPECIES.length();

  /** Users per tile. */
  static final int USERS = 4;

  /** Vectors per user in a tile. */
  static final int VECTORS = 4;

  /** Items per strip. */
  static final int WIDTH = VECTORS * LANES;

  /**
   * Floats before the first strip: the element at this index is 64-byte aligned when the array
   * itself starts on a 64-byte boundary, as G1 (the default collector) places every humongous array
   * (at least half a heap region: 0.5–16 MiB, so every catalog where speed matters) at the start of
   * a region, with HotSpot's 16-byte array header. Strips are whole cache lines long, so then every
   * vector load is aligned: about 30 % faster than loads that split cache lines, in a
   * microbenchmark of the tile loop. Where the assumption does not hold, loads are merely
   * unaligned: the results do not change.
   */
  private static final int LEAD = 12;

  private final int items;
  private final int dim;
  private final int strips;
  private final float[] packed;

  /** The item row at each position of the strips: items in order of descending norm. */
  private final int[] ids;

  /** Strips scored up front per block (see the class comment), or 0. */
  private final int bootStrips;

  /** Whether this JVM's preferred vector shape is wide enough for the kernel to pay off. */
  static boolean supported() {
    return LANES >= 8;
  }

  /** A description of the kernel for the log line. */
  static String describe() {
    return "Vector API, "
        + SPECIES.vectorBitSize()
        + "-bit FloatVector, tiles of "
        + USERS
        + " users × "
        + WIDTH
        + " items";
  }

  /**
   * Packs the item factors into strips.
   *
   * @throws IllegalArgumentException when the strips would not fit in one array
   */
  VectorTopKKernel(float[] itemFactors, int items, int dim) {
    this.items = items;
    this.dim = dim;
    this.strips = (items + WIDTH - 1) / WIDTH;
    long length = LEAD + (long) strips * dim * WIDTH;
    if (length > Integer.MAX_VALUE - 16) {
      throw new IllegalArgumentException(
          items + " items × " + dim + " dimensions do not fit in one array of strips");
    }
    this.packed = new float[(int) length];
    this.ids = byDescendingNorm(itemFactors, items, dim);
    for (int x = 0; x < items; x++) {
      int o = LEAD + (x / WIDTH) * dim * WIDTH + x % WIDTH;
      int f = ids[x] * dim;
      for (int d = 0; d < dim; d++) {
        packed[o + d * WIDTH] = itemFactors[f + d];
      }
    }
    this.bootStrips = Math.min(BOOT_STRIPS, strips / 2);
  }

  /**
   * The item rows ordered by descending squared norm (ties by row): the items most likely to score
   * high for any user come first, so the users' thresholds rise early and fewer items reach the
   * lists. Any order gives the same lists; this one only makes them cheaper.
   */
  static int[] byDescendingNorm(float[] itemFactors, int items, int dim) {
    long[] keys = new long[items];
    for (int i = 0; i < items; i++) {
      float n = 0f;
      for (int d = 0; d < dim; d++) {
        float x = itemFactors[i * dim + d];
        n = Math.fma(x, x, n);
      }
      // NaN and +∞ norms first (any place is correct); non-negative floats order as their bits
      int bits = Float.isNaN(n) ? Integer.MAX_VALUE : Float.floatToRawIntBits(n);
      keys[i] = ((long) (Integer.MAX_VALUE - bits) << 32) | i;
    }
    java.util.Arrays.sort(keys);
    int[] ids = new int[items];
    for (int x = 0; x < items; x++) {
      ids[x] = (int) keys[x];
    }
    return ids;
  }

  @Override
  public String name() {
    return "vector";
  }

  @Override
  public void score(DotProductTopK.Scorer scorer, float[] userFactors, int from, int n) {
    float[] spill = new float[USERS * WIDTH];
    int stripFloats = dim * WIDTH;
    float[] ut = interleave(scorer, userFactors, from, n);
    int first = 0;
    if (bootStrips > 0 && scorer.k() * 4 <= bootStrips * WIDTH) {
      bootstrap(scorer, userFactors, ut, from, n);
      first = bootStrips;
    }
    for (int s = first; s < strips; s++) {
      int po = LEAD + s * stripFloats;
      int base = s * WIDTH;
      int valid = Math.min(WIDTH, items - base);
      int i = 0;
      for (; i + USERS <= n; i += USERS) {
        tile(scorer, ut, i * dim, i, po, base, valid, spill);
      }
      for (; i < n; i++) {
        tile1(scorer, userFactors, (from + i) * dim, i, po, base, valid, spill);
      }
    }
  }

  /**
   * The factors of the block's users in whole tiles, interleaved per tile: dimension {@code d} of
   * the block's user {@code i + r} (tile {@code i / USERS}, {@code r < USERS}) at {@code i * dim +
   * d * USERS + r}. A tile's broadcasts of one dimension then come from one cache line at one
   * running index instead of from {@link #USERS} rows, each with its own index arithmetic: fewer
   * integer instructions between the FMAs, 11-19 % more FMA throughput of the tile loop measured
   * alone (paired rounds, one thread). The users after the last whole tile are not copied (they are
   * scored from their rows by {@link #tile1}).
   */
  private float[] interleave(DotProductTopK.Scorer scorer, float[] u, int from, int n) {
    int whole = n / USERS * USERS;
    float[] ut = scorer.tileScratch(whole * dim);
    for (int i = 0; i < whole; i += USERS) {
      int to = i * dim;
      for (int r = 0; r < USERS; r++) {
        int row = (from + i + r) * dim;
        for (int d = 0; d < dim; d++) {
          ut[to + d * USERS + r] = u[row + d];
        }
      }
    }
    return ut;
  }

  /**
   * Strips scored up front per block at most (see the class comment): 2,048 items with AVX-512, and
   * at most half the catalog's strips.
   */
  static final int BOOT_STRIPS = 32;

  /** Floats of the up-front scores of one group of users: 256 KiB, which stays in L2. */
  private static final int BOOT_BUFFER = 64 * 1024;

  private void bootstrap(
      DotProductTopK.Scorer scorer, float[] userFactors, float[] ut, int from, int n) {
    int m = bootStrips * WIDTH;
    // groups of users small enough that their up-front scores stay in L2; the group's strips too,
    // while every group of the block is scored against them
    int group = Math.max(USERS, BOOT_BUFFER / m / USERS * USERS);
    float[] buf = scorer.kernelScratch(Math.min(n, group) * m);
    int stripFloats = dim * WIDTH;
    int k = scorer.k();
    for (int g = 0; g < n; g += group) {
      int gn = Math.min(group, n - g);
      for (int s = 0; s < bootStrips; s++) {
        int po = LEAD + s * stripFloats;
        int i = 0;
        for (; i + USERS <= gn; i += USERS) {
          bootTile(ut, (g + i) * dim, po, buf, i * m + s * WIDTH, m);
        }
        for (; i < gn; i++) {
          bootTile1(userFactors, (from + g + i) * dim, po, buf, i * m + s * WIDTH);
        }
      }
      for (int i = 0; i < gn; i++) {
        int user = g + i;
        int o = i * m;
        float floor = scorer.hasExclusions(user) ? Float.NEGATIVE_INFINITY : floor(buf, o, m, k);
        for (int c = 0; c < m; c += LANES) {
          VectorMask<Float> hit =
              FloatVector.fromArray(SPECIES, buf, o + c).compare(VectorOperators.GE, floor);
          if (hit.anyTrue()) {
            int f = hit.firstTrue();
            scorer.scanIdsFrom(user, buf, o + c + f, hit.lastTrue() + 1 - f, ids, c + f, floor);
          }
        }
      }
    }
  }

  /**
   * A score at most the {@code k}-th best of {@code s[o, o + m)} and usually close to it (at least
   * {@code k} of the scores are at or above it), or -∞.
   */
  private static float floor(float[] s, int o, int m, int k) {
    int groups = (k + LANES - 1) / LANES;
    int vectors = m / LANES;
    // each lane of each group's max is the best of a distinct set of items, so at least
    // groups × LANES >= k items score at or above the least of them
    // (four partial maxima per group and four partial counts below: independent chains, so the
    // loops are not bound by the latency of one max or add per vector)
    FloatVector low = FloatVector.broadcast(SPECIES, Float.POSITIVE_INFINITY);
    FloatVector high = FloatVector.broadcast(SPECIES, Float.NEGATIVE_INFINITY);
    for (int g = 0; g < groups; g++) {
      FloatVector m0 = FloatVector.broadcast(SPECIES, Float.NEGATIVE_INFINITY);
      FloatVector m1 = m0;
      FloatVector m2 = m0;
      FloatVector m3 = m0;
      int v = g * vectors / groups;
      int end = (g + 1) * vectors / groups;
      for (; v + 4 <= end; v += 4) {
        m0 = m0.max(FloatVector.fromArray(SPECIES, s, o + v * LANES));
        m1 = m1.max(FloatVector.fromArray(SPECIES, s, o + (v + 1) * LANES));
        m2 = m2.max(FloatVector.fromArray(SPECIES, s, o + (v + 2) * LANES));
        m3 = m3.max(FloatVector.fromArray(SPECIES, s, o + (v + 3) * LANES));
      }
      for (; v < end; v++) {
        m0 = m0.max(FloatVector.fromArray(SPECIES, s, o + v * LANES));
      }
      FloatVector max = m0.max(m1).max(m2.max(m3));
      low = low.min(max);
      high = high.max(max);
    }
    float lo = low.reduceLanes(VectorOperators.MIN);
    float hi = high.reduceLanes(VectorOperators.MAX);
    if (!(lo > Float.NEGATIVE_INFINITY) || !(hi < Float.POSITIVE_INFINITY)) {
      return Float.NEGATIVE_INFINITY; // NaN or infinite scores: no floor
    }
    FloatVector one = FloatVector.broadcast(SPECIES, 1f);
    FloatVector zero = FloatVector.zero(SPECIES);
    for (int round = 0; round < FLOOR_ROUNDS; round++) {
      float mid = lo + (hi - lo) * 0.5f;
      if (!(mid > lo && mid < hi)) {
        break;
      }
      FloatVector c0 = zero;
      FloatVector c1 = zero;
      FloatVector c2 = zero;
      FloatVector c3 = zero;
      for (int c = 0; c < m; c += 4 * LANES) { // m is a whole number of strips
        c0 = c0.add(zero.blend(one, FloatVector.fromArray(SPECIES, s, o + c).compare(GE, mid)));
        c1 =
            c1.add(
                zero.blend(one, FloatVector.fromArray(SPECIES, s, o + c + LANES).compare(GE, mid)));
        c2 =
            c2.add(
                zero.blend(
                    one, FloatVector.fromArray(SPECIES, s, o + c + 2 * LANES).compare(GE, mid)));
        c3 =
            c3.add(
                zero.blend(
                    one, FloatVector.fromArray(SPECIES, s, o + c + 3 * LANES).compare(GE, mid)));
      }
      float above = c0.add(c1).add(c2.add(c3)).reduceLanes(VectorOperators.ADD);
      if (above >= k) {
        lo = mid;
        if (above <= k + (k >> 2)) {
          break;
        }
      } else {
        hi = mid;
      }
    }
    return lo;
  }

  /** Bisection rounds at most for a floor. */
  private static final int FLOOR_ROUNDS = 8;

  /**
   * {@link #tile} without the top-K: stores the 4 users' scores at {@code buf[bo + r * m ..]}; the
   * tile's factors are interleaved at {@code ut[to..]} (see {@link #interleave}).
   */
  private void bootTile(float[] ut, int to, int po, float[] buf, int bo, int m) {
    float[] p = packed;
    int dim = this.dim;
    FloatVector a00 = FloatVector.zero(SPECIES);
    FloatVector a01 = a00;
    FloatVector a02 = a00;
    FloatVector a03 = a00;
    FloatVector a10 = a00;
    FloatVector a11 = a00;
    FloatVector a12 = a00;
    FloatVector a13 = a00;
    FloatVector a20 = a00;
    FloatVector a21 = a00;
    FloatVector a22 = a00;
    FloatVector a23 = a00;
    FloatVector a30 = a00;
    FloatVector a31 = a00;
    FloatVector a32 = a00;
    FloatVector a33 = a00;
    for (int d = 0; d < dim; d++) {
      int o = po + d * WIDTH;
      int t = to + d * USERS;
      FloatVector q0 = FloatVector.fromArray(SPECIES, p, o);
      FloatVector q1 = FloatVector.fromArray(SPECIES, p, o + LANES);
      FloatVector q2 = FloatVector.fromArray(SPECIES, p, o + 2 * LANES);
      FloatVector q3 = FloatVector.fromArray(SPECIES, p, o + 3 * LANES);
      FloatVector b = FloatVector.broadcast(SPECIES, ut[t]);
      a00 = q0.fma(b, a00);
      a01 = q1.fma(b, a01);
      a02 = q2.fma(b, a02);
      a03 = q3.fma(b, a03);
      b = FloatVector.broadcast(SPECIES, ut[t + 1]);
      a10 = q0.fma(b, a10);
      a11 = q1.fma(b, a11);
      a12 = q2.fma(b, a12);
      a13 = q3.fma(b, a13);
      b = FloatVector.broadcast(SPECIES, ut[t + 2]);
      a20 = q0.fma(b, a20);
      a21 = q1.fma(b, a21);
      a22 = q2.fma(b, a22);
      a23 = q3.fma(b, a23);
      b = FloatVector.broadcast(SPECIES, ut[t + 3]);
      a30 = q0.fma(b, a30);
      a31 = q1.fma(b, a31);
      a32 = q2.fma(b, a32);
      a33 = q3.fma(b, a33);
    }
    a00.intoArray(buf, bo);
    a01.intoArray(buf, bo + LANES);
    a02.intoArray(buf, bo + 2 * LANES);
    a03.intoArray(buf, bo + 3 * LANES);
    a10.intoArray(buf, bo + m);
    a11.intoArray(buf, bo + m + LANES);
    a12.intoArray(buf, bo + m + 2 * LANES);
    a13.intoArray(buf, bo + m + 3 * LANES);
    a20.intoArray(buf, bo + 2 * m);
    a21.intoArray(buf, bo + 2 * m + LANES);
    a22.intoArray(buf, bo + 2 * m + 2 * LANES);
    a23.intoArray(buf, bo + 2 * m + 3 * LANES);
    a30.intoArray(buf, bo + 3 * m);
    a31.intoArray(buf, bo + 3 * m + LANES);
    a32.intoArray(buf, bo + 3 * m + 2 * LANES);
    a33.intoArray(buf, bo + 3 * m + 3 * LANES);
  }

  /** {@link #bootTile} for one user. */
  private void bootTile1(float[] u, int uo, int po, float[] buf, int bo) {
    float[] p = packed;
    FloatVector a0 = FloatVector.zero(SPECIES);
    FloatVector a1 = a0;
    FloatVector a2 = a0;
    FloatVector a3 = a0;
    for (int d = 0; d < dim; d++) {
      int o = po + d * WIDTH;
      FloatVector b = FloatVector.broadcast(SPECIES, u[uo + d]);
      a0 = FloatVector.fromArray(SPECIES, p, o).fma(b, a0);
      a1 = FloatVector.fromArray(SPECIES, p, o + LANES).fma(b, a1);
      a2 = FloatVector.fromArray(SPECIES, p, o + 2 * LANES).fma(b, a2);
      a3 = FloatVector.fromArray(SPECIES, p, o + 3 * LANES).fma(b, a3);
    }
    a0.intoArray(buf, bo);
    a1.intoArray(buf, bo + LANES);
    a2.intoArray(buf, bo + 2 * LANES);
    a3.intoArray(buf, bo + 3 * LANES);
  }

  /**
   * Scores users {@code i..i+3} of the block (factors interleaved at {@code ut[to..]}, see {@link
   * #interleave}) against one strip.
   */
  private void tile(
      DotProductTopK.Scorer scorer,
      float[] ut,
      int to,
      int i,
      int po,
      int base,
      int valid,
      float[] spill) {
    float[] p = packed;
    int dim = this.dim;
    FloatVector a00 = FloatVector.zero(SPECIES);
    FloatVector a01 = a00;
    FloatVector a02 = a00;
    FloatVector a03 = a00;
    FloatVector a10 = a00;
    FloatVector a11 = a00;
    FloatVector a12 = a00;
    FloatVector a13 = a00;
    FloatVector a20 = a00;
    FloatVector a21 = a00;
    FloatVector a22 = a00;
    FloatVector a23 = a00;
    FloatVector a30 = a00;
    FloatVector a31 = a00;
    FloatVector a32 = a00;
    FloatVector a33 = a00;
    for (int d = 0; d < dim; d++) {
      int o = po + d * WIDTH;
      int t = to + d * USERS;
      FloatVector q0 = FloatVector.fromArray(SPECIES, p, o);
      FloatVector q1 = FloatVector.fromArray(SPECIES, p, o + LANES);
      FloatVector q2 = FloatVector.fromArray(SPECIES, p, o + 2 * LANES);
      FloatVector q3 = FloatVector.fromArray(SPECIES, p, o + 3 * LANES);
      FloatVector b = FloatVector.broadcast(SPECIES, ut[t]);
      a00 = q0.fma(b, a00);
      a01 = q1.fma(b, a01);
      a02 = q2.fma(b, a02);
      a03 = q3.fma(b, a03);
      b = FloatVector.broadcast(SPECIES, ut[t + 1]);
      a10 = q0.fma(b, a10);
      a11 = q1.fma(b, a11);
      a12 = q2.fma(b, a12);
      a13 = q3.fma(b, a13);
      b = FloatVector.broadcast(SPECIES, ut[t + 2]);
      a20 = q0.fma(b, a20);
      a21 = q1.fma(b, a21);
      a22 = q2.fma(b, a22);
      a23 = q3.fma(b, a23);
      b = FloatVector.broadcast(SPECIES, ut[t + 3]);
      a30 = q0.fma(b, a30);
      a31 = q1.fma(b, a31);
      a32 = q2.fma(b, a32);
      a33 = q3.fma(b, a33);
    }
    // one compare per vector against the user's current threshold; a vector with a lane above it
    // is stored and its lanes from the first to the last one above are scanned (the scan re-checks
    // each lane against the rising threshold). Written out per vector on purpose: the same code
    // as a helper method taking the FloatVector measured 10-20% slower on the kernel (2026-11-29,
    // alternating runs of the batch bench's local phase)
    VectorMask<Float> m;
    float t0 = scorer.threshold(i + 0);
    m = a00.compare(VectorOperators.GE, t0);
    if (m.anyTrue()) {
      a00.intoArray(spill, 0);
      t0 = scan(scorer, i + 0, spill, 0, 0, m.firstTrue(), m.lastTrue(), base, valid);
    }
    m = a01.compare(VectorOperators.GE, t0);
    if (m.anyTrue()) {
      a01.intoArray(spill, LANES);
      t0 = scan(scorer, i + 0, spill, LANES, 1, m.firstTrue(), m.lastTrue(), base, valid);
    }
    m = a02.compare(VectorOperators.GE, t0);
    if (m.anyTrue()) {
      a02.intoArray(spill, 2 * LANES);
      t0 = scan(scorer, i + 0, spill, 2 * LANES, 2, m.firstTrue(), m.lastTrue(), base, valid);
    }
    m = a03.compare(VectorOperators.GE, t0);
    if (m.anyTrue()) {
      a03.intoArray(spill, 3 * LANES);
      t0 = scan(scorer, i + 0, spill, 3 * LANES, 3, m.firstTrue(), m.lastTrue(), base, valid);
    }
    float t1 = scorer.threshold(i + 1);
    m = a10.compare(VectorOperators.GE, t1);
    if (m.anyTrue()) {
      a10.intoArray(spill, WIDTH);
      t1 = scan(scorer, i + 1, spill, WIDTH, 0, m.firstTrue(), m.lastTrue(), base, valid);
    }
    m = a11.compare(VectorOperators.GE, t1);
    if (m.anyTrue()) {
      a11.intoArray(spill, WIDTH + LANES);
      t1 = scan(scorer, i + 1, spill, WIDTH + LANES, 1, m.firstTrue(), m.lastTrue(), base, valid);
    }
    m = a12.compare(VectorOperators.GE, t1);
    if (m.anyTrue()) {
      a12.intoArray(spill, WIDTH + 2 * LANES);
      t1 =
          scan(
              scorer, i + 1, spill, WIDTH + 2 * LANES, 2, m.firstTrue(), m.lastTrue(), base, valid);
    }
    m = a13.compare(VectorOperators.GE, t1);
    if (m.anyTrue()) {
      a13.intoArray(spill, WIDTH + 3 * LANES);
      t1 =
          scan(
              scorer, i + 1, spill, WIDTH + 3 * LANES, 3, m.firstTrue(), m.lastTrue(), base, valid);
    }
    float t2 = scorer.threshold(i + 2);
    m = a20.compare(VectorOperators.GE, t2);
    if (m.anyTrue()) {
      a20.intoArray(spill, 2 * WIDTH);
      t2 = scan(scorer, i + 2, spill, 2 * WIDTH, 0, m.firstTrue(), m.lastTrue(), base, valid);
    }
    m = a21.compare(VectorOperators.GE, t2);
    if (m.anyTrue()) {
      a21.intoArray(spill, 2 * WIDTH + LANES);
      t2 =
          scan(
              scorer, i + 2, spill, 2 * WIDTH + LANES, 1, m.firstTrue(), m.lastTrue(), base, valid);
    }
    m = a22.compare(VectorOperators.GE, t2);
    if (m.anyTrue()) {
      a22.intoArray(spill, 2 * WIDTH + 2 * LANES);
      t2 =
          scan(
              scorer,
              i + 2,
              spill,
              2 * WIDTH + 2 * LANES,
              2,
              m.firstTrue(),
              m.lastTrue(),
              base,
              valid);
    }
    m = a23.compare(VectorOperators.GE, t2);
    if (m.anyTrue()) {
      a23.intoArray(spill, 2 * WIDTH + 3 * LANES);
      t2 =
          scan(
              scorer,
              i + 2,
              spill,
              2 * WIDTH + 3 * LANES,
              3,
              m.firstTrue(),
              m.lastTrue(),
              base,
              valid);
    }
    float t3 = scorer.threshold(i + 3);
    m = a30.compare(VectorOperators.GE, t3);
    if (m.anyTrue()) {
      a30.intoArray(spill, 3 * WIDTH);
      t3 = scan(scorer, i + 3, spill, 3 * WIDTH, 0, m.firstTrue(), m.lastTrue(), base, valid);
    }
    m = a31.compare(VectorOperators.GE, t3);
    if (m.anyTrue()) {
      a31.intoArray(spill, 3 * WIDTH + LANES);
      t3 =
          scan(
              scorer, i + 3, spill, 3 * WIDTH + LANES, 1, m.firstTrue(), m.lastTrue(), base, valid);
    }
    m = a32.compare(VectorOperators.GE, t3);
    if (m.anyTrue()) {
      a32.intoArray(spill, 3 * WIDTH + 2 * LANES);
      t3 =
          scan(
              scorer,
              i + 3,
              spill,
              3 * WIDTH + 2 * LANES,
              2,
              m.firstTrue(),
              m.lastTrue(),
              base,
              valid);
    }
    m = a33.compare(VectorOperators.GE, t3);
    if (m.anyTrue()) {
      a33.intoArray(spill, 3 * WIDTH + 3 * LANES);
      t3 =
          scan(
              scorer,
              i + 3,
              spill,
              3 * WIDTH + 3 * LANES,
              3,
              m.firstTrue(),
              m.lastTrue(),
              base,
              valid);
    }
  }

  /**
   * Scans vector {@code c} of a user's strip, stored at {@code spill[offset..]}, and returns the
   * user's new threshold. The strip's padding lanes (from {@code valid}) are never offered.
   */
  private float scan(
      DotProductTopK.Scorer scorer,
      int i,
      float[] spill,
      int offset,
      int c,
      int first,
      int last,
      int base,
      int valid) {
    int end = Math.min(last + 1, valid - c * LANES);
    scorer.scanIds(i, spill, offset + first, end - first, ids, base + c * LANES + first);
    return scorer.threshold(i);
  }

  /** {@link #tile} for one user: the block's last users when they do not fill a tile. */
  private void tile1(
      DotProductTopK.Scorer scorer,
      float[] u,
      int uo,
      int i,
      int po,
      int base,
      int valid,
      float[] spill) {
    float[] p = packed;
    FloatVector a0 = FloatVector.zero(SPECIES);
    FloatVector a1 = a0;
    FloatVector a2 = a0;
    FloatVector a3 = a0;
    for (int d = 0; d < dim; d++) {
      int o = po + d * WIDTH;
      FloatVector b = FloatVector.broadcast(SPECIES, u[uo + d]);
      a0 = FloatVector.fromArray(SPECIES, p, o).fma(b, a0);
      a1 = FloatVector.fromArray(SPECIES, p, o + LANES).fma(b, a1);
      a2 = FloatVector.fromArray(SPECIES, p, o + 2 * LANES).fma(b, a2);
      a3 = FloatVector.fromArray(SPECIES, p, o + 3 * LANES).fma(b, a3);
    }
    float t = scorer.threshold(i);
    VectorMask<Float> m;
    m = a0.compare(VectorOperators.GE, t);
    if (m.anyTrue()) {
      a0.intoArray(spill, 0);
      t = scan(scorer, i, spill, 0, 0, m.firstTrue(), m.lastTrue(), base, valid);
    }
    m = a1.compare(VectorOperators.GE, t);
    if (m.anyTrue()) {
      a1.intoArray(spill, LANES);
      t = scan(scorer, i, spill, LANES, 1, m.firstTrue(), m.lastTrue(), base, valid);
    }
    m = a2.compare(VectorOperators.GE, t);
    if (m.anyTrue()) {
      a2.intoArray(spill, 2 * LANES);
      t = scan(scorer, i, spill, 2 * LANES, 2, m.firstTrue(), m.lastTrue(), base, valid);
    }
    m = a3.compare(VectorOperators.GE, t);
    if (m.anyTrue()) {
      a3.intoArray(spill, 3 * LANES);
      scan(scorer, i, spill, 3 * LANES, 3, m.firstTrue(), m.lastTrue(), base, valid);
    }
  }
}
