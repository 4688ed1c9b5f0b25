package dev.scoreline.core.surface;

import static java.util.Objects.requireNonNull;

import dev.scoreline.core.error.ErrorCode;
import dev.scoreline.core.error.ScorelineException;
import dev.scoreline.core.feature.Definitions.Entity;
import dev.scoreline.core.feature.Definitions.FeatureView;
import dev.scoreline.core.feature.FeatureRef;
import dev.scoreline.core.feature.FeatureRegistry;
import dev.scoreline.core.feature.FeatureRow;
import dev.scoreline.core.feature.ValueType;
import dev.scoreline.core.feature.online.EntityKeys;
import dev.scoreline.core.feature.spi.OfflineStore;
import dev.scoreline.core.kv.KvEntry;
import dev.scoreline.core.kv.KvStore;
import dev.scoreline.core.progress.ProgressListener;
import dev.scoreline.core.retrieval.Neighbor;
import dev.scoreline.core.retrieval.VectorIndex;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;

/**
 * The candidate-generation job of a two-stage surface: for every entity with a query vector (the
 * newest value of the surface's {@code candidates.query} feature in the offline store), the {@code
 * candidates.limit} nearest items in the surface's vector index, written as a new KV snapshot
 * ({@code candidates.snapshot}) and published atomically: readers see the previous candidates until
 * every list is written. The previous {@link #KEEP} snapshots are kept for rollback.
 */
public final class CandidateJob {
  /** Published snapshots kept (the current one and the ones before it). */
  public static final int KEEP = 3;

  private static final int WRITE_CHUNK = 2048;
  private static final DateTimeFormatter ID =
      DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'").withZone(ZoneOffset.UTC);

  /**
   * What a run did.
   *
   * @param snapshotId the published snapshot
   * @param entities entities written
   * @param duration wall time
   */
  public record Summary(String snapshotId, long entities, Duration duration) {
    public double entitiesPerSecond() {
      return entities / Math.max(1e-9, duration.toNanos() / 1e9);
    }
  }

  private final Surface surface;
  private final FeatureRegistry registry;
  private final OfflineStore offline;
  private final KvStore kv;
  private final ExecutorService executor;
  private final int threads;
  private final Clock clock;

  public CandidateJob(
      Surface surface,
      FeatureRegistry registry,
      OfflineStore offline,
      KvStore kv,
      ExecutorService executor,
      int threads,
      Clock clock) {
    this.surface = requireNonNull(surface, "surface is null");
    this.registry = requireNonNull(registry, "registry is null");
    this.offline = requireNonNull(offline, "offline is null");
    this.kv = requireNonNull(kv, "kv is null");
    this.executor = requireNonNull(executor, "executor is null");
    this.threads = Math.max(1, threads);
    this.clock = requireNonNull(clock, "clock is null");
  }

