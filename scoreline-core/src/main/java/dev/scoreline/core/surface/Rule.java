package dev.scoreline.core.surface;

import dev.scoreline.core.surface.Column.Params;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * One business rule of a surface. Filters ({@code filter-seen}, {@code block}, {@code dedupe},
 * {@code filter}) decide which candidates are ranked at all, so they run before the model and
 * shrink its work; ordering rules ({@code boost}, {@code pin}, {@code diversity}, {@code top-k})
 * run on the ranked list, in the order written. Every rule can be switched off or re-parametrized
 * per request by its type.
 */
abstract class Rule {
  static final List<String> TYPES =
      List.of("filter-seen", "block", "dedupe", "filter", "boost", "pin", "diversity", "top-k");

  final String type;

  Rule(String type) {
    this.type = type;
  }

  /** Whether this rule runs before the model (a filter). */
  abstract boolean isFilter();

  /** Filters: clears {@code keep[row]} for candidates to drop. */
  void filter(Frame f, boolean[] keep) {
    throw new UnsupportedOperationException(type);
  }

  /** Ordering rules: reorders, inserts or cuts the ranked entries. */
  void order(Frame f, List<Entry> ranked) {
    throw new UnsupportedOperationException(type);
  }

  /** A ranked item: the candidate's row in the frame (-1 for an inserted pin), id and score. */
  static final class Entry {
    final int row;
    final long id;
    float score;
    boolean pinned;

    Entry(int row, long id, float score) {
      this.row = row;
      this.id = id;
      this.score = score;
    }
  }

  // ---------------------------------------------------------------- compile

  /**
   * Compiles one rule: a map of exactly one rule type to its parameters ({@code {diversity:
   * {feature: item:category, max-per-value: 3}}}; {@code top-k: 20} and {@code dedupe: {}} take a
   * bare value).
   */
  static Rule compile(String field, Map<String, Object> spec, Function<String, Operand> operands) {
    if (spec.size() != 1) {
      throw Column.bad(
          field, "a rule is one '<type>: {parameters}' entry; types: " + TYPES + ", got " + spec);
    }
    Map.Entry<String, Object> e = spec.entrySet().iterator().next();
    return compile(field, e.getKey(), e.getValue(), operands);
  }

  @SuppressWarnings("unchecked")
  static Rule compile(String field, String type, Object value, Function<String, Operand> operands) {
    if (!TYPES.contains(type)) {
      String near = dev.scoreline.core.config.ConfigLoader.nearest(type, TYPES);
      throw Column.bad(
          field,
          "unknown rule '"
              + type
              + "'"
              + (near == null ? "" : "; did you mean '" + near + "'?")
              + " Rules: "
              + TYPES);
    }
    Map<String, Object> params = new HashMap<>();
    if (value instanceof Map<?, ?> m) {
      params.putAll((Map<String, Object>) m);
    } else if (type.equals("top-k") && value instanceof Number) {
      params.put("k", value);
    } else if (value != null) {
      throw Column.bad(field, type + " takes a map of parameters, got '" + value + "'");
    }
    params.put(type, type);
    Params p = new Params(field, type, params);
    Rule r;
    switch (type) {
      case "filter-seen":
      case "block":
        {
          Operand feature = optionalOperand(p, "feature", operands);
          Operand context = contextOperand(p, operands);
          List<Object> items = p.list("items");
          if (feature == null && context == null && items == null) {
            throw Column.bad(
                field,
                type
                    + " needs 'feature' (an entity list feature such as user_recent:items),"
                    + " 'context' (a request context key holding a list of ids) or 'items'");
          }
          r = new Exclude(type, feature, context, items);
          break;
        }
      case "dedupe":
        r = new Dedupe();
        break;
      case "filter":
        {
          Operand feature = p.operand("feature", operands);
          Object equals = p.raw("equals");
          Object notEquals = p.raw("not-equals");
          double min = p.number("min", Double.NaN);
          double max = p.number("max", Double.NaN);
          Object keepMissing = p.raw("keep-missing");
          if (equals == null && notEquals == null && Double.isNaN(min) && Double.isNaN(max)) {
            throw Column.bad(field, "filter needs one of 'equals', 'not-equals', 'min', 'max'");
          }
          r = new Filter(feature, equals, notEquals, min, max, Boolean.TRUE.equals(keepMissing));
          break;
        }
      case "boost":
        {
          Operand feature = optionalOperand(p, "feature", operands);
          Object equals = p.raw("equals");
          Operand context = contextOperand(p, operands);
          List<Object> items = p.list("items");
          double factor = p.required("factor");
          if (feature == null && items == null && context == null) {
            throw Column.bad(
                field,
                "boost needs 'feature' with 'equals' or 'context', or 'items' / 'context' with ids");
          }
          if (feature != null && equals == null && context == null) {
            throw Column.bad(
                field, "boost on a feature needs 'equals' (a value) or 'context' (a key)");
          }
          r = new Boost(feature, equals, context, items, (float) factor);
          break;
        }
      case "pin":
        {
          List<Object> items = p.list("items");
          Operand context = contextOperand(p, operands);
          int position = p.integer("position", 0);
          if (items == null && context == null) {
            throw Column.bad(field, "pin needs 'items' (ids) or 'context' (a key holding ids)");
          }
          if (position < 0) {
            throw Column.bad(field, "position must be >= 0, got " + position);
          }
          r = new Pin(items, context, position);
          break;
        }
      case "diversity":
        {
          Operand feature = p.operand("feature", operands);
          int max = p.integer("max-per-value", 0);
          if (max < 1) {
            throw Column.bad(field, "diversity needs 'max-per-value' >= 1");
          }
          r = new Diversity(feature, max);
          break;
        }
      case "top-k":
        {
          int k = p.integer("k", 0);
          if (k < 1) {
            throw Column.bad(field, "top-k needs k >= 1 (write 'top-k: 20')");
          }
          r = new TopK(k);
          break;
        }
      default:
        throw new AssertionError(type);
    }
    p.checkUnused();
    return r;
  }

