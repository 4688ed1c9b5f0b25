package dev.scoreline.stream;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import dev.scoreline.core.error.ErrorCode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Base64;

/**
 * A poison event and why it could not be processed. In the embedded dead-letter log it is one JSON
 * object:
 *
 * <pre>{@code
 * {"surface": "fraud-check", "source": "embedded:transactions", "partition": 0, "offset": 17,
 *  "event_id": "t-17", "stage": "model", "code": "INTERNAL", "reason": "...",
 *  "failed_at": "...", "event": "{...the original line...}"}
 * }</pre>
 *
 * {@code event} is the original bytes as a string when they are UTF-8, else {@code event_base64}.
 *
 * @param stage where it failed: {@code parse} (not a JSON object), {@code event} (key, id or time
 *     missing or mistyped), {@code features} (a feature update failed), {@code model} (the surface
 *     pipeline or the model failed)
 */
public record DeadLetter(
    String surface,
    String source,
    int partition,
    long offset,
    String eventId,
    String stage,
    ErrorCode code,
    String reason,
    long failedMicros,
    byte[] event) {
  public DeadLetter {
    requireNonNull(surface, "surface is null");
    requireNonNull(stage, "stage is null");
    requireNonNull(code, "code is null");
    requireNonNull(reason, "reason is null");
    requireNonNull(event, "event is null");
  }

  /** {@code partition:offset}: what identifies a dead letter across replays. */
  public String id() {
    return partition + ":" + offset;
  }

  public byte[] toJson() {
    return Json.bytes(
        g -> {
          g.writeStartObject();
          g.writeStringField("surface", surface);
          g.writeStringField("source", source);
          g.writeNumberField("partition", partition);
          g.writeNumberField("offset", offset);
          if (eventId != null) {
            g.writeStringField("event_id", eventId);
          }
          g.writeStringField("stage", stage);
          g.writeStringField("code", code.name());
          g.writeStringField("reason", reason);
          g.writeStringField("failed_at", Json.iso(failedMicros));
          String text = utf8(event);
          if (text != null) {
            g.writeStringField("event", text);
          } else {
            g.writeStringField("event_base64", Base64.getEncoder().encodeToString(event));
          }
          g.writeEndObject();
        });
  }

  public static DeadLetter fromJson(byte[] json) {
    try {
      JsonNode n = Json.MAPPER.readTree(json);
      byte[] event =
          n.has("event")
              ? n.get("event").asText().getBytes(StandardCharsets.UTF_8)
              : Base64.getDecoder().decode(n.path("event_base64").asText(""));
      return new DeadLetter(
          n.path("surface").asText(),
          n.path("source").asText(),
          n.path("partition").asInt(),
          n.path("offset").asLong(),
          n.hasNonNull("event_id") ? n.get("event_id").asText() : null,
          n.path("stage").asText(),
          ErrorCode.valueOf(n.path("code").asText("INTERNAL")),
          n.path("reason").asText(),
          micros(java.time.Instant.parse(n.path("failed_at").asText())),
          event);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static long micros(java.time.Instant t) {
    return t.getEpochSecond() * 1_000_000L + t.getNano() / 1000;
  }

  private static String utf8(byte[] b) {
    try {
      return StandardCharsets.UTF_8.newDecoder().decode(java.nio.ByteBuffer.wrap(b)).toString();
    } catch (java.nio.charset.CharacterCodingException e) {
      return null;
    }
  }
}
