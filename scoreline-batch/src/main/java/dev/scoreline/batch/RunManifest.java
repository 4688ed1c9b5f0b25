package dev.scoreline.batch;

import static java.nio.charset.StandardCharsets.UTF_8;

import dev.scoreline.core.error.ErrorCode;
import dev.scoreline.core.error.ScorelineException;
import dev.scoreline.core.kv.KvEntry;
import dev.scoreline.core.kv.KvStore;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The bookkeeping of the runs of one snapshot name, kept in the same KV store as the snapshot data
 * (namespace {@code batch/<name>}), so it is as durable as the data and written in order after it.
 * Keys are UTF-8 strings, values UTF-8 {@code key=value} lines:
 *
 * <pre>
 * pending              the snapshot id of the run not yet published (absent when none)
 * run/&lt;id&gt;             partitions=, fingerprint=, started= (ISO-8601)
 * part/&lt;id&gt;/&lt;p&gt;         entities=, scores=     written after all of partition p's entries
 * history              the last {@value #HISTORY} published runs, one line each, newest first
 * </pre>
 */
final class RunManifest {
  static final int HISTORY = 20;
  static final String PENDING = "pending";
  static final String HISTORY_KEY = "history";

  private final KvStore store;
  private final String namespace;

  RunManifest(KvStore store, String name) {
    this.store = store;
    this.namespace = namespace(name);
  }

  static String namespace(String name) {
    return "batch/" + name;
  }

  String get(String key) {
    byte[] v = store.multiGet(namespace, List.of(bytes(key))).get(0);
    return v == null ? null : new String(v, UTF_8);
  }

  List<String> getAll(List<String> keys) {
    List<byte[]> k = new ArrayList<>(keys.size());
    for (String s : keys) {
      k.add(bytes(s));
    }
    List<byte[]> values = store.multiGet(namespace, k);
    List<String> out = new ArrayList<>(values.size());
    for (byte[] v : values) {
      out.add(v == null ? null : new String(v, UTF_8));
    }
    return out;
  }

  void put(String key, String value) {
    store.putAll(namespace, List.of(new KvEntry(bytes(key), bytes(value))));
  }

  void delete(List<String> keys) {
    List<byte[]> k = new ArrayList<>(keys.size());
    for (String s : keys) {
      k.add(bytes(s));
    }
    store.deleteAll(namespace, k);
  }

  static String runKey(String id) {
    return "run/" + id;
  }

  static String partKey(String id, int p) {
    return "part/" + id + "/" + p;
  }

  /** Every key of run {@code id} (the pending pointer excluded). */
  static List<String> runKeys(String id, int partitions) {
    List<String> keys = new ArrayList<>(partitions + 1);
    keys.add(runKey(id));
    for (int p = 0; p < partitions; p++) {
      keys.add(partKey(id, p));
    }
    return keys;
  }

  static String format(Map<String, ?> fields, String separator) {
    StringBuilder sb = new StringBuilder();
    for (Map.Entry<String, ?> e : fields.entrySet()) {
      if (sb.length() > 0) {
        sb.append(separator);
      }
      sb.append(e.getKey()).append('=').append(e.getValue());
    }
    return sb.toString();
  }

  static Map<String, String> parse(String text, String separator) {
    Map<String, String> out = new LinkedHashMap<>();
    for (String line : text.split(separator)) {
      int eq = line.indexOf('=');
      if (eq > 0) {
        out.put(line.substring(0, eq), line.substring(eq + 1));
      }
    }
    return out;
  }

  static long number(Map<String, String> fields, String key) {
    String v = fields.get(key);
    try {
      return Long.parseLong(v);
    } catch (NumberFormatException | NullPointerException e) {
      throw new ScorelineException(
          ErrorCode.INTERNAL, "batch manifest: field '" + key + "' is missing or not a number", e);
    }
  }

  private static byte[] bytes(String s) {
    return s.getBytes(UTF_8);
  }
}