  private static Operand optionalOperand(Params p, String key, Function<String, Operand> operands) {
    return p.spec.get(key) == null ? null : p.operand(key, operands);
  }

  private static Operand contextOperand(Params p, Function<String, Operand> operands) {
    String key = p.string("context");
    if (key == null) {
      return null;
    }
    return operands.apply(key.startsWith("context.") ? key : "context." + key);
  }

  static Set<Long> ids(List<Object> items) {
    Set<Long> s = new HashSet<>();
    if (items != null) {
      for (Object o : items) {
        if (o instanceof Number n) {
          s.add(n.longValue());
        } else if (o instanceof String str) {
          try {
            s.add(Long.parseLong(str));
          } catch (NumberFormatException e) {
            // not an int64 id: cannot match any candidate
          }
        }
      }
    }
    return s;
  }

  @SuppressWarnings("unchecked")
  static List<Object> listOf(Object v) {
    if (v == null) {
      return List.of();
    }
    if (v instanceof List<?> l) {
      return (List<Object>) l;
    }
    if (v instanceof long[] a) {
      List<Object> out = new ArrayList<>(a.length);
      for (long x : a) {
        out.add(x);
      }
      return out;
    }
    return List.of(v);
  }

  // ---------------------------------------------------------------- filters

  static final class Exclude extends Rule {
    final Operand feature;
    final Operand context;
    final Set<Long> items;

    /** {@link #items}, sorted. */
    private final long[] sortedItems;

    Exclude(String type, Operand feature, Operand context, List<Object> items) {
      super(type);
      this.feature = feature;
      this.context = context;
      this.items = ids(items);
      this.sortedItems = sorted(this.items);
    }

    @Override
    boolean isFilter() {
      return true;
    }

    @Override
    void filter(Frame f, boolean[] keep) {
      // the ids to drop as one sorted array (no boxed id per candidate): the rule's items, the
      // feature's list and the context's list, as ids() reads them
      long[] a = sortedItems;
      long[] b = feature == null ? EMPTY : idArray(feature.value(f, 0));
      long[] c = context == null ? EMPTY : idArray(context.value(f, 0));
      int n = a.length + b.length + c.length;
      if (n == 0) {
        return;
      }
      long[] drop = new long[n];
      System.arraycopy(a, 0, drop, 0, a.length);
      System.arraycopy(b, 0, drop, a.length, b.length);
      System.arraycopy(c, 0, drop, a.length + b.length, c.length);
      java.util.Arrays.sort(drop);
      for (int i = 0; i < keep.length; i++) {
        if (keep[i] && java.util.Arrays.binarySearch(drop, f.ids[i]) >= 0) {
          keep[i] = false;
        }
      }
    }
  }

