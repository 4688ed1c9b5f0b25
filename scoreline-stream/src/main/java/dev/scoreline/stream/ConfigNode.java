package dev.scoreline.stream;

import dev.scoreline.core.config.Durations;
import dev.scoreline.core.error.ScorelineException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * One map of a surface's {@code stream:} section, read key by key: every getter names the file and
 * the field in its error, and {@link #done} rejects keys nobody read, suggesting the nearest valid
 * one.
 */
public final class ConfigNode {
  private final String origin;
  private final String path;
  private final Map<String, Object> map;
  private final Set<String> known = new TreeSet<>();
  private final Set<String> used = new HashSet<>();

  public ConfigNode(String origin, String path, Map<String, Object> map) {
    this.origin = origin;
    this.path = path;
    this.map = map == null ? Map.of() : map;
  }

  /** The node of {@code value} at {@code path}, which must be a map (null gives an empty node). */
  static ConfigNode of(String origin, String path, Object value) {
    if (value == null || value instanceof Boolean b && b) {
      return new ConfigNode(origin, path, Map.of());
    }
    if (!(value instanceof Map<?, ?> m)) {
      throw error(origin, path, "must be a map of settings, got '" + value + "'");
    }
    Map<String, Object> out = new LinkedHashMap<>();
    m.forEach((k, v) -> out.put(String.valueOf(k), v));
    return new ConfigNode(origin, path, out);
  }

  public String origin() {
    return origin;
  }

  public String path() {
    return path;
  }

  public String field(String key) {
    return path.isEmpty() ? key : path + "." + key;
  }

  public boolean has(String key) {
    known.add(key);
    return map.containsKey(key);
  }

  public Object raw(String key) {
    known.add(key);
    used.add(key);
    return map.get(key);
  }

  /** The keys present, in order. */
  public List<String> keys() {
    return new ArrayList<>(map.keySet());
  }

  public String string(String key, String dflt) {
    Object v = raw(key);
    if (v == null) {
      return dflt;
    }
    if (v instanceof Map || v instanceof List) {
      throw error(origin, field(key), "must be a text value, got " + v);
    }
    return String.valueOf(v);
  }

  public String requiredString(String key, String example) {
    String s = string(key, null);
    if (s == null || s.isBlank()) {
      throw error(origin, field(key), "is missing; e.g. " + key + ": " + example);
    }
    return s;
  }

  public int integer(String key, int dflt, int min, int max) {
    Object v = raw(key);
    if (v == null) {
      return dflt;
    }
    long n;
    if (v instanceof Number num && num.doubleValue() == Math.rint(num.doubleValue())) {
      n = num.longValue();
    } else {
      try {
        n = Long.parseLong(String.valueOf(v).trim());
      } catch (NumberFormatException e) {
        throw error(origin, field(key), "must be a whole number, got '" + v + "'");
      }
    }
    if (n < min || n > max) {
      throw error(origin, field(key), "must be between " + min + " and " + max + ", got " + n);
    }
    return (int) n;
  }

  public double number(String key, double dflt) {
    Object v = raw(key);
    if (v == null) {
      return dflt;
    }
    if (v instanceof Number num) {
      return num.doubleValue();
    }
    try {
      return Double.parseDouble(String.valueOf(v).trim());
    } catch (NumberFormatException e) {
      throw error(origin, field(key), "must be a number, got '" + v + "'");
    }
  }

  public boolean bool(String key, boolean dflt) {
    Object v = raw(key);
    if (v == null) {
      return dflt;
    }
    if (v instanceof Boolean b) {
      return b;
    }
    throw error(origin, field(key), "must be true or false, got '" + v + "'");
  }

  public Duration duration(String key, Duration dflt) {
    Object v = raw(key);
    if (v == null) {
      return dflt;
    }
    Duration d;
    try {
      d = Durations.parse(field(key), String.valueOf(v));
    } catch (RuntimeException e) {
      throw error(
          origin, field(key), "is not a duration ('" + v + "'); write e.g. 500ms, 10s, 10m, 1h");
    }
    if (d == null || d.isNegative() || d.isZero()) {
      throw error(origin, field(key), "must be a positive duration, got '" + v + "'");
    }
    return d;
  }

  public ConfigNode node(String key) {
    return of(origin, field(key), raw(key));
  }

  /** A map of string values (e.g. Kafka client properties). */
  public Map<String, String> stringMap(String key) {
    Object v = raw(key);
    if (v == null) {
      return Map.of();
    }
    if (!(v instanceof Map<?, ?> m)) {
      throw error(origin, field(key), "must be a map, got '" + v + "'");
    }
    Map<String, String> out = new LinkedHashMap<>();
    m.forEach((k, x) -> out.put(String.valueOf(k), String.valueOf(x)));
    return out;
  }

  public List<Object> list(String key) {
    Object v = raw(key);
    if (v == null) {
      return List.of();
    }
    if (v instanceof List<?> l) {
      return new ArrayList<>(l);
    }
    throw error(origin, field(key), "must be a list, got '" + v + "'");
  }

  /** The map as given (for connectors that read it themselves). */
  public Map<String, Object> asMap() {
    return map;
  }

  /** Rejects, before anything is read, keys other than {@code keys}. */
  public ConfigNode only(String... keys) {
    for (String k : keys) {
      known.add(k);
    }
    done();
    return this;
  }

  /** Rejects keys that no getter asked for. */
  public void done() {
    for (String k : map.keySet()) {
      if (!used.contains(k) && !known.contains(k)) {
        String near = nearest(k, known);
        throw error(
            origin,
            field(k),
            "unknown key '"
                + k
                + "'"
                + (near == null ? "" : "; did you mean '" + near + "'?")
                + (known.isEmpty() ? "" : " Valid keys here: " + String.join(", ", known)));
      }
    }
  }

  public ScorelineException error(String key, String message) {
    return error(origin, key == null ? path : field(key), message);
  }

  public static ScorelineException error(String origin, String field, String message) {
    return new ScorelineException(
        dev.scoreline.core.error.ErrorCode.USER_ERROR,
        field,
        (origin == null ? "" : origin + ": ") + field + ": " + message,
        null);
  }

  static String nearest(String key, Set<String> candidates) {
    String best = null;
    int bestD = Integer.MAX_VALUE;
    for (String c : candidates) {
      int d = distance(key, c);
      if (d < bestD) {
        bestD = d;
        best = c;
      }
    }
    return best != null && bestD <= Math.max(2, key.length() / 3) ? best : null;
  }

  private static int distance(String a, String b) {
    int[] prev = new int[b.length() + 1];
    int[] cur = new int[b.length() + 1];
    for (int j = 0; j <= b.length(); j++) {
      prev[j] = j;
    }
    for (int i = 1; i <= a.length(); i++) {
      cur[0] = i;
      for (int j = 1; j <= b.length(); j++) {
        int c = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
        cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + c);
      }
      int[] t = prev;
      prev = cur;
      cur = t;
    }
    return prev[b.length()];
  }
}
