package dev.scoreline.core.kv;

import static java.util.Objects.requireNonNull;

import java.util.ArrayList;
import java.util.List;

/**
 * A bulk write of many new entries into one namespace, committed as a whole: how a batch job writes
 * one partition of a snapshot ({@link KvStore#bulkLoad}). For one thread.
 *
 * <p>Entries may be {@link #put} in any key order; for a key put twice the last entry wins. After
 * {@link #commit} returns, every entry is readable in the namespace and as durable as the store's
 * other writes are when they return (for the embedded RocksDB store: on disk, synced), so a caller
 * may record the load as done after it. Before the commit, entries may or may not be readable
 * already (the default implementation writes them in {@link KvStore#putAll} batches as they come;
 * RocksDB makes none readable before the commit): bulk-load only into a namespace no reader uses
 * yet, such as an unpublished snapshot's. {@link #close} without a commit discards what the store
 * still holds back; entries already written stay until the caller drops the namespace.
 */
public interface BulkLoad extends AutoCloseable {
  /** Adds one entry; the arrays must not be modified afterwards. */
  void put(byte[] key, byte[] value);

  /** Entries put so far. */
  long entries();

  /** Writes every entry put and returns when they are readable and durable. Call at most once. */
  void commit();

  /** Releases the load; without a {@link #commit}, discards what was not written yet. */
  @Override
  void close();

  /**
   * The default bulk load: entries go to {@link KvStore#putAll} in batches of {@code writeBatch} as
   * they are put; the commit writes the last batch.
   */
  final class Batched implements BulkLoad {
    private final KvStore store;
    private final String namespace;
    private final int writeBatch;
    private final List<KvEntry> buffer;
    private long entries;
    private boolean committed;

    public Batched(KvStore store, String namespace, int writeBatch) {
      this.store = requireNonNull(store, "store is null");
      this.namespace = requireNonNull(namespace, "namespace is null");
      if (writeBatch < 1) {
        throw new IllegalArgumentException("writeBatch must be at least 1, got " + writeBatch);
      }
      this.writeBatch = writeBatch;
      this.buffer = new ArrayList<>(Math.min(writeBatch, 4096));
    }

    @Override
    public void put(byte[] key, byte[] value) {
      if (committed) {
        throw new IllegalStateException("bulk load already committed");
      }
      buffer.add(new KvEntry(key, value));
      entries++;
      if (buffer.size() >= writeBatch) {
        flush();
      }
    }

    @Override
    public long entries() {
      return entries;
    }

    @Override
    public void commit() {
      if (committed) {
        throw new IllegalStateException("bulk load already committed");
      }
      flush();
      committed = true;
    }

    private void flush() {
      if (!buffer.isEmpty()) {
        store.putAll(namespace, buffer);
        buffer.clear();
      }
    }

    @Override
    public void close() {
      buffer.clear();
    }
  }
}
