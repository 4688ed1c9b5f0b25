package dev.scoreline.core.retrieval;

import java.util.List;
import java.util.function.LongPredicate;

/**
 * A searchable set of item vectors, each with a {@code long} id (an int64 entity key).
 * Implementations live in scoreline-retrieval: a jvector graph index (approximate, fast) and an
 * exact index (brute force, the recall baseline). Implementations are thread-safe for concurrent
 * searches.
 */
public interface VectorIndex extends AutoCloseable {
  /** {@code jvector}, {@code exact}, ... */
  String kind();

  /** Vector dimension. */
  int dimension();

  /** Number of items. */
  int size();

  Similarity similarity();

  /** Every item id, in the index's own order (a copy). */
  long[] ids();

  /** Whether an item with this id is in the index. */
  boolean contains(long id);

  /** The stored vector of an item (a copy), or null when the id is unknown. */
  float[] vector(long id);

  /**
   * The {@code k} items most similar to {@code query}, best first.
   *
   * @param query a vector of {@link #dimension()} floats
   * @param k how many to return (fewer when fewer items pass {@code filter})
   * @param filter accepts item ids; {@code null} accepts all. Filtered items are skipped during the
   *     search, so {@code k} results come back whenever {@code k} items pass.
   * @throws dev.scoreline.core.error.ScorelineException USER_ERROR when the query's length is wrong
   */
  List<Neighbor> search(float[] query, int k, LongPredicate filter);

  @Override
  void close();
}
