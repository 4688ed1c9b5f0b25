package dev.scoreline.server;

import java.util.ArrayList;
import java.util.List;

/** Splits request paths into segments (the REST services route by hand, without regexes). */
final class Paths {
  private Paths() {}

  /** The non-empty segments of {@code path}, without the first {@code skip} ones. */
  static String[] segments(String path, int skip) {
    List<String> out = new ArrayList<>(8);
    int start = 0;
    int len = path.length();
    int seen = 0;
    while (start <= len) {
      int end = path.indexOf('/', start);
      if (end < 0) {
        end = len;
      }
      if (end > start) {
        if (seen++ >= skip) {
          out.add(path.substring(start, end));
        }
      }
      start = end + 1;
    }
    return out.toArray(new String[0]);
  }
}
