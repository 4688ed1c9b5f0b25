package dev.scoreline.stream;

import static java.util.Objects.requireNonNull;

import dev.scoreline.core.error.ScorelineException;
import dev.scoreline.core.feature.Definitions.Entity;
import dev.scoreline.core.feature.Definitions.Feature;
import dev.scoreline.core.feature.Definitions.FeatureView;
import dev.scoreline.core.feature.Definitions.KeyColumn;
import dev.scoreline.core.feature.FeatureRegistry;
import dev.scoreline.core.feature.ValueType;
import dev.scoreline.core.surface.Surface;
import dev.scoreline.core.surface.SurfaceSpec;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The {@code stream:} section of a surface ({@code surfaces/<name>.yaml}), checked against the
 * feature registry: where events come from, how an event names its entity, which feature views it
 * updates, which alerts fire, and where results go. The reference is {@code docs/streaming.md}.
 *
 * <pre>{@code
 * stream:
 *   source: {type: embedded, stream: transactions}
 *   key: {card_id: card_id}
 *   event-id: txn_id
 *   event-time: ts
 *   updates:
 *     - view: card_velocity
 *       features:
 *         txn_count_10m: {count: {window: 10m}}
 *         amount_sum_10m: {sum: {field: amount, window: 10m}}
 *         recent_merchants: {last-n: {field: merchant, n: 5}}
 *   rules:
 *     - alert: {name: high-risk, score-above: 0.9}
 *   sinks: {kv: {}, log: {}}
 * }</pre>
 */
public final class StreamConfig {
  /** Defaults. */
  public static final int DEFAULT_LANES = 2;

  public static final int DEFAULT_BATCH_SIZE = 256;
  public static final int DEFAULT_BATCHES_IN_FLIGHT = 4;
  public static final long DEFAULT_MAX_LAG = 200_000;
  public static final Duration DEFAULT_COMMIT_INTERVAL = Duration.ofMillis(50);
  public static final int DEFAULT_DEDUP_IDS = 32;
  public static final int DEFAULT_STATE_CACHE = 20_000;

  /** A transport section: its type and its settings for the connector. */
  public record Section(String type, String field, Map<String, Object> config) {}

  /** An alert rule: fires when the score is above or below a threshold. */
  public record Alert(String name, Double scoreAbove, Double scoreBelow) {
    boolean fires(Float score) {
      if (score == null || score.isNaN()) {
        return false;
      }
      return (scoreAbove == null || score > scoreAbove)
          && (scoreBelow == null || score < scoreBelow);
    }
  }

  private final Surface surface;
  private final String origin;
  private final Section source;
  private final String embeddedStream;
  private final Map<String, String> keyFields;
  private final String eventIdField;
  private final String eventTimeField;
  private final List<ViewUpdate> updates;
  private final List<String> trackedFields;
  private final List<Alert> alerts;
  private final List<Section> sinks;
  private final Section deadLetters;
  private final int lanes;
  private final int batchSize;
  private final int batchesInFlight;
  private final long maxLag;
  private final Duration commitInterval;
  private final int dedupIds;
  private final int stateCache;
  private final long keepWindowMicros;
  private final int keepEntries;

