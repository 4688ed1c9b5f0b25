package dev.scoreline.kafka;

import dev.scoreline.stream.ConfigNode;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The Kafka settings every section shares: {@code bootstrap-servers} and free-form client {@code
 * properties}. A sink or dead-letter section without them inherits the surface's source section.
 */
record KafkaSettings(String bootstrapServers, Map<String, String> properties) {
  static KafkaSettings read(ConfigNode n, KafkaSettings inherited) {
    String bs =
        n.string("bootstrap-servers", inherited == null ? null : inherited.bootstrapServers());
    if (bs == null || bs.isBlank()) {
      throw n.error("bootstrap-servers", "is missing; e.g. bootstrap-servers: localhost:9092");
    }
    Map<String, String> props = new LinkedHashMap<>();
    if (inherited != null && !n.has("properties")) {
      props.putAll(inherited.properties());
    }
    props.putAll(n.stringMap("properties"));
    return new KafkaSettings(bs, Map.copyOf(props));
  }

  Map<String, Object> clientConfig() {
    Map<String, Object> m = new LinkedHashMap<>(properties);
    m.put("bootstrap.servers", bootstrapServers);
    return m;
  }
}
