package dev.scoreline.batch;

import static java.util.Objects.requireNonNull;

import dev.scoreline.core.error.ScorelineException;
import dev.scoreline.core.feature.Definitions.Entity;
import dev.scoreline.core.feature.ValueType;
import dev.scoreline.core.feature.online.EntityKeys;
import java.util.List;

/**
 * A {@link SnapshotSource} that writes, for every user, its top-K items by dot product as a {@link
 * dev.scoreline.core.surface.RankedList} under the user's {@link EntityKeys entity key}: the batch
 * recommendations of a matrix-factorization or two-tower model.
 *
 * <p>Users are split into contiguous partitions of whole user blocks; each partition is scored on
 * its writer thread by {@link DotProductTopK} and written block by block, so memory stays at one
 * block of lists per thread.
 */
public final class DotProductSource implements SnapshotSource {
  private final Entity entity;
  private final long[] userIds;
  private final float[] userFactors;
  private final long[] itemIds;
  private final DotProductTopK topK;
  private final Exclusions exclusions;
  private final int partitions;
  private final int blocks;

  /**
   * @param entity the user entity: one int64 key column (the key layout of every list)
   * @param userIds user ids by dense row
   * @param userFactors {@code userIds.length × topK.dim()} floats, row-major
   * @param itemIds item ids by dense row ({@code topK.items()} of them)
   * @param topK the prepared item factors, k and block sizes
   * @param exclusions items not to recommend, by dense user and item rows
   * @param partitions the partitions asked for (fewer when there are fewer user blocks)
   */
  public DotProductSource(
      Entity entity,
      long[] userIds,
      float[] userFactors,
      long[] itemIds,
      DotProductTopK topK,
      Exclusions exclusions,
      int partitions) {
    this.entity = requireNonNull(entity, "entity is null");
    this.userIds = requireNonNull(userIds, "userIds is null");
    this.userFactors = requireNonNull(userFactors, "userFactors is null");
    this.itemIds = requireNonNull(itemIds, "itemIds is null");
    this.topK = requireNonNull(topK, "topK is null");
    this.exclusions = requireNonNull(exclusions, "exclusions is null");
    if (entity.keys().size() != 1 || entity.keys().get(0).type() != ValueType.INT64) {
      throw ScorelineException.userError(
          "entity",
          "entity '"
              + entity.name()
              + "' needs exactly one int64 key column to key dot-product lists");
    }
    if ((long) userIds.length * topK.dim() != userFactors.length) {
      throw ScorelineException.userError(
          "userFactors",
          "user factors hold "
              + userFactors.length
              + " floats, expected users × dim = "
              + userIds.length
              + " × "
              + topK.dim());
    }
    if (itemIds.length != topK.items()) {
      throw ScorelineException.userError(
          "itemIds", itemIds.length + " item ids for " + topK.items() + " item rows");
    }
    if (partitions < 1) {
      throw ScorelineException.userError(
          "partitions", "partitions must be at least 1, got " + partitions);
    }
    this.blocks = (userIds.length + topK.userBlock() - 1) / topK.userBlock();
    this.partitions = Math.max(1, Math.min(partitions, blocks));
  }

  @Override
  public int partitions() {
    return partitions;
  }

  /** The first user row of partition {@code p} ({@code p == partitions()} gives the end). */
  int firstUser(int p) {
    int block = (int) ((long) p * blocks / partitions);
    return Math.min(userIds.length, block * topK.userBlock());
  }

  @Override
  public long entities(int p) {
    return firstUser(p + 1) - firstUser(p);
  }

  @Override
  public String fingerprint() {
    long h = 0x9E3779B97F4A7C15L;
    h = mix(h, topK.k());
    h = mix(h, topK.dim());
    h = mix(h, entity.name().hashCode());
    for (long id : userIds) {
      h = mix(h, id);
    }
    for (float f : userFactors) {
      h = mix(h, Float.floatToIntBits(f));
    }
    for (long id : itemIds) {
      h = mix(h, id);
    }
    h = mix(h, topK.itemFactorsHash());
    for (int u = 0; u < userIds.length; u++) {
      int[] ex = exclusions.excluded(u);
      if (ex != null && ex.length > 0) {
        h = mix(h, u);
        for (int e : ex) {
          h = mix(h, e);
        }
      }
    }
    return "dot-topk-" + Long.toHexString(h);
  }

  private static long mix(long h, long v) {
    long x = (h ^ v) * 0xBF58476D1CE4E5B9L;
    return Long.rotateLeft(x, 31) * 0x94D049BB133111EBL;
  }

  @Override
  public void write(int p, PartitionOutput out) throws InterruptedException {
    int end = firstUser(p + 1);
    DotProductTopK.Scorer scorer = topK.newScorer();
    int items = topK.items();
    for (int from = firstUser(p); from < end; from += topK.userBlock()) {
      if (Thread.interrupted()) {
        throw new InterruptedException("partition " + p + " was cancelled");
      }
      int to = Math.min(end, from + topK.userBlock());
      TopKBlock block = scorer.score(userFactors, from, to, exclusions);
      for (int i = 0; i < block.users(); i++) {
        byte[] key = EntityKeys.encode(entity, List.of(userIds[from + i]));
        out.put(key, block.rankedList(i, itemIds).encode());
      }
      out.scored((long) block.users() * items);
    }
  }
}
