package dev.scoreline.batch;

import static java.util.Objects.requireNonNull;

import dev.scoreline.core.error.ErrorCode;
import dev.scoreline.core.error.ScorelineException;
import java.lang.reflect.InvocationTargetException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Exact top-K by dot product for every user: the fast path of a batch job that scores users × items
 * with embeddings (matrix-factorization factors, two-tower outputs), like Spark ALS's {@code
 * recommendForAllUsers}, without the score matrix.
 *
 * <h2>Two kernels</h2>
 *
 * Where the JVM runs with {@code --add-modules jdk.incubator.vector} (the {@code scoreline}
 * launcher passes it), scores come from a register-blocked Vector API micro-kernel ({@link
 * VectorTopKKernel}: tiles of 4 users × 4 vectors of items, 64 items with AVX-512, held in
 * registers across all dimensions; items in order of descending norm, each block's first 2,048 of
 * them scored up front and only those at or above a per-user floor offered to the heaps). Without
 * the module the plain loops below score, on any JDK 17 without flags; they are also the reference
 * the vector kernel is tested against. The choice is made and logged once per JVM (INFO, logger
 * {@code dev.scoreline.batch.DotProductTopK}); {@link #kernel()} names it. Both give the same
 * lists, bit for bit.
 *
 * <h2>How the plain kernel is fast</h2>
 *
 * <ul>
 *   <li>The item factors are copied once into <i>panels</i>: blocks of {@link #itemBlock()} items,
 *       each stored dimension-major, one array per dimension ({@code panel[d][j]} is dimension
 *       {@code d} of the block's item {@code j}). A block of the default size (1,024 items × 64
 *       dimensions = 256 KiB) stays in the L2 cache while a block of users streams over it.
 *   <li>The inner loop scores two users against one panel, two dimensions per pass: {@code a[j] =
 *       fma(a1, p1[j], fma(a0, p0[j], a[j]))} and the same for {@code b}, over {@code j}. The
 *       iterations are independent, so HotSpot C2 compiles the loop to SIMD FMA instructions
 *       (AVX-512 or AVX2, whatever the CPU has) on a stock JDK 17 without flags; no incubator
 *       module is used. Each panel load serves both users. What C2 on 17 does and does not
 *       vectorize decided the shape: every stream must be its own array indexed by the loop
 *       variable (one flat array with offsets is not vectorized), and the loop body must stay small
 *       (one user × 8 dimensions, or two users × 4, is no longer vectorized).
 *   <li>Panel rows are padded to whole 64-byte cache lines, so rows allocated one after the other
 *       share their alignment; the two score rows are spaced half a page apart so their stores do
 *       not alias the next loads in the store buffer (4K aliasing). Both measurably help.
 *   <li>Each user keeps a fixed-size min-heap of its best K so far (both kernels), one {@code long}
 *       per entry whose signed order is the ranking order, so a heap step is one compare and mostly
 *       a conditional move; a candidate is rejected by one compare against the heap's root, which
 *       after the first blocks rejects nearly all of them. Nothing is allocated per item.
 *   <li>Users are scored in blocks ({@link #userBlock()} users); each block's lists are handed to a
 *       consumer as soon as it is done, so 100k users never need a 100k × 20k score matrix. {@link
 *       #run} scores blocks in parallel on a fixed pool of the given size (never the common pool).
 * </ul>
 *
 * <h2>Results</h2>
 *
 * A score is {@code fma(u[d-1], v[d-1], ... fma(u[1], v[1], fma(u[0], v[0], 0f)))}: dimensions in
 * order, each step one fused multiply-add, which Java specifies exactly, so the scalar and the
 * vector code give bit-identical scores and {@link #referenceTopK} reproduces them. Lists are
 * ordered by score descending, ties by item row ascending. A list has {@code min(k, ranked items)}
 * entries; an item is ranked unless it is excluded for the user or its score is NaN or -∞.
 *
 * <p>Immutable and thread-safe after construction; a {@link Scorer} (scratch buffers) is for one
 * thread.
 */
public final class DotProductTopK {
  private static final Logger log = LoggerFactory.getLogger(DotProductTopK.class);

  private static final int NEGATIVE_ZERO = Float.floatToRawIntBits(-0f);

  /** Items per panel: 1,024 × 64 dimensions × 4 bytes = 256 KiB, which fits L2. */
  public static final int DEFAULT_ITEM_BLOCK = 1024;

  /** Users per output block. */
  public static final int DEFAULT_USER_BLOCK = 128;

  private final int items;
  private final int dim;
  private final int k;
  private final int itemBlock;
  private final int userBlock;

  /**
   * The plain kernel's panels: [block][dimension][item in block], the last block padded with zeros;
   * null when {@link #accelerated} scores.
   */
  private final float[][][] panels;

  /** The Vector API kernel, or null: then the plain loops score. */
  private final TopKKernel accelerated;

  /** A hash of the item factors, for run fingerprints. */
  private final long itemHash;

  /**
   * Prepares the item factors with the default block sizes.
   *
   * @param itemFactors {@code items × dim} floats, row-major (row = dense item id)
   * @param k the list length per user (at least 1)
   */
  public DotProductTopK(float[] itemFactors, int items, int dim, int k) {
    this(itemFactors, items, dim, k, DEFAULT_ITEM_BLOCK, DEFAULT_USER_BLOCK);
  }

  /**
   * Prepares the item factors.
   *
   * @param itemBlock items per panel (a multiple of 16)
   * @param userBlock users per output block
   */
  public DotProductTopK(
      float[] itemFactors, int items, int dim, int k, int itemBlock, int userBlock) {
    this(itemFactors, items, dim, k, itemBlock, userBlock, Kernels.vectorAvailable());
  }

  /**
   * Prepares the item factors for the given kernel.
   *
   * @param vector whether to score with the Vector API kernel ({@link Kernels#vectorAvailable()}
   *     must be true) or the plain loops
   */
  DotProductTopK(
      float[] itemFactors,
      int items,
      int dim,
      int k,
      int itemBlock,
      int userBlock,
      boolean vector) {
    requireNonNull(itemFactors, "itemFactors is null");
    if (items < 0 || dim < 1 || (long) items * dim != itemFactors.length) {
      throw ScorelineException.userError(
          "itemFactors",
          "item factors hold "
              + itemFactors.length
              + " floats, expected items × dim = "
              + items
              + " × "
              + dim);
    }
    if (k < 1) {
      throw ScorelineException.userError("k", "k must be at least 1, got " + k);
    }
    if (itemBlock < 16 || itemBlock % 16 != 0) {
      throw ScorelineException.userError(
          "itemBlock", "itemBlock must be a positive multiple of 16, got " + itemBlock);
    }
    if (userBlock < 1) {
      throw ScorelineException.userError(
          "userBlock", "userBlock must be at least 1, got " + userBlock);
    }
    this.items = items;
    this.dim = dim;
    this.k = k;
    this.itemBlock = itemBlock;
    this.userBlock = userBlock;
    long h = 0;
    for (float f : itemFactors) {
      h = (h ^ Float.floatToIntBits(f)) * 0x100000001B3L + 0x9E3779B97F4A7C15L;
    }
    this.itemHash = h;
    this.accelerated = vector ? Kernels.vector(itemFactors, items, dim) : null;
    if (accelerated != null) {
      this.panels = null;
      return;
    }
    int blocks = (items + itemBlock - 1) / itemBlock;
    this.panels = new float[blocks][dim][];
    for (float[][] panel : panels) {
      for (int d = 0; d < dim; d++) {
        panel[d] = new float[paddedLength(itemBlock)];
      }
    }
    for (int i = 0; i < items; i++) {
      float[][] panel = panels[i / itemBlock];
      int j = i % itemBlock;
      int o = i * dim;
      for (int d = 0; d < dim; d++) {
        panel[d][j] = itemFactors[o + d];
      }
    }
  }

  public int items() {
    return items;
  }

  public int dim() {
    return dim;
  }

  public int k() {
    return k;
  }

  /** Items per panel of the plain kernel (the Vector API kernel has its own strips). */
  public int itemBlock() {
    return itemBlock;
  }

  public int userBlock() {
    return userBlock;
  }

  /**
   * A row length of at least {@code n} floats whose array (16-byte header) is a whole number of
   * 64-byte cache lines: rows allocated one after the other then share their alignment, so the SIMD
   * loads of one kernel pass are all aligned or all misaligned the same way (measurably faster than
   * a mix).
   */
  static int paddedLength(int n) {
    int bytes = 16 + 4 * n;
    return n + ((64 - bytes % 64) % 64) / 4;
  }

  long itemFactorsHash() {
    return itemHash;
  }

  /**
   * The kernel that scores, for logs and benchmark reports: {@code "vector"} (the Vector API
   * micro-kernel) or {@code "plain"}.
   */
  public String kernel() {
    return accelerated != null ? accelerated.name() : "plain";
  }

  /** Scratch buffers for one thread. */
  public Scorer newScorer() {
    return new Scorer();
  }

  /**
   * Scores users {@code [0, users)} on {@code threads} threads of a pool created for this call and
   * hands each block of {@link #userBlock()} users to {@code consumer}, on the thread that scored
   * it (so the consumer must be thread-safe); blocks arrive in no particular order.
   *
   * @param userFactors {@code users × dim} floats, row-major
   * @throws ScorelineException the first failure (a consumer's, or INTERNAL); the other blocks are
   *     cancelled
   */
  public void run(
      float[] userFactors,
      int users,
      Exclusions exclusions,
      int threads,
      Consumer<TopKBlock> consumer) {
    requireNonNull(consumer, "consumer is null");
    checkUsers(userFactors, users);
    requireNonNull(exclusions, "exclusions is null");
    if (threads < 1) {
      throw ScorelineException.userError("threads", "threads must be at least 1, got " + threads);
    }
    ExecutorService pool = Executors.newFixedThreadPool(threads, threadFactory("scoreline-topk"));
    try {
      int blocks = (users + userBlock - 1) / userBlock;
      AtomicInteger next = new AtomicInteger();
      List<Future<?>> futures = new ArrayList<>(threads);
      for (int t = 0; t < threads; t++) {
        futures.add(
            pool.submit(
                () -> {
                  Scorer scorer = newScorer();
                  for (int b = next.getAndIncrement(); b < blocks; b = next.getAndIncrement()) {
                    if (Thread.currentThread().isInterrupted()) {
                      return;
                    }
                    int from = b * userBlock;
                    consumer.accept(
                        scorer.score(
                            userFactors, from, Math.min(users, from + userBlock), exclusions));
                  }
                }));
      }
      awaitAll(futures);
    } finally {
      pool.shutdownNow();
    }
  }

  static void awaitAll(List<? extends Future<?>> futures) {
    try {
      for (Future<?> f : futures) {
        try {
          f.get();
        } catch (ExecutionException e) {
          for (Future<?> other : futures) {
            other.cancel(true);
          }
          Throwable cause = e.getCause();
          if (cause instanceof ScorelineException se) {
            throw se;
          }
          if (cause instanceof Error err) {
            throw err;
          }
          throw new ScorelineException(ErrorCode.INTERNAL, "top-K scoring failed: " + cause, cause);
        }
      }
    } catch (InterruptedException e) {
      for (Future<?> f : futures) {
        f.cancel(true);
      }
      Thread.currentThread().interrupt();
      throw new ScorelineException(ErrorCode.UNAVAILABLE, "top-K scoring was interrupted", e);
    }
  }

  static ThreadFactory threadFactory(String prefix) {
    AtomicInteger n = new AtomicInteger();
    return r -> {
      Thread t = new Thread(r, prefix + "-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    };
  }

  private void checkUsers(float[] userFactors, int users) {
    requireNonNull(userFactors, "userFactors is null");
    if (users < 0 || (long) users * dim > userFactors.length) {
      throw ScorelineException.userError(
          "userFactors",
          "user factors hold "
              + userFactors.length
              + " floats, fewer than users × dim = "
              + users
              + " × "
              + dim);
    }
  }

  /**
   * Scratch buffers of one thread: the score rows of the plain kernel and one min-heap per user of
   * a block. Not thread-safe; reuse it for every block the thread scores.
   */
  public final class Scorer {
    /**
     * One score row per user of a group, spaced half a page apart against 4K aliasing (plain kernel
     * only).
     */
    private final float[][] rows = accelerated == null ? scoreRows(itemBlock) : null;

    private final long[] heap = new long[userBlock * k];
    private final int[] sizes = new int[userBlock];
    private final float[] thresholds = new float[userBlock];
    private final int[][] excluded = new int[userBlock][];
    private float[] kernelScratch = new float[0];
    private float[] tileScratch = new float[0];

    private Scorer() {}

    /**
     * The top-K lists of users {@code [from, to)}, at most {@link #userBlock()} of them.
     *
     * @param userFactors row-major, {@code dim} floats per user row
     */
    public TopKBlock score(float[] userFactors, int from, int to, Exclusions exclusions) {
      int n = to - from;
      if (from < 0 || n < 0 || n > userBlock || (long) to * dim > userFactors.length) {
        throw new IllegalArgumentException(
            "users [" + from + ", " + to + ") are not a block of at most " + userBlock + " rows");
      }
      for (int i = 0; i < n; i++) {
        sizes[i] = 0;
        thresholds[i] = Float.NEGATIVE_INFINITY;
        int[] e = exclusions.excluded(from + i);
        excluded[i] = e == null || e.length == 0 ? null : e;
      }
      if (accelerated != null) {
        accelerated.score(this, userFactors, from, n);
      } else {
        scorePlain(userFactors, from, n);
      }
      int[] counts = new int[n];
      int[] outItems = new int[n * k];
      float[] outScores = new float[n * k];
      for (int i = 0; i < n; i++) {
        counts[i] = drain(i, outItems, outScores);
        excluded[i] = null;
      }
      return new TopKBlock(from, k, counts, outItems, outScores);
    }

    private void scorePlain(float[] userFactors, int from, int n) {
      for (int b = 0; b < panels.length; b++) {
        float[][] panel = panels[b];
        int base = b * itemBlock;
        int valid = Math.min(itemBlock, items - base);
        int width = (valid + 15) & ~15; // the last block's padding is not scored
        int i = 0;
        for (; i + 2 <= n; i += 2) {
          dot2(panel, userFactors, (from + i) * dim, dim, rows[0], rows[1], width);
          scan(i, rows[0], 0, valid, base);
          scan(i + 1, rows[1], 0, valid, base);
        }
        if (i < n) {
          dot(panel, userFactors, (from + i) * dim, dim, rows[0], width);
          scan(i, rows[0], 0, valid, base);
        }
      }
    }

    /**
     * User {@code i}'s threshold (slot {@code i} of the block): its list's worst score once the
     * list is full, else -∞. An item scoring below it cannot enter the list; one scoring above it
     * enters it; one scoring equal to it enters it only on a lower item than the worst entry's.
     */
    float threshold(int i) {
      return thresholds[i];
    }

    /**
     * Offers every item of a score row that beats user {@code i}'s threshold: {@code s[offset + j]}
     * is the score of item {@code base + j}, for {@code j < valid}, offered in that order.
     */
    void scan(int i, float[] s, int offset, int valid, int base) {
      float t = thresholds[i];
      for (int j = 0; j < valid; j++) {
        float v = s[offset + j];
        if (v > t) {
          t = offer(i, base + j, v);
        }
      }
      thresholds[i] = t;
    }

    /**
     * Offers every item of a score row that reaches user {@code i}'s threshold, for a kernel that
     * sees items in any order: {@code s[offset + j]} is the score of item {@code ids[at + j]}, for
     * {@code j < n}. A score equal to the threshold is offered too (it may tie with the list's
     * worst entry and win on the lower item), and the list then decides by score and item, so the
     * result does not depend on the order of the items.
     */
    void scanIds(int i, float[] s, int offset, int n, int[] ids, int at) {
      float t = thresholds[i];
      for (int j = 0; j < n; j++) {
        float v = s[offset + j];
        if (v >= t) {
          t = offer(i, ids[at + j], v);
        }
      }
      thresholds[i] = t;
    }

    /**
     * {@link #scanIds} that offers only scores at or above {@code floor}: {@code floor} must be at
     * most the K-th best score among the user's items so far (so that every item below it is out of
     * the list anyway), and the user must have no excluded items unless {@code floor} is -∞.
     */
    void scanIdsFrom(int i, float[] s, int offset, int n, int[] ids, int at, float floor) {
      float heapT = thresholds[i];
      float t = Math.max(heapT, floor);
      for (int j = 0; j < n; j++) {
        float v = s[offset + j];
        if (v >= t) {
          heapT = offer(i, ids[at + j], v);
          t = Math.max(heapT, floor);
        }
      }
      thresholds[i] = heapT;
    }

    /** The list length K. */
    int k() {
      return k;
    }

    /** Whether user {@code i} of the block has excluded items. */
    boolean hasExclusions(int i) {
      return excluded[i] != null;
    }

    /** A scratch array of at least {@code n} floats for the kernel, reused across blocks. */
    float[] kernelScratch(int n) {
      if (kernelScratch.length < n) {
        kernelScratch = new float[n];
      }
      return kernelScratch;
    }

    /** A second scratch array of at least {@code n} floats for the kernel, reused across blocks. */
    float[] tileScratch(int n) {
      if (tileScratch.length < n) {
        tileScratch = new float[n];
      }
      return tileScratch;
    }

    /** Adds a candidate that beat the threshold; returns the new threshold. */
    private float offer(int i, int item, float v) {
      int o = i * k;
      int size = sizes[i];
      int[] ex = excluded[i];
      if (ex != null && java.util.Arrays.binarySearch(ex, item) >= 0) {
        // unchanged; not thresholds[i], which a scan in progress writes only when it ends: a
        // stale, lower threshold would let the next item replace a better list entry
        return size == k ? score(heap[o]) : Float.NEGATIVE_INFINITY;
      }
      if (v == Float.NEGATIVE_INFINITY) { // reached an empty list's threshold; never ranked
        return size == k ? score(heap[o]) : Float.NEGATIVE_INFINITY;
      }
      long key = key(v, item);
      if (size < k) {
        siftUp(o, size, key);
        sizes[i] = ++size;
        return size == k ? score(heap[o]) : Float.NEGATIVE_INFINITY;
      }
      if (key > heap[o]) { // not so for a score equal to the worst entry's, on a higher item
        siftDown(o, 0, k, key);
      }
      return score(heap[o]);
    }

    /**
     * An entry as one long whose signed order is the ranking order (higher score first; on equal
     * scores, lower item first), so the heap needs one compare per step, mostly as a conditional
     * move: the high half is the score's bits made order-preserving as a signed int (-0.0 counted
     * as +0.0, as {@code ==} does), the low half {@code (Integer.MAX_VALUE - item) << 1} plus a
     * flag bit that keeps the sign of a -0.0 score (items are distinct, so the flag never decides).
     * Scores are never NaN here.
     */
    private static long key(float v, int item) {
      int bits = Float.floatToRawIntBits(v + 0f); // -0.0 + 0.0 = +0.0
      int ordered = bits ^ ((bits >> 31) & 0x7FFFFFFF);
      int low =
          ((Integer.MAX_VALUE - item) << 1) | (Float.floatToRawIntBits(v) == NEGATIVE_ZERO ? 1 : 0);
      return ((long) ordered << 32) | (low & 0xFFFFFFFFL);
    }

    private static float score(long key) {
      if ((key & 1) != 0) {
        return -0f;
      }
      int ordered = (int) (key >> 32);
      return Float.intBitsToFloat(ordered ^ ((ordered >> 31) & 0x7FFFFFFF));
    }

    private static int item(long key) {
      return Integer.MAX_VALUE - ((int) key >>> 1);
    }

    /**
     * Min-heap (the root is the worst entry) of user slot {@code o / k}: inserts at {@code pos}.
     */
    private void siftUp(int o, int pos, long key) {
      long[] h = heap;
      while (pos > 0) {
        int parent = (pos - 1) >>> 1;
        long p = h[o + parent];
        if (p <= key) {
          break;
        }
        h[o + pos] = p;
        pos = parent;
      }
      h[o + pos] = key;
    }

    /** Sifts {@code key} down from {@code pos} in a heap of {@code size} entries. */
    private void siftDown(int o, int pos, int size, long key) {
      long[] h = heap;
      int half = size >>> 1;
      while (pos < half) {
        int c = 2 * pos + 1;
        long ck = h[o + c];
        int r = c + 1;
        if (r < size) {
          long rk = h[o + r];
          // the worse child; unpredictable, so written for a conditional move
          c = rk < ck ? r : c;
          ck = Math.min(ck, rk);
        }
        if (ck >= key) {
          break;
        }
        h[o + pos] = ck;
        pos = c;
      }
      h[o + pos] = key;
    }

    /**
     * Pops the heap of user {@code i} worst-first into its output slots, so they end best-first.
     */
    private int drain(int i, int[] outItems, float[] outScores) {
      int o = i * k;
      int size = sizes[i];
      for (int last = size - 1; last >= 0; last--) {
        long root = heap[o];
        outScores[o + last] = score(root);
        outItems[o + last] = item(root);
        siftDown(o, 0, last, heap[o + last]);
      }
      return size;
    }
  }

  /**
   * The kernel choice of this JVM, made and logged once on first use. A holder class, so that
   * loading {@link DotProductTopK} (for {@link #threadFactory}, say) decides nothing, and
   * reflection, so that no class here links against {@code jdk.incubator.vector} unless the module
   * is in the boot layer.
   */
  static final class Kernels {
    private static final String VECTOR_CLASS = "dev.scoreline.batch.VectorTopKKernel";
    private static final boolean VECTOR = detect();

    private Kernels() {}

    /** Whether this JVM scores with the Vector API kernel. */
    static boolean vectorAvailable() {
      return VECTOR;
    }

    private static boolean detect() {
      if (ModuleLayer.boot().findModule("jdk.incubator.vector").isEmpty()) {
        log.info(
            "dot-product top-K kernel: plain Java loops; start the JVM with --add-modules"
                + " jdk.incubator.vector for the faster Vector API kernel");
        return false;
      }
      try {
        Class<?> c = Class.forName(VECTOR_CLASS);
        String what = (String) c.getDeclaredMethod("describe").invoke(null);
        if (!(Boolean) c.getDeclaredMethod("supported").invoke(null)) {
          log.info(
              "dot-product top-K kernel: plain Java loops ({} is too narrow to pay off)", what);
          return false;
        }
        log.info("dot-product top-K kernel: {}", what);
        return true;
      } catch (ReflectiveOperationException | LinkageError e) {
        log.warn(
            "dot-product top-K kernel: plain Java loops; the Vector API kernel could not be"
                + " loaded",
            e);
        return false;
      }
    }

    /**
     * The Vector API kernel for these item factors, or null when they are too large for its layout
     * (then the plain loops score).
     */
    static TopKKernel vector(float[] itemFactors, int items, int dim) {
      if (!VECTOR) {
        throw new IllegalStateException("the Vector API kernel is not available in this JVM");
      }
      try {
        return (TopKKernel)
            Class.forName(VECTOR_CLASS)
                .getDeclaredConstructor(float[].class, int.class, int.class)
                .newInstance(itemFactors, items, dim);
      } catch (InvocationTargetException e) {
        if (e.getCause() instanceof IllegalArgumentException tooLarge) {
          log.info(
              "dot-product top-K: plain Java loops for this catalog: {}", tooLarge.getMessage());
          return null;
        }
        throw new ScorelineException(
            ErrorCode.INTERNAL, "preparing the Vector API kernel failed: " + e.getCause(), e);
      } catch (ReflectiveOperationException e) {
        throw new ScorelineException(
            ErrorCode.INTERNAL, "preparing the Vector API kernel failed: " + e, e);
      }
    }
  }

  private static float[][] scoreRows(int width) {
    float[][] rows = new float[2][];
    for (int x = 0; x < rows.length; x++) {
      rows[x] = new float[paddedLength(width + 512)];
    }
    return rows;
  }

  /** {@link #dot} for two consecutive users at once: each panel load serves both. */
  static void dot2(float[][] panel, float[] u, int uo, int dim, float[] a, float[] b, int width) {
    int vo = uo + dim;
    int d;
    if (dim >= 2) {
      first2x2(panel[0], panel[1], u[uo], u[uo + 1], u[vo], u[vo + 1], a, b, width);
      d = 2;
    } else {
      java.util.Arrays.fill(a, 0, width, 0f);
      java.util.Arrays.fill(b, 0, width, 0f);
      d = 0;
    }
    for (; d + 2 <= dim; d += 2) {
      step2x2(
          panel[d], panel[d + 1], u[uo + d], u[uo + d + 1], u[vo + d], u[vo + d + 1], a, b, width);
    }
    if (d < dim) {
      step1(panel[d], u[uo + d], a, width);
      step1(panel[d], u[vo + d], b, width);
    }
  }

  /** The first two dimensions, from zero (no load of the score rows). */
  private static void first2x2(
      float[] p0,
      float[] p1,
      float a0,
      float a1,
      float b0,
      float b1,
      float[] a,
      float[] b,
      int width) {
    for (int j = 0; j < width; j++) {
      float q0 = p0[j];
      float q1 = p1[j];
      a[j] = Math.fma(a1, q1, Math.fma(a0, q0, 0f));
      b[j] = Math.fma(b1, q1, Math.fma(b0, q0, 0f));
    }
  }

  private static void step2x2(
      float[] p0,
      float[] p1,
      float a0,
      float a1,
      float b0,
      float b1,
      float[] a,
      float[] b,
      int width) {
    for (int j = 0; j < width; j++) {
      float q0 = p0[j];
      float q1 = p1[j];
      a[j] = Math.fma(a1, q1, Math.fma(a0, q0, a[j]));
      b[j] = Math.fma(b1, q1, Math.fma(b0, q0, b[j]));
    }
  }

  /**
   * {@code s[j] = u · v_j} for the {@code width} items of one panel (dimension-major). The fused
   * multiply-adds run over dimensions in order, so the result is exactly the reference's.
   */
  static void dot(float[][] panel, float[] u, int uo, int dim, float[] s, int width) {
    int d = 0;
    if (dim >= 4) {
      dot4(panel[0], panel[1], panel[2], panel[3], u, uo, s, width);
      d = 4;
      for (; d + 4 <= dim; d += 4) {
        step4(panel[d], panel[d + 1], panel[d + 2], panel[d + 3], u, uo + d, s, width);
      }
    } else {
      java.util.Arrays.fill(s, 0, width, 0f);
    }
    for (; d < dim; d++) {
      step1(panel[d], u[uo + d], s, width);
    }
  }

  /** The first four dimensions, from zero. */
  private static void dot4(
      float[] p0, float[] p1, float[] p2, float[] p3, float[] u, int uo, float[] s, int width) {
    float u0 = u[uo];
    float u1 = u[uo + 1];
    float u2 = u[uo + 2];
    float u3 = u[uo + 3];
    for (int j = 0; j < width; j++) {
      s[j] = Math.fma(u3, p3[j], Math.fma(u2, p2[j], Math.fma(u1, p1[j], Math.fma(u0, p0[j], 0f))));
    }
  }

  private static void step4(
      float[] p0, float[] p1, float[] p2, float[] p3, float[] u, int uo, float[] s, int width) {
    float u0 = u[uo];
    float u1 = u[uo + 1];
    float u2 = u[uo + 2];
    float u3 = u[uo + 3];
    for (int j = 0; j < width; j++) {
      s[j] =
          Math.fma(u3, p3[j], Math.fma(u2, p2[j], Math.fma(u1, p1[j], Math.fma(u0, p0[j], s[j]))));
    }
  }

  private static void step1(float[] p0, float u0, float[] s, int width) {
    for (int j = 0; j < width; j++) {
      s[j] = Math.fma(u0, p0[j], s[j]);
    }
  }

  /**
   * The plain reference: every score computed one by one in the same order of operations, a full
   * sort per user. For tests and for checking the fast path on new hardware; slow.
   */
  public static TopKBlock referenceTopK(
      float[] itemFactors,
      int items,
      int dim,
      float[] userFactors,
      int from,
      int to,
      int k,
      Exclusions exclusions) {
    int n = to - from;
    int[] counts = new int[n];
    int[] outItems = new int[n * k];
    float[] outScores = new float[n * k];
    Integer[] order = new Integer[items];
    float[] scores = new float[items];
    for (int i = 0; i < n; i++) {
      int user = from + i;
      int[] ex = exclusions.excluded(user);
      int ranked = 0;
      for (int j = 0; j < items; j++) {
        float s = 0f;
        for (int d = 0; d < dim; d++) {
          s = Math.fma(userFactors[user * dim + d], itemFactors[j * dim + d], s);
        }
        boolean excluded = ex != null && java.util.Arrays.binarySearch(ex, j) >= 0;
        if (!excluded && !Float.isNaN(s) && s != Float.NEGATIVE_INFINITY) {
          scores[j] = s;
          order[ranked++] = j;
        }
      }
      java.util.Arrays.sort(
          order,
          0,
          ranked,
          (a, b) -> scores[a] != scores[b] ? (scores[a] > scores[b] ? -1 : 1) : a - b);
      int c = Math.min(k, ranked);
      counts[i] = c;
      for (int r = 0; r < c; r++) {
        outItems[i * k + r] = order[r];
        outScores[i * k + r] = scores[order[r]];
      }
    }
    return new TopKBlock(from, k, counts, outItems, outScores);
  }
}
