package dev.scoreline.stream;

import com.fasterxml.jackson.core.JsonProcessingException;
import dev.scoreline.core.error.ErrorCode;
import dev.scoreline.core.error.ScorelineException;
import dev.scoreline.core.feature.Definitions.KeyColumn;
import dev.scoreline.core.feature.online.EntityKeys;
import dev.scoreline.stream.spi.SourceRecord;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** An event parsed and checked against its surface's stream config, ready for a lane. */
final class StreamEvent {
  /** Shared by every stream of the process: 65,536 slots, 256 KiB of references. */
  private static final CanonicalStrings TRACKED_STRINGS = new CanonicalStrings(16);

  final SourceRecord record;
  final Map<String, Object> fields;
  final Map<String, Object> key;

  /** The key values in key-column order, typed (Long / String). */
  final List<Object> keyValues;

  final byte[] keyBytes;
  final String id;
  final long idHash;
  final long micros;
  final Object[] tracked;

  private StreamEvent(
      SourceRecord record,
      Map<String, Object> fields,
      Map<String, Object> key,
      List<Object> keyValues,
      byte[] keyBytes,
      String id,
      long micros,
      Object[] tracked) {
    this.record = record;
    this.fields = fields;
    this.key = key;
    this.keyValues = keyValues;
    this.keyBytes = keyBytes;
    this.id = id;
    this.idHash = hash(id);
    this.micros = micros;
    this.tracked = tracked;
  }

  /** Why an event cannot be processed: it goes to the dead letters. */
  static final class Poison extends Exception {
    private static final long serialVersionUID = 1L;
    final String stage;
    final ErrorCode code;
    final String eventId;

    Poison(String stage, ErrorCode code, String eventId, String message) {
      super(message, null, false, false);
      this.stage = stage;
      this.code = code;
      this.eventId = eventId;
    }
  }

  @SuppressWarnings("unchecked")
  static StreamEvent parse(SourceRecord r, StreamConfig c, String source) throws Poison {
    Object parsed;
    try {
      parsed = Json.MAPPER.readValue(r.value(), Object.class);
    } catch (JsonProcessingException e) {
      throw new Poison(
          "parse",
          ErrorCode.USER_ERROR,
          null,
          "not valid JSON: " + e.getOriginalMessage() + " (at " + location(e) + ")");
    } catch (IOException e) {
      throw new Poison("parse", ErrorCode.USER_ERROR, null, "unreadable event: " + e);
    }
    if (!(parsed instanceof Map)) {
      throw new Poison(
          "parse",
          ErrorCode.USER_ERROR,
          null,
          "an event must be a JSON object, got " + (parsed == null ? "null" : typeName(parsed)));
    }
    Map<String, Object> fields = (Map<String, Object>) parsed;
    Object idValue = fields.get(c.eventIdField());
    String id;
    if (idValue == null) {
      id = source + ":" + r.partition() + ":" + r.offset();
    } else if (idValue instanceof Map || idValue instanceof List) {
      throw new Poison(
          "event",
          ErrorCode.USER_ERROR,
          null,
          "'" + c.eventIdField() + "' (the event id) must be a string or number, got " + idValue);
    } else {
      id = String.valueOf(idValue);
    }
    Map<String, Object> key = new LinkedHashMap<>();
    for (Map.Entry<String, String> e : c.keyFields().entrySet()) {
      Object v = fields.get(e.getValue());
      if (v == null) {
        throw new Poison(
            "event",
            ErrorCode.USER_ERROR,
            id,
            "the event has no '"
                + e.getValue()
                + "' (the "
                + c.surface().entity().name()
                + " key column '"
                + e.getKey()
                + "')");
      }
      key.put(e.getKey(), v);
    }
    byte[] keyBytes;
    List<Object> keyValues = new ArrayList<>(key.size());
    try {
      keyBytes = c.surface().entityKey(key);
      for (KeyColumn col : c.surface().entity().keys()) {
        keyValues.add(
            EntityKeys.fromJson(
                c.surface().entity().name(),
                col,
                key.get(col.name()),
                c.keyFields().get(col.name())));
      }
    } catch (ScorelineException e) {
      throw new Poison("event", e.code(), id, e.getMessage());
    }
    long micros;
    Object t = fields.get(c.eventTimeField());
    if (t == null) {
      micros = r.appendMicros();
    } else {
      micros = parseTime(t, c.eventTimeField(), id);
    }
    List<String> tf = c.trackedFields();
    Object[] tracked = new Object[tf.size()];
    for (int i = 0; i < tracked.length; i++) {
      Object v = fields.get(tf.get(i));
      if (v instanceof Map || v instanceof List) {
        throw new Poison(
            "event",
            ErrorCode.USER_ERROR,
            id,
            "'" + tf.get(i) + "' must be a number, string or boolean, got " + typeName(v));
      }
      tracked[i] = v instanceof String ? TRACKED_STRINGS.canonical((String) v) : v;
    }
    for (StreamConfig.ViewUpdate u : c.updates()) {
      for (StreamConfig.Aggregation a : u.aggregations()) {
        if (a.fieldIndex() < 0) {
          continue;
        }
        Object v = tracked[a.fieldIndex()];
        boolean numeric =
            switch (a.kind()) {
              case SUM, MIN, MAX, AVG -> true;
              default -> false;
            };
        if (numeric && v != null && !(v instanceof Number)) {
          throw new Poison(
              "event",
              ErrorCode.USER_ERROR,
              id,
              "'"
                  + a.field()
                  + "' must be a number (feature "
                  + u.view().name()
                  + ":"
                  + a.feature()
                  + " is its "
                  + a.kind().name().toLowerCase(java.util.Locale.ROOT)
                  + "), got "
                  + typeName(v)
                  + " "
                  + v);
        }
      }
    }
    return new StreamEvent(r, fields, key, keyValues, keyBytes, id, micros, tracked);
  }

  private static long parseTime(Object t, String field, String id) throws Poison {
    if (t instanceof Number n) {
      return Math.multiplyExact(n.longValue(), 1000L);
    }
    if (t instanceof String s) {
      long fast = Json.parseIsoMicros(s);
      if (fast != Long.MIN_VALUE) {
        return fast;
      }
      try {
        Instant i;
        try {
          i = Instant.parse(s);
        } catch (DateTimeParseException e) {
          i = OffsetDateTime.parse(s).toInstant();
        }
        return i.getEpochSecond() * 1_000_000L + i.getNano() / 1000;
      } catch (DateTimeParseException | ArithmeticException e) {
        // fall through
      }
    }
    throw new Poison(
        "event",
        ErrorCode.USER_ERROR,
        id,
        "'"
            + field
            + "' (the event time) must be ISO-8601 such as \"2025-05-01T12:00:00Z\" or epoch"
            + " milliseconds, got "
            + t);
  }

  private static String location(JsonProcessingException e) {
    return e.getLocation() == null
        ? "?"
        : "line " + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr();
  }

  private static String typeName(Object v) {
    if (v instanceof Map) {
      return "an object";
    }
    if (v instanceof List) {
      return "an array";
    }
    if (v instanceof String) {
      return "a string";
    }
    if (v instanceof Boolean) {
      return "a boolean";
    }
    return "a number";
  }

  /** FNV-1a, 64 bits, of the id's UTF-8 bytes. */
  static long hash(String id) {
    long h = 0xcbf29ce484222325L;
    for (byte b : id.getBytes(StandardCharsets.UTF_8)) {
      h ^= b & 0xff;
      h *= 0x100000001b3L;
    }
    return h;
  }
}
