package dev.scoreline.retrieval;

import static java.util.Objects.requireNonNull;

import dev.scoreline.core.error.ScorelineException;
import dev.scoreline.core.progress.ProgressListener;
import dev.scoreline.core.retrieval.Similarity;
import dev.scoreline.core.retrieval.VectorIndex;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Iterator;
import java.util.Locale;

/**
 * Builds a vector index ({@code jvector} or {@code exact}) from (id, vector) items and optionally
 * saves it. Every item is validated as it is added: a wrong dimension, a NaN or infinite value, or
 * an id added twice fails with USER_ERROR naming the id.
 *
 * <pre>{@code
 * VectorIndex index =
 *     IndexBuilder.jvector(32, Similarity.DOT_PRODUCT, JVectorOptions.DEFAULTS)
 *         .progress(new ProgressBar(System.err, "vectors", true, System::nanoTime))
 *         .addAll(ids, vectors)
 *         .buildAndSave(Path.of("indexes/items"));
 * }</pre>
 *
 * <p>Vectors are copied on {@link #add}. The {@link ProgressListener} sees one task per build,
 * advancing as vectors are inserted into the graph (the slow part), so it can show a rate and an
 * ETA. A builder builds once; it is not thread-safe.
 */
public final class IndexBuilder {
  private static final int MAX_FLOATS = Integer.MAX_VALUE - 16;

  /** One item to index: its id and its vector. */
  public record Item(long id, float[] vector) {}

  private final String kind;
  private final int dimension;
  private final Similarity similarity;
  private final JVectorOptions options;
  private ProgressListener progress = ProgressListener.NONE;

  private long[] ids = new long[1024];
  private float[] data;
  private LongIntMap ordinals = new LongIntMap(1024);
  private int size;
  private boolean built;

  private IndexBuilder(String kind, int dimension, Similarity similarity, JVectorOptions options) {
    if (dimension <= 0 || dimension > 65_536) {
      throw ScorelineException.userError(
          "dimension", "dimension: " + dimension + " is out of range; use 1 to 65536");
    }
    this.kind = kind;
    this.dimension = dimension;
    this.similarity = requireNonNull(similarity, "similarity is null");
    this.options = requireNonNull(options, "options is null");
    this.data = new float[Math.min(MAX_FLOATS, 1024 * dimension)];
  }

  /** A builder of an exact (brute-force) index. */
  public static IndexBuilder exact(int dimension, Similarity similarity) {
    return new IndexBuilder(ExactIndex.KIND, dimension, similarity, JVectorOptions.DEFAULTS);
  }

  /** A builder of a jvector graph index. */
  public static IndexBuilder jvector(int dimension, Similarity similarity, JVectorOptions options) {
    return new IndexBuilder(JVectorIndex.KIND, dimension, similarity, options);
  }

  /**
   * A builder of the index kind named {@code kind} ({@code jvector} or {@code exact}), for
   * configuration and the CLI.
   *
   * @param options used by {@code jvector}, ignored by {@code exact}
   */
  public static IndexBuilder of(
      String kind, int dimension, Similarity similarity, JVectorOptions options) {
    String k = requireNonNull(kind, "kind is null").trim().toLowerCase(Locale.ROOT);
    switch (k) {
      case JVectorIndex.KIND:
        return jvector(dimension, similarity, options);
      case ExactIndex.KIND:
        return exact(dimension, similarity);
      default:
        throw ScorelineException.userError(
            "kind", "kind: unknown index kind '" + kind + "'; use jvector or exact");
    }
  }

  /** Reports the build's progress to {@code listener}. */
  public IndexBuilder progress(ProgressListener listener) {
    this.progress = requireNonNull(listener, "listener is null");
    return this;
  }

