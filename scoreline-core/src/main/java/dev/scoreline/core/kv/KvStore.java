package dev.scoreline.core.kv;

import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The key-value store under the online feature store and batch results. Keys and values are bytes;
 * a namespace separates tables (a feature entity, a batch surface's snapshot). Implementations:
 * embedded RocksDB (the default) and Redis (several servers sharing state); both pass {@code
 * KvStoreContract} in scoreline-testing. Implementations are thread-safe and every batched call is
 * one round trip (one pipeline for Redis).
 *
 * <p><b>Records.</b> A record is one key holding named fields (one per feature view of an entity),
 * read whole in one call. {@link #mergeRecords} is event-time last-write-wins per field: every
 * field value starts with a {@value #STAMP_BYTES}-byte stamp, and a write is applied only when its
 * stamp compares (unsigned, byte-wise) greater than or equal to the stored field's stamp. Equal
 * stamps are applied, so a later correction with the same event and created time replaces the value
 * (arrival order breaks the tie); an older stamp never overwrites a newer one. The check and the
 * write are atomic per key.
 *
 * <p><b>Snapshots.</b> A batch job writes a snapshot's data into {@link #snapshotNamespace(String,
 * String)} with {@link #putAll}, then {@link #publish}es it: readers resolve {@link
 * #currentSnapshot} first and read only that namespace, so they see the old snapshot or the new
 * one, never a mix. A batch job may write the snapshot's data with {@link #bulkLoad} instead: a
 * store can load many entries into a namespace no reader uses yet more cheaply than by puts. The
 * previous {@code keep - 1} published snapshots are kept for {@link #rollback}.
 */
public interface KvStore extends AutoCloseable {
  /** Length of the ordering stamp that prefixes every record field value. */
  int STAMP_BYTES = 16;

  /** {@code rocksdb}, {@code redis}, ... */
  String kind();

  /** Values of {@code keys} in order; null where a key is absent. */
  List<byte[]> multiGet(String namespace, List<byte[]> keys);

  /** Writes entries; for a key given twice the last entry wins. */
  void putAll(String namespace, List<KvEntry> entries);

  /**
   * Starts a bulk load of new entries into {@code namespace}, committed as a whole (see {@link
   * BulkLoad}): how a batch job writes a partition of an unpublished snapshot. The default writes
   * through {@link #putAll} in batches of {@code writeBatch} entries; a store with a cheaper way to
   * load sorted data (RocksDB: an SST file ingested into the database, no write-ahead log, no
   * memtable) overrides it.
   *
   * @param writeBatch entries per {@link #putAll} call where the load writes through puts
   */
  default BulkLoad bulkLoad(String namespace, int writeBatch) {
    return new BulkLoad.Batched(this, namespace, writeBatch);
  }

  /** Deletes keys (absent keys are ignored). */
  void deleteAll(String namespace, List<byte[]> keys);

  /** Deletes every key of a namespace (records included). */
  void dropNamespace(String namespace);

  /**
   * The records of {@code keys} in order, each as field name to value (stamp included); an empty
   * map where the key is absent.
   */
  List<Map<String, byte[]>> multiGetRecords(String namespace, List<byte[]> keys);

  /** Receives the record fields that {@link #readRecordFields} finds. */
  @FunctionalInterface
  interface FieldReader {
    /**
     * The value of field {@code field} (an index into the names asked for) in the record of key
     * {@code key} (an index into the keys): bytes {@code [offset, offset + length)} of {@code
     * bytes}, stamp included. The bytes may be the store's own buffer (the whole record): read them
     * during the call only, never modify them.
     */
    void field(int key, int field, byte[] bytes, int offset, int length);
  }

  /**
   * Reads the fields {@code fields} of the records of {@code keys}, as {@link #multiGetRecords}
   * would give them, without handing out copies: calls {@code reader} once per field present, key
   * by key in key order, and for one key in the order of {@code fields}; absent keys and fields are
   * not passed. The read path of the online feature store. A store may pass each value in place
   * inside the record it read (RocksDB does); the default passes {@link #multiGetRecords}'s arrays.
   * An exception thrown by {@code reader} ends the call and is thrown as it is.
   */
  default void readRecordFields(
      String namespace, List<byte[]> keys, List<String> fields, FieldReader reader) {
    List<Map<String, byte[]>> records = multiGetRecords(namespace, keys);
    checkRecordCount(this, namespace, keys, records);
    for (int k = 0, n = records.size(); k < n; k++) {
      Map<String, byte[]> record = records.get(k);
      if (record == null || record.isEmpty()) {
        continue;
      }
      for (int f = 0, m = fields.size(); f < m; f++) {
        byte[] value = record.get(fields.get(f));
        if (value != null) {
          reader.field(k, f, value, 0, value.length);
        }
      }
    }
  }

  /**
   * Fails INTERNAL unless {@code records} holds one record per key (a broken store).
   *
   * @throws dev.scoreline.core.error.ScorelineException INTERNAL
   */
  static void checkRecordCount(
      KvStore store, String namespace, List<byte[]> keys, List<?> records) {
    if (records == null || records.size() != keys.size()) {
      throw new dev.scoreline.core.error.ScorelineException(
          dev.scoreline.core.error.ErrorCode.INTERNAL,
          store.kind()
              + " store returned "
              + (records == null ? "null" : records.size() + " records")
              + " for "
              + keys.size()
              + " keys of "
              + namespace);
    }
  }

  /**
   * Writes record fields, last-write-wins by stamp (see the class comment).
   *
   * @return how many writes were applied (the rest were older than what is stored)
   */
  int mergeRecords(String namespace, List<FieldWrite> writes);

  /**
   * Makes {@code snapshotId} the current snapshot of {@code name}, atomically; keeps {@code keep}.
   */
  void publish(String name, String snapshotId, int keep);

  /** The current snapshot of {@code name}, if one was published. */
  Optional<String> currentSnapshot(String name);

  /** Published snapshots still kept, newest first (the first is current). */
  List<String> snapshots(String name);

  /**
   * Makes the previous published snapshot current and drops the current one.
   *
   * @return the snapshot now current
   */
  String rollback(String name);

  /** Drops a snapshot's data (a failed or abandoned job's, or one beyond {@code keep}). */
  void dropSnapshot(String name, String snapshotId);

  /** The namespace holding one snapshot's data. */
  static String snapshotNamespace(String name, String snapshotId) {
    if (name.indexOf('@') >= 0 || snapshotId.indexOf('@') >= 0) {
      throw dev.scoreline.core.error.ScorelineException.userError(
          "snapshot", "snapshot names and ids must not contain '@': " + name + ", " + snapshotId);
    }
    return name + "@" + snapshotId;
  }

  @Override
  void close();
}
