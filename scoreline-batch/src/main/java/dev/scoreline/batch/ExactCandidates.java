package dev.scoreline.batch;

import static java.util.Objects.requireNonNull;

import dev.scoreline.core.error.ScorelineException;
import dev.scoreline.core.feature.FeatureRegistry;
import dev.scoreline.core.feature.ValueType;
import dev.scoreline.core.feature.online.EntityKeys;
import dev.scoreline.core.feature.spi.OfflineStore;
import dev.scoreline.core.kv.KvStore;
import dev.scoreline.core.progress.ProgressListener;
import dev.scoreline.core.retrieval.Similarity;
import dev.scoreline.core.retrieval.VectorIndex;
import dev.scoreline.core.surface.CandidateJob;
import dev.scoreline.core.surface.Surface;
import dev.scoreline.core.surface.SurfaceSpec;
import java.nio.ByteBuffer;
import java.time.Clock;
import java.util.Arrays;
import java.util.List;

/**
 * The candidate job of a two-stage surface computed <b>exactly</b>: every entity's query vector
 * against every item vector of the surface's index, by the blocked dot-product kernel ({@link
 * DotProductTopK}) with a partial top-{@code candidates.limit} per entity, instead of one ANN
 * search per entity ({@link CandidateJob}). Same inputs (the newest {@code candidates.query} per
 * entity, {@code candidates.exclude} skipped), same output (a {@code RankedList} per entity under
 * {@code candidates.snapshot}, published atomically, {@link CandidateJob#KEEP} kept), but recall 1
 * and written through {@link SnapshotWriter}, so an interrupted run resumes and runs are in {@code
 * scoreline batch status}'s history.
 *
 * <p>Dot-product indexes are scored as they are; cosine indexes on unit-normalized copies of both
 * sides (the scores are then the cosines {@link Similarity#COSINE} gives, up to rounding).
 * Euclidean indexes are refused: use the ANN job. The entity needs one int64 key column.
 */
public final class ExactCandidates {
  private final Surface surface;
  private final FeatureRegistry registry;
  private final OfflineStore offline;
  private final KvStore kv;
  private final Clock clock;

  public ExactCandidates(
      Surface surface, FeatureRegistry registry, OfflineStore offline, KvStore kv, Clock clock) {
    this.surface = requireNonNull(surface, "surface is null");
    this.registry = requireNonNull(registry, "registry is null");
    this.offline = requireNonNull(offline, "offline is null");
    this.kv = requireNonNull(kv, "kv is null");
    this.clock = requireNonNull(clock, "clock is null");
  }

  /**
   * Scores every entity against every item of {@code index} (the surface's {@code
   * candidates.index}) and publishes the lists.
   *
   * @param threads scoring and writing threads
   * @throws ScorelineException USER_ERROR for a surface without a candidate job, a Euclidean index
   *     or an entity without one int64 key
   */
  public BatchRunSummary run(VectorIndex index, int threads, ProgressListener progress) {
    requireNonNull(index, "index is null");
    if (index.similarity() == Similarity.EUCLIDEAN) {
      throw ScorelineException.userError(
          "candidates.index",
          "the index of surface '"
              + surface.name()
              + "' scores by Euclidean distance; exact candidates support dot-product and cosine"
              + " indexes; run the ANN job (without --exact) instead");
    }
    if (surface.entity().keys().size() != 1
        || surface.entity().keys().get(0).type() != ValueType.INT64) {
      throw ScorelineException.userError(
          "entity",
          "exact candidates key their lists by one int64 column, but entity '"
              + surface.entity().name()
              + "' has keys "
              + surface.entity().keys()
              + "; run the ANN job (without --exact) instead");
    }
    SurfaceSpec.Candidates c = surface.spec().candidates();
    CandidateJob.Inputs in =
        CandidateJob.Inputs.read(surface, registry, offline, index.dimension(), clock.instant());
    if (in.vectors().isEmpty()) {
      throw ScorelineException.userError(
          "candidates.query",
          "no entity of surface '"
              + surface.name()
              + "' has a "
              + index.dimension()
              + "-float value of "
              + c.query()
              + " in the offline store");
    }
    boolean normalize = index.similarity() == Similarity.COSINE;
    int dim = index.dimension();

    long[] itemIds = index.ids();
    Arrays.sort(itemIds); // a stable order for the fingerprint and the tie-break by item row
    float[] itemFactors = new float[itemIds.length * dim];
    for (int i = 0; i < itemIds.length; i++) {
      copy(index.vector(itemIds[i]), itemFactors, i * dim, normalize);
    }

    int users = in.vectors().size();
    long[] userIds = new long[users];
    float[] userFactors = new float[users * dim];
    int[][] excluded = new int[users][];
    for (int u = 0; u < users; u++) {
      List<Object> key = in.keys().get(u);
      userIds[u] = ((Number) key.get(0)).longValue();
      copy(in.vectors().get(u), userFactors, u * dim, normalize);
      long[] skip = in.excluded().get(ByteBuffer.wrap(EntityKeys.encode(in.entity(), key)));
      excluded[u] = skip == null ? null : rows(skip, itemIds);
    }
    int k = Math.min(c.limit(), itemIds.length);
    DotProductTopK topK = new DotProductTopK(itemFactors, itemIds.length, dim, k);
    DotProductSource source =
        new DotProductSource(
            in.entity(), userIds, userFactors, itemIds, topK, Exclusions.of(excluded), 64);
    return new SnapshotWriter(kv, clock)
        .write(
            c.snapshot(),
            source,
            SnapshotWriter.Options.defaults()
                .withKeep(CandidateJob.KEEP)
                .withThreads(threads)
                .withProgress(progress));
  }

  private static void copy(float[] v, float[] out, int offset, boolean normalize) {
    double norm = 0;
    if (normalize) {
      for (float x : v) {
        norm += (double) x * x;
      }
      norm = Math.sqrt(norm);
    }
    float scale = normalize && norm > 0 ? (float) (1 / norm) : 1f;
    for (int d = 0; d < v.length; d++) {
      out[offset + d] = v[d] * scale;
    }
  }

  /** The sorted rows (in {@code itemIds}, sorted) of the excluded ids that are items. */
  private static int[] rows(long[] skip, long[] itemIds) {
    int[] out = new int[skip.length];
    int n = 0;
    for (long id : skip) {
      int row = Arrays.binarySearch(itemIds, id);
      if (row >= 0) {
        out[n++] = row;
      }
    }
    int[] rows = Arrays.copyOf(out, n);
    Arrays.sort(rows);
    int m = 0;
    for (int i = 0; i < rows.length; i++) {
      if (m == 0 || rows[i] != rows[m - 1]) {
        rows[m++] = rows[i];
      }
    }
    return Arrays.copyOf(rows, m);
  }
}