  /**
   * Adds one item (the vector is copied).
   *
   * @throws ScorelineException USER_ERROR naming the id when the vector is null, of another
   *     dimension or not finite, or when the id was added before
   */
  public IndexBuilder add(long id, float[] vector) {
    checkNotBuilt();
    if (vector == null) {
      throw ScorelineException.userError(
          "vectors", "vectors: the vector of id " + id + " is null; every item needs a vector");
    }
    if (vector.length != dimension) {
      throw ScorelineException.userError(
          "vectors",
          "vectors: the vector of id "
              + id
              + " has "
              + vector.length
              + " values but the index dimension is "
              + dimension
              + "; every vector must have the same dimension");
    }
    for (int i = 0; i < dimension; i++) {
      if (!Float.isFinite(vector[i])) {
        throw ScorelineException.userError(
            "vectors",
            "vectors: the vector of id "
                + id
                + " has "
                + vector[i]
                + " at position "
                + i
                + "; vectors must be finite (check the embedding export)");
      }
    }
    int previous = ordinals.putIfAbsent(id, size);
    if (previous >= 0) {
      throw ScorelineException.userError(
          "ids",
          "ids: id "
              + id
              + " is added twice (items "
              + previous
              + " and "
              + size
              + "); ids must be unique");
    }
    ensureCapacity(size + 1);
    ids[size] = id;
    System.arraycopy(vector, 0, data, size * dimension, dimension);
    size++;
    return this;
  }

  /** Adds {@code ids[i]} with {@code vectors[i]} for every i. */
  public IndexBuilder addAll(long[] ids, float[][] vectors) {
    requireNonNull(ids, "ids is null");
    requireNonNull(vectors, "vectors is null");
    if (ids.length != vectors.length) {
      throw ScorelineException.userError(
          "vectors",
          "vectors: "
              + vectors.length
              + " vectors for "
              + ids.length
              + " ids; give one vector per id");
    }
    for (int i = 0; i < ids.length; i++) {
      add(ids[i], vectors[i]);
    }
    return this;
  }

  /** Adds every item of {@code items}. */
  public IndexBuilder addAll(Iterator<Item> items) {
    requireNonNull(items, "items is null");
    while (items.hasNext()) {
      Item item = items.next();
      add(item.id(), item.vector());
    }
    return this;
  }

  /** The number of items added so far. */
  public int size() {
    return size;
  }

  /**
   * Builds the index (in memory).
   *
   * @throws ScorelineException USER_ERROR when no item was added
   */
  public VectorIndex build() {
    checkNotBuilt();
    if (size == 0) {
      throw ScorelineException.userError(
          "vectors", "vectors: no items to index; add at least one (id, vector)");
    }
    built = true;
    long[] finalIds = Arrays.copyOf(ids, size);
    float[] finalData =
        data.length == size * dimension ? data : Arrays.copyOf(data, size * dimension);
    ids = null;
    data = null;
    if (kind.equals(ExactIndex.KIND)) {
      progress.start("build exact index", size);
      try {
        ExactIndex index = new ExactIndex(similarity, dimension, finalIds, finalData, ordinals);
        progress.advance(size);
        return index;
      } finally {
        progress.finish();
      }
    }
    return JVectorIndex.build(
        similarity, dimension, finalIds, finalData, ordinals, options, progress);
  }

  /**
   * Builds the index and saves it to {@code dir} (see {@link JVectorIndex#save} and {@link
   * ExactIndex#save}); returns the built index, ready to search.
   */
  public VectorIndex buildAndSave(Path dir) {
    requireNonNull(dir, "dir is null");
    VectorIndex index = build();
    try {
      save(index, dir);
    } catch (RuntimeException e) {
      index.close();
      throw e;
    }
    return index;
  }

  /** Saves an index built by this class. */
  static void save(VectorIndex index, Path dir) {
    if (index instanceof JVectorIndex) {
      ((JVectorIndex) index).save(dir);
    } else if (index instanceof ExactIndex) {
      ((ExactIndex) index).save(dir);
    } else {
      throw new IllegalArgumentException("not a scoreline-retrieval index: " + index);
    }
  }

  private void ensureCapacity(int items) {
    if (items <= ids.length) {
      return;
    }
    long wanted = Math.max(items, (long) ids.length + (ids.length >> 1));
    long maxItems = MAX_FLOATS / dimension;
    if (items > maxItems) {
      throw ScorelineException.userError(
          "vectors",
          "vectors: one index holds at most "
              + maxItems
              + " vectors of dimension "
              + dimension
              + "; split the catalog into several indexes");
    }
    int capacity = (int) Math.min(wanted, maxItems);
    ids = Arrays.copyOf(ids, capacity);
    data = Arrays.copyOf(data, capacity * dimension);
  }

  private void checkNotBuilt() {
    if (built) {
      throw new IllegalStateException("this IndexBuilder has built its index; use a new builder");
    }
  }
}
