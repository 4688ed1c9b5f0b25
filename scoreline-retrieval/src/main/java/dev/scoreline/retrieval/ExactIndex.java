package dev.scoreline.retrieval;

import static java.util.Objects.requireNonNull;

import dev.scoreline.core.error.ErrorCode;
import dev.scoreline.core.error.ScorelineException;
import dev.scoreline.core.retrieval.Neighbor;
import dev.scoreline.core.retrieval.Similarity;
import dev.scoreline.core.retrieval.VectorIndex;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.function.LongPredicate;

/**
 * A brute-force {@link VectorIndex}: every search scores every item. It is the recall baseline of
 * {@link JVectorIndex} and the right choice for small catalogs (up to some tens of thousands of
 * items), where a scan is fast and exact.
 *
 * <p>Vectors live in one flat {@code float[]} (row-major); a search keeps a bounded heap of the
 * best {@code k}. Scores are exactly {@link Similarity#score(float[], float[])} of the query and
 * the item vector; ties go to the item added first. Thread-safe: searches share nothing mutable.
 */
public final class ExactIndex implements VectorIndex {
  /** The {@link #kind()} of this index and of its saved manifest. */
  public static final String KIND = "exact";

  private final Similarity similarity;
  private final int dimension;
  private final long[] ids;
  private final float[] data;
  private final double[] norms;
  private final LongIntMap ordinals;
  private volatile boolean closed;

  /**
   * @param ids the item ids, in ordinal order (unique)
   * @param data {@code ids.length * dimension} floats, row {@code i} for {@code ids[i]}
   * @param ordinals maps each id to its ordinal
   */
  ExactIndex(Similarity similarity, int dimension, long[] ids, float[] data, LongIntMap ordinals) {
    this.similarity = requireNonNull(similarity, "similarity is null");
    this.dimension = dimension;
    this.ids = requireNonNull(ids, "ids is null");
    this.data = requireNonNull(data, "data is null");
    this.ordinals = requireNonNull(ordinals, "ordinals is null");
    if (data.length != ids.length * dimension) {
      throw new IllegalArgumentException("data has " + data.length + " floats, not n * dimension");
    }
    if (similarity == Similarity.COSINE) {
      norms = new double[ids.length];
      for (int i = 0; i < ids.length; i++) {
        norms[i] = Scores.norm(data, i * dimension, dimension);
      }
    } else {
      norms = null;
    }
  }

  /**
   * Opens the ids and vectors of the index saved in {@code dir}, whatever its kind: a saved {@code
   * jvector} index opens as an exact one too (the recall baseline of the same items).
   *
   * @throws ScorelineException NOT_FOUND when there is no index in {@code dir}, USER_ERROR naming
   *     the file when it is damaged or of another format version
   */
  public static ExactIndex load(Path dir) {
    IndexFiles.Manifest m = IndexFiles.readManifest(dir);
    long[] ids = IndexFiles.readIds(dir, m);
    LongIntMap ordinals = ordinals(dir, ids);
    int dim = m.dimension();
    float[] data = new float[Math.multiplyExact(m.count(), dim)];
    IndexFiles.readVectors(dir, m, (ord, row) -> System.arraycopy(row, 0, data, ord * dim, dim));
    return new ExactIndex(m.similarity(), dim, ids, data, ordinals);
  }

  /** The id-to-ordinal map of loaded ids; USER_ERROR naming {@code ids.bin} on a duplicate. */
  static LongIntMap ordinals(Path dir, long[] ids) {
    LongIntMap map = new LongIntMap(ids.length);
    for (int i = 0; i < ids.length; i++) {
      int previous = map.putIfAbsent(ids[i], i);
      if (previous >= 0) {
        throw IndexFiles.corrupt(
            dir.resolve(IndexFiles.IDS),
            "id " + ids[i] + " appears twice (ordinals " + previous + " and " + i + ")");
      }
    }
    return map;
  }

  /**
   * Saves this index to {@code dir} (created when missing; a previous index there is replaced).
   *
   * @throws ScorelineException USER_ERROR when the files cannot be written
   */
  public void save(Path dir) {
    requireNonNull(dir, "dir is null");
    ensureOpen();
    try {
      IndexFiles.prepare(dir);
      long idsCrc = IndexFiles.writeIds(dir, ids, ids.length);
      long vectorsCrc =
          IndexFiles.writeVectors(
              dir,
              ids.length,
              dimension,
              new IndexFiles.Rows() {
                @Override
                public float[] array(int ord) {
                  return data;
                }

                @Override
                public int offset(int ord) {
                  return ord * dimension;
                }
              });
      IndexFiles.writeManifest(
          dir,
          new IndexFiles.Manifest(
              KIND, similarity, dimension, ids.length, idsCrc, vectorsCrc, Map.of()));
    } catch (IOException e) {
      throw IndexFiles.saveFailed(dir, e);
    }
  }

  @Override
  public String kind() {
    return KIND;
  }

  @Override
  public int dimension() {
    return dimension;
  }

  @Override
  public long[] ids() {
    return ids.clone();
  }

  @Override
  public int size() {
    return ids.length;
  }

  @Override
  public Similarity similarity() {
    return similarity;
  }

  @Override
  public boolean contains(long id) {
    return ordinals.get(id) >= 0;
  }

  @Override
  public float[] vector(long id) {
    int ord = ordinals.get(id);
    if (ord < 0) {
      return null;
    }
    return Arrays.copyOfRange(data, ord * dimension, (ord + 1) * dimension);
  }

  @Override
  public List<Neighbor> search(float[] query, int k, LongPredicate filter) {
    ensureOpen();
    Scores.checkQuery(query, dimension);
    Scores.checkK(k);
    if (k == 0 || ids.length == 0) {
      return List.of();
    }
    Scores.TopK top = new Scores.TopK(Math.min(k, ids.length));
    int n = ids.length;
    int dim = dimension;
    switch (similarity) {
      case DOT_PRODUCT:
        for (int i = 0, off = 0; i < n; i++, off += dim) {
          if (filter == null || filter.test(ids[i])) {
            float s = Scores.dot(query, data, off, dim);
            if (top.accepts(s)) {
              top.offer(i, s);
            }
          }
        }
        break;
      case COSINE:
        {
          double queryNorm = Scores.norm(query, 0, dim);
          for (int i = 0, off = 0; i < n; i++, off += dim) {
            if (filter == null || filter.test(ids[i])) {
              float s = Scores.cosine(Scores.dot(query, data, off, dim), queryNorm, norms[i]);
              if (top.accepts(s)) {
                top.offer(i, s);
              }
            }
          }
          break;
        }
      case EUCLIDEAN:
        for (int i = 0, off = 0; i < n; i++, off += dim) {
          if (filter == null || filter.test(ids[i])) {
            float s = Scores.negativeSquaredDistance(query, data, off, dim);
            if (top.accepts(s)) {
              top.offer(i, s);
            }
          }
        }
        break;
      default:
        throw new AssertionError(similarity);
    }
    return top.drain(ids);
  }

  private void ensureOpen() {
    if (closed) {
      throw new ScorelineException(ErrorCode.UNAVAILABLE, "the vector index is closed");
    }
  }

  /** Marks the index closed; it holds no native resources. */
  @Override
  public void close() {
    closed = true;
  }

  @Override
  public String toString() {
    return "ExactIndex[" + similarity + ", dimension=" + dimension + ", size=" + ids.length + "]";
  }
}
