package dev.scoreline.demo;

/**
 * A sparse count matrix in compressed-row form: row {@code r} holds columns {@code
 * col[start[r]..start[r+1])} (ascending) with their counts.
 */
final class Csr {
  final int rows;
  final int cols;
  final int[] start;
  final int[] col;
  final float[] count;

  Csr(int rows, int cols, int[] start, int[] col, float[] count) {
    this.rows = rows;
    this.cols = cols;
    this.start = start;
    this.col = col;
    this.count = count;
  }

  int nnz() {
    return col.length;
  }

  /** The user x item matrix of the train interactions (repeats add up). */
  static Csr trainMatrix(Shop shop) {
    int[] rowCount = new int[shop.users];
    int[] scratch = new int[shop.items];
    int[] touched = new int[shop.items];
    // first pass: distinct items per user
    for (int u = 0; u < shop.users; u++) {
      int n = 0;
      for (int p = shop.trainStart(u); p < shop.trainEnd(u); p++) {
        int i = shop.interactionItem[p];
        if (scratch[i]++ == 0) {
          touched[n++] = i;
        }
      }
      rowCount[u] = n;
      for (int t = 0; t < n; t++) {
        scratch[touched[t]] = 0;
      }
    }
    int[] start = new int[shop.users + 1];
    for (int u = 0; u < shop.users; u++) {
      start[u + 1] = start[u] + rowCount[u];
    }
    int[] col = new int[start[shop.users]];
    float[] count = new float[col.length];
    for (int u = 0; u < shop.users; u++) {
      int n = 0;
      for (int p = shop.trainStart(u); p < shop.trainEnd(u); p++) {
        int i = shop.interactionItem[p];
        if (scratch[i]++ == 0) {
          touched[n++] = i;
        }
      }
      java.util.Arrays.sort(touched, 0, n);
      for (int t = 0; t < n; t++) {
        col[start[u] + t] = touched[t];
        count[start[u] + t] = scratch[touched[t]];
        scratch[touched[t]] = 0;
      }
    }
    return new Csr(shop.users, shop.items, start, col, count);
  }

  Csr transpose() {
    int[] tStart = new int[cols + 1];
    for (int c : col) {
      tStart[c + 1]++;
    }
    for (int c = 0; c < cols; c++) {
      tStart[c + 1] += tStart[c];
    }
    int[] fill = tStart.clone();
    int[] tCol = new int[col.length];
    float[] tCount = new float[col.length];
    for (int r = 0; r < rows; r++) {
      for (int p = start[r]; p < start[r + 1]; p++) {
        int at = fill[col[p]]++;
        tCol[at] = r;
        tCount[at] = count[p];
      }
    }
    return new Csr(cols, rows, tStart, tCol, tCount);
  }
}