  /**
   * Runs the job with {@code index} (the surface's {@code candidates.index}).
   *
   * @throws ScorelineException USER_ERROR when the surface has no precomputed candidates or its
   *     query is not an fp32_list feature of the entity
   */
  public Summary run(VectorIndex index, ProgressListener progress) {
    long t0 = System.nanoTime();
    Instant now = clock.instant();
    Inputs in = Inputs.read(surface, registry, offline, index.dimension(), now);
    SurfaceSpec.Candidates c = surface.spec().candidates();
    String id = ID.format(now);
    if (kv.snapshots(c.snapshot()).contains(id)) {
      id = id + "-" + (System.nanoTime() % 100000);
    }
    String ns = KvStore.snapshotNamespace(c.snapshot(), id);
    List<byte[]> keys = new ArrayList<>(in.keys().size());
    for (List<Object> key : in.keys()) {
      keys.add(EntityKeys.encode(in.entity(), key));
    }
    List<float[]> vectors = in.vectors();
    java.util.Map<java.nio.ByteBuffer, long[]> excluded = in.excluded();
    progress.start("candidates " + c.snapshot(), keys.size());
    try {
      int n = keys.size();
      int per = (n + threads - 1) / threads;
      List<Future<?>> parts = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        int from = t * per;
        int to = Math.min(n, from + per);
        if (from >= to) {
          continue;
        }
        parts.add(
            executor.submit(
                () -> {
                  List<KvEntry> chunk = new ArrayList<>(WRITE_CHUNK);
                  for (int i = from; i < to; i++) {
                    long[] skip = excluded.get(java.nio.ByteBuffer.wrap(keys.get(i)));
                    List<Neighbor> hits =
                        index.search(
                            vectors.get(i),
                            c.limit(),
                            skip == null
                                ? null
                                : item -> java.util.Arrays.binarySearch(skip, item) < 0);
                    long[] ids = new long[hits.size()];
                    float[] scores = new float[hits.size()];
                    for (int k = 0; k < ids.length; k++) {
                      ids[k] = hits.get(k).id();
                      scores[k] = hits.get(k).score();
                    }
                    chunk.add(new KvEntry(keys.get(i), new RankedList(ids, scores).encode()));
                    if (chunk.size() == WRITE_CHUNK) {
                      kv.putAll(ns, chunk);
                      progress.advance(chunk.size());
                      chunk.clear();
                    }
                  }
                  if (!chunk.isEmpty()) {
                    kv.putAll(ns, chunk);
                    progress.advance(chunk.size());
                  }
                }));
      }
      for (Future<?> f : parts) {
        f.get();
      }
      kv.publish(c.snapshot(), id, KEEP);
    } catch (ExecutionException e) {
      kv.dropSnapshot(c.snapshot(), id);
      Throwable cause = e.getCause();
      if (cause instanceof ScorelineException se) {
        throw se;
      }
      throw new ScorelineException(
          ErrorCode.INTERNAL, "candidate job failed: " + cause + "; nothing was published", cause);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      kv.dropSnapshot(c.snapshot(), id);
      throw new ScorelineException(ErrorCode.UNAVAILABLE, "candidate job interrupted", e);
    } finally {
      progress.finish();
    }
    return new Summary(id, keys.size(), Duration.ofNanos(System.nanoTime() - t0));
  }

  /**
   * What a candidate job reads from the offline store: every entity's newest query vector ({@code
   * candidates.query}, those of {@code dimension} floats) and the items each entity's list skips
   * (newest value of {@code candidates.exclude}, sorted ids, by encoded entity key). Shared by the
   * ANN job and the exact dot-product job of {@code scoreline-batch}.
   *
   * @param keys entity key values, in the order of {@code vectors}
   */
  public record Inputs(
      Entity entity,
      List<List<Object>> keys,
      List<float[]> vectors,
      java.util.Map<java.nio.ByteBuffer, long[]> excluded) {

    /**
     * Reads the inputs of {@code surface}'s candidate job.
     *
     * @throws ScorelineException USER_ERROR when the surface has no precomputed candidates or its
     *     query is not an fp32_list feature of the entity
     */
    public static Inputs read(
        Surface surface,
        FeatureRegistry registry,
        OfflineStore offline,
        int dimension,
        Instant now) {
      SurfaceSpec.Candidates c = surface.spec().candidates();
      if (c == null
          || !"precomputed".equals(c.source())
          || c.query() == null
          || c.index() == null) {
        throw ScorelineException.userError(
            "candidates",
            "surface '"
                + surface.name()
                + "' has no candidate job: it needs candidates.source: precomputed with"
                + " 'snapshot', 'index' and 'query' (an fp32_list feature of "
                + surface.entity().name()
                + ")");
      }
      FeatureRef q = FeatureRef.parse("candidates.query", c.query());
      FeatureView view = registry.view(q.view());
      Entity entity = surface.entity();
      int fi = view.indexOf(q.feature());
      if (!view.entity().equals(entity.name())
          || fi < 0
          || view.features().get(fi).type() != ValueType.FP32_LIST) {
        throw ScorelineException.userError(
            "candidates.query",
            surface.origin()
                + ": candidates.query '"
                + c.query()
                + "' must be an fp32_list feature of entity "
                + entity.name());
      }
      java.util.Map<java.nio.ByteBuffer, long[]> excluded = new java.util.HashMap<>();
      if (c.exclude() != null) {
        FeatureRef x = FeatureRef.parse("candidates.exclude", c.exclude());
        FeatureView xv = registry.view(x.view());
        int xi = xv.indexOf(x.feature());
        offline.scanLatest(
            xv,
            Instant.EPOCH,
            now.plusSeconds(1),
            (FeatureRow row) -> {
              long[] skip = SurfaceEngine.exclusions(row.values()[xi]);
              if (skip.length > 0) {
                excluded.put(java.nio.ByteBuffer.wrap(EntityKeys.encode(entity, row.key())), skip);
              }
            });
      }
      List<List<Object>> keys = new ArrayList<>();
      List<float[]> vectors = new ArrayList<>();
      offline.scanLatest(
          view,
          Instant.EPOCH,
          now.plusSeconds(1),
          (FeatureRow row) -> {
            Object v = row.values()[fi];
            if (v instanceof float[] f && f.length == dimension) {
              keys.add(row.key());
              vectors.add(f);
            }
          });
      return new Inputs(entity, keys, vectors, excluded);
    }
  }
}
