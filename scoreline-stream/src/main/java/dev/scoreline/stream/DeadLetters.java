package dev.scoreline.stream;

import static java.util.Objects.requireNonNull;

import dev.scoreline.core.error.ScorelineException;
import dev.scoreline.stream.log.EventLog;
import dev.scoreline.stream.log.PositionFile;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * The embedded dead-letter log of a surface: list what is there, and replay entries (their original
 * events are appended to the surface's source stream again, as new events, after you fixed the
 * cause). Replayed entries are recorded in {@code replayed} next to the log, so each is replayed
 * once unless asked again with {@code force}.
 */
public final class DeadLetters {
  /** One dead letter and its offset in the dead-letter log. */
  public record Entry(long offset, boolean replayed, DeadLetter letter) {}

  private final EventLog log;
  private final PositionFile replayed;

  public DeadLetters(EventLog log, PositionFile replayed) {
    this.log = requireNonNull(log, "log is null");
    this.replayed = requireNonNull(replayed, "replayed is null");
  }

  /** Where a surface's embedded dead-letter log and its replay record live. */
  public record Location(java.nio.file.Path log, java.nio.file.Path replayed) {}

  /** The location of a surface's dead letters under a stream data directory. */
  public static Location location(java.nio.file.Path dataDir, String surface) {
    java.nio.file.Path base = dataDir.resolve("surfaces").resolve(surface);
    return new Location(base.resolve("dead-letters"), base.resolve("dead-letters.replayed"));
  }

  /** How many dead letters there are (replayed ones included). */
  public long size() {
    return log.endOffset() - log.startOffset();
  }

  /** Up to {@code limit} entries from {@code from}. */
  public List<Entry> list(long from, int limit) {
    Map<String, Long> done = replayed.read();
    List<Entry> out = new ArrayList<>();
    try (EventLog.Reader r = log.reader(from)) {
      while (out.size() < limit) {
        List<EventLog.Entry> es =
            r.poll(Math.min(1024, limit - out.size()), 0, TimeUnit.MILLISECONDS);
        if (es.isEmpty()) {
          break;
        }
        for (EventLog.Entry e : es) {
          out.add(
              new Entry(
                  e.offset(),
                  done.containsKey(Long.toString(e.offset())),
                  DeadLetter.fromJson(e.payload())));
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return out;
  }

  /**
   * Appends the original events of the entries in {@code [from, to)} to the source again, skipping
   * those replayed before unless {@code force}.
   *
   * @param append appends events to the surface's source (the embedded stream), durably
   * @return how many events were replayed
   */
  public int replay(long from, long to, boolean force, Function<List<byte[]>, Long> append) {
    if (to < from) {
      throw ScorelineException.userError("to", "'to' (" + to + ") is before 'from' (" + from + ")");
    }
    Map<String, Long> done = replayed.read();
    List<Entry> entries = list(from, (int) Math.min(Integer.MAX_VALUE, to - from));
    List<byte[]> events = new ArrayList<>();
    List<Long> offsets = new ArrayList<>();
    for (Entry e : entries) {
      if (e.offset() >= to) {
        break;
      }
      if (e.replayed() && !force) {
        continue;
      }
      events.add(e.letter().event());
      offsets.add(e.offset());
    }
    if (events.isEmpty()) {
      return 0;
    }
    for (int i = 0; i < events.size(); i += 1000) {
      append.apply(events.subList(i, Math.min(events.size(), i + 1000)));
    }
    long now = Json.nowMicros();
    for (Long o : offsets) {
      done.put(Long.toString(o), now);
    }
    replayed.write(done);
    return events.size();
  }
}
