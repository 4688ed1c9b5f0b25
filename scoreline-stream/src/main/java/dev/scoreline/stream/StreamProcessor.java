package dev.scoreline.stream;

import static java.util.Objects.requireNonNull;

import dev.scoreline.core.error.ErrorCode;
import dev.scoreline.core.error.ScorelineException;
import dev.scoreline.core.feature.FeatureRow;
import dev.scoreline.core.feature.online.OnlineFeatureStore;
import dev.scoreline.core.kv.KeyHash;
import dev.scoreline.core.kv.KvEntry;
import dev.scoreline.core.kv.KvStore;
import dev.scoreline.core.surface.SurfaceEngine;
import dev.scoreline.core.surface.SurfaceResult;
import dev.scoreline.stream.log.PositionFile;
import dev.scoreline.stream.spi.DeadLetterSink;
import dev.scoreline.stream.spi.EventSource;
import dev.scoreline.stream.spi.ResultSink;
import dev.scoreline.stream.spi.SourceRecord;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs one streaming surface: reads events from its {@link EventSource}, and for each event, in
 * order per entity: applies its feature updates (pushed to the online store, so the next event of
 * the entity sees them), runs the surface's shared pipeline ({@link SurfaceEngine#rankAll}, the
 * same path as the online endpoint, once per round of a lane batch), applies the alert rules and
 * hands the result to every sink.
 *
 * <p><b>Threads.</b> One dispatcher thread polls the source, parses events and routes each to one
 * of N lanes by the hash of its entity key; each lane is one thread, so an entity's events are
 * processed in order while entities run in parallel. A lane processes its queue in micro-batches:
 * every event of the batch, then the entity states, then all sinks at once.
 *
 * <p><b>Guarantees.</b> Positions are committed (dispatcher thread) only for a prefix of polled
 * batches whose events are all finished: their results acknowledged by every sink, or their dead
 * letters written. A lane keeps up to {@code batches-in-flight} batches' sink writes outstanding
 * while it scores the next ones, and finishes its batches in order; a sink that acknowledges out of
 * order therefore never lets the committed position pass an unacknowledged event. Commits on the
 * way are asynchronous ({@link EventSource#commitAsync}, one at a time, the dispatcher keeps
 * polling); the commit at shutdown and before a rebalance is synchronous. After a crash the source
 * redelivers from the committed position: nothing is skipped, and a redelivered event does not
 * change the entity's features twice (the state records the offsets it applied), its result is
 * written again with the same event id, which the KV sink absorbs and the embedded result log skips
 * (see {@link ResultSink#recover}). An event whose id is among its entity's latest ids at a new
 * offset (a client resent it) is counted as a duplicate and not scored again.
 *
 * <p><b>Failures.</b> Poison events (not JSON, key or time missing, model error) become dead
 * letters and the stream continues. Transient failures (model overloaded or loading, a sink down)
 * are retried in place with backoff: the stream pauses, lag grows, and the embedded ingest answers
 * 429 once the lag passes {@code max-lag}.
 */
public final class StreamProcessor implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(StreamProcessor.class);

  private final StreamConfig config;
  private final Pipeline pipeline;
  private final KvStore stateStore;
  private final String stateNamespace;
  private final EventSource source;
  private final List<ResultSink> sinks;
  private final DeadLetterSink deadLetters;
  private final PositionFile marksFile;
  private final StreamMetrics metrics;
  private final ExecutorService threads;
  private final Lane[] lanes;
  private final ArrayDeque<PollBatch> inflight = new ArrayDeque<>();
  private final Map<Integer, Long> committed = new TreeMap<>();
  private final Map<Integer, Long> toCommit = new TreeMap<>();
  private final AtomicLong polledRecords = new AtomicLong();
  private final AtomicLong finishedRecords = new AtomicLong();
  private final String sourceName;
  private volatile boolean running;
  private volatile boolean stopped;
  private volatile Throwable failure;

  /** A lane stopped with a batch unfinished (shutting down with a sink down): waiting is over. */
  private volatile boolean abandoned;

  private long lastCommitNanos;

  /** The asynchronous commit in flight (dispatcher thread), or null. */
  private CompletableFuture<Void> commitPending;

  /** Its positions, included in a forced commit made before it completes. */
  private Map<Integer, Long> commitPendingOffsets = Map.of();

  /** Numbers commits; a commit's completion older than the latest forced one changes nothing. */
  private long commitSeq;

  private long forcedSeq;
  private long marksSeq;
  private CompletableFuture<Void> dispatcherDone;

  /** One poll's records: committed once all of them are finished. */
  private static final class PollBatch {
    final Map<Integer, Long> next;
    final long[] marks;
    final AtomicInteger pending;
    final long polledNanos;

    PollBatch(Map<Integer, Long> next, long[] marks, int count, long polledNanos) {
      this.next = next;
      this.marks = marks;
      this.pending = new AtomicInteger(count);
      this.polledNanos = polledNanos;
    }
  }

  /** One event (or poison record) for a lane. */
  private record Task(
      SourceRecord record,
      StreamEvent event,
      Key key,
      StreamEvent.Poison poison,
      PollBatch batch) {}

  /** Put in a lane's queue when sink writes of one of its batches are acknowledged. */
  private static final Task WAKE = new Task(null, null, null, null, null);

  /**
   * @param stateStore where per-entity stream state lives (namespace {@code
   *     stream-state/<surface>})
   * @param marksFile where the sinks' recovery marks are saved with each commit
   * @param threadFactory makes the dispatcher and lane threads (daemon threads are fine)
   */
  public StreamProcessor(
      StreamConfig config,
      SurfaceEngine engine,
      OnlineFeatureStore features,
      KvStore stateStore,
      EventSource source,
      List<ResultSink> sinks,
      DeadLetterSink deadLetters,
      PositionFile marksFile,
      io.micrometer.core.instrument.MeterRegistry meters,
      ThreadFactory threadFactory) {
    this.config = requireNonNull(config, "config is null");
    this.pipeline =
        new Pipeline(
            config,
            requireNonNull(engine, "engine is null"),
            requireNonNull(features, "features is null"));
    this.stateStore = requireNonNull(stateStore, "stateStore is null");
    this.stateNamespace = "stream-state/" + config.name();
    this.source = requireNonNull(source, "source is null");
    this.sinks = List.copyOf(sinks);
    this.deadLetters = requireNonNull(deadLetters, "deadLetters is null");
    this.marksFile = requireNonNull(marksFile, "marksFile is null");
    this.sourceName = source.describe();
    this.metrics = new StreamMetrics(meters, config.name(), this::lag);
    this.threads =
        Executors.newFixedThreadPool(
            config.lanes() + 1, requireNonNull(threadFactory, "threadFactory is null"));
    this.lanes = new Lane[config.lanes()];
    for (int i = 0; i < lanes.length; i++) {
      lanes[i] = new Lane(i);
    }
  }

  public String surface() {
    return config.name();
  }

  public StreamConfig config() {
    return config;
  }

  /** Recovers the sinks from the saved marks and starts the dispatcher and the lanes. */
  public synchronized StreamProcessor start() {
    if (running || stopped) {
      throw new IllegalStateException("already started");
    }
    Map<String, Long> marks = marksFile.read();
    for (int i = 0; i < sinks.size(); i++) {
      sinks.get(i).recover(marks.getOrDefault("sink." + sinks.get(i).name(), 0L));
    }
    deadLetters.recover(marks.getOrDefault("dead-letters", 0L));
    running = true;
    for (Lane l : lanes) {
      threads.execute(l);
    }
    dispatcherDone = CompletableFuture.runAsync(this::dispatch, threads);
    log.info(
        "stream {}: reading {} with {} lanes, sinks {}",
        config.name(),
        sourceName,
        lanes.length,
        sinks.stream().map(ResultSink::name).toList());
    return this;
  }

  /** Events accepted by the source and not yet committed (the source's view), or in flight. */
  public long lag() {
    long l = source.lag();
    return l >= 0 ? l : Math.max(0, polledRecords.get() - finishedRecords.get());
  }

  /** What the processor has done so far. */
  public record Status(
      String surface,
      String source,
      boolean running,
      long lag,
      Map<Integer, Long> committed,
      long in,
      long results,
      long deadLetters,
      long duplicates,
      String failure) {}

  public Status status() {
    Map<Integer, Long> c;
    synchronized (committed) {
      c = Map.copyOf(committed);
    }
    Throwable f = failure;
    return new Status(
        config.name(),
        sourceName,
        running,
        lag(),
        c,
        (long) metrics.count("in"),
        (long) metrics.count("result"),
        (long) metrics.count("dead-letter"),
        (long) metrics.count("duplicate"),
        f == null ? null : f.toString());
  }

  /**
   * Waits until every event the source has accepted so far is processed and committed (tests,
   * benchmarks, a graceful drain).
   *
   * @return false on timeout
   */
  public boolean awaitIdle(Duration timeout) throws InterruptedException {
    long end = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < end) {
      if (lag() == 0 && polledRecords.get() == finishedRecords.get() && inflightEmpty()) {
        return true;
      }
      Thread.sleep(5);
    }
    return false;
  }

  private boolean inflightEmpty() {
    synchronized (inflight) {
      return inflight.isEmpty();
    }
  }

  /**
   * Stops: no new polls; the lanes finish what they hold, the last positions are committed, then
   * the source and the sinks close.
   */
  @Override
  public void close() {
    synchronized (this) {
      if (stopped) {
        return;
      }
      stopped = true;
      running = false;
    }
    try {
      if (dispatcherDone != null) {
        dispatcherDone.get(30, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (ExecutionException | java.util.concurrent.TimeoutException e) {
      log.warn("stream {}: dispatcher did not stop cleanly: {}", config.name(), e.toString());
    }
    threads.shutdown();
    try {
      if (!threads.awaitTermination(30, TimeUnit.SECONDS)) {
        threads.shutdownNow();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      threads.shutdownNow();
    }
    source.close();
    for (ResultSink s : sinks) {
      try {
        s.close();
      } catch (RuntimeException e) {
        log.warn("stream {}: closing sink {}: {}", config.name(), s.name(), e.toString());
      }
    }
    deadLetters.close();
  }

  // ---------------------------------------------------------------- dispatcher

  private void dispatch() {
    try {
      source.start(this::revoking);
      int max = Math.max(config.batchSize(), config.batchSize() * lanes.length);
      while (running) {
        List<SourceRecord> recs = source.poll(max, Duration.ofMillis(20));
        if (!recs.isEmpty()) {
          dispatchBatch(recs);
        }
        maybeCommit(false);
      }
      // drain: wait for the lanes to finish what was dispatched, then commit
      long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
      while (!inflightDone() && System.nanoTime() < end && failure == null && !abandoned) {
        Thread.sleep(2);
      }
      maybeCommit(true);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (Throwable t) {
      failure = t;
      log.error("stream {}: the dispatcher stopped: {}", config.name(), t.toString(), t);
    } finally {
      for (Lane l : lanes) {
        l.stop = true;
      }
    }
  }

  private boolean inflightDone() {
    synchronized (inflight) {
      for (PollBatch b : inflight) {
        if (b.pending.get() != 0) {
          return false;
        }
      }
      return true;
    }
  }

  private void dispatchBatch(List<SourceRecord> recs) throws InterruptedException {
    Map<Integer, Long> next = new HashMap<>();
    long polledMicros = Json.nowMicros();
    for (SourceRecord r : recs) {
      next.merge(r.partition(), r.offset() + 1, Math::max);
      metrics.stage(StreamMetrics.SOURCE, (polledMicros - r.appendMicros()) * 1000, 1);
    }
    PollBatch batch = new PollBatch(next, marks(), recs.size(), System.nanoTime());
    synchronized (inflight) {
      inflight.addLast(batch);
    }
    polledRecords.addAndGet(recs.size());
    metrics.in(recs.size());
    for (SourceRecord r : recs) {
      Task t;
      int lane;
      try {
        StreamEvent e = StreamEvent.parse(r, config, sourceName);
        Key k = new Key(e.keyBytes);
        t = new Task(r, e, k, null, batch);
        lane = Math.floorMod(k.hash, lanes.length);
      } catch (StreamEvent.Poison p) {
        t = new Task(r, null, null, p, batch);
        lane = (int) Math.floorMod(r.offset(), (long) lanes.length);
      }
      ArrayBlockingQueue<Task> q = lanes[lane].queue;
      while (!q.offer(t, 10, TimeUnit.MILLISECONDS)) {
        maybeCommit(false);
        if (failure != null) {
          throw new IllegalStateException("a lane failed", failure);
        }
        if (abandoned) {
          return; // stopping with a lane gone: the rest of this batch is never committed
        }
      }
    }
  }

  private long[] marks() {
    long[] m = new long[sinks.size() + 1];
    for (int i = 0; i < sinks.size(); i++) {
      m[i] = sinks.get(i).mark();
    }
    m[sinks.size()] = deadLetters.mark();
    return m;
  }

  /**
   * Commits the positions of the finished prefix of polled batches: asynchronously on the way (one
   * commit at a time; while it is in flight the dispatcher keeps polling and dispatching), and
   * synchronously when {@code force}d (shutdown, rebalance), together with the positions of an
   * asynchronous commit that has not completed yet. A failed commit's positions are committed again
   * with the next one. The sinks' marks are saved once a commit is durable.
   */
  private void maybeCommit(boolean force) {
    long now = System.nanoTime();
    if (!force
        && (now - lastCommitNanos < config.commitInterval().toNanos()
            || (commitPending != null && !commitPending.isDone()))) {
      return;
    }
    lastCommitNanos = now;
    boolean unconfirmed = commitPending != null && !commitPending.isDone();
    long[] marks;
    Map<Integer, Long> offsets;
    synchronized (inflight) {
      while (!inflight.isEmpty() && inflight.peekFirst().pending.get() == 0) {
        PollBatch b = inflight.pollFirst();
        b.next.forEach((p, o) -> toCommit.merge(p, o, Math::max));
      }
      if (toCommit.isEmpty() && !(force && unconfirmed)) {
        return;
      }
      marks = inflight.isEmpty() ? marks() : inflight.peekFirst().marks;
      offsets = new TreeMap<>(toCommit);
      toCommit.clear();
    }
    long seq = ++commitSeq;
    if (force) {
      if (unconfirmed) {
        commitPendingOffsets.forEach((p, o) -> offsets.merge(p, o, Math::max));
      }
      try {
        source.commit(Map.copyOf(offsets));
      } catch (RuntimeException e) {
        restore(offsets, seq);
        log.warn(
            "stream {}: commit failed, retrying with the next one: {}",
            config.name(),
            e.toString());
        return;
      }
      synchronized (committed) {
        forcedSeq = seq;
      }
      commitPending = null;
      commitPendingOffsets = Map.of();
      metrics.stage(StreamMetrics.COMMIT, System.nanoTime() - now, 1);
      committed(offsets, marks, seq);
      return;
    }
    CompletableFuture<Void> f;
    try {
      f = source.commitAsync(Map.copyOf(offsets));
    } catch (RuntimeException e) {
      f = CompletableFuture.failedFuture(e);
    }
    commitPendingOffsets = offsets;
    commitPending =
        f.whenComplete(
            (v, e) -> {
              if (e == null) {
                metrics.stage(StreamMetrics.COMMIT, System.nanoTime() - now, 1);
                committed(offsets, marks, seq);
              } else {
                restore(offsets, seq);
                log.warn(
                    "stream {}: commit failed, retrying with the next one: {}",
                    config.name(),
                    String.valueOf(e));
              }
            });
  }

  /**
   * A failed commit's positions go back to be committed with the next one, unless a later forced
   * commit covered them (its partitions may have been revoked since).
   */
  private void restore(Map<Integer, Long> offsets, long seq) {
    synchronized (committed) {
      if (seq < forcedSeq) {
        return;
      }
    }
    synchronized (inflight) {
      offsets.forEach((p, o) -> toCommit.merge(p, o, Math::max));
    }
  }

  /**
   * A commit is durable: publishes its positions and saves the sinks' marks. Called on the
   * dispatcher thread, or on the thread that completes an asynchronous commit.
   */
  private void committed(Map<Integer, Long> offsets, long[] marks, long seq) {
    synchronized (committed) {
      if (seq < forcedSeq) {
        return; // a forced commit already covered these positions (and may have revoked them)
      }
      offsets.forEach((p, o) -> committed.merge(p, o, Math::max));
      if (seq < marksSeq) {
        return;
      }
      marksSeq = seq;
      // after the source commit: a crash in between leaves older marks, which only means more
      // dedup scanning on restart
      Map<String, Long> m = new LinkedHashMap<>();
      boolean any = false;
      for (int i = 0; i < sinks.size(); i++) {
        if (marks[i] >= 0) {
          m.put("sink." + sinks.get(i).name(), marks[i]);
          any = true;
        }
      }
      if (marks[sinks.size()] >= 0) {
        m.put("dead-letters", marks[sinks.size()]);
        any = true;
      }
      if (any) {
        try {
          marksFile.write(m);
        } catch (RuntimeException e) {
          log.warn("stream {}: cannot save sink marks: {}", config.name(), e.toString());
        }
      }
    }
  }

  /** A rebalance takes partitions away: finish everything in flight and give their positions. */
  private Map<Integer, Long> revoking(Collection<Integer> partitions) {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (!inflightDone() && System.nanoTime() < end && !abandoned) {
      try {
        Thread.sleep(2);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
    }
    maybeCommit(true);
    Map<Integer, Long> out = new HashMap<>();
    synchronized (committed) {
      for (Integer p : partitions) {
        Long o = committed.get(p);
        if (o != null) {
          out.put(p, o);
        }
        committed.remove(p);
      }
    }
    return out;
  }

  // ---------------------------------------------------------------- lanes

  /** A key for byte arrays in hash maps. */
  private record Key(byte[] bytes, int hash) {
    Key(byte[] bytes) {
      this(bytes, KeyHash.of(bytes));
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Key k && k.hash == hash && Arrays.equals(k.bytes, bytes);
    }

    @Override
    public int hashCode() {
      return hash;
    }
  }

  private final class Lane implements Runnable {
    final int index;
    final ArrayBlockingQueue<Task> queue;
    final LinkedHashMap<Key, EntityState> cache;
    volatile boolean stop;

    Lane(int index) {
      this.index = index;
      this.queue = new ArrayBlockingQueue<>(Math.max(16, config.batchSize() * 4));
      int capacity = Math.max(config.stateCache(), 2 * config.batchSize());
      this.cache =
          new LinkedHashMap<>(1024, 0.75f, true) {
            private static final long serialVersionUID = 1L;

            @Override
            protected boolean removeEldestEntry(Map.Entry<Key, EntityState> e) {
              return size() > capacity;
            }
          };
    }

    @Override
    public void run() {
      List<Task> tasks = new ArrayList<>(config.batchSize());
      try {
        while (!stop || !queue.isEmpty()) {
          reap();
          // an acknowledgement of a batch in flight wakes the lane with WAKE
          Task first = queue.poll(20, TimeUnit.MILLISECONDS);
          if (first == null || first == WAKE) {
            continue;
          }
          tasks.add(first);
          queue.drainTo(tasks, config.batchSize() - 1);
          tasks.removeIf(t -> t == WAKE);
          process(tasks);
          tasks.clear();
        }
        while (!inFlight.isEmpty()) {
          finish(inFlight.pollFirst());
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } catch (Abandon e) {
        abandoned = true;
        log.info(
            "stream {}: lane {} stopped with a batch unfinished (it is replayed on restart)",
            config.name(),
            index);
      } catch (Throwable t) {
        failure = t;
        log.error("stream {}: lane {} stopped: {}", config.name(), index, t.toString(), t);
      }
    }

    private void process(List<Task> tasks) throws InterruptedException {
      long picked = System.nanoTime();
      for (Task t : tasks) {
        metrics.stage(StreamMetrics.QUEUE, picked - t.batch.polledNanos, 1);
      }
      Map<Key, EntityState> batchStates = prefetch(tasks);
      List<StreamResult> results = new ArrayList<>(tasks.size());
      List<DeadLetter> letters = new ArrayList<>();
      Map<Key, EntityState> dirty = new HashMap<>();
      int duplicates = 0;
      // rounds: the k-th event of each entity in this batch is in round k. One round's feature
      // updates are pushed with one store write, then its events are scored; an entity's events
      // stay in order, and each is scored on its own state.
      Map<Key, Integer> occurrences = new HashMap<>();
      List<List<Task>> rounds = new ArrayList<>();
      for (Task t : tasks) {
        if (t.poison != null) {
          letters.add(
              letter(
                  t.record,
                  t.poison.eventId,
                  t.poison.stage,
                  t.poison.code,
                  t.poison.getMessage()));
          continue;
        }
        int round = occurrences.merge(t.key, 1, Integer::sum) - 1;
        if (round == rounds.size()) {
          rounds.add(new ArrayList<>());
        }
        rounds.get(round).add(t);
      }
      for (List<Task> round : rounds) {
        List<StreamEvent> events = new ArrayList<>(round.size());
        List<Key> keys = new ArrayList<>(round.size());
        List<EntityState> states = new ArrayList<>(round.size());
        List<EntityState.Undo> undos = new ArrayList<>(round.size()); // null for a replay
        for (Task t : round) {
          StreamEvent e = t.event;
          Key k = t.key;
          EntityState state = batchStates.get(k); // applied in place: one per entity
          if (state == null) {
            state = new EntityState();
            batchStates.put(k, state);
          }
          SourceRecord r = t.record;
          EntityState.Disposition d = state.classify(r.partition(), r.offset(), e.idHash);
          if (d == EntityState.Disposition.DUPLICATE && config.dedupIds() > 0) {
            duplicates++;
            continue;
          }
          // applied in place; undone below when the event fails, so a failed event leaves its
          // entity's state as it was (no copy of every state per event)
          EntityState.Undo undo = null;
          if (d != EntityState.Disposition.REPLAY) {
            undo =
                state.apply(
                    r.partition(),
                    r.offset(),
                    e.idHash,
                    e.micros,
                    e.tracked,
                    config.dedupIds(),
                    config.keepWindowMicros(),
                    config.keepEntries());
          }
          events.add(e);
          keys.add(k);
          states.add(state);
          undos.add(undo);
        }
        boolean[] failed = push(events, states, letters);
        Object[] outcomes = score(events, failed);
        for (int i = 0; i < events.size(); i++) {
          EntityState.Undo undo = undos.get(i);
          if (failed[i]) {
            if (undo != null) {
              undo.rollback();
            }
            continue;
          }
          Object outcome = outcomes[i];
          if (outcome instanceof DeadLetter d) {
            letters.add(d);
            if (undo != null) {
              undo.rollback();
            }
            continue;
          }
          results.add((StreamResult) outcome);
          if (undo != null) {
            Key k = keys.get(i);
            dirty.put(k, states.get(i));
            cache.put(k, states.get(i));
          }
        }
      }
      saveStates(dirty);
      long processed = System.nanoTime();
      metrics.stage(StreamMetrics.PROCESS, processed - picked, tasks.size());
      // pipelined: this batch's sink writes start while up to batches-in-flight - 1 earlier
      // batches are unacknowledged, so the sinks' acknowledgements (fsyncs, broker round trips)
      // overlap the processing of the next batches; sink writes start in batch order, and batches
      // finish (and become committable) in that order whatever order the sinks acknowledge in
      reap();
      while (inFlight.size() >= config.batchesInFlight()) {
        finish(inFlight.pollFirst());
      }
      long started = System.nanoTime();
      metrics.stage(StreamMetrics.PIPELINE_WAIT, started - processed, tasks.size());
      InFlight f = new InFlight(List.copyOf(tasks), results, letters, duplicates, started);
      inFlight.addLast(f);
      f.start();
    }

    /** This lane's batches whose sink writes started, oldest first. */
    private final ArrayDeque<InFlight> inFlight = new ArrayDeque<>();

    /** Finishes the oldest batches while every sink has acknowledged them. */
    private void reap() throws InterruptedException {
      while (!inFlight.isEmpty() && inFlight.peekFirst().acknowledged()) {
        finish(inFlight.pollFirst());
      }
    }

    /** Waits for a batch's sinks (retrying failures), then completes its events. */
    private void finish(InFlight f) throws InterruptedException {
      f.await();
      metrics.stage(StreamMetrics.SINK, System.nanoTime() - f.startedNanos, f.tasks.size());
      long now = Json.nowMicros();
      for (StreamResult res : f.results) {
        metrics.latencyMicros(now - res.appendMicros());
        for (String a : res.alerts()) {
          metrics.alert(a);
        }
      }
      metrics.results(f.results.size());
      metrics.duplicates(f.duplicates);
      for (DeadLetter d : f.letters) {
        metrics.deadLetter(d.stage());
      }
      for (Task t : f.tasks) {
        t.batch.pending.decrementAndGet();
      }
      finishedRecords.addAndGet(f.tasks.size());
    }

    /** One batch's writes to every sink. */
    private final class InFlight {
      final List<Task> tasks;
      final List<StreamResult> results;
      final List<DeadLetter> letters;
      final int duplicates;
      final long startedNanos;
      final boolean[] done = new boolean[sinks.size() + 1];

      @SuppressWarnings({"unchecked", "rawtypes"})
      final CompletableFuture<Void>[] futures = new CompletableFuture[sinks.size() + 1];

      InFlight(
          List<Task> tasks,
          List<StreamResult> results,
          List<DeadLetter> letters,
          int duplicates,
          long startedNanos) {
        this.tasks = tasks;
        this.results = results;
        this.letters = letters;
        this.duplicates = duplicates;
        this.startedNanos = startedNanos;
        int n = sinks.size();
        done[n] = letters.isEmpty();
        if (results.isEmpty()) {
          Arrays.fill(done, 0, n, true);
        }
      }

      void start() {
        int n = sinks.size();
        for (int i = 0; i < n; i++) {
          if (!done[i]) {
            ResultSink sink = sinks.get(i);
            futures[i] = safe(() -> sink.write(results));
          }
        }
        if (!done[n]) {
          futures[n] = safe(() -> deadLetters.write(letters));
        }
        if (!acknowledged()) {
          List<CompletableFuture<Void>> open = new ArrayList<>(n + 1);
          for (int i = 0; i <= n; i++) {
            if (!done[i]) {
              open.add(futures[i]);
            }
          }
          // wakes the lane if it waits for events (a full queue means it is busy anyway)
          CompletableFuture.allOf(open.toArray(new CompletableFuture<?>[0]))
              .whenComplete((v, e) -> queue.offer(WAKE));
        }
      }

      /** Whether every sink completed its write (successfully or not: {@link #await} retries). */
      boolean acknowledged() {
        for (int i = 0; i < done.length; i++) {
          if (!done[i] && !futures[i].isDone()) {
            return false;
          }
        }
        return true;
      }

      void await() throws InterruptedException {
        int n = sinks.size();
        long backoff = 10;
        while (true) {
          boolean all = true;
          for (int i = 0; i <= n; i++) {
            if (done[i]) {
              continue;
            }
            try {
              futures[i].get();
              done[i] = true;
            } catch (ExecutionException ex) {
              all = false;
              futures[i] = null;
              String name = i < n ? sinks.get(i).name() : "dead-letters";
              metrics.sinkError(name);
              log.warn(
                  "stream {}: sink {} failed, retrying in {} ms: {}",
                  config.name(),
                  name,
                  backoff,
                  String.valueOf(ex.getCause()));
            }
          }
          if (all) {
            return;
          }
          if (stopped) {
            // shutting down with a sink down: leave these events uncommitted for the next run
            throw new Abandon();
          }
          Thread.sleep(backoff);
          backoff = Math.min(backoff * 2, 5_000);
          for (int i = 0; i < n; i++) {
            if (!done[i] && futures[i] == null) {
              ResultSink sink = sinks.get(i);
              futures[i] = safe(() -> sink.write(results));
            }
          }
          if (!done[n] && futures[n] == null) {
            futures[n] = safe(() -> deadLetters.write(letters));
          }
        }
      }
    }

    /**
     * The states of the batch's entities: the cached ones, and the others loaded with one KV read
     * (and cached). A cached state is looked up with {@code get}, which makes it the most recently
     * used, so that caching the loaded states cannot evict it: the cache holds at least two
     * batches' entities. (Looked up with {@code containsKey}, which leaves the order as it is, the
     * least recently used state of the batch could be evicted by the batch's own loads and then be
     * replaced by an empty state, losing the entity's windows.)
     */
    private Map<Key, EntityState> prefetch(List<Task> tasks) {
      Map<Key, EntityState> states = new HashMap<>();
      List<Key> missing = new ArrayList<>();
      for (Task t : tasks) {
        if (t.event == null || states.containsKey(t.key)) {
          continue;
        }
        EntityState s = cache.get(t.key);
        states.put(t.key, s);
        if (s == null) {
          missing.add(t.key);
        }
      }
      if (missing.isEmpty()) {
        return states;
      }
      List<byte[]> keys = new ArrayList<>(missing.size());
      for (Key k : missing) {
        keys.add(k.bytes);
      }
      List<byte[]> values = retrying("state read", () -> stateStore.multiGet(stateNamespace, keys));
      int fields = config.trackedFields().size();
      for (int i = 0; i < missing.size(); i++) {
        EntityState s = EntityState.decode(values.get(i), fields);
        cache.put(missing.get(i), s);
        states.put(missing.get(i), s);
      }
      return states;
    }

    private void saveStates(Map<Key, EntityState> dirty) {
      if (dirty.isEmpty()) {
        return;
      }
      int fields = config.trackedFields().size();
      List<KvEntry> entries = new ArrayList<>(dirty.size());
      dirty.forEach((k, s) -> entries.add(new KvEntry(k.bytes, s.encode(fields))));
      retrying(
          "state write",
          () -> {
            stateStore.putAll(stateNamespace, entries);
            return null;
          });
    }

    /**
     * Pushes the feature updates of one round (one write per view); when a batch write fails with a
     * non-transient error, pushes event by event to find the poison ones.
     *
     * @return per event, whether it failed (its dead letter is added)
     */
    private boolean[] push(
        List<StreamEvent> events, List<EntityState> states, List<DeadLetter> letters) {
      boolean[] failed = new boolean[events.size()];
      if (events.isEmpty()) {
        return failed;
      }
      for (StreamConfig.ViewUpdate u : config.updates()) {
        List<FeatureRow> rows = new ArrayList<>(events.size());
        List<Integer> index = new ArrayList<>(events.size());
        for (int i = 0; i < events.size(); i++) {
          if (!failed[i]) {
            rows.add(pipeline.row(u, events.get(i), states.get(i)));
            index.add(i);
          }
        }
        if (rows.isEmpty()) {
          continue;
        }
        try {
          retryingTransient(() -> pipeline.write(u, rows));
        } catch (Abandon ex) {
          throw ex;
        } catch (RuntimeException batchError) {
          for (int j = 0; j < rows.size(); j++) {
            List<FeatureRow> one = List.of(rows.get(j));
            int i = index.get(j);
            try {
              retryingTransient(() -> pipeline.write(u, one));
            } catch (Abandon ex) {
              throw ex;
            } catch (ScorelineException ex) {
              failed[i] = true;
              StreamEvent e = events.get(i);
              letters.add(letter(e.record, e.id, "features", ex.code(), ex.getMessage()));
            } catch (RuntimeException ex) {
              failed[i] = true;
              StreamEvent e = events.get(i);
              letters.add(
                  letter(e.record, e.id, "features", ErrorCode.INTERNAL, String.valueOf(ex)));
            }
          }
        }
      }
      return failed;
    }

    /**
     * Scores the events of one round that were not {@code failed} with one call of the surface
     * ({@link SurfaceEngine#rankAll}: one feature read, one model input); when that call fails with
     * a non-transient error, scores event by event, so that only the poison ones become dead
     * letters. Retries transient failures in place.
     *
     * @return per event, its {@link StreamResult} or {@link DeadLetter}; null where {@code failed}
     */
    private Object[] score(List<StreamEvent> events, boolean[] failed) {
      Object[] out = new Object[events.size()];
      List<StreamEvent> todo = new ArrayList<>(events.size());
      for (int i = 0; i < events.size(); i++) {
        if (!failed[i]) {
          todo.add(events.get(i));
        }
      }
      if (todo.isEmpty()) {
        return out;
      }
      List<SurfaceResult> ranked;
      try {
        ranked = retryingTransient(() -> pipeline.rankAll(todo));
      } catch (Abandon ex) {
        throw ex;
      } catch (RuntimeException batchError) {
        log.debug(
            "stream {}: a round of {} events failed as a whole, scoring them one by one: {}",
            config.name(),
            todo.size(),
            batchError.toString());
        ranked = null;
      }
      for (int i = 0, j = 0; i < events.size(); i++) {
        if (failed[i]) {
          continue;
        }
        StreamEvent e = events.get(i);
        out[i] = ranked == null ? score(e) : pipeline.result(e, ranked.get(j++));
      }
      return out;
    }

    /** The result of one event, or its dead letter. Retries transient failures in place. */
    private Object score(StreamEvent e) {
      SourceRecord r = e.record;
      SurfaceResult res;
      try {
        res = retryingTransient(() -> pipeline.rank(e));
      } catch (Abandon ex) {
        throw ex;
      } catch (ScorelineException ex) {
        return letter(r, e.id, "model", ex.code(), ex.getMessage());
      } catch (RuntimeException ex) {
        return letter(r, e.id, "model", ErrorCode.INTERNAL, String.valueOf(ex));
      }
      return pipeline.result(e, res);
    }

    private DeadLetter letter(
        SourceRecord r, String eventId, String stage, ErrorCode code, String reason) {
      return new DeadLetter(
          config.name(),
          sourceName,
          r.partition(),
          r.offset(),
          eventId,
          stage,
          code,
          reason,
          Json.nowMicros(),
          r.value());
    }
  }

  private static CompletableFuture<Void> safe(
      java.util.function.Supplier<CompletableFuture<Void>> s) {
    try {
      return s.get();
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  private static boolean transientCode(ErrorCode c) {
    return c == ErrorCode.RESOURCE_EXHAUSTED
        || c == ErrorCode.UNAVAILABLE
        || c == ErrorCode.DEADLINE_EXCEEDED;
  }

  /** Runs {@code call}, retrying transient Scoreline errors with backoff while running. */
  private <T> T retryingTransient(java.util.function.Supplier<T> call) {
    long backoff = 5;
    while (true) {
      try {
        return call.get();
      } catch (ScorelineException e) {
        if (!transientCode(e.code())) {
          throw e;
        }
        if (stopped) {
          throw new Abandon();
        }
        log.debug("stream {}: transient failure, retrying: {}", config.name(), e.getMessage());
      }
      sleep(backoff);
      backoff = Math.min(backoff * 2, 2_000);
    }
  }

  /** Runs a store call, retrying any failure with backoff while running. */
  private <T> T retrying(String what, java.util.function.Supplier<T> call) {
    long backoff = 10;
    while (true) {
      try {
        return call.get();
      } catch (RuntimeException e) {
        if (stopped) {
          throw new Abandon();
        }
        log.warn(
            "stream {}: {} failed, retrying in {} ms: {}",
            config.name(),
            what,
            backoff,
            e.toString());
      }
      sleep(backoff);
      backoff = Math.min(backoff * 2, 5_000);
    }
  }

  private static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new Abandon();
    }
  }

  /** Unwinds a lane that stops with its batch unfinished (not committed: replayed on restart). */
  private static final class Abandon extends RuntimeException {
    private static final long serialVersionUID = 1L;

    Abandon() {
      super("abandoned", null, false, false);
    }
  }
}
