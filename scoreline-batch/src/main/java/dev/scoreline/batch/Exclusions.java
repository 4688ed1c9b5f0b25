package dev.scoreline.batch;

import static java.util.Objects.requireNonNull;

/**
 * Items a user must not be recommended (already seen, bought, blocked), as dense item rows.
 * Implementations are thread-safe: the scorer asks from several threads at once.
 */
@FunctionalInterface
public interface Exclusions {
  /** No exclusions. */
  Exclusions NONE = user -> null;

  /**
   * The excluded item rows of {@code user} (a dense user row), sorted ascending without duplicates;
   * null or empty when none. The scorer only reads the array.
   */
  int[] excluded(int user);

  /**
   * Exclusions from one sorted array per user row ({@code null} entries allowed); rows beyond the
   * array have none.
   *
   * @throws IllegalArgumentException when an array is not sorted ascending without duplicates
   */
  static Exclusions of(int[][] perUser) {
    requireNonNull(perUser, "perUser is null");
    for (int u = 0; u < perUser.length; u++) {
      int[] e = perUser[u];
      if (e == null) {
        continue;
      }
      for (int i = 1; i < e.length; i++) {
        if (e[i] <= e[i - 1]) {
          throw new IllegalArgumentException(
              "excluded items of user row " + u + " are not sorted ascending without duplicates");
        }
      }
    }
    return user -> user < perUser.length ? perUser[user] : null;
  }
}
