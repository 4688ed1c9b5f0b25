package dev.scoreline.stream;

import static java.util.Objects.requireNonNull;

import dev.scoreline.core.error.ErrorCode;
import dev.scoreline.core.error.ScorelineException;
import dev.scoreline.stream.log.EventLog;
import dev.scoreline.stream.log.PositionFile;
import dev.scoreline.stream.spi.EventSource;
import dev.scoreline.stream.spi.SourceRecord;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * The embedded streams of a project: one durable {@link EventLog} per stream name (what {@code POST
 * /v1/events/{stream}} appends to), read by the streaming surfaces that name it, each with its own
 * committed position.
 *
 * <p>Layout under the data directory: {@code <stream>/log/} (segments) and {@code
 * <stream>/consumers/<surface>.position} ({@code offset=<next offset to process>}). One process
 * owns the directory at a time ({@code .lock}).
 *
 * <p><b>Backpressure.</b> A stream's lag is its end offset minus the lowest committed position of
 * its consumers. {@link #append} refuses a batch with RESOURCE_EXHAUSTED when the lag would pass
 * the stream's {@code max-lag}, so a slow consumer shows up as 429s at the ingest endpoint instead
 * of a growing backlog. Segments that every consumer has committed past are deleted.
 */
public final class EmbeddedStreams implements AutoCloseable {
  private final Path dir;
  private final EventLog.Options logOptions;
  private final FileChannel lockChannel;
  private final FileLock lock;
  private final ConcurrentHashMap<String, Stream> streams = new ConcurrentHashMap<>();

  private static final class Stream {
    final String name;
    final EventLog log;
    volatile long maxLag;
    final ConcurrentHashMap<String, Consumer> consumers = new ConcurrentHashMap<>();

    Stream(String name, EventLog log, long maxLag) {
      this.name = name;
      this.log = log;
      this.maxLag = maxLag;
    }

    long minCommitted() {
      long min = log.endOffset();
      for (Consumer c : consumers.values()) {
        min = Math.min(min, c.committed);
      }
      return min;
    }
  }

  private static final class Consumer {
    final PositionFile file;
    volatile long committed;

    Consumer(PositionFile file, long committed) {
      this.file = file;
      this.committed = committed;
    }
  }

  private EmbeddedStreams(Path dir, EventLog.Options logOptions) throws IOException {
    this.dir = dir;
    this.logOptions = logOptions;
    Files.createDirectories(dir);
    this.lockChannel =
        FileChannel.open(dir.resolve(".lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
    FileLock l;
    try {
      l = lockChannel.tryLock();
    } catch (OverlappingFileLockException e) {
      l = null;
    }
    if (l == null) {
      lockChannel.close();
      throw new ScorelineException(
          ErrorCode.UNAVAILABLE,
          "the streams in "
              + dir
              + " are open in another process (a running 'scoreline serve' or 'scoreline stream');"
              + " stop it, or call its /v1/events and /v1/streams endpoints instead");
    }
    this.lock = l;
  }

  /**
   * Opens the streams under {@code dir}, taking the directory's lock.
   *
   * @throws ScorelineException UNAVAILABLE when another process holds it
   */
  public static EmbeddedStreams open(Path dir, EventLog.Options logOptions) {
    requireNonNull(dir, "dir is null");
    requireNonNull(logOptions, "logOptions is null");
    try {
      return new EmbeddedStreams(dir, logOptions);
    } catch (IOException e) {
      throw new ScorelineException(
          ErrorCode.UNAVAILABLE, "cannot open the streams in " + dir + ": " + e, e);
    }
  }

  public Path directory() {
    return dir;
  }

  /** The log directory of a stream. */
  public static Path logDirectory(Path dir, String stream) {
    return dir.resolve(stream).resolve("log");
  }

  /**
   * Declares a stream (opening or creating its log). With several declarations the lowest {@code
   * maxLag} wins.
   */
  public EventLog declare(String stream, long maxLag) {
    Stream s =
        streams.computeIfAbsent(
            stream, n -> new Stream(n, EventLog.open(logDirectory(dir, n), logOptions), maxLag));
    s.maxLag = Math.min(s.maxLag, maxLag);
    return s.log;
  }

  /** The declared stream names. */
  public Set<String> streams() {
    return new TreeSet<>(streams.keySet());
  }

  /** The log of a declared stream. */
  public EventLog log(String stream) {
    return stream(stream).log;
  }

  /** Events of the stream that some consumer has not committed yet. */
  public long lag(String stream) {
    Stream s = stream(stream);
    return s.log.endOffset() - s.minCommitted();
  }

  /**
   * Appends events durably (the future completes after the fsync) unless the stream is too far
   * behind.
   *
   * @return the offset of the first event
   * @throws ScorelineException NOT_FOUND for an undeclared stream; RESOURCE_EXHAUSTED when the lag
   *     would pass the stream's max-lag (retry later)
   */
  public CompletableFuture<Long> append(String stream, List<byte[]> events) {
    Stream s = stream(stream);
    long lag = s.log.endOffset() - s.minCommitted();
    if (lag + events.size() > s.maxLag && lag > 0) {
      throw new ScorelineException(
          ErrorCode.RESOURCE_EXHAUSTED,
          "stream '"
              + stream
              + "' is "
              + lag
              + " events behind (max-lag "
              + s.maxLag
              + "); retry after a moment, send smaller batches, or give the surface more lanes");
    }
    return s.log.append(events);
  }

  /**
   * The source of one consumer (a streaming surface) of a declared stream, from its committed
   * position.
   */
  public EventSource source(String stream, String consumer) {
    Stream s = stream(stream);
    PositionFile f =
        new PositionFile(dir.resolve(stream).resolve("consumers").resolve(consumer + ".position"));
    long committed = f.read().getOrDefault("offset", 0L);
    Consumer c = new Consumer(f, committed);
    s.consumers.put(consumer, c);
    return new Source(s, consumer, c);
  }

  /** The committed position of a consumer, as stored. */
  public long committed(String stream, String consumer) {
    Consumer c = stream(stream).consumers.get(consumer);
    if (c != null) {
      return c.committed;
    }
    return new PositionFile(
            dir.resolve(stream).resolve("consumers").resolve(consumer + ".position"))
        .read()
        .getOrDefault("offset", 0L);
  }

  private Stream stream(String name) {
    Stream s = streams.get(name);
    if (s == null) {
      throw ScorelineException.notFound(
          "no streaming surface reads stream '"
              + name
              + "'"
              + (streams.isEmpty()
                  ? "; this project has none (a surface with mode: streaming)"
                  : "; streams: " + streams()));
    }
    return s;
  }

  @Override
  public void close() {
    for (Stream s : streams.values()) {
      s.log.close();
    }
    try {
      lock.release();
      lockChannel.close();
    } catch (IOException e) {
      // released with the process anyway
    }
  }

  /** The embedded source of one consumer. */
  private static final class Source implements EventSource {
    private final Stream stream;
    private final Consumer position;
    private EventLog.Reader reader;

    Source(Stream stream, String consumer, Consumer position) {
      this.stream = stream;
      this.position = position;
    }

    @Override
    public String describe() {
      return "embedded:" + stream.name;
    }

    @Override
    public void start(Revocation revocation) {
      reader = stream.log.reader(position.committed);
    }

    @Override
    public List<SourceRecord> poll(int max, Duration timeout) throws InterruptedException {
      List<EventLog.Entry> es = reader.poll(max, timeout.toNanos(), TimeUnit.NANOSECONDS);
      List<SourceRecord> out = new ArrayList<>(es.size());
      for (EventLog.Entry e : es) {
        out.add(new SourceRecord(0, e.offset(), e.appendMicros(), e.payload()));
      }
      return out;
    }

    @Override
    public void commit(Map<Integer, Long> nextOffsets) {
      Long next = nextOffsets.get(0);
      if (next == null || next <= position.committed) {
        return;
      }
      Map<String, Long> m = new TreeMap<>();
      m.put("offset", next);
      position.file.write(m);
      position.committed = next;
      stream.log.deleteBefore(stream.minCommitted());
    }

    @Override
    public long lag() {
      return stream.log.endOffset() - position.committed;
    }

    @Override
    public void close() {
      if (reader != null) {
        reader.close();
      }
      // the consumer stays registered: retention keeps what it has not committed
    }
  }
}