  private static final long[] EMPTY = new long[0];

  /** The ids {@code ids(listOf(v))} holds, as an array (a {@code long[]} value as it is). */
  static long[] idArray(Object v) {
    if (v instanceof long[] a) {
      return a;
    }
    return sorted(ids(listOf(v)));
  }

  private static long[] sorted(Set<Long> ids) {
    long[] out = new long[ids.size()];
    int i = 0;
    for (long id : ids) {
      out[i++] = id;
    }
    java.util.Arrays.sort(out);
    return out;
  }

  static final class Dedupe extends Rule {
    Dedupe() {
      super("dedupe");
    }

    @Override
    boolean isFilter() {
      return true;
    }

    @Override
    void filter(Frame f, boolean[] keep) {
      Set<Long> seen = new HashSet<>();
      for (int i = 0; i < keep.length; i++) {
        if (keep[i] && !seen.add(f.ids[i])) {
          keep[i] = false;
        }
      }
    }
  }

  static final class Filter extends Rule {
    final Operand feature;
    final Object equals;
    final Object notEquals;
    final double min;
    final double max;
    final boolean keepMissing;

    Filter(
        Operand feature,
        Object equals,
        Object notEquals,
        double min,
        double max,
        boolean keepMissing) {
      super("filter");
      this.feature = feature;
      this.equals = equals;
      this.notEquals = notEquals;
      this.min = min;
      this.max = max;
      this.keepMissing = keepMissing;
    }

    @Override
    boolean isFilter() {
      return true;
    }

    @Override
    void filter(Frame f, boolean[] keep) {
      for (int i = 0; i < keep.length; i++) {
        if (!keep[i]) {
          continue;
        }
        Object v = feature.value(f, i);
        if (v == null) {
          keep[i] = keepMissing;
          continue;
        }
        boolean ok = equals == null || Operand.same(v, equals);
        ok &= notEquals == null || !Operand.same(v, notEquals);
        double x = Operand.number(v);
        ok &= Double.isNaN(min) || x >= min;
        ok &= Double.isNaN(max) || x <= max;
        keep[i] = ok;
      }
    }
  }

  // ---------------------------------------------------------------- ordering

  abstract static class Ordering extends Rule {
    Ordering(String type) {
      super(type);
    }

    @Override
    boolean isFilter() {
      return false;
    }
  }

  static final class Boost extends Ordering {
    final Operand feature;
    final Object equals;
    final Operand context;
    final Set<Long> items;
    final float factor;

    Boost(Operand feature, Object equals, Operand context, List<Object> items, float factor) {
      super("boost");
      this.feature = feature;
      this.equals = equals;
      this.context = context;
      this.items = ids(items);
      this.factor = factor;
    }

    @Override
    void order(Frame f, List<Entry> ranked) {
      Object ctx = context == null ? null : context.value(f, 0);
      Set<Long> idSet = items;
      if (feature == null && ctx != null) {
        idSet = new HashSet<>(items);
        idSet.addAll(ids(listOf(ctx)));
      }
      boolean changed = false;
      for (Entry e : ranked) {
        boolean hit;
        if (feature != null) {
          Object v = e.row < 0 ? null : feature.value(f, e.row);
          hit = equals != null ? Operand.same(v, equals) : v != null && Operand.contains(ctx, v);
        } else {
          hit = idSet.contains(e.id);
        }
        if (hit && !e.pinned) {
          e.score *= factor;
          changed = true;
        }
      }
      if (changed) {
        sortUnpinned(ranked);
      }
    }
  }

  /** Sorts by score descending (stable), keeping pinned entries at their positions. */
  static void sortUnpinned(List<Entry> ranked) {
    List<Entry> free = new ArrayList<>();
    for (Entry e : ranked) {
      if (!e.pinned) {
        free.add(e);
      }
    }
    free.sort((a, b) -> Float.compare(b.score, a.score));
    int j = 0;
    for (int i = 0; i < ranked.size(); i++) {
      if (!ranked.get(i).pinned) {
        ranked.set(i, free.get(j++));
      }
    }
  }

  static final class Pin extends Ordering {
    final List<Long> items;
    final Operand context;
    final int position;

