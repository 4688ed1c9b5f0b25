package dev.scoreline.stream.sink;

import static java.util.Objects.requireNonNull;

import dev.scoreline.core.kv.FieldWrite;
import dev.scoreline.core.kv.KvStore;
import dev.scoreline.core.kv.Stamps;
import dev.scoreline.stream.StreamResult;
import dev.scoreline.stream.spi.ResultSink;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * The latest result per entity in the KV store: record {@code <entity key>} in namespace {@code
 * stream-results/<surface>}, field {@code result}, value the result JSON after the 16-byte stamp
 * (event time, scoring time). Writes merge last-write-wins by event time, so a replayed older
 * result never hides a newer one and writing a result twice is harmless.
 */
public final class KvResultSink implements ResultSink {
  /** The record field that holds the result. */
  public static final String FIELD = "result";

  private final KvStore kv;
  private final String namespace;

  public KvResultSink(KvStore kv, String surface) {
    this.kv = requireNonNull(kv, "kv is null");
    this.namespace = namespace(surface);
  }

  public static String namespace(String surface) {
    return "stream-results/" + surface;
  }

  @Override
  public String name() {
    return "kv";
  }

  @Override
  public CompletableFuture<Void> write(List<StreamResult> results) {
    if (results.isEmpty()) {
      return CompletableFuture.completedFuture(null);
    }
    List<FieldWrite> writes = new ArrayList<>(results.size());
    for (StreamResult r : results) {
      byte[] json = r.toJson();
      byte[] v = new byte[KvStore.STAMP_BYTES + json.length];
      Stamps.write(v, 0, r.eventTimeMicros());
      Stamps.write(v, 8, r.scoredMicros());
      System.arraycopy(json, 0, v, KvStore.STAMP_BYTES, json.length);
      writes.add(new FieldWrite(r.entityKey(), FIELD, v));
    }
    try {
      kv.mergeRecords(namespace, writes);
      return CompletableFuture.completedFuture(null);
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  /** The latest result JSON of an entity (key encoded as the surface encodes it), or null. */
  public static byte[] latest(KvStore kv, String surface, byte[] entityKey) {
    Map<String, byte[]> rec = kv.multiGetRecords(namespace(surface), List.of(entityKey)).get(0);
    byte[] v = rec.get(FIELD);
    return v == null ? null : Arrays.copyOfRange(v, KvStore.STAMP_BYTES, v.length);
  }
}
