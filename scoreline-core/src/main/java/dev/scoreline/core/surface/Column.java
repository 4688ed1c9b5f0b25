package dev.scoreline.core.surface;

import dev.scoreline.core.config.ConfigLoader;
import dev.scoreline.core.feature.ValueType;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * One declared transform of a model input: reads operands for a candidate row and writes {@link
 * #width} float32 values. Missing values (a feature not PRESENT, an absent context key) become the
 * column's {@code default} (0 unless set); a one-hot of a missing or unknown value is all zeros.
 */
abstract class Column {
  /** The transform keys, in the order the docs list them. */
  static final List<String> KINDS =
      List.of(
          "value", "log1p", "standardize", "minmax", "one-hot", "lookup", "pick", "dot", "equals");

  final String label;
  final int width;
  final float missing;

  Column(String label, int width, float missing) {
    this.label = label;
    this.width = width;
    this.missing = missing;
  }

  abstract void fill(Frame f, int row, float[] out, int offset);

  float orMissing(double v) {
    return Double.isNaN(v) ? missing : (float) v;
  }

  @Override
  public String toString() {
    return label;
  }

  // ---------------------------------------------------------------- compile

  /**
   * Compiles one column map such as {@code {standardize: item:price, mean: 50, std: 20}}.
   *
   * @param field where the column is, for messages ({@code inputs.features.columns[2]})
   * @param operands resolves operand names ({@code view:feature}, {@code context.x}, {@code
   *     candidate.score}) and registers the features to read
   */
  static Column compile(
      String field, Map<String, Object> spec, Function<String, Operand> operands) {
    String kind = null;
    for (String k : spec.keySet()) {
      if (KINDS.contains(k)) {
        if (kind != null) {
          throw bad(
              field, "has two transforms, '" + kind + "' and '" + k + "'; use one per column");
        }
        kind = k;
      }
    }
    if (kind == null) {
      throw bad(
          field,
          "names no transform; use one of "
              + KINDS
              + (spec.isEmpty() ? "" : " (keys given: " + spec.keySet() + ")"));
    }
    Params p = new Params(field, kind, spec);
    float dflt = (float) p.number("default", 0);
    Column c;
    switch (kind) {
      case "value":
        {
          Operand o = p.operand(kind, operands);
          int size = p.integer("size", -1);
          if (isList(o.type()) && size < 1) {
            throw bad(
                field,
                "'value: "
                    + o
                    + "' is a list feature; give its length with 'size' (e.g. size: 32)");
          }
          c = size < 1 ? new Scalar(o, dflt, x -> x) : new Vector(o, size, dflt);
          break;
        }
      case "log1p":
        c = new Scalar(p.operand(kind, operands), dflt, Math::log1p);
        break;
      case "standardize":
        {
          double mean = p.required("mean");
          double std = p.required("std");
          if (!(std > 0)) {
            throw bad(field, "std must be > 0, got " + std);
          }
          c = new Scalar(p.operand(kind, operands), dflt, x -> (x - mean) / std);
          break;
        }
      case "minmax":
        {
          double min = p.required("min");
          double max = p.required("max");
          if (!(max > min)) {
            throw bad(field, "max must be greater than min, got min " + min + ", max " + max);
          }
          c =
              new Scalar(
                  p.operand(kind, operands),
                  dflt,
                  x -> Math.max(0, Math.min(1, (x - min) / (max - min))));
          break;
        }
      case "one-hot":
        {
          Operand o = p.operand(kind, operands);
          List<Object> vocabulary = p.list("vocabulary");
          int size = vocabulary == null ? p.integer("size", -1) : vocabulary.size();
          if (size < 1) {
            throw bad(
                field, "one-hot needs 'size' (values 0..size-1) or a 'vocabulary' list of values");
          }
          c = new OneHot(o, size, vocabulary, dflt);
          break;
        }
      case "lookup":
        {
          Operand o = p.operand(kind, operands);
          List<Object> vocabulary = p.list("vocabulary");
          if (vocabulary == null || vocabulary.isEmpty()) {
            throw bad(field, "lookup needs a 'vocabulary' list; the column is the value's index");
          }
          c = new Lookup(o, vocabulary, (float) p.number("default", -1));
          break;
        }
      case "pick":
        {
          Operand list = p.operand(kind, operands);
          Operand index = p.operand("index", operands);
          c = new Pick(list, index, dflt);
          break;
        }
      case "dot":
        {
          List<Operand> two = p.operands(kind, operands, 2);
          c = new Dot(two.get(0), two.get(1), dflt);
          break;
        }
      case "equals":
        {
          List<Operand> two = p.operands(kind, operands, 2);
          c = new Equals(two.get(0), two.get(1));
          break;
        }
      default:
        throw new AssertionError(kind);
    }
    p.checkUnused();
    return c;
  }

  static boolean isList(ValueType t) {
    return t == ValueType.FP32_LIST || t == ValueType.INT64_LIST || t == ValueType.STRING_LIST;
  }

  static IllegalArgumentException bad(String field, String message) {
    return new IllegalArgumentException(field + ": " + message);
  }

  /** The parameters of one column or rule map, with checks that name the field. */
  static final class Params {
    final String field;
    final String kind;
    final Map<String, Object> spec;
    final Set<String> used = new java.util.HashSet<>();

    Params(String field, String kind, Map<String, Object> spec) {
      this.field = field;
      this.kind = kind;
      this.spec = new LinkedHashMap<>(spec);
      used.add(kind);
    }

    Object raw(String key) {
      used.add(key);
      return spec.get(key);
    }

    double number(String key, double dflt) {
      Object v = raw(key);
      if (v == null) {
        return dflt;
      }
      if (v instanceof Number n) {
        return n.doubleValue();
      }
      throw bad(field, "'" + key + "' must be a number, got '" + v + "'");
    }

    double required(String key) {
      if (spec.get(key) == null) {
        throw bad(field, kind + " needs '" + key + "'");
      }
      return number(key, 0);
    }

    int integer(String key, int dflt) {
      double d = number(key, dflt);
      if (d != Math.rint(d)) {
        throw bad(field, "'" + key + "' must be a whole number, got " + d);
      }
      return (int) d;
    }

    String string(String key) {
      Object v = raw(key);
      if (v == null) {
        return null;
      }
      if (v instanceof String s) {
        return s;
      }
      throw bad(field, "'" + key + "' must be a name, got '" + v + "'");
    }

    @SuppressWarnings("unchecked")
    List<Object> list(String key) {
      Object v = raw(key);
      if (v == null) {
        return null;
      }
      if (v instanceof List<?> l) {
        return (List<Object>) l;
      }
      throw bad(field, "'" + key + "' must be a list, got '" + v + "'");
    }

    Operand operand(String key, Function<String, Operand> operands) {
      Object v = raw(key);
      if (!(v instanceof String s)) {
        throw bad(
            field,
            "'"
                + key
                + "' must name a value: view:feature, context.<key> or candidate.score"
                + (v == null ? "" : ", got '" + v + "'"));
      }
      return operands.apply(s);
    }

    List<Operand> operands(String key, Function<String, Operand> operands, int n) {
      Object v = raw(key);
      if (!(v instanceof List<?> l)
          || l.size() != n
          || !l.stream().allMatch(String.class::isInstance)) {
        throw bad(field, "'" + key + "' takes a list of " + n + " value names, got '" + v + "'");
      }
      List<Operand> out = new ArrayList<>();
      for (Object o : l) {
        out.add(operands.apply((String) o));
      }
      return out;
    }

    void checkUnused() {
      for (String k : spec.keySet()) {
        if (!used.contains(k)) {
          String near = ConfigLoader.nearest(k, used);
          throw bad(
              field,
              "unknown key '"
                  + k
                  + "' for "
                  + kind
                  + (near == null ? "" : "; did you mean '" + near + "'?")
                  + " Valid keys: "
                  + used);
        }
      }
    }
  }

  // ---------------------------------------------------------------- column kinds

  static final class Scalar extends Column {
    interface Fn {
      double apply(double x);
    }

    final Operand in;
    final Fn fn;

    Scalar(Operand in, float missing, Fn fn) {
      super(in.label, 1, missing);
      this.in = in;
      this.fn = fn;
    }

    @Override
    void fill(Frame f, int row, float[] out, int offset) {
      double x = in.number(f, row);
      out[offset] = Double.isNaN(x) ? missing : (float) fn.apply(x);
    }
  }

  static final class Vector extends Column {
    final Operand in;

    Vector(Operand in, int size, float missing) {
      super(in.label, size, missing);
      this.in = in;
    }

    @Override
    void fill(Frame f, int row, float[] out, int offset) {
      Object v = in.value(f, row);
      if (v instanceof float[] a) {
        int n = Math.min(a.length, width);
        System.arraycopy(a, 0, out, offset, n);
        Arrays.fill(out, offset + n, offset + width, missing);
        return;
      }
      for (int i = 0; i < width; i++) {
        out[offset + i] = orMissing(Operand.element(v, i));
      }
    }
  }

  static final class OneHot extends Column {
    final Operand in;
    final List<Object> vocabulary;

    OneHot(Operand in, int size, List<Object> vocabulary, float missing) {
      super(in.label, size, missing);
      this.in = in;
      this.vocabulary = vocabulary;
    }

    @Override
    void fill(Frame f, int row, float[] out, int offset) {
      Arrays.fill(out, offset, offset + width, 0f);
      int i =
          vocabulary == null
              ? index(in.number(f, row))
              : Lookup.indexOf(vocabulary, in.value(f, row));
      if (i >= 0 && i < width) {
        out[offset + i] = 1f;
      }
    }

    private static int index(double d) {
      return Double.isNaN(d) || d != Math.rint(d) ? -1 : (int) d;
    }
  }

  static final class Lookup extends Column {
    final Operand in;
    final List<Object> vocabulary;

    Lookup(Operand in, List<Object> vocabulary, float missing) {
      super(in.label, 1, missing);
      this.in = in;
      this.vocabulary = vocabulary;
    }

    static int indexOf(List<Object> vocabulary, Object v) {
      for (int i = 0; i < vocabulary.size(); i++) {
        if (Operand.same(vocabulary.get(i), v)) {
          return i;
        }
      }
      return -1;
    }

    @Override
    void fill(Frame f, int row, float[] out, int offset) {
      int i = indexOf(vocabulary, in.value(f, row));
      out[offset] = i < 0 ? missing : i;
    }
  }

  static final class Pick extends Column {
    final Operand list;
    final Operand index;

    Pick(Operand list, Operand index, float missing) {
      super(list.label + "[" + index.label + "]", 1, missing);
      this.list = list;
      this.index = index;
    }

    @Override
    void fill(Frame f, int row, float[] out, int offset) {
      double i = index.number(f, row);
      if (Double.isNaN(i) || i < 0 || i != Math.rint(i)) {
        out[offset] = missing;
        return;
      }
      out[offset] = orMissing(Operand.element(list.value(f, row), (int) i));
    }
  }

  static final class Dot extends Column {
    final Operand a;
    final Operand b;

    Dot(Operand a, Operand b, float missing) {
      super("dot(" + a.label + ", " + b.label + ")", 1, missing);
      this.a = a;
      this.b = b;
    }

    @Override
    void fill(Frame f, int row, float[] out, int offset) {
      Object x = a.value(f, row);
      Object y = b.value(f, row);
      if (x instanceof float[] u && y instanceof float[] v) {
        if (u.length != v.length) {
          out[offset] = missing;
          return;
        }
        float s = 0;
        for (int i = 0; i < u.length; i++) {
          s += u[i] * v[i];
        }
        out[offset] = s;
        return;
      }
      int n = Operand.length(x);
      if (n < 0 || n != Operand.length(y)) {
        out[offset] = missing;
        return;
      }
      float s = 0;
      for (int i = 0; i < n; i++) {
        s += (float) Operand.element(x, i) * (float) Operand.element(y, i);
      }
      out[offset] = s;
    }
  }

  static final class Equals extends Column {
    final Operand a;
    final Operand b;

    Equals(Operand a, Operand b) {
      super(a.label + " == " + b.label, 1, 0f);
      this.a = a;
      this.b = b;
    }

    @Override
    void fill(Frame f, int row, float[] out, int offset) {
      out[offset] = Operand.same(a.value(f, row), b.value(f, row)) ? 1f : 0f;
    }
  }
}
