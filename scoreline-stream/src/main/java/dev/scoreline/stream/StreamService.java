package dev.scoreline.stream;

import static java.util.Objects.requireNonNull;

import dev.scoreline.core.error.ErrorCode;
import dev.scoreline.core.error.ScorelineException;
import dev.scoreline.core.feature.FeatureRegistry;
import dev.scoreline.core.feature.online.OnlineFeatureStore;
import dev.scoreline.core.kv.KvStore;
import dev.scoreline.core.surface.Surface;
import dev.scoreline.core.surface.SurfaceEngine;
import dev.scoreline.core.surface.SurfaceSpec;
import dev.scoreline.stream.log.EventLog;
import dev.scoreline.stream.log.PositionFile;
import dev.scoreline.stream.sink.KvResultSink;
import dev.scoreline.stream.sink.LogDeadLetterSink;
import dev.scoreline.stream.sink.LogResultSink;
import dev.scoreline.stream.sink.WebhookSink;
import dev.scoreline.stream.spi.DeadLetterSink;
import dev.scoreline.stream.spi.EventSource;
import dev.scoreline.stream.spi.ResultSink;
import dev.scoreline.stream.spi.StreamConnector;
import io.micrometer.core.instrument.MeterRegistry;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The streaming surfaces of a project, running: the embedded streams they read, one {@link
 * StreamProcessor} per surface, their sinks and dead letters. What {@code scoreline serve} and
 * {@code scoreline stream} start, and what the server's {@code /v1/events} and {@code /v1/streams}
 * endpoints call.
 *
 * <p>Data directory layout: {@code streams/} ({@link EmbeddedStreams}), {@code
 * surfaces/<surface>/results} (the result log), {@code surfaces/<surface>/dead-letters}, {@code
 * surfaces/<surface>/marks}.
 */
public final class StreamService implements AutoCloseable {
  /**
   * Options.
   *
   * @param log options of every embedded log (segment size, fsync)
   * @param connectors transports other than the embedded log; null finds them with {@link
   *     ServiceLoader}
   * @param only run only these surfaces (empty: every streaming surface)
   */
  public record Options(EventLog.Options log, List<StreamConnector> connectors, Set<String> only) {
    public Options {
      log = log == null ? EventLog.Options.defaults() : log;
      only = only == null ? Set.of() : Set.copyOf(only);
    }

    public static Options defaults() {
      return new Options(EventLog.Options.defaults(), null, Set.of());
    }

    public Options withOnly(Set<String> names) {
      return new Options(log, connectors, names);
    }
  }

  private final Path dataDir;
  private final EmbeddedStreams streams;
  private final Map<String, StreamProcessor> processors = new LinkedHashMap<>();
  private final Map<String, DeadLetters> deadLetters = new TreeMap<>();
  private final Map<String, LogResultSink> resultLogs = new TreeMap<>();

  private StreamService(Path dataDir, EmbeddedStreams streams) {
    this.dataDir = dataDir;
    this.streams = streams;
  }

  /** The streaming surfaces ({@code mode: streaming}) among {@code surfaces}. */
  public static List<Surface> streaming(Collection<Surface> surfaces) {
    List<Surface> out = new ArrayList<>();
    for (Surface s : surfaces) {
      if (s.spec().mode() == SurfaceSpec.Mode.STREAMING) {
        out.add(s);
      }
    }
    return out;
  }