  private StreamConfig(Surface surface, FeatureRegistry registry) {
    this.surface = surface;
    this.origin = surface.origin();
    SurfaceSpec spec = surface.spec();
    ConfigNode root = new ConfigNode(origin, "stream", spec.stream());

    ConfigNode src = root.node("source");
    String type = src.string("type", "embedded");
    if (type.equals("embedded")) {
      this.embeddedStream = src.string("stream", surface.name());
      if (!embeddedStream.matches("[A-Za-z0-9][A-Za-z0-9_.-]*")) {
        throw src.error(
            "stream", "must be letters, digits, '-', '_', '.', got '" + embeddedStream + "'");
      }
      src.done();
      this.source = new Section("embedded", src.path(), Map.of("stream", embeddedStream));
    } else {
      this.embeddedStream = null;
      Map<String, Object> m = new LinkedHashMap<>(src.asMap());
      m.remove("type");
      this.source = new Section(type, src.path(), m);
    }

    Entity entity = surface.entity();
    this.keyFields = new LinkedHashMap<>();
    ConfigNode key = root.node("key");
    for (KeyColumn c : entity.keys()) {
      keyFields.put(c.name(), key.string(c.name(), c.name()));
    }
    for (String k : key.keys()) {
      if (!keyFields.containsKey(k)) {
        throw key.error(
            k,
            "'"
                + k
                + "' is not a key column of entity '"
                + entity.name()
                + "'; its key columns are "
                + keyFields.keySet()
                + " (map each to the event field holding it)");
      }
    }
    this.eventIdField = root.string("event-id", "event_id");
    this.eventTimeField = root.string("event-time", "event_timestamp");

    // feature updates
    this.updates = new ArrayList<>();
    List<String> tracked = new ArrayList<>();
    List<Object> ups = root.list("updates");
    long window = 0;
    int entries = 1;
    for (int i = 0; i < ups.size(); i++) {
      ConfigNode u = ConfigNode.of(origin, "stream.updates[" + i + "]", ups.get(i));
      ViewUpdate vu = ViewUpdate.compile(u, registry, entity, tracked);
      for (ViewUpdate other : updates) {
        if (other.view().name().equals(vu.view().name())) {
          throw u.error("view", "view '" + vu.view().name() + "' is updated twice; merge the two");
        }
      }
      updates.add(vu);
      for (Aggregation a : vu.aggregations()) {
        window = Math.max(window, a.windowMicros());
        entries = Math.max(entries, a.entriesNeeded());
      }
    }
    this.trackedFields = List.copyOf(tracked);
    this.keepWindowMicros = window;
    this.keepEntries = entries;

    // rules
    this.alerts = new ArrayList<>();
    List<Object> rules = root.list("rules");
    for (int i = 0; i < rules.size(); i++) {
      String f = "stream.rules[" + i + "]";
      ConfigNode r = ConfigNode.of(origin, f, rules.get(i));
      if (!r.has("alert") || r.keys().size() != 1) {
        throw ConfigNode.error(
            origin,
            f,
            "a rule is one map entry such as 'alert: {name: high-risk, score-above: 0.9}'");
      }
      ConfigNode a = r.node("alert");
      String name = a.string("name", "alert");
      Double above = a.has("score-above") ? a.number("score-above", 0) : null;
      Double below = a.has("score-below") ? a.number("score-below", 0) : null;
      a.done();
      if (above == null && below == null) {
        throw a.error(null, "needs score-above or score-below (or both)");
      }
      if (surface.candidateEntity() != null) {
        throw a.error(
            null, "alert rules read the score of a scoring surface; this surface ranks candidates");
      }
      alerts.add(new Alert(name, above, below));
    }

    // sinks
    this.sinks = new ArrayList<>();
    ConfigNode s = root.node("sinks");
    if (!root.has("sinks")) {
      sinks.add(new Section("kv", "stream.sinks.kv", Map.of()));
      sinks.add(new Section("log", "stream.sinks.log", Map.of()));
    }
    for (String t : s.keys()) {
      Object v = s.raw(t);
      if (v == null || Boolean.FALSE.equals(v)) {
        continue;
      }
      ConfigNode n = ConfigNode.of(origin, s.field(t), v);
      sinks.add(new Section(t, n.path(), n.asMap()));
    }
    if (sinks.isEmpty()) {
      throw root.error(
          "sinks", "names no sink; use kv, log, webhook or kafka (see docs/streaming.md)");
    }
    ConfigNode dl = root.node("dead-letters");
    String dlType = dl.string("type", "embedded".equals(type) ? "log" : type);
    Map<String, Object> dlm = new LinkedHashMap<>(dl.asMap());
    dlm.remove("type");
    this.deadLetters = new Section(dlType, dl.path(), dlm);

    this.lanes = root.integer("lanes", DEFAULT_LANES, 1, 256);
    this.batchSize = root.integer("batch-size", DEFAULT_BATCH_SIZE, 1, 100_000);
    this.batchesInFlight = root.integer("batches-in-flight", DEFAULT_BATCHES_IN_FLIGHT, 1, 1_024);
    this.maxLag = root.integer("max-lag", (int) DEFAULT_MAX_LAG, 1, Integer.MAX_VALUE);
    this.commitInterval = root.duration("commit-interval", DEFAULT_COMMIT_INTERVAL);
    this.dedupIds = root.integer("dedup-ids", DEFAULT_DEDUP_IDS, 0, 4096);
    this.stateCache = root.integer("state-cache", DEFAULT_STATE_CACHE, 0, 10_000_000);
    root.done();
  }

  /**
   * Compiles the {@code stream:} section of a surface.
   *
   * @throws ScorelineException USER_ERROR naming the file, the field and the fix
   */
  public static StreamConfig compile(Surface surface, FeatureRegistry registry) {
    requireNonNull(surface, "surface is null");
    requireNonNull(registry, "registry is null");
    return new StreamConfig(surface, registry);
  }

  public Surface surface() {
    return surface;
  }

  public String name() {
    return surface.name();
  }

