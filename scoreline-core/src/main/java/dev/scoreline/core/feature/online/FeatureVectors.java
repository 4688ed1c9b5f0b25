package dev.scoreline.core.feature.online;

import dev.scoreline.core.feature.FeatureRef;
import dev.scoreline.core.feature.ValueType;
import java.time.Instant;
import java.util.List;

/**
 * The result of an online read, columnar: for every requested feature (a column, in request order,
 * named {@code view:feature}) and every entity row (in request order), a status, a value and the
 * event timestamp of the value.
 *
 * <p>Values have the Java type of their {@link ValueType} ({@code Long}, {@code Double}, {@code
 * Float}, {@code String}, {@code Boolean}, {@code byte[]}, {@code float[]}, {@code long[]}, {@code
 * List<String>}); the value is null unless the status is {@link FeatureStatus#PRESENT}. Scalar
 * numbers are stored unboxed: {@link #getLong}, {@link #getDouble}, {@link #getFloat} and {@link
 * #getBoolean} read them without allocation (0 / false when not present). Arrays and lists are
 * shared between rows with the same entity key: do not modify them.
 *
 * <p>The event timestamp is that of the view's stored value; it is reported for PRESENT, NULL and
 * EXPIRED values and is null for NOT_FOUND.
 */
public final class FeatureVectors {
  /** {@link #eventMicros} when there is no timestamp. */
  public static final long NO_TIME = Long.MIN_VALUE;

  private final ReadPlan plan;
  private final int rows;

  /** Per column: raw bits of INT64, FP64 (double bits), FP32 (float bits), BOOL (0/1); or null. */
  final long[][] prims;

  /** Per column: STRING, BYTES and list values; or null for primitive columns. */
  final Object[][] objects;

  /** Per column, per row: {@link FeatureStatus#code()}. */
  final byte[][] statuses;

  /** Per view slot, per row: event time in microseconds, or {@link #NO_TIME}. */
  final long[][] eventMicros;

  FeatureVectors(ReadPlan plan, int rows) {
    this.plan = plan;
    this.rows = rows;
    int n = plan.types.length;
    prims = new long[n][];
    objects = new Object[n][];
    statuses = new byte[n][];
    for (int f = 0; f < n; f++) {
      if (isPrimitive(plan.types[f])) {
        prims[f] = new long[rows];
      } else {
        objects[f] = new Object[rows];
      }
      statuses[f] = new byte[rows];
    }
    eventMicros = new long[plan.viewSlots][rows];
  }

  static boolean isPrimitive(ValueType t) {
    return t == ValueType.INT64
        || t == ValueType.FP64
        || t == ValueType.FP32
        || t == ValueType.BOOL;
  }

  /** The requested features, in request order ({@code view:*} expanded). */
  public List<FeatureRef> features() {
    return plan.features;
  }

  /** The column names {@code view:feature}, in request order. */
  public List<String> names() {
    return plan.names;
  }

  public int featureCount() {
    return plan.types.length;
  }

  public int rowCount() {
    return rows;
  }

  /** The column of {@code view:feature}, or -1. */
  public int indexOf(String name) {
    return plan.names.indexOf(name);
  }

  public ValueType type(int feature) {
    return plan.types[feature];
  }

  public FeatureStatus status(int feature, int row) {
    return FeatureStatus.of(statuses[feature][row]);
  }

  public boolean isPresent(int feature, int row) {
    return statuses[feature][row] == FeatureStatus.PRESENT.code();
  }

  /** The value (boxed for scalars), or null unless PRESENT. */
  public Object value(int feature, int row) {
    if (!isPresent(feature, row)) {
      return null;
    }
    long[] p = prims[feature];
    if (p == null) {
      return objects[feature][row];
    }
    long bits = p[row];
    switch (plan.types[feature]) {
      case INT64:
        return bits;
      case FP64:
        return Double.longBitsToDouble(bits);
      case FP32:
        return Float.intBitsToFloat((int) bits);
      case BOOL:
        return bits != 0;
      default:
        throw new IllegalStateException("unreachable");
    }
  }

  /**
   * The value as a double without boxing, for any type: INT64, FP64 and FP32 values converted, BOOL
   * 1 or 0; NaN when not PRESENT and for the other types (strings, bytes, lists). The same as
   * {@code ((Number) value).doubleValue()} (BOOL: 1 or 0) where the value is a number or boolean.
   */
  public double number(int feature, int row) {
    long[] p = prims[feature];
    if (p == null || !isPresent(feature, row)) {
      return Double.NaN;
    }
    long bits = p[row];
    switch (plan.types[feature]) {
      case INT64:
        return bits;
      case FP64:
        return Double.longBitsToDouble(bits);
      case FP32:
        return Float.intBitsToFloat((int) bits);
      case BOOL:
        return bits != 0 ? 1 : 0;
      default:
        throw new IllegalStateException("unreachable");
    }
  }

  /** An INT64 value; 0 when not PRESENT. */
  public long getLong(int feature, int row) {
    requireType(feature, ValueType.INT64, "getLong");
    return isPresent(feature, row) ? prims[feature][row] : 0L;
  }

  /** An FP64 or FP32 value (widened); 0 when not PRESENT. */
  public double getDouble(int feature, int row) {
    ValueType t = plan.types[feature];
    if (!isPresent(feature, row)) {
      requireFloating(feature, t, "getDouble");
      return 0d;
    }
    if (t == ValueType.FP64) {
      return Double.longBitsToDouble(prims[feature][row]);
    }
    requireFloating(feature, t, "getDouble");
    return Float.intBitsToFloat((int) prims[feature][row]);
  }

  /** An FP32 value, or an FP64 value narrowed; 0 when not PRESENT. */
  public float getFloat(int feature, int row) {
    ValueType t = plan.types[feature];
    requireFloating(feature, t, "getFloat");
    if (!isPresent(feature, row)) {
      return 0f;
    }
    long bits = prims[feature][row];
    return t == ValueType.FP32
        ? Float.intBitsToFloat((int) bits)
        : (float) Double.longBitsToDouble(bits);
  }

  /** A BOOL value; false when not PRESENT. */
  public boolean getBoolean(int feature, int row) {
    requireType(feature, ValueType.BOOL, "getBoolean");
    return isPresent(feature, row) && prims[feature][row] != 0;
  }

  /** The event time of the value in microseconds since the epoch, or {@link #NO_TIME}. */
  public long eventMicros(int feature, int row) {
    if (statuses[feature][row] == FeatureStatus.NOT_FOUND.code()) {
      return NO_TIME;
    }
    return eventMicros[plan.viewSlotOfFeature[feature]][row];
  }

  /** The event time of the value, or null (NOT_FOUND). */
  public Instant eventTime(int feature, int row) {
    long m = eventMicros(feature, row);
    return m == NO_TIME ? null : Times.instant(m);
  }

  private void requireType(int feature, ValueType expected, String method) {
    if (plan.types[feature] != expected) {
      throw new IllegalStateException(
          method + ": feature " + plan.names.get(feature) + " is " + plan.types[feature]);
    }
  }

  private void requireFloating(int feature, ValueType t, String method) {
    if (t != ValueType.FP64 && t != ValueType.FP32) {
      throw new IllegalStateException(method + ": feature " + plan.names.get(feature) + " is " + t);
    }
  }

  @Override
  public String toString() {
    return "FeatureVectors[" + rows + " rows x " + plan.names + "]";
  }
}
