package dev.scoreline.core.surface;

import dev.scoreline.core.feature.ValueType;
import java.util.List;

/**
 * A value a transform or rule reads for a candidate row: an entity feature ({@code view:feature} of
 * the surface's entity), a candidate feature ({@code view:feature} of the candidate entity), a
 * request context value ({@code context.<key>}), the retrieval score ({@code candidate.score}) or
 * the candidate id ({@code candidate.id}). Values are null when missing.
 */
abstract class Operand {
  final String label;

  Operand(String label) {
    this.label = label;
  }

  /** The value for candidate {@code row}: Long, Double, Float, Boolean, String, a list, or null. */
  abstract Object value(Frame f, int row);

  /**
   * {@code number(value(f, row))}: the value as a number, NaN when missing or not a number/boolean.
   * Features read it without boxing.
   */
  double number(Frame f, int row) {
    return number(value(f, row));
  }

  /** The feature type when this is a feature, else null. */
  ValueType type() {
    return null;
  }

  /** Whether the value is the same for every candidate row. */
  abstract boolean perEntity();

  @Override
  public String toString() {
    return label;
  }

  static final class EntityFeature extends Operand {
    final String name;
    final ValueType type;
    int column = -1;

    EntityFeature(String name, ValueType type) {
      super(name);
      this.name = name;
      this.type = type;
    }

    @Override
    Object value(Frame f, int row) {
      return f.entity.value(column, f.entityRow);
    }

    @Override
    double number(Frame f, int row) {
      return f.entity.number(column, f.entityRow);
    }

    @Override
    ValueType type() {
      return type;
    }

    @Override
    boolean perEntity() {
      return true;
    }
  }

  static final class CandidateFeature extends Operand {
    final String name;
    final ValueType type;
    int column = -1;

    CandidateFeature(String name, ValueType type) {
      super(name);
      this.name = name;
      this.type = type;
    }

    @Override
    Object value(Frame f, int row) {
      return f.candidates.value(column, row);
    }

    @Override
    double number(Frame f, int row) {
      return f.candidates.number(column, row);
    }

    @Override
    ValueType type() {
      return type;
    }

    @Override
    boolean perEntity() {
      return false;
    }
  }

  static final class Context extends Operand {
    final String key;

    Context(String key) {
      super("context." + key);
      this.key = key;
    }

    @Override
    Object value(Frame f, int row) {
      return f.context.get(key);
    }

    @Override
    boolean perEntity() {
      return true;
    }
  }

  static final class RetrievalScore extends Operand {
    RetrievalScore() {
      super("candidate.score");
    }

    @Override
    Object value(Frame f, int row) {
      return f.retrievalScores[row];
    }

    @Override
    boolean perEntity() {
      return false;
    }
  }

  static final class CandidateId extends Operand {
    CandidateId() {
      super("candidate.id");
    }

    @Override
    Object value(Frame f, int row) {
      return f.ids[row];
    }

    @Override
    boolean perEntity() {
      return false;
    }
  }

  // ------------------------------------------------------------------ value helpers

  /** A number from a value, or NaN when the value is missing or not a number/boolean. */
  static double number(Object v) {
    if (v instanceof Number n) {
      return n.doubleValue();
    }
    if (v instanceof Boolean b) {
      return b ? 1 : 0;
    }
    return Double.NaN;
  }

  /** Element {@code i} of a list value as a number, or NaN. */
  static double element(Object v, int i) {
    if (v instanceof float[] a) {
      return i < a.length ? a[i] : Double.NaN;
    }
    if (v instanceof long[] a) {
      return i < a.length ? a[i] : Double.NaN;
    }
    if (v instanceof double[] a) {
      return i < a.length ? a[i] : Double.NaN;
    }
    if (v instanceof List<?> l) {
      return i < l.size() ? number(l.get(i)) : Double.NaN;
    }
    return Double.NaN;
  }

  /** The length of a list value, or -1 when it is not a list. */
  static int length(Object v) {
    if (v instanceof float[] a) {
      return a.length;
    }
    if (v instanceof long[] a) {
      return a.length;
    }
    if (v instanceof double[] a) {
      return a.length;
    }
    if (v instanceof List<?> l) {
      return l.size();
    }
    return -1;
  }

  /**
   * Whether two values are equal as a user means it: numbers by numeric value (so context {@code 3}
   * equals an int64 feature 3), everything else by {@link Object#equals}.
   */
  static boolean same(Object a, Object b) {
    if (a == null || b == null) {
      return false;
    }
    if ((a instanceof Number || a instanceof Boolean)
        && (b instanceof Number || b instanceof Boolean)) {
      return number(a) == number(b);
    }
    return a.equals(b);
  }

  /** Whether a list value (or a single value) contains {@code x}. */
  static boolean contains(Object list, Object x) {
    if (list == null) {
      return false;
    }
    if (list instanceof long[] a && x instanceof Number n) {
      long t = n.longValue();
      for (long e : a) {
        if (e == t) {
          return true;
        }
      }
      return false;
    }
    if (list instanceof List<?> l) {
      for (Object e : l) {
        if (same(e, x)) {
          return true;
        }
      }
      return false;
    }
    int len = length(list);
    if (len >= 0) {
      double t = number(x);
      for (int i = 0; i < len; i++) {
        if (element(list, i) == t) {
          return true;
        }
      }
      return false;
    }
    return same(list, x);
  }
}