  /**
   * Compiles the streaming surfaces of {@code engine}, opens their sources and sinks and starts a
   * processor for each.
   *
   * @param dataDir where the embedded logs and positions live ({@code <project>/.scoreline/stream})
   * @throws ScorelineException USER_ERROR for a bad {@code stream:} section (naming the file and
   *     field); UNAVAILABLE when the data directory is in use by another process
   */
  public static StreamService start(
      SurfaceEngine engine,
      FeatureRegistry registry,
      OnlineFeatureStore features,
      KvStore kv,
      Path dataDir,
      MeterRegistry meters,
      Options options) {
    requireNonNull(engine, "engine is null");
    requireNonNull(options, "options is null");
    List<StreamConfig> configs = new ArrayList<>();
    for (Surface s : streaming(engine.surfaces().all())) {
      if (options.only().isEmpty() || options.only().contains(s.name())) {
        configs.add(StreamConfig.compile(s, registry));
      }
    }
    for (String n : options.only()) {
      if (configs.stream().noneMatch(c -> c.name().equals(n))) {
        engine.surfaces().get(n); // NOT_FOUND listing the surfaces
        throw ScorelineException.userError(
            "surface", "surface '" + n + "' is not a streaming surface (set mode: streaming)");
      }
    }
    boolean embedded = configs.stream().anyMatch(c -> c.embeddedStream() != null);
    EmbeddedStreams streams =
        embedded ? EmbeddedStreams.open(dataDir.resolve("streams"), options.log()) : null;
    StreamService service = new StreamService(dataDir, streams);
    List<StreamConnector> connectors =
        options.connectors() != null ? options.connectors() : loadConnectors();
    try {
      for (StreamConfig c : configs) {
        service.add(c, engine, features, kv, meters, options, connectors);
      }
      for (StreamProcessor p : service.processors.values()) {
        p.start();
      }
    } catch (RuntimeException e) {
      service.close();
      throw e;
    }
    return service;
  }

  private static List<StreamConnector> loadConnectors() {
    List<StreamConnector> out = new ArrayList<>();
    for (StreamConnector c : ServiceLoader.load(StreamConnector.class)) {
      out.add(c);
    }
    return out;
  }

  private void add(
      StreamConfig c,
      SurfaceEngine engine,
      OnlineFeatureStore features,
      KvStore kv,
      MeterRegistry meters,
      Options options,
      List<StreamConnector> connectors) {
    String name = c.name();
    Path base = dataDir.resolve("surfaces").resolve(name);
    StreamConnector.Context ctx = new StreamConnector.Context(name, c.origin(), dataDir, meters);
    List<AutoCloseable> opened = new ArrayList<>();
    try {
      EventSource source;
      if (c.embeddedStream() != null) {
        streams.declare(c.embeddedStream(), c.maxLag());
        source = streams.source(c.embeddedStream(), name);
      } else {
        source =
            connector(connectors, c, c.source())
                .source(ctx, c.source().field(), c.source().config());
      }
      opened.add(source);
      List<ResultSink> sinks = new ArrayList<>();
      for (StreamConfig.Section s : c.sinks()) {
        ResultSink sink = sink(c, s, kv, base, options, connectors, ctx);
        opened.add(sink);
        sinks.add(sink);
        if (sink instanceof LogResultSink l) {
          resultLogs.put(name, l);
        }
      }
      DeadLetterSink dl;
      StreamConfig.Section d = c.deadLetters();
      if (d.type().equals("log")) {
        ConfigNode n = new ConfigNode(c.origin(), d.field(), d.config());
        n.done();
        DeadLetters.Location loc = DeadLetters.location(dataDir, name);
        EventLog dlLog = EventLog.open(loc.log(), options.log());
        dl = new LogDeadLetterSink(dlLog, true);
        deadLetters.put(name, new DeadLetters(dlLog, new PositionFile(loc.replayed())));
      } else {
        dl = connector(connectors, c, d).deadLetters(ctx, d.field(), d.config());
      }
      opened.add(dl);
      StreamProcessor p =
          new StreamProcessor(
              c,
              engine,
              features,
              kv,
              source,
              sinks,
              dl,
              new PositionFile(base.resolve("marks")),
              meters,
              threads(name));
      processors.put(name, p);
    } catch (RuntimeException e) {
      for (AutoCloseable a : opened) {
        try {
          a.close();
        } catch (Exception ex) {
          e.addSuppressed(ex);
        }
      }
      throw e;
    }
  }

  private ResultSink sink(
      StreamConfig c,
      StreamConfig.Section s,
      KvStore kv,
      Path base,
      Options options,
      List<StreamConnector> connectors,
      StreamConnector.Context ctx) {
    ConfigNode n = new ConfigNode(c.origin(), s.field(), s.config());
    switch (s.type()) {
      case "kv":
        n.done();
        return new KvResultSink(kv, c.name());
      case "log":
        {
          boolean onlyAlerts = n.bool("only-alerts", false);
          n.done();
          return new LogResultSink(
              EventLog.open(base.resolve("results"), options.log()), true, onlyAlerts);
        }
      case "webhook":
        {
          String url = n.requiredString("url", "http://localhost:9000/alerts");
          URI uri;
          try {
            uri = URI.create(url);
          } catch (IllegalArgumentException e) {
            throw n.error("url", "is not a URL: " + url);
          }
          if (uri.getScheme() == null || !uri.getScheme().startsWith("http")) {
            throw n.error("url", "must be an http:// or https:// URL, got " + url);
          }
          WebhookSink.Options o =
              new WebhookSink.Options(
                  uri,
                  n.bool("only-alerts", false),
                  n.duration("timeout", Duration.ofSeconds(5)),
                  n.integer("max-attempts", 5, 1, 100),
                  n.duration("backoff", Duration.ofMillis(200)),
                  n.stringMap("headers"));
          n.done();
          return new WebhookSink(c.name(), o);
        }
      default:
        return connector(connectors, c, s).sink(ctx, s.field(), s.config());
    }
  }

