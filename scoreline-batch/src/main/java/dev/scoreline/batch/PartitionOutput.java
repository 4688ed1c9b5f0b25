package dev.scoreline.batch;

/** Where a partition of a {@link SnapshotSource} writes its entries. For one thread. */
public interface PartitionOutput {
  /**
   * Adds the value of one entity (one key) to the snapshot. Entries are buffered and written in
   * batches; a partition's entries are all written before it is recorded as done.
   */
  void put(byte[] key, byte[] value);

  /** Counts {@code n} scores computed (items ranked), for the run summary. */
  void scored(long n);

  /**
   * Counts {@code n} entities the partition wrote into the snapshot's namespace by itself instead
   * of through {@link #put} (a Spark task writes from its executor), so that they enter the run's
   * summary, history and progress as put entries do. Does nothing unless overridden.
   */
  default void written(long n) {}
}