  public String origin() {
    return origin;
  }

  public Section source() {
    return source;
  }

  /** The embedded stream name, or null when the source is not embedded. */
  public String embeddedStream() {
    return embeddedStream;
  }

  /** Entity key column to the event field that holds it. */
  public Map<String, String> keyFields() {
    return keyFields;
  }

  public String eventIdField() {
    return eventIdField;
  }

  public String eventTimeField() {
    return eventTimeField;
  }

  public List<ViewUpdate> updates() {
    return updates;
  }

  /** The event fields that the updates keep per entity, in state order. */
  public List<String> trackedFields() {
    return trackedFields;
  }

  public List<Alert> alerts() {
    return alerts;
  }

  public List<Section> sinks() {
    return sinks;
  }

  public Section deadLetters() {
    return deadLetters;
  }

  public int lanes() {
    return lanes;
  }

  public int batchSize() {
    return batchSize;
  }

  /**
   * How many of a lane's batches may have sink writes not yet acknowledged: the lane scores the
   * next batch while the sinks acknowledge the earlier ones, and waits for the oldest only when
   * this many are outstanding (1: each batch's writes start once the previous batch's are
   * acknowledged).
   */
  public int batchesInFlight() {
    return batchesInFlight;
  }

  public long maxLag() {
    return maxLag;
  }

  public Duration commitInterval() {
    return commitInterval;
  }

  public int dedupIds() {
    return dedupIds;
  }

  public int stateCache() {
    return stateCache;
  }

  /** Entries older than this (relative to an entity's newest event) are dropped. */
  long keepWindowMicros() {
    return keepWindowMicros;
  }

  /** The newest entries always kept. */
  int keepEntries() {
    return keepEntries;
  }

  // ---------------------------------------------------------------- updates

  /**
   * One feature view written from events: every feature of the view has an aggregation.
   *
   * @param aggregations in the view's feature order
   */
  public record ViewUpdate(FeatureView view, List<Aggregation> aggregations) {
    static ViewUpdate compile(
        ConfigNode u, FeatureRegistry registry, Entity entity, List<String> tracked) {
      String name = u.requiredString("view", "card_velocity");
      FeatureView v;
      try {
        v = registry.view(name);
      } catch (ScorelineException e) {
        throw u.error("view", e.getMessage());
      }
      if (!v.online()) {
        throw u.error(
            "view", "view '" + name + "' is offline only (online: false); updates write online");
      }
      if (!v.entity().equals(entity.name())) {
        throw u.error(
            "view",
            "view '"
                + name
                + "' belongs to entity '"
                + v.entity()
                + "'; a stream updates views of its surface's entity '"
                + entity.name()
                + "' (events are ordered per entity)");
      }
      ConfigNode feats = u.node("features");
      u.done();
      Aggregation[] byIndex = new Aggregation[v.features().size()];
      for (String f : feats.keys()) {
        int idx = v.indexOf(f);
        if (idx < 0) {
          throw feats.error(
              f,
              "view '"
                  + name
                  + "' has no feature '"
                  + f
                  + "'; it has "
                  + v.features().stream().map(Feature::name).toList());
        }
        byIndex[idx] =
            Aggregation.compile(
                ConfigNode.of(feats.origin(), feats.field(f), feats.raw(f)),
                f,
                v.features().get(idx).type(),
                tracked);
      }
      List<String> missing = new ArrayList<>();
      for (int i = 0; i < byIndex.length; i++) {
        if (byIndex[i] == null) {
          missing.add(v.features().get(i).name());
        }
      }
      if (!missing.isEmpty()) {
        throw feats.error(
            null,
            "view '"
                + name
                + "' has features "
                + missing
                + " that no update computes; every push writes the whole view, so give each an"
                + " aggregation or move them to another view");
      }
      return new ViewUpdate(v, List.of(byIndex));
    }
  }

