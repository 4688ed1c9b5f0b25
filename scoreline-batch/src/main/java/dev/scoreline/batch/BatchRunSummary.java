package dev.scoreline.batch;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.time.Instant;
import java.util.List;

/**
 * What a published batch run did.
 *
 * @param name the snapshot name (the batch surface)
 * @param snapshotId the published snapshot, now current
 * @param partitions partitions of the snapshot
 * @param resumedPartitions partitions a previous, interrupted run had completed (not recomputed)
 * @param entities entities (keys) in the snapshot, resumed partitions included
 * @param computedEntities entities written by this run
 * @param computedScores scores computed by this run (users × items for a dot-product job)
 * @param duration wall time of this run, publish included
 * @param finishedAt when the snapshot was published
 * @param kept published snapshots kept for rollback, newest (current) first, when the run ended
 *     (empty in {@link SnapshotWriter#history})
 */
public record BatchRunSummary(
    String name,
    String snapshotId,
    int partitions,
    int resumedPartitions,
    long entities,
    long computedEntities,
    long computedScores,
    Duration duration,
    Instant finishedAt,
    List<String> kept) {
  public BatchRunSummary {
    requireNonNull(name, "name is null");
    requireNonNull(snapshotId, "snapshotId is null");
    requireNonNull(duration, "duration is null");
    requireNonNull(finishedAt, "finishedAt is null");
    kept = List.copyOf(kept);
  }

  /** Entities written per second by this run. */
  public double entitiesPerSecond() {
    return perSecond(computedEntities);
  }

  /** Scores computed per second by this run. */
  public double scoresPerSecond() {
    return perSecond(computedScores);
  }

  private double perSecond(long n) {
    long nanos = duration.toNanos();
    return nanos <= 0 ? 0 : n * 1e9 / nanos;
  }
}
