package dev.scoreline.spark;

import dev.scoreline.batch.PartitionOutput;
import dev.scoreline.batch.SnapshotSource;
import dev.scoreline.core.error.ScorelineException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.spark.SparkContext;
import org.apache.spark.api.java.JavaRDD;

/**
 * The driver's side of a Spark run, as a {@link SnapshotSource} for {@link
 * dev.scoreline.batch.SnapshotWriter}: partition {@code p} is one Spark job over partition {@code
 * p} of the entities' RDD, whose task ({@link PartitionScorer}) writes the entries into the
 * unpublished snapshot namespace itself. When the job returns, the writer records the partition as
 * done in the run manifest, so a re-run skips it; when every partition is done the writer
 * publishes. The writer runs {@code concurrency} partitions at once, each from its own driver
 * thread; Spark schedules their tasks on the executors.
 *
 * <p>Entries are not passed through {@link PartitionOutput#put} (they never reach the driver): the
 * task's count of written entities is reported with {@link PartitionOutput#written}, so the run's
 * summary, history ({@code scoreline batch status}) and progress count them as for a local run.
 */
final class SparkSnapshotSource implements SnapshotSource {
  private final SparkContext sc;
  private final JavaRDD<long[]> scored;
  private final String name;
  private final int partitions;
  private final int entities;
  private final String fingerprint;
  private final String jobTag;
  private final AtomicBoolean cancelled = new AtomicBoolean();

  /**
   * @param scored the entities' RDD mapped by {@link PartitionScorer}, {@code partitions}
   *     partitions
   * @param fingerprint {@link #fingerprint(List, String)} of the run's inputs
   */
  SparkSnapshotSource(
      SparkContext sc,
      JavaRDD<long[]> scored,
      String name,
      int entities,
      int partitions,
      String fingerprint,
      String jobTag) {
    this.sc = sc;
    this.scored = scored;
    this.name = name;
    this.partitions = partitions;
    this.entities = entities;
    this.fingerprint = fingerprint;
    this.jobTag = jobTag;
  }

  /** The partitions to ask for: at least 1, at most one per entity. */
  static int partitions(int asked, int entities) {
    return Math.max(1, Math.min(asked, entities));
  }

  @Override
  public int partitions() {
    return partitions;
  }

  /** Spark's {@code parallelize} slices a list the same way: {@code [n*p/P, n*(p+1)/P)}. */
  @Override
  public long entities(int p) {
    return from(p + 1) - from(p);
  }

  private long from(int p) {
    return (long) entities * p / partitions;
  }

  @Override
  public String fingerprint() {
    return fingerprint;
  }

  @Override
  public void write(int p, PartitionOutput out) throws Exception {
    if (cancelled.get() || Thread.currentThread().isInterrupted()) {
      throw new InterruptedException("batch run cancelled");
    }
    sc.setJobDescription("scoreline batch " + name + ": partition " + p + " of " + partitions);
    sc.setInterruptOnCancel(true);
    sc.addJobTag(jobTag);
    List<long[]>[] result;
    try {
      result = scored.collectPartitions(new int[] {p});
    } catch (Exception e) {
      throw unwrap(e);
    } finally {
      sc.removeJobTag(jobTag);
    }
    long[] r = result[0].get(0);
    out.written(r[1]);
    out.scored(r[2]);
  }

  /** No more partitions start after this. */
  void cancel() {
    cancelled.set(true);
  }

  /**
   * The task's {@link ScorelineException} when Spark passed it along as the cause (keeping its
   * error code), else the Spark exception as it is.
   */
  private static Exception unwrap(Exception e) {
    for (Throwable c = e; c != null; c = c.getCause()) {
      if (c instanceof ScorelineException se) {
        return new ScorelineException(se.code(), se.getMessage(), e);
      }
    }
    return e;
  }

  /**
   * Identifies a run's inputs: every entity key, in order, and {@code definition} (what determines
   * the entries besides the entities: surface definition, size, model version).
   */
  static String fingerprint(List<Map<String, Object>> keys, String definition) {
    try {
      MessageDigest d = MessageDigest.getInstance("SHA-256");
      d.update(
          ("spark\0" + definition + '\0' + keys.size() + '\0').getBytes(StandardCharsets.UTF_8));
      for (Map<String, Object> k : keys) {
        d.update(k.toString().getBytes(StandardCharsets.UTF_8));
        d.update((byte) '\n');
      }
      return HexFormat.of().formatHex(d.digest());
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
