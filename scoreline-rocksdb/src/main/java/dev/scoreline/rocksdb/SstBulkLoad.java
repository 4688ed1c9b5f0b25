package dev.scoreline.rocksdb;

import dev.scoreline.core.error.ErrorCode;
import dev.scoreline.core.error.ScorelineException;
import dev.scoreline.core.kv.BulkLoad;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.rocksdb.EnvOptions;
import org.rocksdb.IngestExternalFileOptions;
import org.rocksdb.Options;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.SstFileWriter;

/**
 * {@link RocksDbKvStore}'s bulk load: entries are buffered, sorted by physical key and written to
 * SST files with RocksDB's {@link SstFileWriter} (the store's table format: block-based, LZ4, Bloom
 * filters), which the commit ingests into the database ({@code IngestExternalFile}, files moved by
 * hard link). The data never passes through the write-ahead log, the memtables or a flush; a file
 * whose key range overlaps nothing in the database lands in the bottommost level, so it is never
 * compacted either.
 *
 * <p>Durability: {@link SstFileWriter#finish} syncs the file, and the ingestion syncs the linked
 * file, the directory and the MANIFEST before it returns, so a committed load survives a machine
 * crash. A load of at most {@code chunkBytes} of keys and values is one file, readable only after
 * the commit; a larger one is ingested a file every {@code chunkBytes} as it is put (each file
 * sorted on its own, a later file winning for a key put twice), so memory stays bounded. A load
 * closed without a commit deletes the file it had not ingested.
 */
final class SstBulkLoad implements BulkLoad {
  private static final AtomicLong FILES = new AtomicLong();

  private final RocksDbKvStore store;
  private final RocksDB db;
  private final Options options;
  private final EnvOptions envOptions;
  private final Path tempDir;
  private final byte[] prefix;
  private final long chunkBytes;
  private byte[][] keys = new byte[1024][];
  private byte[][] values = new byte[1024][];
  private int size;
  private long bufferedBytes;
  private boolean sorted = true;
  private long entries;
  private boolean committed;
  private boolean closed;

  SstBulkLoad(
      RocksDbKvStore store,
      RocksDB db,
      Options options,
      EnvOptions envOptions,
      Path tempDir,
      byte[] prefix,
      long chunkBytes) {
    this.store = store;
    this.db = db;
    this.options = options;
    this.envOptions = envOptions;
    this.tempDir = tempDir;
    this.prefix = prefix;
    this.chunkBytes = chunkBytes;
  }

  @Override
  public void put(byte[] key, byte[] value) {
    if (committed || closed) {
      throw new IllegalStateException("bulk load already " + (committed ? "committed" : "closed"));
    }
    byte[] k = Keys.key(prefix, java.util.Objects.requireNonNull(key, "key is null"));
    java.util.Objects.requireNonNull(value, "value is null");
    if (size == keys.length) {
      keys = Arrays.copyOf(keys, size * 2);
      values = Arrays.copyOf(values, size * 2);
    }
    if (sorted && size > 0 && Arrays.compareUnsigned(keys[size - 1], k) >= 0) {
      sorted = false;
    }
    keys[size] = k;
    values[size] = value;
    size++;
    entries++;
    bufferedBytes += k.length + value.length;
    if (bufferedBytes >= chunkBytes) {
      ingest();
    }
  }

  @Override
  public long entries() {
    return entries;
  }

  @Override
  public void commit() {
    if (committed || closed) {
      throw new IllegalStateException("bulk load already " + (committed ? "committed" : "closed"));
    }
    ingest();
    committed = true;
  }

  /**
   * Sorts the buffered entries (the last one put wins for a key put twice), writes them as one SST
   * file and ingests it; empties the buffer.
   */
  private void ingest() {
    if (size == 0) {
      return;
    }
    store.checkOpen(); // native handles must not be used after the store closed them
    int[] order = sortedOrder();
    Path file = tempDir.resolve("load-" + FILES.incrementAndGet() + ".sst");
    try {
      try (SstFileWriter writer = new SstFileWriter(envOptions, options)) {
        writer.open(file.toString());
        for (int i : order) {
          writer.put(keys[i], values[i]);
        }
        writer.finish();
      } catch (RocksDBException e) {
        throw failure("writing the SST file " + file, e);
      }
      Arrays.fill(keys, 0, size, null);
      Arrays.fill(values, 0, size, null);
      size = 0;
      bufferedBytes = 0;
      sorted = true;
      try (IngestExternalFileOptions ingest = new IngestExternalFileOptions().setMoveFiles(true)) {
        db.ingestExternalFile(List.of(file.toString()), ingest);
      } catch (RocksDBException e) {
        throw failure("ingesting the SST file " + file, e);
      }
    } finally {
      deleteQuietly(file); // moved by the ingestion, or a failed write's remains
    }
  }

  /** Buffer indices in ascending key order, one per distinct key (the last one put). */
  private int[] sortedOrder() {
    if (sorted) {
      int[] order = new int[size];
      for (int i = 0; i < size; i++) {
        order[i] = i;
      }
      return order;
    }
    Integer[] idx = new Integer[size];
    for (int i = 0; i < size; i++) {
      idx[i] = i;
    }
    // stable: entries of one key keep their put order, so the last of each run is the newest
    Arrays.sort(idx, (a, b) -> Arrays.compareUnsigned(keys[a], keys[b]));
    int[] order = new int[size];
    int n = 0;
    for (int i = 0; i < size; i++) {
      if (i + 1 < size && Arrays.equals(keys[idx[i]], keys[idx[i + 1]])) {
        continue; // a later entry of the same key follows
      }
      order[n++] = idx[i];
    }
    return Arrays.copyOf(order, n);
  }

  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    Arrays.fill(keys, 0, size, null);
    Arrays.fill(values, 0, size, null);
    size = 0;
  }

  private static void deleteQuietly(Path file) {
    try {
      Files.deleteIfExists(file);
    } catch (IOException e) {
      // a leftover in the temporary folder: removed when the store is opened next
    }
  }

  private ScorelineException failure(String what, RocksDBException e) {
    return new ScorelineException(
        ErrorCode.INTERNAL, "RocksDB bulk load: " + what + " failed: " + e.getMessage(), e);
  }
}
