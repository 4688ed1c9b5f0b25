package dev.scoreline.bench.batching;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/** {@code --key value} and {@code --key=value} options; unknown keys are an error. */
final class Args {
  private final Map<String, String> values = new LinkedHashMap<>();
  private final Set<String> used = new HashSet<>();

  Args(String[] args) {
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      if (a.equals("--help") || a.equals("-h")) {
        throw new BatchingBenchmark.UsageException("");
      }
      if (!a.startsWith("--")) {
        throw new BatchingBenchmark.UsageException("unexpected argument '" + a + "'");
      }
      int eq = a.indexOf('=');
      if (eq > 0) {
        values.put(a.substring(2, eq), a.substring(eq + 1));
      } else if (i + 1 < args.length) {
        values.put(a.substring(2), args[++i]);
      } else {
        throw new BatchingBenchmark.UsageException(a + " needs a value");
      }
    }
  }

  double number(String key, double dflt) {
    used.add(key);
    String v = values.get(key);
    try {
      double d = v == null ? dflt : Double.parseDouble(v);
      if (d < 0 || Double.isNaN(d)) {
        throw new BatchingBenchmark.UsageException("--" + key + " must be >= 0");
      }
      return d;
    } catch (NumberFormatException e) {
      throw new BatchingBenchmark.UsageException("--" + key + " must be a number, got '" + v + "'");
    }
  }

  List<Integer> ints(String key, String dflt) {
    used.add(key);
    List<Integer> out = new ArrayList<>();
    for (String s : values.getOrDefault(key, dflt).split(",")) {
      try {
        int v = Integer.parseInt(s.trim());
        if (v < 0 || v > 4096) {
          throw new BatchingBenchmark.UsageException(
              "--" + key + " values must be in 0..4096, got " + v);
        }
        out.add(v);
      } catch (NumberFormatException e) {
        throw new BatchingBenchmark.UsageException(
            "--" + key + " must be a comma-separated list of integers");
      }
    }
    return List.copyOf(out);
  }

  /** A comma-separated list of {@code 500us}, {@code 2ms}, {@code 1s}. */
  List<Duration> durations(String key, String dflt) {
    used.add(key);
    List<Duration> out = new ArrayList<>();
    for (String s : values.getOrDefault(key, dflt).split(",")) {
      String t = s.trim().toLowerCase(Locale.ROOT);
      try {
        Duration d;
        if (t.endsWith("us")) {
          d = Duration.ofNanos(Long.parseLong(t.substring(0, t.length() - 2)) * 1000);
        } else if (t.endsWith("ms")) {
          d = Duration.ofMillis(Long.parseLong(t.substring(0, t.length() - 2)));
        } else if (t.endsWith("s")) {
          d = Duration.ofSeconds(Long.parseLong(t.substring(0, t.length() - 1)));
        } else {
          throw new NumberFormatException();
        }
        if (d.isNegative() || d.isZero()) {
          throw new NumberFormatException();
        }
        out.add(d);
      } catch (NumberFormatException e) {
        throw new BatchingBenchmark.UsageException(
            "--" + key + " must be a list of positive durations like 500us,2ms; got '" + s + "'");
      }
    }
    return List.copyOf(out);
  }

  /** One of {@code allowed}; the first is the default. */
  String choice(String key, String... allowed) {
    used.add(key);
    String v = values.getOrDefault(key, allowed[0]);
    for (String a : allowed) {
      if (a.equals(v)) {
        return v;
      }
    }
    throw new BatchingBenchmark.UsageException(
        "--" + key + " must be one of " + String.join(", ", allowed) + "; got '" + v + "'");
  }

  void checkAllUsed() {
    for (String k : values.keySet()) {
      if (!used.contains(k)) {
        throw new BatchingBenchmark.UsageException("unknown option --" + k);
      }
    }
  }
}
