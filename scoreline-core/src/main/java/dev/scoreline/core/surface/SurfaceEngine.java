package dev.scoreline.core.surface;

import static java.util.Objects.requireNonNull;

import dev.scoreline.core.error.ErrorCode;
import dev.scoreline.core.error.ScorelineException;
import dev.scoreline.core.feature.online.FeatureVectors;
import dev.scoreline.core.feature.online.OnlineFeatureStore;
import dev.scoreline.core.model.InferenceRequest;
import dev.scoreline.core.model.InferenceResponse;
import dev.scoreline.core.retrieval.Neighbor;
import dev.scoreline.core.retrieval.VectorIndex;
import dev.scoreline.core.tensor.DataType;
import dev.scoreline.core.tensor.Tensor;
import io.micrometer.core.instrument.MeterRegistry;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs surfaces: {@code candidates → features → rules (filters) → transform → infer → rules
 * (ordering) → result}, in process. Online and two-stage calls run under the surface's deadline and
 * answer from the fallback (the entity's precomputed list, else the popularity list) when the
 * ranked path fails or would miss it; batch and streaming runners call {@link #rank} directly, so
 * every mode shares one execution path.
 *
 * <p>Thread-safe. The ranked path runs on the given executor so that a stuck store or model cannot
 * hold the caller past the deadline; pass a bounded pool sized for the expected concurrency.
 */
public final class SurfaceEngine {
  private static final Logger log = LoggerFactory.getLogger(SurfaceEngine.class);

  /** The most results a request may ask for. */
  public static final int MAX_SIZE = 1000;

  /** Runs a model: in production {@code ModelManager::inferAsync}. */
  @FunctionalInterface
  public interface Scorer {
    CompletableFuture<InferenceResponse> inferAsync(InferenceRequest request);
  }

  private final Surfaces surfaces;
  private final OnlineFeatureStore features;
  private final SnapshotLists lists;
  private final Scorer scorer;
  private final Function<String, VectorIndex> indexes;
  private final ExecutorService executor;
  private final SurfaceMetrics metrics;
  private final ConcurrentHashMap<String, Popular> popular = new ConcurrentHashMap<>();

  /**
   * @param indexes opens a vector index by its path as written in the surface (relative to the
   *     project); called once per path, the index is kept
   */
  public SurfaceEngine(
      Surfaces surfaces,
      OnlineFeatureStore features,
      SnapshotLists lists,
      Scorer scorer,
      Function<String, VectorIndex> indexes,
      ExecutorService executor,
      MeterRegistry meters) {
    this.surfaces = requireNonNull(surfaces, "surfaces is null");
    this.features = requireNonNull(features, "features is null");
    this.lists = requireNonNull(lists, "lists is null");
    this.scorer = requireNonNull(scorer, "scorer is null");
    this.executor = requireNonNull(executor, "executor is null");
    this.metrics = new SurfaceMetrics(meters);
    ConcurrentHashMap<String, VectorIndex> opened = new ConcurrentHashMap<>();
    this.indexes =
        indexes == null
            ? p -> {
              throw new ScorelineException(
                  ErrorCode.UNSUPPORTED, "no vector index support in this build; cannot open " + p);
            }
            : p -> opened.computeIfAbsent(p, indexes);
  }

  public Surfaces surfaces() {
    return surfaces;
  }

  public SnapshotLists lists() {
    return lists;
  }

  /**
   * Answers a request within the surface's deadline: the ranked answer, or the fallback marked
   * {@code fallback: true} with the reason.
   *
   * @throws ScorelineException NOT_FOUND for an unknown surface; USER_ERROR for a bad key, size,
   *     rule override or context value (bad input is never hidden behind a fallback)
   */
  public SurfaceResult recommend(String surfaceName, SurfaceRequest request) {
    long start = System.nanoTime();
    Surface s = surfaces.get(surfaceName);
    Prepared p = prepare(s, request);
    long total = deadlineNanos(s, request);
    if (s.spec.mode() == SurfaceSpec.Mode.BATCH || total == Long.MAX_VALUE) {
      return recommend(p, start);
    }
    long primaryEnd = primaryEnd(start, total);
    Stage stage = new Stage();
    Future<SurfaceResult> f;
    try {
      f = executor.submit(() -> run(p, start, primaryEnd, stage));
    } catch (RejectedExecutionException e) {
      return fallback(p, start, start + total, "overloaded", null);
    }
    try {
      SurfaceResult r = f.get(Math.max(0, primaryEnd - System.nanoTime()), TimeUnit.NANOSECONDS);
      metrics.request(s.name(), "ranked");
      return r;
    } catch (TimeoutException e) {
      f.cancel(true);
      return fallback(p, start, start + total, "deadline", "deadline passed in " + stage.name);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      f.cancel(true);
      throw new ScorelineException(ErrorCode.UNAVAILABLE, "interrupted", e);
    } catch (ExecutionException e) {
      Throwable c = e.getCause();
      if (c instanceof ScorelineException se && se.code() == ErrorCode.USER_ERROR) {
        metrics.request(s.name(), "error");
        throw se;
      }
      Why why = why(s, stage, c);
      return fallback(p, start, start + total, why.reason, why.detail);
    }
  }

  /** Why the ranked path gave up, as the fallback's reason and detail. */
  private record Why(String reason, String detail) {}

  /**
   * The fallback reason for a failure of the ranked path that is not the user's error: no
   * candidates, the deadline (a stage's own wait ran out), or an error of the stage, logged.
   */
  private static Why why(Surface s, Stage stage, Throwable c) {
    if (c instanceof NoCandidates nc) {
      return new Why(nc.reason, nc.getMessage());
    }
    if (c instanceof ScorelineException se && se.code() == ErrorCode.DEADLINE_EXCEEDED) {
      return new Why("deadline", "deadline passed in " + stage.name);
    }
    log.warn(
        "surface {}: {} failed, answering from the fallback: {}",
        s.name(),
        stage.name,
        c.toString());
    return new Why(stage.name + "-error", String.valueOf(c.getMessage()));
  }

  /**
   * {@link #recommend} without blocking the caller: the ranked path runs on the engine's executor
   * and the returned future completes on the thread that finishes it (a pool thread, or {@code
   * timer}'s thread for the fallback after the deadline), so a server can call this from its event
   * loop with no other thread in between. The request is checked on the calling thread: a bad key,
   * size or rule override and an unknown surface are thrown, as by {@link #recommend}; a failure of
   * the ranked path that is a user error fails the future.
   *
   * @param timer schedules the deadline and the fallback's own budget; its tasks never block (the
   *     server passes the request's event loop)
   */
  public CompletableFuture<SurfaceResult> recommendAsync(
      String surfaceName, SurfaceRequest request, ScheduledExecutorService timer) {
    requireNonNull(timer, "timer is null");
    long start = System.nanoTime();
    Surface s = surfaces.get(surfaceName);
    Prepared p = prepare(s, request);
    long total = deadlineNanos(s, request);
    if (s.spec.mode() == SurfaceSpec.Mode.BATCH || total == Long.MAX_VALUE) {
      // no deadline to keep (or a snapshot read): the whole call on the executor
      try {
        return CompletableFuture.supplyAsync(() -> recommend(p, start), executor);
      } catch (RejectedExecutionException e) {
        return overloaded(p, start);
      }
    }
    long primaryEnd = primaryEnd(start, total);
    long end = start + total;
    CompletableFuture<SurfaceResult> out = new CompletableFuture<>();
    Stage stage = new Stage();
    Future<?> task;
    try {
      task =
          executor.submit(
              () -> {
                SurfaceResult r;
                try {
                  r = run(p, start, primaryEnd, stage);
                } catch (Throwable t) {
                  if (!out.isDone()) {
                    failed(out, p, start, end, stage, t, timer);
                  }
                  return;
                }
                if (out.complete(r)) {
                  metrics.request(s.name(), "ranked");
                }
              });
    } catch (RejectedExecutionException e) {
      return overloaded(p, start);
    }
    ScheduledFuture<?> deadline =
        timer.schedule(
            () -> {
              if (!out.isDone()) {
                task.cancel(true);
                fallbackAsync(
                    out, p, start, end, "deadline", "deadline passed in " + stage.name, timer);
              }
            },
            Math.max(0, primaryEnd - System.nanoTime()),
            TimeUnit.NANOSECONDS);
    out.whenComplete((r, t) -> deadline.cancel(false));
    return out;
  }

  /** The executor refused the call: the popularity fallback at once, never a blocking read. */
  private CompletableFuture<SurfaceResult> overloaded(Prepared p, long start) {
    return CompletableFuture.completedFuture(
        recorded(p, "overloaded", fallbackResult(p, start, "overloaded", null, null)));
  }

  /** How the ranked path of {@link #recommendAsync} failed: a user error, or a fallback. */
  private void failed(
      CompletableFuture<SurfaceResult> out,
      Prepared p,
      long start,
      long end,
      Stage stage,
      Throwable c,
      ScheduledExecutorService timer) {
    Surface s = p.surface;
    if (c instanceof ScorelineException se && se.code() == ErrorCode.USER_ERROR) {
      if (out.completeExceptionally(se)) {
        metrics.request(s.name(), "error");
      }
    } else {
      Why why = why(s, stage, c);
      fallbackAsync(out, p, start, end, why.reason, why.detail, timer);
    }
  }

  /** The surface's deadline, or the request's when shorter, in ns; MAX_VALUE when none. */
  private static long deadlineNanos(Surface s, SurfaceRequest request) {
    Duration deadline = s.deadline();
    if (request.deadline() != null
        && (deadline == null || request.deadline().compareTo(deadline) < 0)) {
      deadline = request.deadline();
    }
    return deadline == null ? Long.MAX_VALUE : deadline.toNanos();
  }

  /** When the ranked path must be done: the deadline less a reserve for the fallback. */
  private static long primaryEnd(long start, long total) {
    long reserve = Math.max(Math.min(total / 5, 10_000_000L), 1_000_000L);
    return start + Math.max(total - reserve, total / 2);
  }

  /** A batch surface's answer or the ranked path without a deadline, on the calling thread. */
  private SurfaceResult recommend(Prepared p, long start) {
    if (p.surface.spec.mode() == SurfaceSpec.Mode.BATCH) {
      return fromBatchSnapshot(p, start);
    }
    SurfaceResult r = run(p, start, Long.MAX_VALUE);
    metrics.request(p.surface.name(), "ranked");
    return r;
  }

  /**
   * Runs the ranked path on the calling thread with no deadline and no fallback: what batch and
   * streaming runners call, so every mode shares one execution path.
   *
   * @throws ScorelineException on any failure; an entity without candidates gives an empty list
   */
  public SurfaceResult rank(String surfaceName, SurfaceRequest request) {
    return rankAll(surfaceName, List.of(request)).get(0);
  }

  /**
   * Runs the ranked path for several requests of one surface at once, on the calling thread with no
   * deadline and no fallback: one entity-feature read for all of them (in slices of the online
   * store's per-request entity limit) and one model input for all their rows (in calls of at most
   * the model's max batch size); candidates, filters and ordering rules per request. The results
   * are those {@link #rank} gives for each request, in request order; only {@link
   * SurfaceResult#timingsMicros} differ: every result of a call carries the timings of the whole
   * call (and stage metrics are recorded once per call).
   *
   * <p>What streaming runners call for a round of events: the per-call costs (store read, model
   * call) are paid once per round instead of once per event.
   *
   * @throws ScorelineException when any request fails (a bad key or size, a failed model call): one
   *     failure fails the call, so a caller that must isolate a bad request retries the requests
   *     one by one with {@link #rank}
   */
  public List<SurfaceResult> rankAll(String surfaceName, List<SurfaceRequest> requests) {
    long start = System.nanoTime();
    Surface s = surfaces.get(surfaceName);
    if (requests.isEmpty()) {
      return List.of();
    }
    Work[] work = new Work[requests.size()];
    for (int i = 0; i < work.length; i++) {
      work[i] = new Work(prepare(s, requests.get(i)));
    }
    return run(s, work, start, Long.MAX_VALUE, new Stage(), true);
  }

  /**
   * Checks each surface whose ANN query comes from a model ({@code candidates.query: {model: ...}})
   * against that model and its vector index (opened now, and kept): see {@link
   * Surface#checkQueryModel}.
   *
   * @param models the metadata of a loaded model by name and version (null: default routing); may
   *     throw NOT_FOUND
   * @throws ScorelineException USER_ERROR naming the surface file, the key and the fix
   */
  public void checkQueryModels(
      java.util.function.BiFunction<String, String, dev.scoreline.core.model.ModelMetadata>
          models) {
    for (Surface s : surfaces.all()) {
      SurfaceSpec.Candidates c = s.spec.candidates();
      if (c == null || c.queryModel() == null) {
        continue;
      }
      dev.scoreline.core.model.ModelMetadata m;
      try {
        m = models.apply(c.queryModel().model(), c.queryModel().version());
      } catch (ScorelineException e) {
        if (e.code() != ErrorCode.NOT_FOUND) {
          throw e;
        }
        m = null;
      }
      int dimension;
      try {
        dimension = indexes.apply(c.index()).dimension();
      } catch (ScorelineException e) {
        throw new ScorelineException(
            ErrorCode.USER_ERROR,
            "candidates.index",
            s.origin() + ": candidates.index: cannot open " + c.index() + ": " + e.getMessage(),
            e);
      }
      s.checkQueryModel(m, dimension);
    }
  }

  /**
   * One warm-up call: the ranked path on the calling thread, with no deadline, no fallback and no
   * surface metrics (warm-up is not user traffic).
   *
   * @return true when it ranked candidates, false when the entity had none
   */
  boolean warmupCall(Surface s, SurfaceRequest request) {
    Work w = new Work(prepare(s, request));
    run(s, new Work[] {w}, System.nanoTime(), Long.MAX_VALUE, new Stage(), false);
    return w.none == null;
  }

  /** The pool the ranked path runs on (warm-up calls run there too). */
  ExecutorService executor() {
    return executor;
  }

  /**
   * A batch surface's answer: the entity's list in the current snapshot of its results, written by
   * {@code scoreline batch}; an entity without one gets the fallback.
   */
  private SurfaceResult fromBatchSnapshot(Prepared p, long start) {
    Surface s = p.surface;
    String name = s.batchSnapshot();
    SnapshotLists.Read r;
    try {
      r = lists.read(name, p.key);
    } catch (RuntimeException e) {
      return fallback(p, start, start + 10_000_000L, "snapshot-error", e.getMessage());
    }
    if (r.snapshotId() == null) {
      return fallback(
          p,
          start,
          start + 10_000_000L,
          "no-snapshot",
          "no results of batch surface '" + s.name() + "' are published (run scoreline batch)");
    }
    RankedList list = r.lists().get(0);
    if (list == null) {
      return fallback(
          p,
          start,
          start + 10_000_000L,
          "not-in-snapshot",
          "snapshot " + r.snapshotId() + " has no list for this key");
    }
    List<SurfaceResult.Item> items = new ArrayList<>();
    for (int i = 0; i < list.size() && i < p.size; i++) {
      items.add(new SurfaceResult.Item(list.ids()[i], list.scores()[i], list.scores()[i], false));
    }
    long total = (System.nanoTime() - start) / 1000;
    metrics.stage(s.name(), "total", total);
    metrics.request(s.name(), "snapshot");
    return new SurfaceResult(
        s.name(),
        p.request.key(),
        List.copyOf(items),
        null,
        s.spec.model().name(),
        null,
        false,
        null,
        Map.of("total", total),
        null,
        r.snapshotId(),
        ageSeconds(r.snapshotId()));
  }

  private static final java.time.format.DateTimeFormatter SNAPSHOT_TIME =
      java.time.format.DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'")
          .withZone(java.time.ZoneOffset.UTC);

  /** The time of the last snapshot id {@link #ageSeconds} parsed (ids repeat from call to call). */
  private record SnapshotTime(String prefix, java.time.Instant time) {}

  private static volatile SnapshotTime lastSnapshotTime;

  /** Seconds since a snapshot id of the form {@code yyyyMMdd'T'HHmmss'Z'...} was written. */
  static Long ageSeconds(String snapshotId) {
    if (snapshotId == null || snapshotId.length() < 16) {
      return null;
    }
    SnapshotTime last = lastSnapshotTime;
    java.time.Instant t;
    if (last != null && snapshotId.startsWith(last.prefix)) {
      t = last.time;
    } else {
      String prefix = snapshotId.substring(0, 16);
      try {
        t = SNAPSHOT_TIME.parse(prefix, java.time.Instant::from);
      } catch (java.time.format.DateTimeParseException e) {
        return null;
      }
      lastSnapshotTime = new SnapshotTime(prefix, t);
    }
    return Math.max(0, java.time.Duration.between(t, java.time.Instant.now()).getSeconds());
  }

  // ---------------------------------------------------------------- request preparation

  private record Prepared(
      Surface surface, SurfaceRequest request, byte[] key, List<Rule> rules, int size) {}

  private static Prepared prepare(Surface s, SurfaceRequest request) {
    byte[] key = s.entityKey(request.key());
    List<Rule> rules = s.rulesFor(request.rules());
    int size = request.size() == null ? s.spec.size() : request.size();
    if (size < 1 || size > MAX_SIZE) {
      throw ScorelineException.userError(
          "size", "size: must be between 1 and " + MAX_SIZE + ", got " + size);
    }
    return new Prepared(s, request, key, rules, size);
  }

  /** Which stage the ranked path is in, for the fallback reason. */
  private static final class Stage {
    volatile String name = "queue";
  }

  private static final class NoCandidates extends RuntimeException {
    private static final long serialVersionUID = 1L;
    final String reason;

    NoCandidates(String reason, String message) {
      super(message, null, false, false);
      this.reason = reason;
    }
  }

  // ---------------------------------------------------------------- the ranked path

  /** The candidate list of a surface without candidates: one row, the entity itself. */
  private static final RankedList SELF = new RankedList(new long[] {-1}, new float[] {0f});

  /** One request's share of a ranked run: its frame, the rows kept by the filters, its scores. */
  private static final class Work {
    final Prepared p;
    FeatureVectors entity;
    int entityRow;
    Frame frame;
    int candidates;
    int[] rows;
    Map<String, Integer> removedBy;
    String snapshot;

    /** Where this request's rows start in the model input (and score) arrays. */
    int offset;

    /** Why this request has no ranked answer, or null. */
    NoCandidates none;

    /** Time spent in the query model's call (part of the candidates stage). */
    long queryModelNanos;

    Work(Prepared p) {
      this.p = p;
    }
  }

  private SurfaceResult run(Prepared p, long start, long end) {
    return run(p, start, end, new Stage());
  }

  private SurfaceResult run(Prepared p, long start, long end, Stage stage) {
    Work w = new Work(p);
    SurfaceResult r = run(p.surface, new Work[] {w}, start, end, stage, true).get(0);
    if (w.none != null) {
      throw w.none;
    }
    return r;
  }

  /**
   * The ranked path for the requests of one call, in order: one entity-feature read for all of
   * them, candidates, candidate features and filters per request, one model input for all their
   * rows (in calls of at most the model's max batch size), ordering rules per request. A request
   * without candidates (or with every candidate filtered out) gets its {@link Work#none} set and an
   * empty result in its place.
   */
  private List<SurfaceResult> run(
      Surface s, Work[] work, long start, long end, Stage stage, boolean record) {
    SurfaceSpec spec = s.spec;
    long mark = System.nanoTime();

    // entity features: one read per slice of at most the store's per-request entity limit
    stage.name = "features";
    if (!s.entityFeatures.isEmpty()) {
      int limit = Math.max(1, features.options().maxEntitiesPerRequest());
      for (int from = 0; from < work.length; from += limit) {
        int to = Math.min(work.length, from + limit);
        List<Map<String, Object>> keys = new ArrayList<>(to - from);
        for (int i = from; i < to; i++) {
          keys.add(work[i].p.request.key());
        }
        FeatureVectors ef = features.get(s.entityFeatures, keys);
        for (int i = from; i < to; i++) {
          work[i].entity = ef;
          work[i].entityRow = i - from;
        }
      }
    }
    long afterEntity = System.nanoTime();

    // candidates, candidate features and filters, per request
    long candidatesNanos = 0;
    long queryModelNanos = 0;
    long candidateFeaturesNanos = 0;
    int total = 0;
    for (Work w : work) {
      long t0 = System.nanoTime();
      stage.name = "candidates";
      try {
        RankedList cands = candidates(s, w, end, stage);
        long t1 = System.nanoTime();
        queryModelNanos += w.queryModelNanos;
        candidatesNanos -= w.queryModelNanos;
        stage.name = "features";
        FeatureVectors cf = candidateFeatures(s, cands);
        long t2 = System.nanoTime();
        candidatesNanos += t1 - t0;
        candidateFeaturesNanos += t2 - t1;
        stage.name = "rules";
        filter(w, cands, cf);
      } catch (NoCandidates e) {
        w.none = e;
        continue;
      }
      w.offset = total;
      total += w.rows.length;
    }
    long afterFilters = System.nanoTime();
    long filtersNanos = afterFilters - afterEntity - candidatesNanos - candidateFeaturesNanos;

    // transform: the kept rows of every request, one after another
    stage.name = "transform";
    float[][] buffers = new float[s.inputs.size()][];
    for (int k = 0; k < s.inputs.size(); k++) {
      Surface.CompiledInput in = s.inputs.get(k);
      int width = in.width();
      float[] buf = transformBuffer(k, s.inputs.size(), total * width);
      for (Work w : work) {
        if (w.none != null) {
          continue;
        }
        for (int i = 0; i < w.rows.length; i++) {
          int off = (w.offset + i) * width;
          for (Column c : in.columns()) {
            c.fill(w.frame, w.rows[i], buf, off);
            off += c.width;
          }
        }
      }
      buffers[k] = buf;
    }
    long afterTransform = System.nanoTime();

    // inference
    stage.name = "inference";
    SurfaceSpec.ModelRef m = spec.model();
    float[] scores = new float[total];
    String version = total == 0 ? null : infer(s, buffers, total, scores, end);
    long afterInference = System.nanoTime();

    // ordering rules and results, per request
    stage.name = "rules";
    List<SurfaceResult.Item>[] items = itemLists(work.length);
    SurfaceResult.Debug[] debug = new SurfaceResult.Debug[work.length];
    for (int j = 0; j < work.length; j++) {
      Work w = work[j];
      if (w.none == null) {
        items[j] = order(s, w, scores, buffers, debug, j);
      }
    }
    long endAt = System.nanoTime();

    Map<String, Long> t = new LinkedHashMap<>();
    if (!s.queryInputs.isEmpty()) {
      t.put("query-model", queryModelNanos / 1000);
    }
    t.put("candidates", candidatesNanos / 1000);
    t.put("features", ((afterEntity - mark) + candidateFeaturesNanos) / 1000);
    t.put("rules", (filtersNanos + (endAt - afterInference)) / 1000);
    t.put("transform", (afterTransform - afterFilters) / 1000);
    t.put("inference", (afterInference - afterTransform) / 1000);
    t.put("total", (endAt - start) / 1000);
    if (record) {
      for (Map.Entry<String, Long> e : t.entrySet()) {
        metrics.stage(s.name(), e.getKey(), e.getValue());
      }
    }
    Map<String, Long> timings = Collections.unmodifiableMap(t);
    List<SurfaceResult> out = new ArrayList<>(work.length);
    for (int j = 0; j < work.length; j++) {
      Work w = work[j];
      if (w.none != null) {
        out.add(noCandidates(s, w.p.request, Map.of("total", timings.get("total"))));
        continue;
      }
      Float single = spec.candidates() == null ? scores[w.offset] : null;
      out.add(
          new SurfaceResult(
              s.name(),
              w.p.request.key(),
              items[j],
              single,
              m.name(),
              version,
              false,
              null,
              timings,
              debug[j],
              w.snapshot,
              ageSeconds(w.snapshot)));
    }
    return out;
  }

  /** The most floats per input a thread keeps for the next call (1 MiB). */
  private static final int SCRATCH_MAX_FLOATS = 1 << 18;

  /**
   * Per thread, per model input: the transform's buffer, reused from call to call (200 candidates
   * of 90 columns are 72 KB of floats per request). Only the thread's own call reads it: the model
   * gets a copy in its tensor, and debug rows are copied out before the call returns.
   */
  private static final ThreadLocal<float[][]> SCRATCH = new ThreadLocal<>();

  /** A buffer of at least {@code length} floats for model input {@code input} of {@code inputs}. */
  private static float[] transformBuffer(int input, int inputs, int length) {
    if (length > SCRATCH_MAX_FLOATS) {
      return new float[length];
    }
    float[][] scratch = SCRATCH.get();
    if (scratch == null || scratch.length < inputs) {
      scratch = scratch == null ? new float[inputs][] : Arrays.copyOf(scratch, inputs);
      SCRATCH.set(scratch);
    }
    if (scratch[input] == null || scratch[input].length < length) {
      scratch[input] = new float[length];
    }
    return scratch[input];
  }

  @SuppressWarnings("unchecked")
  private static List<SurfaceResult.Item>[] itemLists(int n) {
    return (List<SurfaceResult.Item>[]) new List<?>[n];
  }

  /** What {@link #rank} answers for an entity without candidates: an empty list. */
  private static SurfaceResult noCandidates(
      Surface s, SurfaceRequest request, Map<String, Long> timings) {
    return new SurfaceResult(
        s.name(),
        request.key(),
        List.of(),
        null,
        s.spec.model().name(),
        null,
        false,
        null,
        timings,
        null,
        null,
        null);
  }

  /** The request's candidates: the entity itself for a surface without candidates. */
  private RankedList candidates(Surface s, Work w, long end, Stage stage) {
    SurfaceSpec spec = s.spec;
    Prepared p = w.p;
    if (spec.candidates() == null) {
      return SELF;
    }
    SurfaceSpec.Candidates c = spec.candidates();
    RankedList cands;
    switch (c.source()) {
      case "precomputed":
        {
          SnapshotLists.Read r = lists.read(c.snapshot(), p.key);
          w.snapshot = r.snapshotId();
          if (w.snapshot == null) {
            throw new NoCandidates(
                "no-candidates",
                "no snapshot '" + c.snapshot() + "' is published (run the candidate job)");
          }
          cands = r.lists().get(0) == null ? RankedList.EMPTY : r.lists().get(0).head(c.limit());
          break;
        }
      case "ann":
      case "all-items":
        {
          VectorIndex index = indexes.apply(c.index());
          Frame qf =
              new Frame(
                  w.entity, w.entityRow, new long[0], new float[0], null, p.request.context());
          float[] query;
          if (c.queryModel() != null) {
            long q0 = System.nanoTime();
            stage.name = "query-model";
            query = queryFromModel(s, qf, index.dimension(), end);
            stage.name = "candidates";
            w.queryModelNanos = System.nanoTime() - q0;
          } else {
            Operand q = s.operands.get(c.query());
            query = queryVector(q.value(qf, 0), c.query(), index.dimension());
            if (query == null) {
              throw new NoCandidates(
                  "no-candidates", "no query vector: " + c.query() + " is missing");
            }
          }
          int k = c.source().equals("ann") ? c.limit() : index.size();
          java.util.function.LongPredicate keep = null;
          if (c.exclude() != null) {
            long[] skip = exclusions(s.operands.get(c.exclude()).value(qf, 0));
            keep = skip.length == 0 ? null : id -> java.util.Arrays.binarySearch(skip, id) < 0;
          }
          List<Neighbor> hits = index.search(query, k, keep);
          long[] ids = new long[hits.size()];
          float[] sc = new float[hits.size()];
          for (int i = 0; i < ids.length; i++) {
            ids[i] = hits.get(i).id();
            sc[i] = hits.get(i).score();
          }
          cands = new RankedList(ids, sc);
          break;
        }
      default:
        throw new AssertionError(c.source());
    }
    if (cands.size() == 0) {
      throw new NoCandidates("no-candidates", "the candidate source has no items for this key");
    }
    return cands;
  }

  /**
   * Runs the surface's query model on one row (the entity's features and the request's context) and
   * returns its output as the ANN query vector.
   */
  private float[] queryFromModel(Surface s, Frame qf, int dimension, long end) {
    SurfaceSpec.QueryModel qm = s.spec.candidates().queryModel();
    List<Tensor> inputs = new ArrayList<>(s.queryInputs.size());
    for (Surface.QueryInput in : s.queryInputs) {
      Object v = in.operand.value(qf, 0);
      if (v == null) {
        throw new NoCandidates(
            "no-candidates",
            "no query vector: query model input '" + in.name + "' (" + in.operand + ") is missing");
      }
      inputs.add(queryInput(in, v));
    }
    Map<String, Object> params = Map.of();
    if (end != Long.MAX_VALUE) {
      params = Map.of("timeout", Math.max(1, (end - System.nanoTime()) / 1000));
    }
    List<String> outputs = qm.output() == null ? List.of() : List.of(qm.output());
    InferenceResponse resp =
        await(
            scorer.inferAsync(
                new InferenceRequest(qm.model(), qm.version(), "", params, inputs, outputs)),
            end);
    Tensor out = qm.output() == null ? resp.outputs().get(0) : resp.output(qm.output());
    if (out == null) {
      throw new ScorelineException(
          ErrorCode.INTERNAL,
          "query model " + qm.model() + " returned no output '" + qm.output() + "'");
    }
    float[] query = out.toFloatArray();
    if (query.length != dimension) {
      throw new ScorelineException(
          ErrorCode.INTERNAL,
          "query model "
              + qm.model()
              + " returned "
              + query.length
              + " values in '"
              + out.name()
              + "' (shape "
              + Arrays.toString(out.shape())
              + "); the index has dimension "
              + dimension
              + " and the query is one row, [1, "
              + dimension
              + "] or ["
              + dimension
              + "]");
    }
    return query;
  }

  /** One query model input tensor of one row: {@code [1, n]} for a list, {@code [1, 1]} else. */
  private static Tensor queryInput(Surface.QueryInput in, Object v) {
    String field = "candidates.query.inputs." + in.name;
    int len = Operand.length(v);
    boolean list = len >= 0;
    int n = list ? len : 1;
    if (in.width > 0 && n != in.width) {
      throw ScorelineException.userError(
          field,
          in.operand
              + " has "
              + n
              + " value(s) but query model input '"
              + in.name
              + "' takes "
              + in.width
              + " per row");
    }
    DataType type = in.datatype;
    if (type == null) {
      type =
          (v instanceof long[] || v instanceof Long || v instanceof Integer)
              ? DataType.INT64
              : DataType.FP32;
    }
    long[] shape = {1, n};
    if (type == DataType.INT64) {
      long[] data = new long[n];
      for (int i = 0; i < n; i++) {
        double d = list ? Operand.element(v, i) : Operand.number(v);
        if (Double.isNaN(d) || d != Math.rint(d)) {
          throw ScorelineException.userError(
              field, in.operand + (list ? "[" + i + "]" : "") + " is not an integer");
        }
        data[i] = (long) d;
      }
      return Tensor.ofLongs(in.name, shape, data);
    }
    if (v instanceof float[] a) {
      return Tensor.ofFloats(in.name, shape, a);
    }
    float[] data = new float[n];
    for (int i = 0; i < n; i++) {
      double d = list ? Operand.element(v, i) : Operand.number(v);
      if (Double.isNaN(d)) {
        throw ScorelineException.userError(
            field, in.operand + (list ? "[" + i + "]" : "") + " is not a number");
      }
      data[i] = (float) d;
    }
    return Tensor.ofFloats(in.name, shape, data);
  }

  private FeatureVectors candidateFeatures(Surface s, RankedList cands) {
    if (s.candidateFeatures.isEmpty()) {
      return null;
    }
    // the rows {col: id}, without a map and a boxed id per candidate
    String col = s.candidateEntity.keys().get(0).name();
    return features.get(s.candidateFeatures, col, cands.ids());
  }

  /** Builds the request's frame and applies the filter rules: {@link Work#rows} are kept. */
  private static void filter(Work w, RankedList cands, FeatureVectors cf) {
    Prepared p = w.p;
    Frame frame =
        new Frame(w.entity, w.entityRow, cands.ids(), cands.scores(), cf, p.request.context());
    int n = frame.rows();
    w.frame = frame;
    w.candidates = n;
    boolean filters = false;
    for (Rule r : p.rules) {
      filters |= r.isFilter();
    }
    if (!filters) {
      int[] rows = new int[n];
      for (int i = 0; i < n; i++) {
        rows[i] = i;
      }
      w.rows = rows;
      w.removedBy = Map.of();
      return;
    }
    boolean[] keep = new boolean[n];
    Arrays.fill(keep, true);
    Map<String, Integer> removedBy = new LinkedHashMap<>();
    for (Rule r : p.rules) {
      if (r.isFilter()) {
        int before = count(keep);
        r.filter(frame, keep);
        removedBy.merge(r.type, before - count(keep), Integer::sum);
      }
    }
    w.removedBy = removedBy;
    int kept = count(keep);
    if (kept == 0) {
      throw new NoCandidates("all-filtered", "the rules removed all " + n + " candidates");
    }
    int[] rows = new int[kept];
    for (int i = 0, j = 0; i < n; i++) {
      if (keep[i]) {
        rows[j++] = i;
      }
    }
    w.rows = rows;
  }

  /**
   * Runs the model on {@code rows} rows of {@code buffers}: one call, or calls of at most the
   * model's max batch size run at once. Writes one score per row into {@code scores}.
   *
   * @return the model version that answered
   */
  private String infer(Surface s, float[][] buffers, int rows, float[] scores, long end) {
    SurfaceSpec.ModelRef m = s.spec.model();
    Map<String, Object> params = Map.of();
    if (end != Long.MAX_VALUE) {
      params = Map.of("timeout", Math.max(1, (end - System.nanoTime()) / 1000));
    }
    int chunk = s.maxRows > 0 ? s.maxRows : rows;
    List<String> outputs = m.output() == null ? List.of() : List.of(m.output());
    List<CompletableFuture<InferenceResponse>> calls = new ArrayList<>();
    for (int from = 0; from < rows; from += chunk) {
      int rowsInCall = Math.min(chunk, rows - from);
      List<Tensor> part = new ArrayList<>(s.inputs.size());
      for (int k = 0; k < s.inputs.size(); k++) {
        int w = s.inputs.get(k).width();
        // the buffers may be longer than the rows (reused): copy exactly this call's rows
        java.nio.ByteBuffer data = Tensor.allocate(rowsInCall * w * Float.BYTES);
        data.asFloatBuffer().put(buffers[k], from * w, rowsInCall * w);
        part.add(
            Tensor.of(s.inputs.get(k).name(), DataType.FP32, new long[] {rowsInCall, w}, data));
      }
      calls.add(
          scorer.inferAsync(
              new InferenceRequest(m.name(), m.version(), "", params, part, outputs)));
    }
    String version = null;
    int filled = 0;
    for (CompletableFuture<InferenceResponse> call : calls) {
      InferenceResponse resp = await(call, end);
      version = resp.version();
      Tensor out = m.output() == null ? resp.outputs().get(0) : resp.output(m.output());
      if (out == null) {
        throw new ScorelineException(
            ErrorCode.INTERNAL, "model " + m.name() + " returned no output '" + m.output() + "'");
      }
      float[] part = out.toFloatArray();
      if (filled + part.length > rows) {
        throw new ScorelineException(
            ErrorCode.INTERNAL,
            "model "
                + m.name()
                + " returned more values in '"
                + out.name()
                + "' than rows; a ranking model returns one score per row (shape [rows] or"
                + " [rows, 1])");
      }
      System.arraycopy(part, 0, scores, filled, part.length);
      filled += part.length;
    }
    if (filled != rows) {
      throw new ScorelineException(
          ErrorCode.INTERNAL,
          "model "
              + m.name()
              + " returned "
              + filled
              + " values for "
              + rows
              + " rows; a ranking model returns one score per row (shape [rows] or [rows, 1])");
    }
    return version;
  }

  /** Applies the ordering rules to one request's scored rows; returns its items. */
  private static List<SurfaceResult.Item> order(
      Surface s,
      Work w,
      float[] scores,
      float[][] buffers,
      SurfaceResult.Debug[] debugOut,
      int index) {
    SurfaceSpec spec = s.spec;
    Prepared p = w.p;
    Frame frame = w.frame;
    int[] rows = w.rows;
    int kept = rows.length;
    if (spec.candidates() == null && !p.request.debug()) {
      // a scoring surface: no items; its score is read from the scores array
      boolean ordering = false;
      for (Rule r : p.rules) {
        ordering |= !r.isFilter();
      }
      if (!ordering) {
        return List.of();
      }
    }
    List<Rule.Entry> ranked = new ArrayList<>(kept);
    for (int i = 0; i < kept; i++) {
      ranked.add(new Rule.Entry(rows[i], frame.ids[rows[i]], scores[w.offset + i]));
    }
    ranked.sort((a, b) -> Float.compare(b.score, a.score));
    for (Rule r : p.rules) {
      if (!r.isFilter()) {
        r.order(frame, ranked);
      }
    }
    Map<Integer, Integer> inputRow = null;
    List<float[]> debugInputs = null;
    if (p.request.debug()) {
      inputRow = new java.util.HashMap<>();
      for (int i = 0; i < kept; i++) {
        inputRow.put(rows[i], w.offset + i);
      }
      debugInputs = new ArrayList<>();
    }
    int size = Math.min(p.size, ranked.size());
    List<SurfaceResult.Item> items = new ArrayList<>(size);
    for (int i = 0; i < size && spec.candidates() != null; i++) {
      Rule.Entry e = ranked.get(i);
      float rs = e.row < 0 ? Float.NaN : frame.retrievalScores[e.row];
      items.add(new SurfaceResult.Item(e.id, e.score, e.row < 0 ? 0f : rs, e.pinned));
      if (debugInputs != null) {
        debugInputs.add(e.row < 0 ? null : concatRow(s, buffers, inputRow.get(e.row)));
      }
    }
    if (p.request.debug()) {
      debugOut[index] =
          new SurfaceResult.Debug(
              w.candidates,
              kept,
              w.removedBy,
              s.columnLabels(),
              Collections.unmodifiableList(debugInputs),
              w.snapshot);
    }
    return List.copyOf(items);
  }

  private static float[] concatRow(Surface s, float[][] buffers, int row) {
    int total = 0;
    for (Surface.CompiledInput in : s.inputs) {
      total += in.width();
    }
    float[] out = new float[total];
    int off = 0;
    for (int k = 0; k < buffers.length; k++) {
      int w = s.inputs.get(k).width();
      System.arraycopy(buffers[k], row * w, out, off, w);
      off += w;
    }
    return out;
  }

  /** The sorted ids of an int64_list value (for binary search), empty when missing. */
  static long[] exclusions(Object v) {
    if (!(v instanceof long[] a) || a.length == 0) {
      return new long[0];
    }
    long[] sorted = a.clone();
    java.util.Arrays.sort(sorted);
    return sorted;
  }

  private static int count(boolean[] keep) {
    int c = 0;
    for (boolean b : keep) {
      if (b) {
        c++;
      }
    }
    return c;
  }

  private static float[] queryVector(Object v, String name, int dimension) {
    if (v == null) {
      return null;
    }
    int len = Operand.length(v);
    if (len != dimension) {
      throw ScorelineException.userError(
          name,
          name
              + ": the query vector has "
              + (len < 0 ? "no list value" : len + " values")
              + "; the index has dimension "
              + dimension);
    }
    if (v instanceof float[] a) {
      return a;
    }
    float[] out = new float[len];
    for (int i = 0; i < len; i++) {
      double d = Operand.element(v, i);
      if (Double.isNaN(d)) {
        throw ScorelineException.userError(name, name + "[" + i + "] is not a number");
      }
      out[i] = (float) d;
    }
    return out;
  }

  private static <T> T await(CompletableFuture<T> f, long end) {
    try {
      if (end == Long.MAX_VALUE) {
        return f.get();
      }
      return f.get(Math.max(0, end - System.nanoTime()), TimeUnit.NANOSECONDS);
    } catch (TimeoutException e) {
      f.cancel(true);
      throw new ScorelineException(ErrorCode.DEADLINE_EXCEEDED, "model call passed the deadline");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      f.cancel(true);
      throw new ScorelineException(ErrorCode.DEADLINE_EXCEEDED, "interrupted at the deadline");
    } catch (ExecutionException e) {
      Throwable c = e.getCause();
      if (c instanceof ScorelineException se) {
        throw new ScorelineException(se.code(), se.field().orElse(null), se.getMessage(), se);
      }
      throw new ScorelineException(ErrorCode.INTERNAL, "model call failed: " + c, c);
    }
  }

  // ---------------------------------------------------------------- fallback

  /** A cached popularity list (refreshed in the background every few seconds). */
  private static final class Popular {
    volatile RankedList list;
    volatile String snapshot;
    volatile long loadedAt;
    volatile boolean refreshing;
  }

  private static final long POPULAR_REFRESH_NANOS = 10_000_000_000L;

  private SurfaceResult fallback(Prepared p, long start, long end, String reason, String detail) {
    RankedList precomputed = null;
    if (fallsBackToPrecomputed(p, reason)) {
      long budget = end - System.nanoTime();
      if (budget > 0) {
        try {
          Future<SnapshotLists.Read> f = executor.submit(() -> readPrecomputed(p));
          precomputed = listOf(f.get(budget, TimeUnit.NANOSECONDS));
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException | RejectedExecutionException e) {
          log.debug(
              "surface {}: precomputed fallback unavailable: {}", p.surface.name(), e.toString());
        }
      }
    }
    return recorded(p, reason, fallbackResult(p, start, reason, detail, precomputed));
  }

  /**
   * {@link #fallback} without blocking: completes {@code out} (unless done) with the precomputed
   * list read on the executor, or with the popularity list when that read misses {@code end}, fails
   * or is refused.
   */
  private void fallbackAsync(
      CompletableFuture<SurfaceResult> out,
      Prepared p,
      long start,
      long end,
      String reason,
      String detail,
      ScheduledExecutorService timer) {
    long budget = end - System.nanoTime();
    if (fallsBackToPrecomputed(p, reason) && budget > 0) {
      try {
        Future<?> read =
            executor.submit(
                () -> {
                  RankedList list = null;
                  try {
                    list = listOf(readPrecomputed(p));
                  } catch (RuntimeException e) {
                    log.debug(
                        "surface {}: precomputed fallback unavailable: {}",
                        p.surface.name(),
                        e.toString());
                  }
                  completeFallback(out, p, start, reason, detail, list);
                });
        timer.schedule(
            () -> {
              if (!out.isDone()) {
                read.cancel(true);
                completeFallback(out, p, start, reason, detail, null);
              }
            },
            budget,
            TimeUnit.NANOSECONDS);
        return;
      } catch (RejectedExecutionException e) {
        log.debug("surface {}: precomputed fallback refused: {}", p.surface.name(), e.toString());
      }
    }
    completeFallback(out, p, start, reason, detail, null);
  }

  private void completeFallback(
      CompletableFuture<SurfaceResult> out,
      Prepared p,
      long start,
      String reason,
      String detail,
      RankedList precomputed) {
    if (out.isDone()) {
      return;
    }
    SurfaceResult r = fallbackResult(p, start, reason, detail, precomputed);
    if (out.complete(r)) {
      recorded(p, reason, r);
    }
  }

  private static boolean fallsBackToPrecomputed(Prepared p, String reason) {
    SurfaceSpec spec = p.surface.spec;
    return spec.fallback().precomputed()
        && spec.candidates() != null
        && "precomputed".equals(spec.candidates().source())
        && !"no-candidates".equals(reason);
  }

  private SnapshotLists.Read readPrecomputed(Prepared p) {
    return lists.read(p.surface.spec.candidates().snapshot(), p.key);
  }

  private static RankedList listOf(SnapshotLists.Read r) {
    RankedList l = r.lists().get(0);
    return l != null && l.size() > 0 ? l : null;
  }

  /** Records a fallback answer's metrics; returns it. */
  private SurfaceResult recorded(Prepared p, String reason, SurfaceResult r) {
    metrics.fallback(p.surface.name(), reason);
    metrics.request(p.surface.name(), "fallback");
    metrics.stage(p.surface.name(), "total", r.timingsMicros().get("total"));
    return r;
  }

  /** The fallback answer: the precomputed list when given, else the popularity list, if any. */
  private SurfaceResult fallbackResult(
      Prepared p, long start, String reason, String detail, RankedList precomputed) {
    Surface s = p.surface;
    SurfaceSpec spec = s.spec;
    RankedList list = precomputed;
    String from = list == null ? null : "precomputed";
    if (list == null && spec.fallback().popular() != null) {
      list = popular(spec.fallback().popular());
      from = list == null ? null : "popular";
    }
    List<SurfaceResult.Item> items = new ArrayList<>();
    if (list != null) {
      for (int i = 0; i < list.size() && items.size() < p.size; i++) {
        items.add(new SurfaceResult.Item(list.ids()[i], list.scores()[i], list.scores()[i], false));
      }
    }
    String why =
        reason
            + (detail == null ? "" : ": " + detail)
            + (from == null ? "; no fallback list is available" : "; answered from " + from);
    long total = (System.nanoTime() - start) / 1000;
    return new SurfaceResult(
        s.name(),
        p.request.key(),
        List.copyOf(items),
        null,
        spec.model().name(),
        null,
        true,
        why,
        Map.of("total", total),
        null,
        null,
        null);
  }

  /** The popularity list, cached; refreshed on the executor when older than 10 s. */
  private RankedList popular(SurfaceSpec.Popular spec) {
    Popular p = popular.computeIfAbsent(spec.snapshot() + '\0' + spec.key(), k -> new Popular());
    long now = System.nanoTime();
    if (p.list == null) {
      loadPopular(spec, p);
    } else if (now - p.loadedAt > POPULAR_REFRESH_NANOS && !p.refreshing) {
      p.refreshing = true;
      try {
        executor.execute(() -> loadPopular(spec, p));
      } catch (RejectedExecutionException e) {
        p.refreshing = false;
      }
    }
    return p.list;
  }

  private void loadPopular(SurfaceSpec.Popular spec, Popular p) {
    try {
      SnapshotLists.Read r =
          lists.read(spec.snapshot(), spec.key().getBytes(StandardCharsets.UTF_8));
      if (r.lists().get(0) != null) {
        p.list = r.lists().get(0);
        p.snapshot = r.snapshotId();
      }
      p.loadedAt = System.nanoTime();
    } catch (RuntimeException e) {
      log.warn("popular list {} unavailable: {}", spec.snapshot(), e.toString());
    } finally {
      p.refreshing = false;
    }
  }

  /** Loads the popularity lists of all surfaces now (at start, so the first fallback has one). */
  public void warmFallbacks() {
    for (Surface s : surfaces.all()) {
      if (s.spec.fallback().popular() != null) {
        popular(s.spec.fallback().popular());
      }
    }
  }
}
