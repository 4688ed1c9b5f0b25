package dev.scoreline.batch;

import static java.util.Objects.requireNonNull;

import dev.scoreline.core.surface.RankedList;
import dev.scoreline.core.surface.Surface;
import dev.scoreline.core.surface.SurfaceEngine;
import dev.scoreline.core.surface.SurfaceRequest;
import dev.scoreline.core.surface.SurfaceResult;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

/**
 * A {@link SnapshotSource} that runs a surface's shared pipeline ({@link SurfaceEngine#rank}:
 * candidates → features → rules → transform → infer → rules) for every entity and writes each
 * entity's ranked list ({@link RankedList}, under its entity key): the batch mode of any surface.
 * Because online calls run the same {@code rank}, the snapshot holds exactly what the online
 * endpoint answers for the same entity and feature values.
 *
 * <p>Entities are split into contiguous partitions of equal size; within a partition they are
 * ranked one by one (each ranking is one batched model call over the entity's candidates).
 */
public final class SurfaceSnapshotSource implements SnapshotSource {
  private final SurfaceEngine engine;
  private final Surface surface;
  private final List<Map<String, Object>> entities;
  private final int partitions;
  private final int size;
  private final String fingerprint;

  /**
   * @param entities the entity keys to score (key column to value)
   * @param partitions partitions asked for (fewer when there are fewer entities)
   * @param size results per entity
   * @param inputsVersion identifies the inputs beyond the definition (e.g. the model version and
   *     the feature data's time), so a resumed run does not mix two states
   */
  public SurfaceSnapshotSource(
      SurfaceEngine engine,
      String surfaceName,
      List<Map<String, Object>> entities,
      int partitions,
      int size,
      String inputsVersion) {
    this.engine = requireNonNull(engine, "engine is null");
    this.surface = engine.surfaces().get(surfaceName);
    this.entities = List.copyOf(entities);
    this.partitions = Math.max(1, Math.min(partitions, Math.max(1, entities.size())));
    this.size = size;
    this.fingerprint =
        sha256(
            surface.name()
                + '\0'
                + surface.spec()
                + '\0'
                + entities.size()
                + '\0'
                + (entities.isEmpty()
                    ? ""
                    : entities.get(0) + "" + entities.get(entities.size() - 1))
                + '\0'
                + size
                + '\0'
                + inputsVersion);
  }

  @Override
  public int partitions() {
    return partitions;
  }

  private int from(int p) {
    return (int) ((long) entities.size() * p / partitions);
  }

  @Override
  public long entities(int p) {
    return from(p + 1) - from(p);
  }

  @Override
  public String fingerprint() {
    return fingerprint;
  }

  @Override
  public void write(int p, PartitionOutput out) throws Exception {
    for (int i = from(p); i < from(p + 1); i++) {
      if (Thread.currentThread().isInterrupted()) {
        throw new InterruptedException("batch run interrupted");
      }
      Map<String, Object> key = entities.get(i);
      SurfaceResult r =
          engine.rank(
              surface.name(), new SurfaceRequest(key, Map.of(), size, Map.of(), false, null));
      long[] ids = new long[r.items().size()];
      float[] scores = new float[ids.length];
      for (int k = 0; k < ids.length; k++) {
        ids[k] = r.items().get(k).id();
        scores[k] = r.items().get(k).score();
      }
      out.put(surface.entityKey(key), new RankedList(ids, scores).encode());
      out.scored(ids.length);
    }
  }

  private static String sha256(String s) {
    try {
      return HexFormat.of()
          .formatHex(
              MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
