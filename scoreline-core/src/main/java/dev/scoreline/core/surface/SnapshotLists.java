package dev.scoreline.core.surface;

import dev.scoreline.core.kv.KvStore;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * Reads {@link RankedList}s from published KV snapshots (precomputed candidates, batch results,
 * popularity lists). The current snapshot id of each name is cached for {@link #POINTER_TTL_NANOS}
 * so a request costs one KV round trip, not two; a flip is seen within that time, and a reader
 * always reads one whole snapshot.
 */
public final class SnapshotLists {
  /** How long a resolved snapshot pointer is reused. */
  public static final long POINTER_TTL_NANOS = 1_000_000_000L;

  private final KvStore store;
  private final LongSupplier nanoTime;
  private final ConcurrentHashMap<String, Pointer> pointers = new ConcurrentHashMap<>();

  private record Pointer(String snapshotId, long readAt) {}

  /**
   * Lists of some keys in one snapshot.
   *
   * @param snapshotId the snapshot read, or null when none is published
   * @param lists one list per key, null where the key has none
   */
  public record Read(String snapshotId, List<RankedList> lists) {}

  public SnapshotLists(KvStore store) {
    this(store, System::nanoTime);
  }

  public SnapshotLists(KvStore store, LongSupplier nanoTime) {
    this.store = store;
    this.nanoTime = nanoTime;
  }

  public KvStore store() {
    return store;
  }

  /** The current snapshot id of {@code name} (cached briefly), if one is published. */
  public Optional<String> current(String name) {
    long now = nanoTime.getAsLong();
    Pointer p = pointers.get(name);
    if (p == null || now - p.readAt() > POINTER_TTL_NANOS) {
      p = new Pointer(store.currentSnapshot(name).orElse(null), now);
      pointers.put(name, p);
    }
    return Optional.ofNullable(p.snapshotId());
  }

  /** Forgets cached pointers (after a publish or rollback in this process). */
  public void invalidate() {
    pointers.clear();
  }

  /** Reads the lists of {@code keys} from the current snapshot of {@code name}. */
  public Read read(String name, List<byte[]> keys) {
    Optional<String> id = current(name);
    if (id.isEmpty()) {
      List<RankedList> none = new ArrayList<>();
      for (int i = 0; i < keys.size(); i++) {
        none.add(null);
      }
      return new Read(null, none);
    }
    List<byte[]> values = store.multiGet(KvStore.snapshotNamespace(name, id.get()), keys);
    List<RankedList> lists = new ArrayList<>(values.size());
    for (byte[] v : values) {
      lists.add(v == null ? null : RankedList.decode(v));
    }
    return new Read(id.get(), lists);
  }

  /** Reads one key's list; null list when there is none. */
  public Read read(String name, byte[] key) {
    return read(name, List.of(key));
  }
}
