package dev.scoreline.stream.spi;

import dev.scoreline.core.error.ScorelineException;
import io.micrometer.core.instrument.MeterRegistry;
import java.nio.file.Path;
import java.util.Map;

/**
 * A transport for streaming surfaces other than the embedded log, found by its {@link #type()} with
 * {@link java.util.ServiceLoader} ({@code source: {type: kafka}} finds scoreline-kafka's connector
 * when it is on the class path). Configuration maps are the surface's YAML sections, and a
 * connector rejects unknown keys with USER_ERROR naming {@code field}.
 */
public interface StreamConnector {
  /** The {@code type} value that selects this connector. */
  String type();

  /**
   * What a connector gets: the surface, where it was defined, the project's data directory and the
   * meters.
   */
  record Context(String surface, String origin, Path dataDir, MeterRegistry meters) {}

  /**
   * The event source of a surface.
   *
   * @param field the YAML path of the section, for messages ({@code stream.source})
   * @throws ScorelineException USER_ERROR for a bad configuration
   */
  EventSource source(Context context, String field, Map<String, Object> config);

  /** An outbound sink ({@code stream.sinks.<type>}). */
  ResultSink sink(Context context, String field, Map<String, Object> config);

  /** A dead-letter sink ({@code stream.dead-letters}). */
  DeadLetterSink deadLetters(Context context, String field, Map<String, Object> config);
}
