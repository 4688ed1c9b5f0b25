package dev.scoreline.cli;

import dev.scoreline.core.error.ScorelineException;
import java.util.Locale;

/** Parses sizes such as {@code 64MiB}, {@code 512KiB}, {@code 1GB} or plain bytes. */
final class Sizes {
  private Sizes() {}

  static long parseBytes(String option, String text) {
    String t = text.trim().toUpperCase(Locale.ROOT);
    long unit = 1;
    String[][] units = {
      {"KIB", "1024"},
      {"MIB", "1048576"},
      {"GIB", "1073741824"},
      {"KB", "1000"},
      {"MB", "1000000"},
      {"GB", "1000000000"},
      {"B", "1"}
    };
    for (String[] u : units) {
      if (t.endsWith(u[0])) {
        unit = Long.parseLong(u[1]);
        t = t.substring(0, t.length() - u[0].length()).trim();
        break;
      }
    }
    try {
      long n = Long.parseLong(t);
      if (n <= 0) {
        throw new NumberFormatException();
      }
      return Math.multiplyExact(n, unit);
    } catch (NumberFormatException | ArithmeticException e) {
      throw ScorelineException.userError(
          option, option + " '" + text + "' is not a size; use e.g. 64MiB, 512KiB or 1048576");
    }
  }
}
