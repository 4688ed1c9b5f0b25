package dev.scoreline.batch;

import static java.util.Objects.requireNonNull;

import dev.scoreline.core.error.ErrorCode;
import dev.scoreline.core.error.ScorelineException;
import dev.scoreline.core.kv.BulkLoad;
import dev.scoreline.core.kv.KvStore;
import dev.scoreline.core.progress.ProgressListener;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletionService;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorCompletionService;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;
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
 *   <li><b>Resume.</b> Each partition's entries are one {@link KvStore#bulkLoad bulk load}; the
 *       partition is recorded as done in the run's manifest (see {@link RunManifest}: namespace
 *       {@code batch/<name>} of the same store) only after the load committed, that is after all
 *       its entries are durable (RocksDB: an SST file synced and ingested). Commits run on one
 *       commit thread while the partition threads compute the next partitions. The next {@link
 *       #write} of the same name finds the pending run and, when the source has the same {@link
 *       SnapshotSource#fingerprint() fingerprint} and partition count, continues it under the same
 *       snapshot id, computing only the partitions not recorded. A pending run with other inputs is
 *       abandoned (its data dropped) and a new one started.
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
   * @param writeBatch entries per {@link KvStore#putAll} call where the store's {@link
   *     KvStore#bulkLoad bulk load} writes through puts (Redis); RocksDB ingests whole files
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
    // commits (a bulk load's sync and ingestion, then the manifest record) wait on the disk more
    // than they compute: one thread does them while the partition threads go on computing
    ExecutorService committer =
        Executors.newSingleThreadExecutor(DotProductTopK.threadFactory("scoreline-batch-commit"));
    // at most this many computed partitions wait for their commit (their entries are in memory)
    Semaphore commitSlots = new Semaphore(threads);
    List<Future<?>> commits = Collections.synchronizedList(new ArrayList<>());
    AtomicReference<Throwable> failure = new AtomicReference<>();
    int[] failedPartition = {-1};
    CompletionService<Void> completions = new ExecutorCompletionService<>(pool);
    boolean interrupted = false;
    try {
      for (int p : todo) {
        completions.submit(
            () -> {
              if (failure.get() != null) {
                return null;
              }
              BulkLoad load = store.bulkLoad(ns, options.writeBatch());
              boolean handedOver = false;
              try {
                Output out = new Output(load, options, entities, scores);
                source.write(p, out);
                out.finish();
                commitSlots.acquire();
                try {
                  commits.add(
                      committer.submit(
                          () ->
                              commit(
                                  id,
                                  p,
                                  load,
                                  out,
                                  manifest,
                                  commitSlots,
                                  failure,
                                  failedPartition)));
                  handedOver = true;
                } finally {
                  if (!handedOver) {
                    commitSlots.release();
                  }
                }
                return null;
              } catch (Exception | Error t) {
                fail(failure, failedPartition, p, t);
                throw t;
              } finally {
                if (!handedOver) {
                  load.close();
                }
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
      for (int i = 0; i < commits.size(); i++) {
        try {
          commits.get(i).get();
        } catch (ExecutionException e) {
          // recorded in failure
        }
      }
    } catch (InterruptedException e) {
      failure.compareAndSet(null, e);
      interrupted = true;
    } finally {
      pool.shutdownNow();
      awaitQuietly(pool);
      // partitions handed over before a failure or an interrupt still commit (for milliseconds):
      // a resumed run needs not compute them again
      committer.shutdown();
      awaitQuietly(committer);
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
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

  /**
   * Commits partition {@code p}'s bulk load, then records the partition as done: a partition is
   * recorded only once its entries are durable, so a resumed run never skips lost entries.
   */
  private static Void commit(
      String id,
      int p,
      BulkLoad load,
      Output out,
      RunManifest manifest,
      Semaphore commitSlots,
      AtomicReference<Throwable> failure,
      int[] failedPartition)
      throws Exception {
    try {
      load.commit();
      Map<String, Object> part = new LinkedHashMap<>();
      part.put("entities", out.entities);
      part.put("scores", out.scores);
      manifest.put(RunManifest.partKey(id, p), RunManifest.format(part, "\n"));
      return null;
    } catch (Exception | Error t) {
      fail(failure, failedPartition, p, t);
      throw t;
    } finally {
      load.close();
      commitSlots.release();
    }
  }

  private static void fail(
      AtomicReference<Throwable> failure, int[] failedPartition, int p, Throwable t) {
    synchronized (failedPartition) {
      if (failure.compareAndSet(null, t)) {
        failedPartition[0] = p;
      }
    }
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

  /** Puts a partition's entries into its bulk load and counts them. */
  private static final class Output implements PartitionOutput {
    private static final int PROGRESS_STEP = 1024;
    private final BulkLoad load;
    private final ProgressListener progress;
    private final AtomicLong totalEntities;
    private final AtomicLong totalScores;
    private int unreported;
    long entities;
    long scores;

    Output(BulkLoad load, Options options, AtomicLong totalEntities, AtomicLong totalScores) {
      this.load = load;
      this.progress = options.progress();
      this.totalEntities = totalEntities;
      this.totalScores = totalScores;
    }

    @Override
    public void put(byte[] key, byte[] value) {
      load.put(key, value);
      entities++;
      if (++unreported >= PROGRESS_STEP) {
        report();
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

    private void report() {
      totalEntities.addAndGet(unreported);
      progress.advance(unreported);
      unreported = 0;
    }

    /** Reports the last entries put; the partition's source has returned. */
    void finish() {
      if (unreported > 0) {
        report();
      }
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
