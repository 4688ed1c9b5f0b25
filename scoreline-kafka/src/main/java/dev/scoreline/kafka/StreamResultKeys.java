package dev.scoreline.kafka;

import dev.scoreline.stream.StreamResult;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.TreeMap;

/** Record keys derived from results. */
final class StreamResultKeys {
  private StreamResultKeys() {}

  /** The entity key as compact JSON with sorted columns, e.g. {@code {"card_id":42}}. */
  static byte[] entityJson(StreamResult r) {
    StringBuilder sb = new StringBuilder("{");
    boolean first = true;
    for (Map.Entry<String, Object> e : new TreeMap<>(r.key()).entrySet()) {
      if (!first) {
        sb.append(',');
      }
      first = false;
      sb.append('"').append(e.getKey()).append("\":");
      Object v = e.getValue();
      if (v instanceof Number) {
        sb.append(v);
      } else {
        sb.append('"')
            .append(String.valueOf(v).replace("\\", "\\\\").replace("\"", "\\\""))
            .append('"');
      }
    }
    return sb.append('}').toString().getBytes(StandardCharsets.UTF_8);
  }
}
