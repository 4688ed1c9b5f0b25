package dev.scoreline.batch;

import static java.util.Objects.requireNonNull;

import dev.scoreline.core.error.ErrorCode;
import dev.scoreline.core.error.ScorelineException;
import dev.scoreline.core.kv.KvEntry;
import dev.scoreline.core.kv.KvStore;
import dev.scoreline.core.progress.ProgressListener;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletionService;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorCompletionService;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs a {@link SnapshotSource} into a new snapshot of a KV store and publishes it atomically.
 *
 * <h2>Guarantees</h2>
 *
 * <ul>
 *   <li><b>Readers never see a partial run.</b> Entries go to the unpublished namespace {@link
 *       KvStore#snapshotNamespace}{@code (name, id)}; the pointer flips ({@link KvStore#publish})
 *       only after every partition succeeded. A failed or killed run leaves the current snapshot
 *       current.
 *   <li><b>Resume.</b> Each partition is recorded as done in the run's manifest (see {@link
 *       RunManifest}: namespace {@code batch/<name>} of the same store) after all its entries were
 *       written. The next {@link #write} of the same name finds the pending run and, when the
 *       source has the same {@link SnapshotSource#fingerprint() fingerprint} and partition count,
 *       continues it under the same snapshot id, computing only the partitions not recorded. A
 *       pending run with other inputs is abandoned (its data dropped) and a new one started.
 *   <li><b>Rollback.</b> {@code keep} published snapshots are kept (the current one included);
 *       {@link #rollback} makes the previous one current.
 * </ul>
 *
 * One run per name at a time: the writer does not lock against another process writing the same
 * name.
 */
public final class SnapshotWriter {
  private static final Logger log = LoggerFactory.getLogger(SnapshotWriter.class);
  private static final DateTimeFormatter ID_FORMAT =
      DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'").withZone(ZoneOffset.UTC);

  private final KvStore store;
  private final Clock clock;

  public SnapshotWriter(KvStore store) {
    this(store, Clock.systemUTC());
  }

  /**
   * @param clock names new snapshots ({@code 20261128T020000Z}) and times runs
   */
  public SnapshotWriter(KvStore store, Clock clock) {
    this.store = requireNonNull(store, "store is null");
    this.clock = requireNonNull(clock, "clock is null");
  }

  /**
   * How a run writes.
   *
   * @param snapshotId the id of the new snapshot, or null: resume the pending run if it matches,
   *     else name a new one after the clock
   * @param keep published snapshots to keep, the new one included (at least 1; 2 or more allows a
   *     rollback)
   * @param threads partitions written at once
   * @param writeBatch entries per {@link KvStore#putAll} call
   * @param progress receives entities as they are written
   */
  public record Options(
      String snapshotId, int keep, int threads, int writeBatch, ProgressListener progress) {
    public Options {
      if (keep < 1) {
        throw ScorelineException.userError("keep", "keep must be at least 1, got " + keep);
      }
      if (threads < 1) {
        throw ScorelineException.userError("threads", "threads must be at least 1, got " + threads);
      }
      if (writeBatch < 1) {
        throw ScorelineException.userError(
            "writeBatch", "writeBatch must be at least 1, got " + writeBatch);
      }
      requireNonNull(progress, "progress is null");
    }

    /** Keep 3, one thread per core, batches of 1,024 entries, no progress, resume or a new id. */
    public static Options defaults() {
      return new Options(
          null, 3, Runtime.getRuntime().availableProcessors(), 1024, ProgressListener.NONE);
    }

    public Options withSnapshotId(String id) {
      return new Options(id, keep, threads, writeBatch, progress);
    }

    public Options withKeep(int n) {
      return new Options(snapshotId, n, threads, writeBatch, progress);
    }

    public Options withThreads(int n) {
      return new Options(snapshotId, keep, n, writeBatch, progress);
    }

    public Options withWriteBatch(int n) {
      return new Options(snapshotId, keep, threads, n, progress);
    }

    public Options withProgress(ProgressListener p) {
      return new Options(snapshotId, keep, threads, writeBatch, p);
    }
  }

  /**
   * A run that has not been published: in progress, failed or killed.
   *
   * @param completed partitions recorded as done
   */
  public record PendingRun(
      String snapshotId, int partitions, int completed, String fingerprint, Instant started) {}

  /**
   * Writes {@code source} into a new (or the resumed) snapshot of {@code name} and publishes it.
   *
   * @return what the run did
   * @throws ScorelineException when a partition fails (with the partition's error code when it
   *     threw one, else INTERNAL): nothing is published and the run can be resumed; USER_ERROR when
   *     {@code options.snapshotId()} is already published
   */
  public BatchRunSummary write(String name, SnapshotSource source, Options options) {
    requireNonNull(source, "source is null");
    requireNonNull(options, "options is null");
    KvStore.snapshotNamespace(name, "x"); // validates the name
    long startNanos = System.nanoTime();
    RunManifest manifest = new RunManifest(store, name);
    int partitions = source.partitions();
    if (partitions < 1) {
      throw ScorelineException.userError(
          "partitions", "a snapshot source needs at least 1 partition, got " + partitions);
    }
    String fingerprint = source.fingerprint();
    if (fingerprint.indexOf('\n') >= 0 || fingerprint.indexOf(',') >= 0) {
      throw new IllegalArgumentException("a fingerprint must not contain newlines or commas");
    }

    String id = resumable(name, manifest, partitions, fingerprint, options.snapshotId());
    if (id == null) {
      id = start(name, manifest, partitions, fingerprint, options.snapshotId());
    }
    String ns = KvStore.snapshotNamespace(name, id);

    List<String> partKeys = new ArrayList<>(partitions);
    for (int p = 0; p < partitions; p++) {
      partKeys.add(RunManifest.partKey(id, p));
    }
    List<String> done = manifest.getAll(partKeys);
    List<Integer> todo = new ArrayList<>();
    long resumedEntities = 0;
    long remaining = 0;
    for (int p = 0; p < partitions; p++) {
      if (done.get(p) != null) {
        resumedEntities += RunManifest.number(RunManifest.parse(done.get(p), "\n"), "entities");
      } else {
        todo.add(p);
        remaining += Math.max(0, source.entities(p));
      }
    }
    int resumed = partitions - todo.size();
    if (resumed > 0) {
      log.info(
          "batch {}: resuming snapshot {}, {} of {} partitions already done",
          name,
          id,
          resumed,
          partitions);
    }

    AtomicLong entities = new AtomicLong();
    AtomicLong scores = new AtomicLong();
    ProgressListener progress = options.progress();
    progress.start("batch " + name, remaining);
    try {
      runPartitions(name, id, ns, source, todo, options, manifest, entities, scores);
    } finally {
      progress.finish();
    }

    store.publish(name, id, options.keep());
    Instant finished = clock.instant();
    Duration duration = Duration.ofNanos(System.nanoTime() - startNanos);
    BatchRunSummary summary =
        new BatchRunSummary(
            name,
            id,
            partitions,
            resumed,
            resumedEntities + entities.get(),
            entities.get(),
            scores.get(),
            duration,
            finished,
            store.snapshots(name));
    recordHistory(manifest, summary);
    List<String> keys = RunManifest.runKeys(id, partitions);
    keys.add(RunManifest.PENDING);
    manifest.delete(keys);
    log.info(
        "batch {}: published snapshot {} ({} entities, {} partitions, {} resumed) in {} ms",
        name,
        id,
        summary.entities(),
        partitions,
        resumed,
        duration.toMillis());
    return summary;
  }

  /** The pending run's id when it can be resumed; abandons a pending run that cannot. */
  private String resumable(
      String name, RunManifest manifest, int partitions, String fingerprint, String wantedId) {
    Optional<PendingRun> pending = pending(name);
    if (pending.isEmpty()) {
      return null;
    }
    PendingRun run = pending.get();
    if (run.partitions() == partitions
        && run.fingerprint().equals(fingerprint)
        && (wantedId == null || wantedId.equals(run.snapshotId()))) {
      return run.snapshotId();
    }
    log.info(
        "batch {}: abandoning pending snapshot {} ({})",
        name,
        run.snapshotId(),
        wantedId != null && !wantedId.equals(run.snapshotId())
            ? "another snapshot id was asked for"
            : "its inputs differ");
    abandon(name);
    return null;
  }

  /** Starts a new run: clears leftovers under its id, then records it as pending. */
  private String start(
      String name, RunManifest manifest, int partitions, String fingerprint, String wantedId) {
    List<String> published = store.snapshots(name);
    String id;
    if (wantedId != null) {
      KvStore.snapshotNamespace(name, wantedId); // validates
      if (published.contains(wantedId)) {
        throw ScorelineException.userError(
            "snapshotId",
            "snapshot '"
                + wantedId
                + "' of '"
                + name
                + "' is already published; choose a new id, or roll back and drop it first");
      }
      id = wantedId;
    } else {
      String base = ID_FORMAT.format(clock.instant());
      id = base;
      for (int n = 2; published.contains(id); n++) {
        id = base + "-" + n;
      }
    }
    if (wantedId != null) {
      store.dropSnapshot(name, id); // entries an earlier run under this id may have left
    }
    Map<String, Object> run = new LinkedHashMap<>();
    run.put("partitions", partitions);
    run.put("fingerprint", fingerprint);
    run.put("started", clock.instant());
    manifest.put(RunManifest.runKey(id), RunManifest.format(run, "\n"));
    manifest.put(RunManifest.PENDING, id);
    return id;
  }

  private void runPartitions(
      String name,
      String id,
      String ns,
      SnapshotSource source,
      List<Integer> todo,
      Options options,
      RunManifest manifest,
      AtomicLong entities,
      AtomicLong scores) {
    if (todo.isEmpty()) {
      return;
    }
    int threads = Math.min(options.threads(), todo.size());
    ExecutorService pool =
        Executors.newFixedThreadPool(threads, DotProductTopK.threadFactory("scoreline-batch"));
    AtomicReference<Throwable> failure = new AtomicReference<>();
    int[] failedPartition = {-1};
    CompletionService<Void> completions = new ExecutorCompletionService<>(pool);
    try {
      for (int p : todo) {
        completions.submit(
            () -> {
              if (failure.get() != null) {
                return null;
              }
              try {
                Output out = new Output(ns, options, entities, scores);
                source.write(p, out);
                out.flush();
                Map<String, Object> part = new LinkedHashMap<>();
                part.put("entities", out.entities);
                part.put("scores", out.scores);
                manifest.put(RunManifest.partKey(id, p), RunManifest.format(part, "\n"));
                return null;
              } catch (Exception | Error t) {
                synchronized (failedPartition) {
                  if (failure.compareAndSet(null, t)) {
                    failedPartition[0] = p;
                  }
                }
                throw t;
              }
            });
      }
      for (int i = 0; i < todo.size(); i++) {
        try {
          completions.take().get();
        } catch (ExecutionException e) {
          break; // the first failure stops the run
        }
      }
    } catch (InterruptedException e) {
      failure.compareAndSet(null, e);
      Thread.currentThread().interrupt();
    } finally {
      pool.shutdownNow();
      awaitQuietly(pool);
    }
    Throwable t = failure.get();
    if (t == null) {
      return;
    }
    String detail =
        "batch '"
            + name
            + "' failed"
            + (failedPartition[0] >= 0 ? " in partition " + failedPartition[0] : "")
            + ": "
            + t.getMessage()
            + "; nothing was published, the current snapshot stays current; run it again to"
            + " resume snapshot "
            + id;
    if (t instanceof ScorelineException se) {
      throw new ScorelineException(se.code(), detail, se);
    }
    if (t instanceof InterruptedException) {
      throw new ScorelineException(ErrorCode.UNAVAILABLE, detail, t);
    }
    throw new ScorelineException(ErrorCode.INTERNAL, detail, t);
  }

  /** Waits until every partition task stopped, so nothing writes after a failed run returns. */
  private static void awaitQuietly(ExecutorService pool) {
    boolean interrupted = false;
    while (true) {
      try {
        if (pool.awaitTermination(1, TimeUnit.SECONDS)) {
          break;
        }
      } catch (InterruptedException e) {
        interrupted = true;
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }

  /** Buffers a partition's entries and writes them in batches. */
  private final class Output implements PartitionOutput {
    private final String ns;
    private final int batch;
    private final ProgressListener progress;
    private final AtomicLong totalEntities;
    private final AtomicLong totalScores;
    private final List<KvEntry> buffer;
    long entities;
    long scores;

    Output(String ns, Options options, AtomicLong totalEntities, AtomicLong totalScores) {
      this.ns = ns;
      this.batch = options.writeBatch();
      this.progress = options.progress();
      this.totalEntities = totalEntities;
      this.totalScores = totalScores;
      this.buffer = new ArrayList<>(batch);
    }

    @Override
    public void put(byte[] key, byte[] value) {
      buffer.add(new KvEntry(key, value));
      if (buffer.size() >= batch) {
        flush();
      }
    }

    @Override
    public void scored(long n) {
      scores += n;
      totalScores.addAndGet(n);
    }

    @Override
    public void written(long n) {
      entities += n;
      totalEntities.addAndGet(n);
      progress.advance(n);
    }

    void flush() {
      if (buffer.isEmpty()) {
        return;
      }
      store.putAll(ns, buffer);
      int n = buffer.size();
      buffer.clear();
      entities += n;
      totalEntities.addAndGet(n);
      progress.advance(n);
    }
  }

  private void recordHistory(RunManifest manifest, BatchRunSummary s) {
    Map<String, Object> f = new LinkedHashMap<>();
    f.put("id", s.snapshotId());
    f.put("finished", s.finishedAt());
    f.put("partitions", s.partitions());
    f.put("resumed", s.resumedPartitions());
    f.put("entities", s.entities());
    f.put("computed-entities", s.computedEntities());
    f.put("scores", s.computedScores());
    f.put("nanos", s.duration().toNanos());
    List<String> lines = new ArrayList<>();
    lines.add(RunManifest.format(f, ","));
    String old = manifest.get(RunManifest.HISTORY_KEY);
    if (old != null) {
      for (String line : old.split("\n")) {
        if (lines.size() < RunManifest.HISTORY && !line.isEmpty()) {
          lines.add(line);
        }
      }
    }
    manifest.put(RunManifest.HISTORY_KEY, String.join("\n", lines));
  }

  /** The published runs of {@code name} this writer recorded, newest first (at most 20). */
  public List<BatchRunSummary> history(String name) {
    String text = new RunManifest(store, name).get(RunManifest.HISTORY_KEY);
    List<BatchRunSummary> out = new ArrayList<>();
    if (text == null) {
      return out;
    }
    for (String line : text.split("\n")) {
      if (line.isEmpty()) {
        continue;
      }
      Map<String, String> f = RunManifest.parse(line, ",");
      out.add(
          new BatchRunSummary(
              name,
              f.get("id"),
              (int) RunManifest.number(f, "partitions"),
              (int) RunManifest.number(f, "resumed"),
              RunManifest.number(f, "entities"),
              RunManifest.number(f, "computed-entities"),
              RunManifest.number(f, "scores"),
              Duration.ofNanos(RunManifest.number(f, "nanos")),
              Instant.parse(f.get("finished")),
              List.of()));
    }
    return out;
  }

  /** The run of {@code name} that has not been published, if any. */
  public Optional<PendingRun> pending(String name) {
    KvStore.snapshotNamespace(name, "x");
    RunManifest manifest = new RunManifest(store, name);
    String id = manifest.get(RunManifest.PENDING);
    if (id == null) {
      return Optional.empty();
    }
    String runText = manifest.get(RunManifest.runKey(id));
    if (runText == null || store.snapshots(name).contains(id)) {
      // published but not cleaned up (the process stopped right after the flip): nothing pending
      manifest.delete(List.of(RunManifest.PENDING));
      return Optional.empty();
    }
    Map<String, String> run = RunManifest.parse(runText, "\n");
    int partitions = (int) RunManifest.number(run, "partitions");
    List<String> keys = new ArrayList<>(partitions);
    for (int p = 0; p < partitions; p++) {
      keys.add(RunManifest.partKey(id, p));
    }
    int completed = 0;
    for (String v : manifest.getAll(keys)) {
      if (v != null) {
        completed++;
      }
    }
    return Optional.of(
        new PendingRun(
            id,
            partitions,
            completed,
            run.getOrDefault("fingerprint", ""),
            Instant.parse(run.get("started"))));
  }

  /**
   * Drops the pending run of {@code name}: its entries and its manifest.
   *
   * @return the dropped snapshot id, if there was a pending run
   */
  public Optional<String> abandon(String name) {
    Optional<PendingRun> pending = pending(name);
    if (pending.isEmpty()) {
      return Optional.empty();
    }
    PendingRun run = pending.get();
    store.dropSnapshot(name, run.snapshotId());
    List<String> keys = RunManifest.runKeys(run.snapshotId(), run.partitions());
    keys.add(RunManifest.PENDING);
    new RunManifest(store, name).delete(keys);
    return Optional.of(run.snapshotId());
  }

  /**
   * Makes the previous published snapshot of {@code name} current (see {@link KvStore#rollback}).
   *
   * @return the snapshot now current
   */
  public String rollback(String name) {
    return store.rollback(name);
  }
}
