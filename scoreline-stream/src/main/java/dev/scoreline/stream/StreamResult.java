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
 * @param alerts names of the alert rules that fired, in rule order
 * @param eventTimeMicros the event's own time
 * @param appendMicros when the source accepted the event
 * @param scoredMicros when the result was computed
 * @param entityKey the entity key encoded as the KV stores it (not part of the JSON)
 */
public record StreamResult(
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

  public StreamResult {
    key = Map.copyOf(key);
    items = items == null ? List.of() : List.copyOf(items);
    alerts = List.copyOf(alerts);
  }

  public boolean alerted() {
    return !alerts.isEmpty();
  }

  /** The result as one JSON object (UTF-8). */
  public byte[] toJson() {
    return Json.bytes(this::write);
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
    g.writeStringField("event_time", Json.iso(eventTimeMicros));
    g.writeStringField("accepted_at", Json.iso(appendMicros));
    g.writeStringField("scored_at", Json.iso(scoredMicros));
    g.writeObjectFieldStart("source");
    g.writeNumberField("partition", partition);
    g.writeNumberField("offset", offset);
    g.writeEndObject();
    g.writeEndObject();
  }
}
