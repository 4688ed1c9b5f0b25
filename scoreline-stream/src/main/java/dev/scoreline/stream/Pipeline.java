package dev.scoreline.stream;

import dev.scoreline.core.feature.online.OnlineFeatureStore;
import dev.scoreline.core.surface.SurfaceEngine;
import dev.scoreline.core.surface.SurfaceRequest;
import dev.scoreline.core.surface.SurfaceResult;
import dev.scoreline.stream.spi.SourceRecord;
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
   * Pushes the features of one view update: the entity's state as of its newest event, stamped with
   * that event's time.
   */
  void push(StreamConfig.ViewUpdate u, StreamEvent e, EntityState state) {
    Map<String, Object> row = state.features(u);
    row.putAll(e.key);
    row.put(u.view().timestampColumn(), Math.floorDiv(state.newestMicros(), 1000L));
    features.pushRows(u.view().name(), List.of(row));
  }

  /** Runs the surface for the event: the entity key, and the event's fields as the context. */
  SurfaceResult rank(StreamEvent e) {
    return engine.rank(
        config.name(), new SurfaceRequest(e.key, e.fields, null, Map.of(), false, null));
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
