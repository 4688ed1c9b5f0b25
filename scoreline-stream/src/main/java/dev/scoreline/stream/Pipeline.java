package dev.scoreline.stream;

import dev.scoreline.core.error.ErrorCode;
import dev.scoreline.core.error.ScorelineException;
import dev.scoreline.core.feature.FeatureRow;
import dev.scoreline.core.feature.ValueType;
import dev.scoreline.core.feature.online.OnlineFeatureStore;
import dev.scoreline.core.surface.SurfaceEngine;
import dev.scoreline.core.surface.SurfaceRequest;
import dev.scoreline.core.surface.SurfaceResult;
import dev.scoreline.stream.spi.SourceRecord;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The per-event steps shared by {@link StreamProcessor} and {@link EventScorer}: push an entity's
 * updated features, run the surface, apply the alert rules.
 */
final class Pipeline {
  private final StreamConfig config;
  private final SurfaceEngine engine;
  private final OnlineFeatureStore features;

  Pipeline(StreamConfig config, SurfaceEngine engine, OnlineFeatureStore features) {
    this.config = config;
    this.engine = engine;
    this.features = features;
  }

  /**
   * The row of one view update: the entity's state as of its newest event, stamped with that
   * event's time, with the Java types of the view's features.
   */
  FeatureRow row(StreamConfig.ViewUpdate u, StreamEvent e, EntityState state) {
    List<StreamConfig.Aggregation> aggs = u.aggregations();
    Object[] values = new Object[aggs.size()];
    for (int i = 0; i < values.length; i++) {
      StreamConfig.Aggregation a = aggs.get(i);
      values[i] = typed(a.type(), state.compute(a));
    }
    long micros = state.newestMicros();
    Instant t =
        Instant.ofEpochSecond(
            Math.floorDiv(micros, 1_000_000L), Math.floorMod(micros, 1_000_000L) * 1000L);
    return new FeatureRow(e.keyValues, t, null, values);
  }

  /** Writes rows of one view update (last-write-wins by event time). */
  Void write(StreamConfig.ViewUpdate u, List<FeatureRow> rows) {
    features.write(u.view().name(), rows);
    return null;
  }

  /** Pushes the features of one view update for one event. */
  void push(StreamConfig.ViewUpdate u, StreamEvent e, EntityState state) {
    write(u, List.of(row(u, e, state)));
  }

  /** A computed or raw value as the Java type of a feature type (see {@link ValueType}). */
  static Object typed(ValueType t, Object v) {
    if (v == null) {
      return null;
    }
    switch (t) {
      case INT64:
        if (v instanceof Long) {
          return v;
        }
        if (v instanceof Number n) {
          return Math.round(n.doubleValue());
        }
        return parse(v, t);
      case FP64:
        return v instanceof Number n ? (Object) n.doubleValue() : parse(v, t);
      case FP32:
        return v instanceof Number n ? (Object) n.floatValue() : parse(v, t);
      case STRING:
        return String.valueOf(v);
      case BOOL:
        return v instanceof Boolean ? v : Boolean.valueOf(String.valueOf(v));
      case STRING_LIST:
        {
          List<String> out = new ArrayList<>();
          for (Object o : (List<?>) v) {
            out.add(String.valueOf(o));
          }
          return out;
        }
      case INT64_LIST:
        {
          List<?> l = (List<?>) v;
          long[] out = new long[l.size()];
          for (int i = 0; i < out.length; i++) {
            out[i] = ((Number) typed(ValueType.INT64, l.get(i))).longValue();
          }
          return out;
        }
      case FP32_LIST:
        {
          List<?> l = (List<?>) v;
          float[] out = new float[l.size()];
          for (int i = 0; i < out.length; i++) {
            out[i] = ((Number) typed(ValueType.FP32, l.get(i))).floatValue();
          }
          return out;
        }
      default:
        throw new ScorelineException(
            ErrorCode.USER_ERROR, "a stream cannot write " + t + " features");
    }
  }

  private static Object parse(Object v, ValueType t) {
    try {
      double d = Double.parseDouble(String.valueOf(v).trim());
      return t == ValueType.INT64
          ? (Object) Math.round(d)
          : t == ValueType.FP32 ? (Object) (float) d : (Object) d;
    } catch (NumberFormatException e) {
      throw ScorelineException.userError(
          null,
          "'"
              + v
              + "' is not a number; the feature is "
              + t.name().toLowerCase(java.util.Locale.ROOT));
    }
  }

  /** Runs the surface for the event: the entity key, and the event's fields as the context. */
  SurfaceResult rank(StreamEvent e) {
    return engine.rank(
        config.name(), new SurfaceRequest(e.key, e.fields, null, Map.of(), false, null));
  }

  /**
   * Runs the surface for several events of different entities at once ({@link
   * SurfaceEngine#rankAll}); the results are those {@link #rank} gives for each, in order.
   */
  List<SurfaceResult> rankAll(List<StreamEvent> events) {
    List<SurfaceRequest> requests = new ArrayList<>(events.size());
    for (StreamEvent e : events) {
      requests.add(new SurfaceRequest(e.key, e.fields, null, Map.of(), false, null));
    }
    return engine.rankAll(config.name(), requests);
  }

  StreamResult result(StreamEvent e, SurfaceResult res) {
    List<String> alerts = List.of();
    if (!config.alerts().isEmpty()) {
      alerts = new ArrayList<>(1);
      for (StreamConfig.Alert a : config.alerts()) {
        if (a.fires(res.score())) {
          alerts.add(a.name());
        }
      }
    }
    SourceRecord r = e.record;
    return new StreamResult(
        config.name(),
        e.id,
        e.key,
        res.score(),
        res.items(),
        alerts,
        res.model(),
        res.modelVersion(),
        e.micros,
        r.appendMicros(),
        Json.nowMicros(),
        r.partition(),
        r.offset(),
        e.keyBytes);
  }
}
