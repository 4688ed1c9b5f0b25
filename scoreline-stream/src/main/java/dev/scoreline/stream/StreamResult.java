package dev.scoreline.stream;

import com.fasterxml.jackson.core.JsonGenerator;
import dev.scoreline.core.surface.SurfaceResult;
import java.io.IOException;
import java.util.List;
import java.util.Map;

/**
 * The result of one event: what every sink receives. Its JSON form ({@link #toJson}) is what the
 * result log, the KV store, Kafka and webhooks carry:
 *
 * <pre>{@code
 * {"event_id": "t-17", "surface": "fraud-check", "key": {"card_id": 42}, "score": 0.93,
 *  "alerts": ["high-risk"], "model": "fraud", "model_version": "1",
 *  "event_time": "...", "accepted_at": "...", "scored_at": "...",
 *  "source": {"partition": 0, "offset": 1234}}
 * }</pre>
 *
 * {@code items} (ranked items) appears for surfaces with candidates.
 *
 * <p>Immutable. The JSON form is computed once, the first time a sink asks for it, and shared by
 * every sink (do not modify the returned array).
 */
public final class StreamResult {
  private final String surface;
  private final String eventId;
  private final Map<String, Object> key;
  private final Float score;
  private final List<SurfaceResult.Item> items;
  private final List<String> alerts;
  private final String model;
  private final String modelVersion;
  private final long eventTimeMicros;
  private final long appendMicros;
  private final long scoredMicros;
  private final int partition;
  private final long offset;
  private final byte[] entityKey;
  private volatile byte[] json;

  /**
   * @param alerts names of the alert rules that fired, in rule order
   * @param eventTimeMicros the event's own time
   * @param appendMicros when the source accepted the event
   * @param scoredMicros when the result was computed
   * @param entityKey the entity key encoded as the KV stores it (not part of the JSON)
   */
  public StreamResult(
      String surface,
      String eventId,
      Map<String, Object> key,
      Float score,
      List<SurfaceResult.Item> items,
      List<String> alerts,
      String model,
      String modelVersion,
      long eventTimeMicros,
      long appendMicros,
      long scoredMicros,
      int partition,
      long offset,
      byte[] entityKey) {
    this.surface = surface;
    this.eventId = eventId;
    this.key = Map.copyOf(key);
    this.score = score;
    this.items = items == null ? List.of() : List.copyOf(items);
    this.alerts = List.copyOf(alerts);
    this.model = model;
    this.modelVersion = modelVersion;
    this.eventTimeMicros = eventTimeMicros;
    this.appendMicros = appendMicros;
    this.scoredMicros = scoredMicros;
    this.partition = partition;
    this.offset = offset;
    this.entityKey = entityKey;
  }

  public String surface() {
    return surface;
  }

  public String eventId() {
    return eventId;
  }

  public Map<String, Object> key() {
    return key;
  }

  public Float score() {
    return score;
  }

  public List<SurfaceResult.Item> items() {
    return items;
  }

  public List<String> alerts() {
    return alerts;
  }

  public String model() {
    return model;
  }

  public String modelVersion() {
    return modelVersion;
  }

  public long eventTimeMicros() {
    return eventTimeMicros;
  }

  public long appendMicros() {
    return appendMicros;
  }

  public long scoredMicros() {
    return scoredMicros;
  }

  public int partition() {
    return partition;
  }

  public long offset() {
    return offset;
  }

  public byte[] entityKey() {
    return entityKey;
  }

  public boolean alerted() {
    return !alerts.isEmpty();
  }

  /** The result as one JSON object (UTF-8); computed once and shared: do not modify it. */
  public byte[] toJson() {
    byte[] j = json;
    if (j == null) {
      j = Json.bytes(this::write);
      json = j;
    }
    return j;
  }

  @Override
  public String toString() {
    return "StreamResult[" + surface + ", event " + eventId + ", score " + score + "]";
  }

  /** Writes the JSON object to {@code g}. */
  public void write(JsonGenerator g) throws IOException {
    g.writeStartObject();
    g.writeStringField("event_id", eventId);
    g.writeStringField("surface", surface);
    g.writeObjectFieldStart("key");
    for (Map.Entry<String, Object> e : key.entrySet()) {
      g.writeFieldName(e.getKey());
      Object v = e.getValue();
      if (v instanceof Number n) {
        if (v instanceof Double || v instanceof Float) {
          g.writeNumber(n.doubleValue());
        } else {
          g.writeNumber(n.longValue());
        }
      } else {
        g.writeString(String.valueOf(v));
      }
    }
    g.writeEndObject();
    if (score != null) {
      g.writeNumberField("score", score);
    }
    if (!items.isEmpty()) {
      g.writeArrayFieldStart("items");
      for (SurfaceResult.Item it : items) {
        g.writeStartObject();
        g.writeNumberField("id", it.id());
        g.writeNumberField("score", it.score());
        g.writeEndObject();
      }
      g.writeEndArray();
    }
    g.writeArrayFieldStart("alerts");
    for (String a : alerts) {
      g.writeString(a);
    }
    g.writeEndArray();
    g.writeStringField("model", model);
    if (modelVersion != null) {
      g.writeStringField("model_version", modelVersion);
    }
    char[] time = new char[Json.ISO_CHARS];
    Json.writeIsoField(g, "event_time", eventTimeMicros, time);
    Json.writeIsoField(g, "accepted_at", appendMicros, time);
    Json.writeIsoField(g, "scored_at", scoredMicros, time);
    g.writeObjectFieldStart("source");
    g.writeNumberField("partition", partition);
    g.writeNumberField("offset", offset);
    g.writeEndObject();
    g.writeEndObject();
  }
}
