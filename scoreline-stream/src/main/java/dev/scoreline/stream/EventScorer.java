package dev.scoreline.stream;

import static java.util.Objects.requireNonNull;

import dev.scoreline.core.error.ScorelineException;
import dev.scoreline.core.feature.online.OnlineFeatureStore;
import dev.scoreline.core.kv.KeyHash;
import dev.scoreline.core.surface.SurfaceEngine;
import dev.scoreline.stream.spi.SourceRecord;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * Runs events through a streaming surface's per-event steps on the calling thread, without a
 * source, sinks or commits: the same parsing, feature updates, pipeline and alert rules as {@link
 * StreamProcessor}. For building training sets whose inputs are exactly what streaming computes,
 * and for tests. Not thread-safe; entity states live in memory.
 */
public final class EventScorer {
  private final StreamConfig config;
  private final Pipeline pipeline;
  private final Map<Key, EntityState> states = new HashMap<>();
  private long offset;

  private record Key(byte[] bytes) {
    @Override
    public boolean equals(Object o) {
      return o instanceof Key k && Arrays.equals(k.bytes, bytes);
    }

    @Override
    public int hashCode() {
      return KeyHash.of(bytes);
    }
  }

  public EventScorer(StreamConfig config, SurfaceEngine engine, OnlineFeatureStore features) {
    this.config = requireNonNull(config, "config is null");
    this.pipeline =
        new Pipeline(
            config,
            requireNonNull(engine, "engine is null"),
            requireNonNull(features, "features is null"));
  }

  /**
   * Processes one event (a JSON object) as the next record of partition 0.
   *
   * @param appendMicros when it was "accepted" (the event time when the event has none)
   * @throws ScorelineException USER_ERROR for an event a stream would send to its dead letters
   */
  public StreamResult process(byte[] event, long appendMicros) {
    SourceRecord r = new SourceRecord(0, offset++, appendMicros, event);
    StreamEvent e;
    try {
      e = StreamEvent.parse(r, config, "scorer");
    } catch (StreamEvent.Poison p) {
      throw new ScorelineException(p.code, p.stage, p.getMessage(), null);
    }
    Key k = new Key(e.keyBytes);
    EntityState s = states.computeIfAbsent(k, x -> new EntityState());
    s.apply(
        r.partition(),
        r.offset(),
        e.idHash,
        e.micros,
        e.tracked,
        config.dedupIds(),
        config.keepWindowMicros(),
        config.keepEntries());
    for (StreamConfig.ViewUpdate u : config.updates()) {
      pipeline.push(u, e, s);
    }
    return pipeline.result(e, pipeline.rank(e));
  }
}