  /** How one feature is computed from an entity's recent events. */
  public record Aggregation(
      String feature,
      ValueType type,
      Kind kind,
      String field,
      int fieldIndex,
      long windowMicros,
      int n) {

    /** Aggregation kinds as written in YAML. */
    public enum Kind {
      COUNT("count"),
      SUM("sum"),
      MIN("min"),
      MAX("max"),
      AVG("avg"),
      DISTINCT("distinct"),
      LAST("last"),
      LAST_N("last-n"),
      SECONDS_SINCE_PREVIOUS("seconds-since-previous");

      final String label;

      Kind(String label) {
        this.label = label;
      }

      static Kind of(String s) {
        for (Kind k : values()) {
          if (k.label.equals(s)) {
            return k;
          }
        }
        return null;
      }

      static List<String> labels() {
        List<String> out = new ArrayList<>();
        for (Kind k : values()) {
          out.add(k.label);
        }
        return out;
      }
    }

    /** How many newest entries must be kept for this aggregation. */
    int entriesNeeded() {
      switch (kind) {
        case LAST_N:
          return n;
        case SECONDS_SINCE_PREVIOUS:
          return 2;
        default:
          return 1;
      }
    }

    static Aggregation compile(
        ConfigNode node, String feature, ValueType type, List<String> tracked) {
      List<String> keys = node.keys();
      if (keys.size() != 1 || Kind.of(keys.get(0)) == null) {
        throw node.error(
            null,
            "give one aggregation, e.g. {count: {window: 10m}} or {sum: {field: amount, window: 10m}};"
                + " kinds: "
                + Kind.labels());
      }
      Kind kind = Kind.of(keys.get(0));
      Object raw = node.raw(keys.get(0));
      ConfigNode p;
      // shorthands: {count: 10m}, {last: amount}
      if (raw instanceof String s && kind == Kind.COUNT) {
        p = new ConfigNode(node.origin(), node.field(kind.label), Map.of("window", s));
      } else if (raw instanceof String s && kind == Kind.LAST) {
        p = new ConfigNode(node.origin(), node.field(kind.label), Map.of("field", s));
      } else {
        p = ConfigNode.of(node.origin(), node.field(kind.label), raw);
      }
      String field = null;
      long window = 0;
      int n = 0;
      switch (kind) {
        case COUNT:
          p.only("window");
          break;
        case LAST:
          p.only("field");
          break;
        case LAST_N:
          p.only("field", "n");
          break;
        case SECONDS_SINCE_PREVIOUS:
          p.only();
          break;
        default:
          p.only("field", "window");
      }
      switch (kind) {
        case COUNT:
          window = micros(p.duration("window", null), p);
          break;
        case SUM:
        case MIN:
        case MAX:
        case AVG:
        case DISTINCT:
          field = p.requiredString("field", "amount");
          window = micros(p.duration("window", null), p);
          break;
        case LAST:
          field = p.requiredString("field", "merchant");
          break;
        case LAST_N:
          field = p.requiredString("field", "merchant");
          n = p.integer("n", 0, 1, 10_000);
          if (n < 1) {
            throw p.error("n", "is missing; e.g. n: 5 (how many values the list keeps)");
          }
          break;
        case SECONDS_SINCE_PREVIOUS:
          break;
        default:
          throw new AssertionError(kind);
      }
      p.done();
      checkType(p, kind, type, feature);
      int idx = -1;
      if (field != null) {
        idx = tracked.indexOf(field);
        if (idx < 0) {
          tracked.add(field);
          idx = tracked.size() - 1;
        }
      }
      return new Aggregation(feature, type, kind, field, idx, window, n);
    }

    private static long micros(Duration d, ConfigNode p) {
      if (d == null) {
        throw p.error("window", "is missing; e.g. window: 10m");
      }
      return d.toNanos() / 1000;
    }

    private static void checkType(ConfigNode p, Kind kind, ValueType type, String feature) {
      boolean ok;
      switch (kind) {
        case COUNT:
        case DISTINCT:
        case SUM:
        case MIN:
        case MAX:
          ok = type == ValueType.INT64 || type == ValueType.FP64 || type == ValueType.FP32;
          break;
        case AVG:
        case SECONDS_SINCE_PREVIOUS:
          ok = type == ValueType.FP64 || type == ValueType.FP32;
          break;
        case LAST:
          ok =
              type != ValueType.BYTES
                  && type != ValueType.FP32_LIST
                  && type != ValueType.INT64_LIST
                  && type != ValueType.STRING_LIST;
          break;
        case LAST_N:
          ok =
              type == ValueType.FP32_LIST
                  || type == ValueType.INT64_LIST
                  || type == ValueType.STRING_LIST;
          break;
        default:
          ok = false;
      }
      if (!ok) {
        throw p.error(
            null,
            "feature '"
                + feature
                + "' is "
                + type.name().toLowerCase(java.util.Locale.ROOT)
                + ", which a "
                + kind.label
                + " cannot produce; "
                + (kind == Kind.LAST_N
                    ? "last-n needs an int64_list, fp32_list or string_list feature"
                    : kind == Kind.LAST
                        ? "last needs a scalar feature"
                        : kind == Kind.AVG || kind == Kind.SECONDS_SINCE_PREVIOUS
                            ? "use fp64 or fp32"
                            : "use int64, fp64 or fp32"));
      }
    }
  }
}
