/**
 * The local batch engine: score every entity, write the results as a new KV snapshot, publish it
 * atomically.
 *
 * <h2>Pieces</h2>
 *
 * <ul>
 *   <li>{@link dev.scoreline.batch.DotProductTopK}: the dot-product fast path, exact top-K items
 *       per user over item factors in cache-sized panels, with a C2-vectorized FMA kernel and
 *       per-user min-heaps; results stream out per user block ({@link
 *       dev.scoreline.batch.TopKBlock}). {@link dev.scoreline.batch.Exclusions} removes seen items.
 *   <li>{@link dev.scoreline.batch.SnapshotSource}: what a job writes, in deterministic partitions;
 *       {@link dev.scoreline.batch.DotProductSource} is the one for embeddings (a {@link
 *       dev.scoreline.core.surface.RankedList} per user, keyed by {@link
 *       dev.scoreline.core.feature.online.EntityKeys}).
 *   <li>{@link dev.scoreline.batch.SnapshotWriter}: runs a source's partitions on a fixed pool,
 *       writes into the unpublished snapshot namespace, records finished partitions, publishes when
 *       all succeeded, keeps N snapshots for rollback, resumes interrupted runs, and returns a
 *       {@link dev.scoreline.batch.BatchRunSummary}.
 * </ul>
 *
 * <h2>Why the run manifest lives in the KV store</h2>
 *
 * The manifest (pending run, finished partitions, history; see {@code RunManifest}) is kept in the
 * same store as the snapshot data, namespace {@code batch/<name>}, not in a local run directory:
 * (1) a partition's "done" record is written after its entries by the same store, so with RocksDB
 * it sits later in the same write-ahead log and can never survive a crash that lost the entries;
 * (2) a job resumed on another machine (or by the Spark runner's driver) sees the same state when
 * the store is Redis; (3) there is nothing else to back up or clean. The cost is a few small keys
 * per run.
 */
package dev.scoreline.batch;
