package dev.scoreline.batch;

import dev.scoreline.core.surface.RankedList;

/**
 * The top-K lists of a block of consecutive users, as {@link DotProductTopK} hands them out. User
 * {@code firstUser + i} has {@code counts[i]} entries (fewer than {@code k} only when fewer items
 * could be ranked) at {@code [i * k, i * k + counts[i])} of {@code items} and {@code scores}, best
 * first: by score descending, ties by item row ascending. A block is not modified after it was
 * handed out.
 *
 * @param firstUser the dense row of the first user
 * @param k the list length asked for
 * @param counts entries per user
 * @param items dense item rows, {@code k} slots per user
 * @param scores dot products, {@code k} slots per user
 */
public record TopKBlock(int firstUser, int k, int[] counts, int[] items, float[] scores) {
  public TopKBlock {
    if (items.length != counts.length * k || scores.length != items.length) {
      throw new IllegalArgumentException(
          "block arrays do not hold " + counts.length + " users of k = " + k);
    }
  }

  /** Users in the block. */
  public int users() {
    return counts.length;
  }

  /** Entries of user {@code firstUser + i}. */
  public int count(int i) {
    return counts[i];
  }

  /** The item row at rank {@code r} (0 = best) of user {@code firstUser + i}. */
  public int item(int i, int r) {
    return items[i * k + r];
  }

  /** The score at rank {@code r} (0 = best) of user {@code firstUser + i}. */
  public float score(int i, int r) {
    return scores[i * k + r];
  }

  /** The list of user {@code firstUser + i}, item rows mapped through {@code itemIds}. */
  public RankedList rankedList(int i, long[] itemIds) {
    int n = counts[i];
    long[] ids = new long[n];
    float[] s = new float[n];
    int o = i * k;
    for (int r = 0; r < n; r++) {
      ids[r] = itemIds[items[o + r]];
      s[r] = scores[o + r];
    }
    return new RankedList(ids, s);
  }
}
