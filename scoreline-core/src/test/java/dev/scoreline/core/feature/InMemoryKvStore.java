package dev.scoreline.core.feature;

import dev.scoreline.core.kv.FieldWrite;
import dev.scoreline.core.kv.KvEntry;
import dev.scoreline.core.kv.KvStore;
import dev.scoreline.core.kv.Stamps;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A hand-written in-memory {@link KvStore} for core tests, honouring the SPI: records merged
 * last-write-wins per field (applied when the new stamp is >= the stored one, unsigned byte-wise),
 * in the order given; snapshots with publish, keep and rollback. Counts calls so tests can assert
 * round trips. Values are copied in and out.
 */
public final class InMemoryKvStore implements KvStore {
  private final Map<String, Map<ByteBuffer, byte[]>> plain = new HashMap<>();
  private final Map<String, Map<ByteBuffer, Map<String, byte[]>>> records = new HashMap<>();
  private final Map<String, List<String>> snapshots = new HashMap<>();

  public final AtomicInteger multiGetRecordsCalls = new AtomicInteger();
  public final AtomicInteger mergeRecordsCalls = new AtomicInteger();

  /** The keys of the last multiGetRecords call. */
  public volatile List<byte[]> lastMultiGetKeys = List.of();

  @Override
  public String kind() {
    return "memory";
  }

  private static ByteBuffer k(byte[] key) {
    return ByteBuffer.wrap(key.clone());
  }

  @Override
  public synchronized List<byte[]> multiGet(String namespace, List<byte[]> keys) {
    Map<ByteBuffer, byte[]> ns = plain.getOrDefault(namespace, Map.of());
    List<byte[]> out = new ArrayList<>(keys.size());
    for (byte[] key : keys) {
      byte[] v = ns.get(ByteBuffer.wrap(key));
      out.add(v == null ? null : v.clone());
    }
    return out;
  }

  @Override
  public synchronized void putAll(String namespace, List<KvEntry> entries) {
    Map<ByteBuffer, byte[]> ns = plain.computeIfAbsent(namespace, x -> new HashMap<>());
    for (KvEntry e : entries) {
      ns.put(k(e.key()), e.value().clone());
    }
  }

  @Override
  public synchronized void deleteAll(String namespace, List<byte[]> keys) {
    Map<ByteBuffer, byte[]> ns = plain.get(namespace);
    Map<ByteBuffer, Map<String, byte[]>> rs = records.get(namespace);
    for (byte[] key : keys) {
      if (ns != null) {
        ns.remove(ByteBuffer.wrap(key));
      }
      if (rs != null) {
        rs.remove(ByteBuffer.wrap(key));
      }
    }
  }

  @Override
  public synchronized void dropNamespace(String namespace) {
    plain.remove(namespace);
    records.remove(namespace);
  }

  @Override
  public synchronized List<Map<String, byte[]>> multiGetRecords(
      String namespace, List<byte[]> keys) {
    multiGetRecordsCalls.incrementAndGet();
    lastMultiGetKeys = List.copyOf(keys);
    Map<ByteBuffer, Map<String, byte[]>> ns = records.getOrDefault(namespace, Map.of());
    List<Map<String, byte[]>> out = new ArrayList<>(keys.size());
    for (byte[] key : keys) {
      Map<String, byte[]> r = ns.get(ByteBuffer.wrap(key));
      Map<String, byte[]> copy = new LinkedHashMap<>();
      if (r != null) {
        r.forEach((f, v) -> copy.put(f, v.clone()));
      }
      out.add(copy);
    }
    return out;
  }

  @Override
  public synchronized int mergeRecords(String namespace, List<FieldWrite> writes) {
    mergeRecordsCalls.incrementAndGet();
    Map<ByteBuffer, Map<String, byte[]>> ns =
        records.computeIfAbsent(namespace, x -> new HashMap<>());
    int applied = 0;
    for (FieldWrite w : writes) {
      Map<String, byte[]> r = ns.computeIfAbsent(k(w.key()), x -> new TreeMap<>());
      byte[] old = r.get(w.field());
      if (old == null || Stamps.compare(w.value(), old) >= 0) {
        r.put(w.field(), w.value().clone());
        applied++;
      }
    }
    return applied;
  }

  /** The stored field value (stamp included), or null. */
  public synchronized byte[] field(String namespace, byte[] key, String field) {
    Map<String, byte[]> r = records.getOrDefault(namespace, Map.of()).get(ByteBuffer.wrap(key));
    byte[] v = r == null ? null : r.get(field);
    return v == null ? null : v.clone();
  }

  /** A deep copy of a namespace's records, keys and values as lists of bytes for comparison. */
  public synchronized Map<List<Byte>, Map<String, List<Byte>>> dump(String namespace) {
    Map<List<Byte>, Map<String, List<Byte>>> out = new HashMap<>();
    records
        .getOrDefault(namespace, Map.of())
        .forEach(
            (key, fields) -> {
              Map<String, List<Byte>> fs = new TreeMap<>();
              fields.forEach((f, v) -> fs.put(f, bytes(v)));
              out.put(bytes(key.array()), fs);
            });
    return out;
  }

  private static List<Byte> bytes(byte[] b) {
    List<Byte> l = new ArrayList<>(b.length);
    for (byte x : b) {
      l.add(x);
    }
    return l;
  }

  @Override
  public synchronized void publish(String name, String snapshotId, int keep) {
    List<String> list = snapshots.computeIfAbsent(name, x -> new ArrayList<>());
    list.remove(snapshotId);
    list.add(0, snapshotId);
    while (list.size() > Math.max(1, keep)) {
      String dropped = list.remove(list.size() - 1);
      dropNamespace(KvStore.snapshotNamespace(name, dropped));
    }
  }

  @Override
  public synchronized Optional<String> currentSnapshot(String name) {
    List<String> list = snapshots.getOrDefault(name, List.of());
    return list.isEmpty() ? Optional.empty() : Optional.of(list.get(0));
  }

  @Override
  public synchronized List<String> snapshots(String name) {
    return List.copyOf(snapshots.getOrDefault(name, List.of()));
  }

  @Override
  public synchronized String rollback(String name) {
    List<String> list = snapshots.getOrDefault(name, new ArrayList<>());
    if (list.size() < 2) {
      throw new NoSuchElementException("no previous snapshot of " + name);
    }
    String current = list.remove(0);
    dropNamespace(KvStore.snapshotNamespace(name, current));
    return list.get(0);
  }

  @Override
  public synchronized void dropSnapshot(String name, String snapshotId) {
    dropNamespace(KvStore.snapshotNamespace(name, snapshotId));
    List<String> list = snapshots.get(name);
    if (list != null) {
      list.remove(snapshotId);
    }
  }

  @Override
  public void close() {}
}
