package dev.scoreline.core.config;

import java.time.Duration;
import java.util.Locale;

/**
 * Parses human durations used in config files: {@code 500us}, {@code 2ms}, {@code 1.5s}, {@code
 * 5m}.
 */
public final class Durations {
  private Durations() {}

  public static Duration parse(String key, String text) {
    if (text == null) {
      return null;
    }
    String t = text.trim().toLowerCase(Locale.ROOT);
    String[][] units = {
      {"ns", "1"},
      {"us", "1000"},
      {"µs", "1000"},
      {"ms", "1000000"},
      {"s", "1000000000"},
      {"m", "60000000000"},
      {"h", "3600000000000"},
      {"d", "86400000000000"}
    };
    for (String[] u : units) {
      if (t.endsWith(u[0])) {
        String number = t.substring(0, t.length() - u[0].length()).trim();
        try {
          double v = Double.parseDouble(number);
          if (v < 0 || Double.isNaN(v)) {
            break;
          }
          return Duration.ofNanos(Math.round(v * Long.parseLong(u[1])));
        } catch (NumberFormatException e) {
          break;
        }
      }
    }
    throw new IllegalArgumentException(
        key + " '" + text + "' is not a duration; use e.g. 500us, 2ms, 1.5s, 5m, 12h, 30d");
  }
}
