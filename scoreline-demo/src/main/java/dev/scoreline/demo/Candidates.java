package dev.scoreline.demo;

import dev.scoreline.core.progress.ProgressListener;
import java.util.concurrent.ExecutorService;

/**
 * Each user's top items by ALS dot product, excluding the items the user has already seen (its
 * train and rank interactions): the precomputed candidates of the two-stage surface, the ANN-only
 * baseline and the ranker's negatives.
 *
 * <p>Scores are the dot product accumulated in float32 in dimension order (the ranker's column 0
 * computes the same value). Items are scored for a user with a loop over the item-major transposed
 * matrix so it vectorizes; equal scores order by item index.
 */
final class Candidates {
  final int k;
  final int users;

  /** {@code [users][k]}: item indexes best first, {@code -1} past {@link #count}. */
  final int[] item;

  final float[] score;
  final int[] count;

  private Candidates(int k, int users, int[] item, float[] score, int[] count) {
    this.k = k;
    this.users = users;
    this.item = item;
    this.score = score;
    this.count = count;
  }

  static Candidates compute(
      Shop shop,
      ImplicitAls.Model als,
      int k,
      ExecutorService executor,
      ProgressListener progress) {
    int f = als.factors();
    int items = shop.items;
    float[] itemT = new float[f * items];
    for (int i = 0; i < items; i++) {
      for (int d = 0; d < f; d++) {
        itemT[d * items + i] = als.items()[i * f + d];
      }
    }
    int[] out = new int[shop.users * k];
    float[] outScore = new float[shop.users * k];
    int[] count = new int[shop.users];
    java.util.Arrays.fill(out, -1);
    progress.start("candidates (top-" + k + " by ALS)", shop.users);
    Parallel.forEach(
        executor,
        shop.users,
        256,
        (chunk, from, to) -> {
          float[] s = new float[items];
          boolean[] seen = new boolean[items];
          TopK top = new TopK(k);
          for (int u = from; u < to; u++) {
            scoreAll(als.users(), u * f, f, itemT, items, s);
            int end = shop.testPosition(u);
            for (int p = shop.trainStart(u); p < end; p++) {
              seen[shop.interactionItem[p]] = true;
            }
            for (int i = 0; i < items; i++) {
              if (!seen[i]) {
                top.offer(s[i], i);
              }
            }
            for (int p = shop.trainStart(u); p < end; p++) {
              seen[shop.interactionItem[p]] = false;
            }
            count[u] = top.drainBestFirst(out, outScore, u * k);
          }
          progress.advance(to - from);
        });
    progress.finish();
    return new Candidates(k, shop.users, out, outScore, count);
  }

  /** {@code s[i] = dot(user, item i)}, accumulated in float32 in dimension order. */
  static void scoreAll(float[] users, int offset, int f, float[] itemT, int items, float[] s) {
    java.util.Arrays.fill(s, 0f);
    for (int d = 0; d < f; d++) {
      float ud = users[offset + d];
      int base = d * items;
      for (int i = 0; i < items; i++) {
        s[i] += ud * itemT[base + i];
      }
    }
  }

  /** The dot product of two embeddings as the candidates and column 0 compute it. */
  static float dot(float[] a, int aOffset, float[] b, int bOffset, int f) {
    float s = 0f;
    for (int d = 0; d < f; d++) {
      s += a[aOffset + d] * b[bOffset + d];
    }
    return s;
  }
}
