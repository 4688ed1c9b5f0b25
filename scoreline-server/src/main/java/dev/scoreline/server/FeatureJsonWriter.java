package dev.scoreline.server;

import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.SerializableString;
import com.fasterxml.jackson.core.io.SerializedString;
import com.fasterxml.jackson.core.util.ByteArrayBuilder;
import dev.scoreline.core.feature.ValueType;
import dev.scoreline.core.feature.online.FeatureStatus;
import dev.scoreline.core.feature.online.FeatureVectors;
import dev.scoreline.server.features.FeatureRequests;
import dev.scoreline.server.features.FeatureRequests.KeyColumnOf;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * Writes the response of {@code POST /v1/features} with the streaming generator, in Feast's shape:
 *
 * <pre>
 * {"metadata": {"feature_names": ["user_id", "user_stats:clicks_7d", ...]},
 *  "results": [{"values": [1, 2], "statuses": ["PRESENT", "PRESENT"],
 *               "event_timestamps": [null, null]},
 *              {"values": [42, null], "statuses": ["PRESENT", "NOT_FOUND"],
 *               "event_timestamps": ["2026-11-27T10:00:00Z", null]}, ...]}
 * </pre>
 *
 * One result per name (the entity key columns first, then the features in request order), one
 * element per entity row. Values: int64 and floating numbers as JSON numbers, strings, booleans,
 * bytes as base64, lists as arrays; null unless the status is PRESENT. Event timestamps are
 * ISO-8601 UTC (microsecond precision at most), null for NOT_FOUND and the key columns. Scalars are
 * read unboxed and the timestamp text is reused across the features of one view.
 */
final class FeatureJsonWriter {
  private static final SerializableString[] STATUS = new SerializableString[4];
  private static final SerializableString METADATA = new SerializedString("metadata");
  private static final SerializableString FEATURE_NAMES = new SerializedString("feature_names");
  private static final SerializableString RESULTS = new SerializedString("results");
  private static final SerializableString VALUES = new SerializedString("values");
  private static final SerializableString STATUSES = new SerializedString("statuses");
  private static final SerializableString EVENT_TIMESTAMPS =
      new SerializedString("event_timestamps");

  static {
    for (FeatureStatus s : FeatureStatus.values()) {
      STATUS[s.ordinal()] = new SerializedString(s.name());
    }
  }

  private FeatureJsonWriter() {}

