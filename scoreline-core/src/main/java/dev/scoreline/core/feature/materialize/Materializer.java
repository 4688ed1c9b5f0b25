package dev.scoreline.core.feature.materialize;

import static java.util.Objects.requireNonNull;

import dev.scoreline.core.error.ErrorCode;
import dev.scoreline.core.error.ScorelineException;
import dev.scoreline.core.feature.Definitions.FeatureView;
import dev.scoreline.core.feature.FeatureRegistry;
import dev.scoreline.core.feature.FeatureRow;
import dev.scoreline.core.feature.online.OnlineFeatureStore;
import dev.scoreline.core.feature.spi.OfflineStore;
import dev.scoreline.core.progress.ProgressListener;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Moves feature values from the offline store to the online store: for each view, the newest row
 * per entity key with event time in {@code [start, end)} ({@link OfflineStore#scanLatest}),
 * streamed in batches into {@link OnlineFeatureStore#write} (one {@code mergeRecords} call per
 * batch), so memory is bounded by the batch size.
 *
 * <p>Re-runs are safe: writes are last-write-wins by (event time, created time), so an interrupted
 * run repeated gives the same values (an older event never overwrites a newer one, equal events are
 * rewritten with the same values). The state file ({@code <stateDir>/materialize.json}) records the
 * end of a view's last successful run, only after the whole view is written; {@link
 * #materializeIncremental} starts there, else at {@code end - ttl}, else at {@code end - 365 days}.
 * Intervals are half-open, so consecutive incremental runs neither overlap nor leave gaps. Entity
 * keys absent from an interval are never deleted online (their values expire by TTL on read).
 *
 * <p>Rows without a created time are stamped with the arrival time (the clock when their batch is
 * encoded, just before it is written).
 */
public final class Materializer {
  /** Rows per {@code mergeRecords} call. */
  public static final int DEFAULT_BATCH_SIZE = 10_000;

  /** The lookback of a first incremental run of a view without TTL. */
  public static final Duration DEFAULT_LOOKBACK = Duration.ofDays(365);

  private static final Logger log = LoggerFactory.getLogger(Materializer.class);

  private final OfflineStore offline;
  private final OnlineFeatureStore online;
  private final FeatureRegistry registry;
  private final MaterializationState state;
  private final Clock clock;
  private final ProgressListener progress;
  private final int batchSize;

  /**
   * @param stateDir the directory of the state file (a project's {@code .scoreline/})
   */
  public Materializer(
      OfflineStore offline,
      OnlineFeatureStore online,
      Path stateDir,
      Clock clock,
      ProgressListener progress) {
    this(offline, online, stateDir, clock, progress, DEFAULT_BATCH_SIZE);
  }

  public Materializer(
      OfflineStore offline,
      OnlineFeatureStore online,
      Path stateDir,
      Clock clock,
      ProgressListener progress,
      int batchSize) {
    this.offline = requireNonNull(offline, "offline is null");
    this.online = requireNonNull(online, "online is null");
    this.registry = online.registry();
    this.state = new MaterializationState(requireNonNull(stateDir, "stateDir is null"));
    this.clock = requireNonNull(clock, "clock is null");
    this.progress = requireNonNull(progress, "progress is null");
    if (batchSize < 1) {
      throw new IllegalArgumentException("batchSize must be at least 1");
    }
    this.batchSize = batchSize;
  }

  /** What one view's run did. */
  public record ViewResult(
      String view,
      Instant start,
      Instant end,
      long rowsRead,
      long rowsWritten,
      long rowsApplied,
      Duration duration) {
    /** Rows read per second. */
    public double rowsPerSecond() {
      return Summary.rate(rowsRead, duration);
    }
  }

  /**
   * What a run did.
   *
   * @param views per view, in run order; a view already up to date has zero rows
   */
  public record Summary(List<ViewResult> views, Duration duration) {
    public Summary {
      views = List.copyOf(views);
    }

    public long rowsRead() {
      long n = 0;
      for (ViewResult v : views) {
        n += v.rowsRead();
      }
      return n;
    }

    /** Rows sent to the online store. */
    public long rowsWritten() {
      long n = 0;
      for (ViewResult v : views) {
        n += v.rowsWritten();
      }
      return n;
    }

    /** Rows the online store applied (the rest were older than what it held). */
    public long rowsApplied() {
      long n = 0;
      for (ViewResult v : views) {
        n += v.rowsApplied();
      }
      return n;
    }

    public double rowsPerSecond() {
      return rate(rowsRead(), duration);
    }

    static double rate(long rows, Duration d) {
      long nanos = d.toNanos();
      return nanos <= 0 ? 0 : rows * 1e9 / nanos;
    }
  }

  /**
   * Materializes rows with event time in {@code [start, end)}.
   *
   * @param views view names; empty = every view with {@code online: true}
   * @throws ScorelineException NOT_FOUND for an unknown view; USER_ERROR for an offline-only view
   *     or {@code start >= end}
   */
  public Summary materialize(List<String> views, Instant start, Instant end) {
    requireNonNull(start, "start is null");
    requireNonNull(end, "end is null");
    if (!start.isBefore(end)) {
      throw ScorelineException.userError(
          "start",
          "start " + start + " is not before end " + end + "; the interval is [start, end)");
    }
    List<FeatureView> selected = select(views);
    Instant t0 = clock.instant();
    List<ViewResult> results = new ArrayList<>();
    for (FeatureView v : selected) {
      results.add(run(v, start, end));
    }
    return new Summary(results, Duration.between(t0, clock.instant()));
  }

  /**
   * Materializes each view from where its last successful run ended (else {@code end - ttl}, else
   * {@code end - 365 days}) up to {@code end}.
   */
  public Summary materializeIncremental(List<String> views, Instant end) {
    requireNonNull(end, "end is null");
    List<FeatureView> selected = select(views);
    Instant t0 = clock.instant();
    List<ViewResult> results = new ArrayList<>();
    for (FeatureView v : selected) {
      Instant start = incrementalStart(v, end);
      if (!start.isBefore(end)) {
        log.info("feature view {} is materialized up to {}: nothing to do", v.name(), start);
        results.add(new ViewResult(v.name(), start, end, 0, 0, 0, Duration.ZERO));
        continue;
      }
      results.add(run(v, start, end));
    }
    return new Summary(results, Duration.between(t0, clock.instant()));
  }

  /** The end of the last successful run of {@code view}, from the state file. */
  public Optional<Instant> lastEnd(String view) {
    return state.lastEnd(view);
  }

  Instant incrementalStart(FeatureView v, Instant end) {
    Optional<Instant> last = state.lastEnd(v.name());
    if (last.isPresent()) {
      return last.get();
    }
    return end.minus(v.ttl() != null ? v.ttl() : DEFAULT_LOOKBACK);
  }

  private List<FeatureView> select(List<String> names) {
    requireNonNull(names, "views is null");
    List<FeatureView> out = new ArrayList<>();
    if (names.isEmpty()) {
      for (FeatureView v : registry.views()) {
        if (v.online()) {
          out.add(v);
        }
      }
      return out;
    }
    Set<String> seen = new LinkedHashSet<>();
    for (String n : names) {
      if (!seen.add(n)) {
        continue;
      }
      FeatureView v = registry.view(n);
      if (!v.online()) {
        throw ScorelineException.userError(
            "views",
            "feature view '"
                + n
                + "' is offline only (online: false); set online: true to materialize it");
      }
      out.add(v);
    }
    return out;
  }

  private ViewResult run(FeatureView v, Instant start, Instant end) {
    Instant t0 = clock.instant();
    long total = offline.count(v, start, end);
    progress.start("materialize " + v.name(), total);
    long read;
    Batch batch = new Batch(v);
    try {
      read = offline.scanLatest(v, start, end, batch::add);
      batch.flush();
      batch.awaitWrite();
    } finally {
      batch.close();
      progress.finish();
    }
    Duration took = Duration.between(t0, clock.instant());
    state.recordSuccess(v.name(), start, end, batch.written, clock.instant());
    log.info(
        "materialized feature view {} [{}, {}): {} rows read, {} applied in {} ms",
        v.name(),
        start,
        end,
        read,
        batch.applied,
        took.toMillis());
    return new ViewResult(v.name(), start, end, read, batch.written, batch.applied, took);
  }

  /**
   * The rows of the current batch of one view's run. A full batch is encoded on the scan thread
   * ({@link OnlineFeatureStore#prepare}) and written by a writer thread while the scan fills the
   * next one (at most one write in flight), so reading the offline store, encoding and writing the
   * online store overlap.
   */
  private final class Batch implements AutoCloseable {
    private final FeatureView view;
    private final ExecutorService writer =
        Executors.newSingleThreadExecutor(
            r -> {
              Thread t = new Thread(r, "scoreline-materialize-writer");
              t.setDaemon(true);
              return t;
            });
    private List<FeatureRow> rows = new ArrayList<>(Math.min(batchSize, 1 << 16));
    private Future<?> pending;
    private long written;
    private long applied;

    Batch(FeatureView view) {
      this.view = view;
    }

    void add(FeatureRow row) {
      rows.add(row);
      if (rows.size() >= batchSize) {
        flush();
      }
    }

    /**
     * Encodes the full batch on the scan thread (while the previous batch is written), then hands
     * it to the writer thread.
     */
    void flush() {
      if (rows.isEmpty()) {
        return;
      }
      List<FeatureRow> full = rows;
      rows = new ArrayList<>(Math.min(batchSize, 1 << 16));
      long from = written;
      int n = full.size();
      OnlineFeatureStore.PreparedWrite prepared;
      try {
        prepared = online.prepare(view.name(), full);
      } catch (ScorelineException e) {
        throw batchError(e, from, n);
      }
      awaitWrite();
      written += n;
      pending = writer.submit(() -> write(prepared, from, n));
    }

    private void write(OnlineFeatureStore.PreparedWrite prepared, long from, int n) {
      try {
        applied += online.write(prepared);
      } catch (ScorelineException e) {
        throw batchError(e, from, n);
      }
      progress.advance(n);
    }

    private ScorelineException batchError(ScorelineException e, long from, int n) {
      return new ScorelineException(
          e.code(),
          e.field().orElse(null),
          "materializing feature view '"
              + view.name()
              + "', batch of rows "
              + from
              + ".."
              + (from + n - 1)
              + " from the offline store: "
              + e.getMessage(),
          e);
    }

    /** Waits for the write in flight; rethrows its failure. */
    void awaitWrite() {
      Future<?> f = pending;
      if (f == null) {
        return;
      }
      pending = null;
      try {
        f.get();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new ScorelineException(ErrorCode.UNAVAILABLE, "materialization was interrupted", e);
      } catch (ExecutionException e) {
        if (e.getCause() instanceof RuntimeException) {
          throw (RuntimeException) e.getCause();
        }
        throw new ScorelineException(ErrorCode.INTERNAL, "materialization write failed", e);
      }
    }

    /** Lets a write in flight finish (a failed scan still leaves whole batches), then stops. */
    @Override
    public void close() {
      try {
        awaitWrite();
      } catch (RuntimeException e) {
        log.debug("write in flight failed while stopping: {}", e.toString());
      } finally {
        writer.shutdownNow();
      }
    }
  }
}
