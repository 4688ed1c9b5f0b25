package dev.scoreline.spark;

import dev.scoreline.batch.PartitionOutput;
import dev.scoreline.batch.SurfaceSnapshotSource;
import dev.scoreline.core.kv.KvEntry;
import dev.scoreline.core.kv.KvStore;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.function.IntConsumer;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.function.Function2;
import org.apache.spark.broadcast.Broadcast;

/**
 * Runs on an executor: scores one partition of entities and writes their ranked lists into the
 * run's unpublished snapshot namespace, then returns {@code [partition, entities, scores]}.
 *
 * <p>The ranking is {@link SurfaceSnapshotSource#write} itself, the local engine's code (shared
 * pipeline {@code SurfaceEngine.rank} per entity, {@code RankedList} under the entity key), run as
 * a one-partition source over this partition's entities: both runners write the same bytes for the
 * same entity by construction. Entries go to the KV store in {@code putAll} batches of {@code
 * writeBatch} (with Redis one pipelined round trip of {@code MSET}s each). A partition is
 * deterministic, so a retried or speculative task rewrites the same entries.
 */
final class PartitionScorer
    implements Function2<Integer, Iterator<Map<String, Object>>, Iterator<long[]>> {
  private static final long serialVersionUID = 1L;

  /**
   * Test hook, called with the partition index before a partition is scored; {@code null} in
   * production. Only reaches tasks that run in the JVM that set it ({@code local[N]} mode).
   */
  static volatile IntConsumer beforePartition;

  private final String project;
  private final String surface;
  private final String runId;
  private final String modelVersion;
  private final String namespace;
  private final int size;
  private final String inputsVersion;
  private final int writeBatch;
  private final Broadcast<ModelBundle> model;

  PartitionScorer(
      Broadcast<ModelBundle> model,
      String project,
      String surface,
      String runId,
      String modelVersion,
      String namespace,
      int size,
      String inputsVersion,
      int writeBatch) {
    this.project = project;
    this.surface = surface;
    this.runId = runId;
    this.modelVersion = modelVersion;
    this.namespace = namespace;
    this.size = size;
    this.inputsVersion = inputsVersion;
    this.writeBatch = writeBatch;
    this.model = model;
  }

  @Override
  public Iterator<long[]> call(Integer partition, Iterator<Map<String, Object>> keys)
      throws Exception {
    IntConsumer hook = beforePartition;
    if (hook != null) {
      hook.accept(partition);
    }
    List<Map<String, Object>> entities = new ArrayList<>();
    keys.forEachRemaining(entities::add);
    ScoringContext context = ScoringContext.get(project, surface, runId, model::value);
    context.checkModelVersion(modelVersion);
    Output out = new Output(context.stores().kvStore());
    if (!entities.isEmpty()) {
      new SurfaceSnapshotSource(context.engine(), surface, entities, 1, size, inputsVersion)
          .write(0, out);
    }
    out.flush();
    return List.of(new long[] {partition, out.entities, out.scores}).iterator();
  }

  /** Buffers entries and writes them in batches; stops between batches when the task is killed. */
  private final class Output implements PartitionOutput {
    private final KvStore store;
    private final List<KvEntry> buffer = new ArrayList<>();
    long entities;
    long scores;

    Output(KvStore store) {
      this.store = store;
    }

    @Override
    public void put(byte[] key, byte[] value) {
      buffer.add(new KvEntry(key, value));
      if (buffer.size() >= writeBatch) {
        flush();
      }
    }

    @Override
    public void scored(long n) {
      scores += n;
    }

    void flush() {
      if (buffer.isEmpty()) {
        return;
      }
      TaskContext task = TaskContext.get();
      if (task != null) {
        task.killTaskIfInterrupted(); // a cancelled run writes nothing more
      }
      store.putAll(namespace, buffer);
      entities += buffer.size();
      buffer.clear();
    }
  }
}