    Pin(List<Object> items, Operand context, int position) {
      super("pin");
      this.items = new ArrayList<>();
      for (Object o : items == null ? List.of() : items) {
        this.items.addAll(ids(List.of(o)));
      }
      this.context = context;
      this.position = position;
    }

    @Override
    void order(Frame f, List<Entry> ranked) {
      List<Long> pins = new ArrayList<>(items);
      if (context != null) {
        for (Object o : listOf(context.value(f, 0))) {
          pins.addAll(ids(List.of(o)));
        }
      }
      int at = Math.min(position, ranked.size());
      for (Long id : pins) {
        Entry found = null;
        for (int i = 0; i < ranked.size(); i++) {
          if (ranked.get(i).id == id) {
            found = ranked.remove(i);
            if (i < at) {
              at--;
            }
            break;
          }
        }
        if (found == null) {
          float s = ranked.isEmpty() ? 0f : ranked.get(Math.min(at, ranked.size() - 1)).score;
          found = new Entry(-1, id, s);
        }
        found.pinned = true;
        ranked.add(Math.min(at, ranked.size()), found);
        at++;
      }
    }
  }

  static final class Diversity extends Ordering {
    final Operand feature;
    final int maxPerValue;

    Diversity(Operand feature, int maxPerValue) {
      super("diversity");
      this.feature = feature;
      this.maxPerValue = maxPerValue;
    }

    /** Keeps the order but moves items beyond the cap of their value after all others. */
    @Override
    void order(Frame f, List<Entry> ranked) {
      // numbers are counted by value as doubles (Double.equals: by their bits) in a primitive
      // table, other values by equals; entries within the cap move up in place, the others after
      Map<Object, Integer> counts = null;
      NumberCounts numbers = new NumberCounts();
      int size = ranked.size();
      Entry[] tail = null;
      int heads = 0;
      int tails = 0;
      for (int i = 0; i < size; i++) {
        Entry e = ranked.get(i);
        Object v = e.row < 0 || e.pinned ? null : feature.value(f, e.row);
        int c = 0;
        if (v instanceof Number n) {
          c = numbers.increment(Double.doubleToLongBits(n.doubleValue()));
        } else if (v != null) {
          if (counts == null) {
            counts = new HashMap<>();
          }
          c = counts.merge(v, 1, Integer::sum);
        }
        if (c > maxPerValue) {
          if (tail == null) {
            tail = new Entry[size - i];
          }
          tail[tails++] = e;
        } else {
          ranked.set(heads++, e); // heads <= i: position i was read already
        }
      }
      for (int i = 0; i < tails; i++) {
        ranked.set(heads + i, tail[i]);
      }
    }
  }

  /** Counts per {@code long} key: an open-addressing table that grows at half full. */
  static final class NumberCounts {
    private long[] keys = new long[16];
    private int[] counts = new int[16];
    private int used;

    /** Adds one to the count of {@code key}; returns the new count. */
    int increment(long key) {
      int mask = keys.length - 1;
      int h = slot(key, mask);
      while (counts[h] != 0 && keys[h] != key) {
        h = (h + 1) & mask;
      }
      if (counts[h] == 0) {
        if (2 * (used + 1) > keys.length) {
          grow();
          return increment(key);
        }
        keys[h] = key;
        used++;
      }
      return ++counts[h];
    }

    private static int slot(long key, int mask) {
      long x = key * 0x9E3779B97F4A7C15L;
      return (int) (x ^ (x >>> 32)) & mask;
    }

    private void grow() {
      long[] oldKeys = keys;
      int[] oldCounts = counts;
      keys = new long[oldKeys.length * 2];
      counts = new int[oldKeys.length * 2];
      int mask = keys.length - 1;
      for (int i = 0; i < oldKeys.length; i++) {
        if (oldCounts[i] != 0) {
          int h = slot(oldKeys[i], mask);
          while (counts[h] != 0) {
            h = (h + 1) & mask;
          }
          keys[h] = oldKeys[i];
          counts[h] = oldCounts[i];
        }
      }
    }
  }

  static final class TopK extends Ordering {
    final int k;

    TopK(int k) {
      super("top-k");
      this.k = k;
    }

    @Override
    void order(Frame f, List<Entry> ranked) {
      while (ranked.size() > k) {
        ranked.remove(ranked.size() - 1);
      }
    }
  }
}
