package dev.scoreline.testing;

import dev.scoreline.core.kv.FieldWrite;
import dev.scoreline.core.kv.KvEntry;
import dev.scoreline.core.kv.KvStore;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A store that forwards every call to a real one, except the methods with a default in {@link
 * KvStore} ({@link #bulkLoad}: batched {@link #putAll} calls, the path of stores without a bulk
 * load such as Redis; {@link #readRecordFields}: decoded {@link #multiGetRecords}), which it leaves
 * to those defaults unless a subclass overrides them. For tests of a caller against the SPI's
 * default paths over a real store. Closing it does not close the real store.
 */
public class ForwardingKvStore implements KvStore {
  protected final KvStore delegate;

  public ForwardingKvStore(KvStore delegate) {
    this.delegate = delegate;
  }

  @Override
  public String kind() {
    return delegate.kind();
  }

  @Override
  public List<byte[]> multiGet(String namespace, List<byte[]> keys) {
    return delegate.multiGet(namespace, keys);
  }

  @Override
  public void putAll(String namespace, List<KvEntry> entries) {
    delegate.putAll(namespace, entries);
  }

  @Override
  public void deleteAll(String namespace, List<byte[]> keys) {
    delegate.deleteAll(namespace, keys);
  }

  @Override
  public void dropNamespace(String namespace) {
    delegate.dropNamespace(namespace);
  }

  @Override
  public List<Map<String, byte[]>> multiGetRecords(String namespace, List<byte[]> keys) {
    return delegate.multiGetRecords(namespace, keys);
  }

  @Override
  public int mergeRecords(String namespace, List<FieldWrite> writes) {
    return delegate.mergeRecords(namespace, writes);
  }

  @Override
  public void publish(String name, String snapshotId, int keep) {
    delegate.publish(name, snapshotId, keep);
  }

  @Override
  public Optional<String> currentSnapshot(String name) {
    return delegate.currentSnapshot(name);
  }

  @Override
  public List<String> snapshots(String name) {
    return delegate.snapshots(name);
  }

  @Override
  public String rollback(String name) {
    return delegate.rollback(name);
  }

  @Override
  public void dropSnapshot(String name, String snapshotId) {
    delegate.dropSnapshot(name, snapshotId);
  }

  @Override
  public void close() {}
}
