package dev.scoreline.stream.sink;

import static java.util.Objects.requireNonNull;

import dev.scoreline.stream.DeadLetter;
import dev.scoreline.stream.log.EventLog;
import dev.scoreline.stream.spi.DeadLetterSink;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Dead letters as JSON records ({@link DeadLetter#toJson}) in an embedded {@link EventLog}. Like
 * {@link LogResultSink}, a replay after a crash does not write a dead letter twice (identified by
 * source partition and offset).
 */
public final class LogDeadLetterSink implements DeadLetterSink {
  private final EventLog out;
  private final boolean ownsLog;
  private volatile Set<String> written = Set.of();

  public LogDeadLetterSink(EventLog out, boolean ownsLog) {
    this.out = requireNonNull(out, "out is null");
    this.ownsLog = ownsLog;
  }

  public EventLog log() {
    return out;
  }

  @Override
  public long mark() {
    return out.endOffset();
  }

  @Override
  public void recover(long mark) {
    Set<String> ids = new HashSet<>();
    try (EventLog.Reader r = out.reader(mark)) {
      while (true) {
        List<EventLog.Entry> es = r.poll(4096, 0, TimeUnit.MILLISECONDS);
        if (es.isEmpty()) {
          break;
        }
        for (EventLog.Entry e : es) {
          ids.add(DeadLetter.fromJson(e.payload()).id());
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    written = ids;
  }

  @Override
  public CompletableFuture<Void> write(List<DeadLetter> letters) {
    Set<String> skip = written;
    List<byte[]> payloads = new ArrayList<>(letters.size());
    for (DeadLetter d : letters) {
      if (!skip.isEmpty() && skip.contains(d.id())) {
        continue;
      }
      payloads.add(d.toJson());
    }
    if (payloads.isEmpty()) {
      return CompletableFuture.completedFuture(null);
    }
    return out.append(payloads).thenApply(x -> null);
  }

  @Override
  public void close() {
    if (ownsLog) {
      out.close();
    }
  }
}
