package dev.scoreline.demo;

/**
 * Keeps the best {@code k} (score, index) pairs seen: higher score first, the lower index first
 * among equal scores, so the order is total and deterministic. A min-heap of the kept entries.
 */
final class TopK {
  private final int k;
  private final float[] score;
  private final int[] index;
  private int size;

  TopK(int k) {
    this.k = k;
    this.score = new float[k];
    this.index = new int[k];
  }

  void clear() {
    size = 0;
  }

  int size() {
    return size;
  }

  /** True when (s1, i1) ranks below (s2, i2). */
  private static boolean worse(float s1, int i1, float s2, int i2) {
    return s1 < s2 || (s1 == s2 && i1 > i2);
  }

  void offer(float s, int i) {
    if (size < k) {
      int c = size++;
      score[c] = s;
      index[c] = i;
      siftUp(c);
    } else if (worse(score[0], index[0], s, i)) {
      score[0] = s;
      index[0] = i;
      siftDown(0);
    }
  }

  /** The lowest kept score; meaningful when {@code size() == k}. */
  float threshold() {
    return score[0];
  }

  private void siftUp(int c) {
    while (c > 0) {
      int parent = (c - 1) >>> 1;
      if (!worse(score[c], index[c], score[parent], index[parent])) {
        break;
      }
      swap(c, parent);
      c = parent;
    }
  }

  private void siftDown(int c) {
    while (true) {
      int l = 2 * c + 1;
      if (l >= size) {
        return;
      }
      int m = l;
      int r = l + 1;
      if (r < size && worse(score[r], index[r], score[l], index[l])) {
        m = r;
      }
      if (!worse(score[m], index[m], score[c], index[c])) {
        return;
      }
      swap(c, m);
      c = m;
    }
  }

  private void swap(int a, int b) {
    float s = score[a];
    score[a] = score[b];
    score[b] = s;
    int i = index[a];
    index[a] = index[b];
    index[b] = i;
  }

  /**
   * Writes the kept entries best first into {@code outIndex}/{@code outScore} at {@code offset} and
   * empties this heap.
   *
   * @return the number written
   */
  int drainBestFirst(int[] outIndex, float[] outScore, int offset) {
    int n = size;
    for (int pos = n - 1; pos >= 0; pos--) {
      outIndex[offset + pos] = index[0];
      outScore[offset + pos] = score[0];
      size--;
      if (size > 0) {
        score[0] = score[size];
        index[0] = index[size];
        siftDown(0);
      }
    }
    return n;
  }
}
