package dev.scoreline.kafka;

import dev.scoreline.stream.ConfigNode;
import dev.scoreline.stream.spi.DeadLetterSink;
import dev.scoreline.stream.spi.EventSource;
import dev.scoreline.stream.spi.ResultSink;
import dev.scoreline.stream.spi.StreamConnector;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * {@code type: kafka} for a streaming surface's source, sinks and dead letters (found with {@link
 * java.util.ServiceLoader}).
 *
 * <pre>{@code
 * stream:
 *   source: {type: kafka, topic: card-txns, bootstrap-servers: "broker:9092",
 *            group: scoreline-fraud-check, properties: {security.protocol: SSL}}
 *   sinks:
 *     kafka: {topic: fraud-scores, key: event-id, only-alerts: false}
 *   dead-letters: {type: kafka, topic: card-txns.dead-letters}
 * }</pre>
 *
 * A sink or dead-letter section without {@code bootstrap-servers} uses the source's.
 */
public final class KafkaConnector implements StreamConnector {
  private final Map<String, KafkaSettings> sourceSettings = new ConcurrentHashMap<>();
  private final Map<String, String> sourceTopics = new ConcurrentHashMap<>();

  @Override
  public String type() {
    return "kafka";
  }

  @Override
  public EventSource source(Context context, String field, Map<String, Object> config) {
    ConfigNode n = new ConfigNode(context.origin(), field, config);
    n.has("type");
    String topic = n.requiredString("topic", "card-txns");
    KafkaSettings s = KafkaSettings.read(n, null);
    String group = n.string("group", "scoreline-" + context.surface());
    String reset = n.string("auto-offset-reset", "earliest");
    if (!reset.equals("earliest") && !reset.equals("latest")) {
      throw n.error("auto-offset-reset", "must be earliest or latest, got '" + reset + "'");
    }
    Duration pollTimeout = n.duration("poll-timeout", Duration.ofMillis(100));
    n.done();
    sourceSettings.put(context.surface(), s);
    sourceTopics.put(context.surface(), topic);
    return new KafkaEventSource(topic, group, reset, s, pollTimeout);
  }

  @Override
  public ResultSink sink(Context context, String field, Map<String, Object> config) {
    ConfigNode n = new ConfigNode(context.origin(), field, config);
    String topic = n.requiredString("topic", "fraud-scores");
    KafkaSettings s = KafkaSettings.read(n, sourceSettings.get(context.surface()));
    String key = n.string("key", "event-id");
    if (!key.equals("event-id") && !key.equals("entity")) {
      throw n.error("key", "must be event-id or entity, got '" + key + "'");
    }
    boolean onlyAlerts = n.bool("only-alerts", false);
    n.done();
    return new KafkaResultSink(topic, s, key.equals("entity"), onlyAlerts);
  }

  @Override
  public DeadLetterSink deadLetters(Context context, String field, Map<String, Object> config) {
    ConfigNode n = new ConfigNode(context.origin(), field, config);
    n.has("type");
    String source = sourceTopics.get(context.surface());
    String topic =
        source == null
            ? n.requiredString("topic", "card-txns.dead-letters")
            : n.string("topic", source + ".dead-letters");
    KafkaSettings s = KafkaSettings.read(n, sourceSettings.get(context.surface()));
    n.done();
    return new KafkaDeadLetterSink(topic, s);
  }
}