  static byte[] write(
      FeatureVectors v,
      List<KeyColumnOf> keys,
      List<Map<String, Object>> rows,
      boolean fullFeatureNames) {
    int n = v.rowCount();
    int features = v.featureCount();
    ByteArrayBuilder out = new ByteArrayBuilder(Math.min(1 << 20, 256 + 48 * n * features));
    try (JsonGenerator g = Json.FACTORY.createGenerator(out, JsonEncoding.UTF8)) {
      // the shortest decimal that reads back to the same double (Schubfach): 2-3x faster than
      // Double.toString, and formatting doubles is most of the cost of a large response
      g.enable(JsonGenerator.Feature.USE_FAST_DOUBLE_WRITER);
      g.writeStartObject();
      g.writeFieldName(METADATA);
      g.writeStartObject();
      g.writeFieldName(FEATURE_NAMES);
      g.writeStartArray();
      for (KeyColumnOf k : keys) {
        g.writeString(k.name());
      }
      for (int f = 0; f < features; f++) {
        g.writeString(FeatureRequests.name(v.features().get(f), fullFeatureNames));
      }
      g.writeEndArray();
      g.writeEndObject();

      g.writeFieldName(RESULTS);
      g.writeStartArray();
      for (KeyColumnOf k : keys) {
        writeKeyColumn(g, k, rows, n);
      }
      long[] cachedMicros = new long[n];
      SerializableString[] cachedText = new SerializableString[n];
      for (int f = 0; f < features; f++) {
        writeFeature(g, v, f, n, cachedMicros, cachedText);
      }
      g.writeEndArray();
      g.writeEndObject();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }

  private static void writeKeyColumn(
      JsonGenerator g, KeyColumnOf k, List<Map<String, Object>> rows, int n) throws IOException {
    g.writeStartObject();
    g.writeFieldName(VALUES);
    g.writeStartArray();
    for (int r = 0; r < n; r++) {
      Object key = k.value(rows.get(r), r);
      if (key instanceof Long) {
        g.writeNumber((Long) key);
      } else {
        g.writeString((String) key);
      }
    }
    g.writeEndArray();
    g.writeFieldName(STATUSES);
    g.writeStartArray();
    SerializableString present = STATUS[FeatureStatus.PRESENT.ordinal()];
    for (int r = 0; r < n; r++) {
      g.writeString(present);
    }
    g.writeEndArray();
    g.writeFieldName(EVENT_TIMESTAMPS);
    g.writeStartArray();
    for (int r = 0; r < n; r++) {
      g.writeNull();
    }
    g.writeEndArray();
    g.writeEndObject();
  }

  private static void writeFeature(
      JsonGenerator g,
      FeatureVectors v,
      int f,
      int n,
      long[] cachedMicros,
      SerializableString[] cachedText)
      throws IOException {
    g.writeStartObject();
    g.writeFieldName(VALUES);
    g.writeStartArray();
    ValueType type = v.type(f);
    for (int r = 0; r < n; r++) {
      if (!v.isPresent(f, r)) {
        g.writeNull();
        continue;
      }
      switch (type) {
        case INT64:
          g.writeNumber(v.getLong(f, r));
          break;
        case FP64:
          g.writeNumber(v.getDouble(f, r));
          break;
        case FP32:
          g.writeNumber(v.getFloat(f, r));
          break;
        case BOOL:
          g.writeBoolean(v.getBoolean(f, r));
          break;
        default:
          writeObject(g, type, v.value(f, r));
          break;
      }
    }
    g.writeEndArray();
    g.writeFieldName(STATUSES);
    g.writeStartArray();
    for (int r = 0; r < n; r++) {
      g.writeString(STATUS[v.status(f, r).ordinal()]);
    }
    g.writeEndArray();
    g.writeFieldName(EVENT_TIMESTAMPS);
    g.writeStartArray();
    for (int r = 0; r < n; r++) {
      long micros = v.eventMicros(f, r);
      if (micros == FeatureVectors.NO_TIME) {
        g.writeNull();
        continue;
      }
      SerializableString text = cachedText[r];
      if (text == null || cachedMicros[r] != micros) {
        text = new SerializedString(iso(micros));
        cachedText[r] = text;
        cachedMicros[r] = micros;
      }
      g.writeString(text);
    }
    g.writeEndArray();
    g.writeEndObject();
  }

  private static void writeObject(JsonGenerator g, ValueType type, Object value)
      throws IOException {
    switch (type) {
      case STRING:
        g.writeString((String) value);
        break;
      case BYTES:
        g.writeBinary((byte[]) value);
        break;
      case FP32_LIST:
        g.writeStartArray();
        for (float x : (float[]) value) {
          g.writeNumber(x);
        }
        g.writeEndArray();
        break;
      case INT64_LIST:
        long[] ls = (long[]) value;
        g.writeArray(ls, 0, ls.length);
        break;
      case STRING_LIST:
        g.writeStartArray();
        for (Object s : (List<?>) value) {
          g.writeString((String) s);
        }
        g.writeEndArray();
        break;
      default:
        throw new IllegalStateException("unreachable: " + type);
    }
  }

  /** ISO-8601 UTC of microseconds since the epoch ({@link Instant#toString()}'s form). */
  static String iso(long micros) {
    return Instant.ofEpochSecond(
            Math.floorDiv(micros, 1_000_000L), Math.floorMod(micros, 1_000_000L) * 1000L)
        .toString();
  }
}
