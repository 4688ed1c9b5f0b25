package dev.scoreline.stream.sink;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.scoreline.stream.StreamResult;
import dev.scoreline.stream.log.EventLog;
import dev.scoreline.stream.spi.ResultSink;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Results as JSON records in an embedded {@link EventLog} ({@code
 * <data>/surfaces/<surface>/results} by default): the outbound topic of the embedded mode, read
 * with {@code scoreline stream tail} or {@link EventLog#reader}. Records are fsynced before the
 * batch is acknowledged.
 *
 * <p>After a restart, {@link #recover} reads the records written after the last commit's mark and
 * remembers their event ids: the replay of those events does not write them again, so the log holds
 * exactly one result per processed event id.
 */
public final class LogResultSink implements ResultSink {
  private static final Logger log = LoggerFactory.getLogger(LogResultSink.class);
  private static final ObjectMapper JSON = new ObjectMapper();

  private final EventLog out;
  private final boolean ownsLog;
  private final boolean onlyAlerts;
  private volatile Set<String> written = Set.of();

  /**
   * @param ownsLog whether {@link #close} closes the log
   * @param onlyAlerts whether only results with an alert are written
   */
  public LogResultSink(EventLog out, boolean ownsLog, boolean onlyAlerts) {
    this.out = requireNonNull(out, "out is null");
    this.ownsLog = ownsLog;
    this.onlyAlerts = onlyAlerts;
  }

  public EventLog log() {
    return out;
  }

  @Override
  public String name() {
    return "log";
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
          try {
            JsonNode n = JSON.readTree(e.payload());
            ids.add(n.path("event_id").asText());
          } catch (IOException ex) {
            log.warn("result log {}: unreadable record {}", out.directory(), e.offset());
          }
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (!ids.isEmpty()) {
      log.info(
          "result log {}: {} results were written after the last commit; their replays are skipped",
          out.directory(),
          ids.size());
    }
    written = ids;
  }

  @Override
  public CompletableFuture<Void> write(List<StreamResult> results) {
    Set<String> skip = written;
    List<byte[]> payloads = new ArrayList<>(results.size());
    for (StreamResult r : results) {
      if (onlyAlerts && !r.alerted()) {
        continue;
      }
      if (!skip.isEmpty() && skip.contains(r.eventId())) {
        continue;
      }
      payloads.add(r.toJson());
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
