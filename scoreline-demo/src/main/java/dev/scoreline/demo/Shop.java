package dev.scoreline.demo;

import java.time.Instant;

/**
 * A generated shop: items with category, price, stock and popularity, and every user's interactions
 * in time order. Users and items are indexes {@code 0..n-1}; their ids (the entity keys written to
 * the project) are {@code index + 1}.
 *
 * <p>Each user has at least three interactions. The split is per user by time: {@code train} is all
 * but the last two, {@code rank} (the ranker's training positive) the second-to-last, {@code test}
 * (held out for evaluation) the last.
 */
final class Shop {
  /** Number of item categories (the one-hot width of the ranker's features). */
  static final int CATEGORIES = 20;

  final int users;
  final int items;
  final int[] itemCategory;
  final double[] itemPrice;
  final boolean[] itemInStock;

  /** Interactions of user {@code u} are {@code [userStart[u], userStart[u + 1])}, oldest first. */
  final int[] userStart;

  final int[] interactionItem;

  /** Event times, epoch milliseconds, strictly increasing per user. */
  final long[] interactionTs;

  /** The first and last instants of the interaction window. */
  final Instant start;

  final Instant end;

  Shop(
      int users,
      int items,
      int[] itemCategory,
      double[] itemPrice,
      boolean[] itemInStock,
      int[] userStart,
      int[] interactionItem,
      long[] interactionTs,
      Instant start,
      Instant end) {
    this.users = users;
    this.items = items;
    this.itemCategory = itemCategory;
    this.itemPrice = itemPrice;
    this.itemInStock = itemInStock;
    this.userStart = userStart;
    this.interactionItem = interactionItem;
    this.interactionTs = interactionTs;
    this.start = start;
    this.end = end;
  }

  static long userId(int user) {
    return user + 1L;
  }

  static long itemId(int item) {
    return item + 1L;
  }

  static int userIndex(long userId) {
    return Math.toIntExact(userId - 1);
  }

  static int itemIndex(long itemId) {
    return Math.toIntExact(itemId - 1);
  }

  int interactions() {
    return interactionItem.length;
  }

  /** First train interaction of {@code u}. */
  int trainStart(int u) {
    return userStart[u];
  }

  /** End (exclusive) of the train interactions of {@code u}: the position of its rank one. */
  int trainEnd(int u) {
    return userStart[u + 1] - 2;
  }

  int rankPosition(int u) {
    return userStart[u + 1] - 2;
  }

  int testPosition(int u) {
    return userStart[u + 1] - 1;
  }

  int rankItem(int u) {
    return interactionItem[rankPosition(u)];
  }

  int testItem(int u) {
    return interactionItem[testPosition(u)];
  }

  /** Request context at ranker training time: the category of the last train interaction. */
  int trainContextCategory(int u) {
    return itemCategory[interactionItem[trainEnd(u) - 1]];
  }

  /** Request context at evaluation/serving time: the category of the most recent (rank) item. */
  int serveContextCategory(int u) {
    return itemCategory[rankItem(u)];
  }

  /** Number of train interactions of each item. */
  int[] trainPopularity() {
    int[] pop = new int[items];
    for (int u = 0; u < users; u++) {
      for (int p = trainStart(u); p < trainEnd(u); p++) {
        pop[interactionItem[p]]++;
      }
    }
    return pop;
  }
}
