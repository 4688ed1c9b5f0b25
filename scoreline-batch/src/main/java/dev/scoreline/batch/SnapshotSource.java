package dev.scoreline.batch;

/**
 * What a batch job writes into a new KV snapshot, split into partitions that {@link SnapshotWriter}
 * runs in parallel, records as done one by one, and skips when it resumes an interrupted run. A
 * partition must be deterministic: writing it twice writes the same entries (a resumed run rewrites
 * the partitions that were in flight when the first run stopped).
 */
public interface SnapshotSource {
  /** How many partitions (at least 1); fixed for the inputs. */
  int partitions();

  /** Entities partition {@code p} writes (for progress; 0 when unknown). */
  long entities(int p);

  /**
   * Identifies the inputs and settings that determine the written entries. A run resumes an
   * interrupted run only when both have the same fingerprint and partition count; otherwise the
   * interrupted run is abandoned and a new snapshot is written from scratch.
   */
  String fingerprint();

  /**
   * Writes partition {@code p}. Runs on a writer thread, concurrently with other partitions; it
   * should stop early (throwing) when its thread is interrupted.
   *
   * @throws Exception any failure: the run stops, publishes nothing, and can be resumed
   */
  void write(int p, PartitionOutput out) throws Exception;
}