  private static StreamConnector connector(
      List<StreamConnector> connectors, StreamConfig c, StreamConfig.Section s) {
    for (StreamConnector k : connectors) {
      if (k.type().equals(s.type())) {
        return k;
      }
    }
    List<String> known = new ArrayList<>(List.of("embedded", "kv", "log", "webhook"));
    for (StreamConnector k : connectors) {
      known.add(k.type());
    }
    throw ConfigNode.error(
        c.origin(),
        s.field(),
        "unknown type '"
            + s.type()
            + "'; this build knows "
            + known
            + (s.type().equals("kafka") ? " (add scoreline-kafka to the class path)" : ""));
  }

  private static ThreadFactory threads(String surface) {
    AtomicInteger n = new AtomicInteger();
    return r -> {
      Thread t = new Thread(r, "scoreline-stream-" + surface + "-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    };
  }

  // ---------------------------------------------------------------- API

  public Path dataDirectory() {
    return dataDir;
  }

  /** The running surfaces, by name. */
  public Map<String, StreamProcessor> processors() {
    return processors;
  }

  public StreamProcessor processor(String surface) {
    StreamProcessor p = processors.get(surface);
    if (p == null) {
      throw ScorelineException.notFound(
          "no streaming surface '" + surface + "' is running; running: " + processors.keySet());
    }
    return p;
  }

  /** The embedded stream names that accept events. */
  public Set<String> streams() {
    return streams == null ? Set.of() : streams.streams();
  }

  /**
   * Appends events to an embedded stream; completes once they are durable.
   *
   * @throws ScorelineException NOT_FOUND for an unknown stream; RESOURCE_EXHAUSTED on backpressure
   */
  public CompletableFuture<Long> append(String stream, List<byte[]> events) {
    if (streams == null) {
      throw ScorelineException.notFound(
          "no streaming surface of this project reads an embedded stream, so there is no stream '"
              + stream
              + "'");
    }
    return streams.append(stream, events);
  }

  /** The embedded streams (null when no surface reads one). */
  public EmbeddedStreams embedded() {
    return streams;
  }

  /** The dead letters of a surface with an embedded dead-letter log. */
  public DeadLetters deadLetters(String surface) {
    processor(surface);
    DeadLetters d = deadLetters.get(surface);
    if (d == null) {
      throw new ScorelineException(
          ErrorCode.UNSUPPORTED,
          "surface '"
              + surface
              + "' sends dead letters to "
              + processors.get(surface).config().deadLetters().type()
              + "; list and replay them there");
    }
    return d;
  }

  /**
   * Replays dead letters {@code [from, to)} of a surface into its embedded source stream.
   *
   * @return how many events were appended
   */
  public int replay(String surface, long from, long to, boolean force) {
    StreamConfig c = processor(surface).config();
    if (c.embeddedStream() == null) {
      throw new ScorelineException(
          ErrorCode.UNSUPPORTED,
          "surface '"
              + surface
              + "' reads "
              + c.source().type()
              + "; replay into it with its tools");
    }
    return deadLetters(surface)
        .replay(from, to, force, events -> streams.log(c.embeddedStream()).appendSync(events));
  }

  /** The result log of a surface, or null when it has no {@code log} sink. */
  public EventLog resultLog(String surface) {
    LogResultSink l = resultLogs.get(surface);
    return l == null ? null : l.log();
  }

  /** Stops every processor (finishing and committing what is in flight), then the streams. */
  @Override
  public void close() {
    for (StreamProcessor p : processors.values()) {
      p.close();
    }
    if (streams != null) {
      streams.close();
    }
  }
}
