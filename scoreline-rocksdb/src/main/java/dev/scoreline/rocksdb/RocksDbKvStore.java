package dev.scoreline.rocksdb;

import static java.util.Objects.requireNonNull;

import dev.scoreline.core.error.ErrorCode;
import dev.scoreline.core.error.ScorelineException;
import dev.scoreline.core.kv.BulkLoad;
import dev.scoreline.core.kv.FieldWrite;
import dev.scoreline.core.kv.KeyHash;
import dev.scoreline.core.kv.KvEntry;
import dev.scoreline.core.kv.KvStore;
import dev.scoreline.core.kv.Stamps;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;
import java.util.stream.Stream;
import org.rocksdb.BlockBasedTableConfig;
import org.rocksdb.BloomFilter;
import org.rocksdb.CompressionType;
import org.rocksdb.DataBlockIndexType;
import org.rocksdb.EnvOptions;
import org.rocksdb.InfoLogLevel;
import org.rocksdb.LRUCache;
import org.rocksdb.Options;
import org.rocksdb.ReadOptions;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.WriteBatch;
import org.rocksdb.WriteOptions;

/**
 * The embedded {@link KvStore}: one RocksDB database in a directory, owned by this process.
 *
 * <p><b>Layout</b> (one column family; see {@link Keys} and {@link Codec}):
 *
 * <ul>
 *   <li>a value or record of namespace {@code ns} and key {@code k} lives at {@code UTF-8(ns) 0x00
 *       k}, so a namespace is one contiguous key range, dropped with one {@code deleteRange};
 *       namespaces must be non-empty and must not contain U+0000 ({@link ErrorCode#USER_ERROR});
 *   <li>a record is one value: {@code [0x01] varint(n) {varint(len) name varint(len) value}*}, each
 *       field value starting with its 16-byte stamp;
 *   <li>metadata lives under {@code 0xff "meta" 0x00}, a prefix no UTF-8 namespace can produce:
 *       {@code ... "layout"} holds the layout version (1), {@code ... "snapshots" 0x00 name} the
 *       published snapshot ids of {@code name}, newest (current) first, as {@code [0x01] varint(n)
 *       {varint(len) id}*}.
 * </ul>
 *
 * <p><b>Atomicity.</b> {@link #mergeRecords} reads, merges and writes under striped locks (one
 * process owns the database, so this is atomic per key): one {@code multiGet} and one {@code
 * WriteBatch} per call. {@link #publish}, {@link #rollback} and {@link #dropSnapshot} run under one
 * lock and write the pointer and the range deletions of dropped snapshots in one synced {@code
 * WriteBatch}, so a crash never leaves a half-flipped pointer.
 *
 * <p>Thread-safe. Close it after its users stopped: a call after {@link #close} fails with {@link
 * ErrorCode#UNAVAILABLE}.
 */
public final class RocksDbKvStore implements KvStore {
  private static final org.slf4j.Logger log =
      org.slf4j.LoggerFactory.getLogger(RocksDbKvStore.class);
  private static final int LOCK_STRIPES = 1024;
  private static final byte LAYOUT_VERSION = 1;

  /** Keys and values buffered per SST file of a bulk load; larger loads ingest several files. */
  static final long BULK_LOAD_FILE_BYTES = 64L << 20;

  private static final String BULK_LOAD_DIR = "bulk-load";

  static {
    RocksDB.loadLibrary();
  }

  private final Path dir;
  private final RocksDB db;
  private final Options options;
  private final LRUCache blockCache;
  private final BloomFilter bloomFilter;
  private final ReadOptions readOptions;
  private final WriteOptions writeOptions;
  private final WriteOptions syncWriteOptions;
  private final EnvOptions envOptions;
  private final ReentrantLock[] stripes = new ReentrantLock[LOCK_STRIPES];
  private final ReentrantLock snapshotLock = new ReentrantLock();

  /** Published snapshot lists by name; written through under {@link #snapshotLock}. */
  private final ConcurrentHashMap<String, List<String>> snapshotLists = new ConcurrentHashMap<>();

  private volatile boolean closed;

  private RocksDbKvStore(
      Path dir,
      RocksDB db,
      Options options,
      LRUCache blockCache,
      BloomFilter bloomFilter,
      ReadOptions readOptions,
      WriteOptions writeOptions,
      WriteOptions syncWriteOptions,
      EnvOptions envOptions) {
    this.dir = dir;
    this.db = db;
    this.options = options;
    this.blockCache = blockCache;
    this.bloomFilter = bloomFilter;
    this.readOptions = readOptions;
    this.writeOptions = writeOptions;
    this.syncWriteOptions = syncWriteOptions;
    this.envOptions = envOptions;
    for (int i = 0; i < LOCK_STRIPES; i++) {
      stripes[i] = new ReentrantLock();
    }
  }

  /** Opens (creating if needed) the store in {@code dir} with {@link RocksDbConfig#defaults()}. */
  public static RocksDbKvStore open(Path dir) {
    return open(dir, RocksDbConfig.defaults());
  }

  /** Opens (creating if needed) the store in {@code dir}. */
  public static RocksDbKvStore open(Path dir, RocksDbConfig config) {
    requireNonNull(dir, "dir is null");
    requireNonNull(config, "config is null");
    List<AutoCloseable> created = new ArrayList<>();
    try {
      Files.createDirectories(dir);
      // half the cache is a high-priority pool for index and filter blocks
      LRUCache blockCache = add(created, new LRUCache(config.blockCacheBytes(), -1, false, 0.5));
      BloomFilter bloom =
          config.bloomBitsPerKey() > 0
              ? add(created, new BloomFilter(config.bloomBitsPerKey()))
              : null;
      BlockBasedTableConfig table =
          new BlockBasedTableConfig()
              .setBlockCache(blockCache)
              // index and filter blocks count against the cache; L0's stay pinned (hot, new data)
              .setCacheIndexAndFilterBlocks(true)
              .setCacheIndexAndFilterBlocksWithHighPriority(true)
              .setPinL0FilterAndIndexBlocksInCache(true)
              // a hash index inside each data block: point lookups skip the binary search
              .setDataBlockIndexType(DataBlockIndexType.kDataBlockBinaryAndHash)
              .setDataBlockHashTableUtilRatio(0.75);
      if (bloom != null) {
        table.setFilterPolicy(bloom).setWholeKeyFiltering(true);
      }
      Options options =
          add(created, new Options())
              .setCreateIfMissing(true)
              .setTableFormatConfig(table)
              .setCompressionType(CompressionType.LZ4_COMPRESSION)
              .setBottommostCompressionType(CompressionType.LZ4_COMPRESSION)
              // misses are common (cold entities, absent keys): keep filters on every level
              .setOptimizeFiltersForHits(false)
              .setLevelCompactionDynamicLevelBytes(true)
              .setWriteBufferSize(config.writeBufferBytes())
              .setMaxWriteBufferNumber(4)
              .setMemtablePrefixBloomSizeRatio(0.05)
              .setMemtableWholeKeyFiltering(true)
              .setMaxBackgroundJobs(config.maxBackgroundJobs())
              .setBytesPerSync(1L << 20)
              .setEnablePipelinedWrite(true)
              .setInfoLogLevel(InfoLogLevel.WARN_LEVEL)
              .setKeepLogFileNum(5)
              .setMaxLogFileSize(16L << 20);
      ReadOptions readOptions = add(created, new ReadOptions());
      WriteOptions writeOptions =
          add(created, new WriteOptions().setDisableWAL(false).setSync(config.syncWrites()));
      WriteOptions syncWriteOptions =
          add(created, new WriteOptions().setDisableWAL(false).setSync(true));
      EnvOptions envOptions = add(created, new EnvOptions());
      RocksDB db;
      try {
        db = add(created, RocksDB.open(options, dir.toString()));
      } catch (RocksDBException e) {
        throw new ScorelineException(
            ErrorCode.UNAVAILABLE,
            "cannot open the RocksDB store in "
                + dir
                + ": "
                + e.getMessage()
                + " (is another process or store using this directory?)",
            e);
      }
      RocksDbKvStore store =
          new RocksDbKvStore(
              dir,
              db,
              options,
              blockCache,
              bloom,
              readOptions,
              writeOptions,
              syncWriteOptions,
              envOptions);
      store.checkLayout();
      resetBulkLoadDir(dir);
      return store;
    } catch (java.io.IOException e) {
      closeAll(created);
      throw new ScorelineException(
          ErrorCode.UNAVAILABLE, "cannot create the RocksDB store directory " + dir, e);
    } catch (RuntimeException | Error e) {
      closeAll(created);
      throw e;
    }
  }

  /** Creates an empty {@code <dir>/bulk-load}: files there belong to loads that never committed. */
  private static void resetBulkLoadDir(Path dir) throws java.io.IOException {
    Path bulk = dir.resolve(BULK_LOAD_DIR);
    if (Files.isDirectory(bulk)) {
      try (Stream<Path> files = Files.list(bulk)) {
        for (Path f : files.toList()) {
          Files.deleteIfExists(f);
        }
      }
    }
    Files.createDirectories(bulk);
  }

  private void checkLayout() {
    try {
      byte[] layout = db.get(readOptions, Keys.LAYOUT_KEY);
      if (layout == null) {
        db.put(syncWriteOptions, Keys.LAYOUT_KEY, new byte[] {LAYOUT_VERSION});
      } else if (layout.length != 1 || layout[0] != LAYOUT_VERSION) {
        throw new ScorelineException(
            ErrorCode.UNSUPPORTED,
            "the RocksDB store in "
                + dir
                + " has layout version "
                + (layout.length == 1 ? layout[0] : "?")
                + ", this build reads version "
                + LAYOUT_VERSION
                + "; use a matching Scoreline version");
      }
    } catch (RocksDBException e) {
      throw failure("reading the layout version", e);
    }
  }

  @Override
  public String kind() {
    return "rocksdb";
  }

  /** The directory of the database. */
  public Path directory() {
    return dir;
  }

  // ------------------------------------------------------------------ plain values

  @Override
  public List<byte[]> multiGet(String namespace, List<byte[]> keys) {
    requireNonNull(keys, "keys is null");
    byte[] prefix = Keys.prefix(namespace);
    checkOpen();
    if (keys.isEmpty()) {
      return List.of();
    }
    try {
      return db.multiGetAsList(readOptions, physicalKeys(prefix, keys));
    } catch (RocksDBException e) {
      throw failure("multiGet", e);
    }
  }

  @Override
  public void putAll(String namespace, List<KvEntry> entries) {
    requireNonNull(entries, "entries is null");
    byte[] prefix = Keys.prefix(namespace);
    checkOpen();
    if (entries.isEmpty()) {
      return;
    }
    try (WriteBatch batch = new WriteBatch()) {
      for (int i = 0, n = entries.size(); i < n; i++) {
        KvEntry e = entries.get(i);
        batch.put(Keys.key(prefix, e.key()), e.value());
      }
      db.write(writeOptions, batch);
    } catch (RocksDBException e) {
      throw failure("putAll", e);
    }
  }

  /**
   * A bulk load through an SST file ingested at commit ({@link SstBulkLoad}): no write-ahead log,
   * no memtable, no compaction of the loaded data when its key range is new. {@code writeBatch} is
   * not used.
   */
  @Override
  public BulkLoad bulkLoad(String namespace, int writeBatch) {
    return bulkLoad(namespace, BULK_LOAD_FILE_BYTES);
  }

  /** {@link #bulkLoad(String, int)} with {@code fileBytes} of keys and values per SST file. */
  BulkLoad bulkLoad(String namespace, long fileBytes) {
    byte[] prefix = Keys.prefix(namespace);
    checkOpen();
    return new SstBulkLoad(
        this, db, options, envOptions, dir.resolve(BULK_LOAD_DIR), prefix, fileBytes);
  }

  @Override
  public void deleteAll(String namespace, List<byte[]> keys) {
    requireNonNull(keys, "keys is null");
    byte[] prefix = Keys.prefix(namespace);
    checkOpen();
    if (keys.isEmpty()) {
      return;
    }
    try (WriteBatch batch = new WriteBatch()) {
      for (int i = 0, n = keys.size(); i < n; i++) {
        batch.delete(Keys.key(prefix, requireNonNull(keys.get(i), "key is null")));
      }
      db.write(writeOptions, batch);
    } catch (RocksDBException e) {
      throw failure("deleteAll", e);
    }
  }

  @Override
  public void dropNamespace(String namespace) {
    byte[] prefix = Keys.prefix(namespace);
    checkOpen();
    try {
      db.deleteRange(writeOptions, prefix, Keys.rangeEnd(prefix));
    } catch (RocksDBException e) {
      throw failure("dropNamespace", e);
    }
  }

  // ------------------------------------------------------------------ records

  @Override
  public List<Map<String, byte[]>> multiGetRecords(String namespace, List<byte[]> keys) {
    List<byte[]> values = multiGet(namespace, keys);
    List<Map<String, byte[]>> records = new ArrayList<>(values.size());
    for (int i = 0, n = values.size(); i < n; i++) {
      records.add(Codec.readRecord(values.get(i)));
    }
    return records;
  }

  /**
   * One {@code multiGet}, then each wanted field's value is passed in place inside the record
   * RocksDB returned: no copy of it and no record map. A record that is not well formed, or a field
   * name that is not ASCII, takes the decoding path of {@link #multiGetRecords} (the same values,
   * the same errors).
   */
  @Override
  public void readRecordFields(
      String namespace, List<byte[]> keys, List<String> fields, FieldReader reader) {
    requireNonNull(fields, "fields is null");
    requireNonNull(reader, "reader is null");
    List<byte[]> values = multiGet(namespace, keys);
    int nFields = fields.size();
    byte[][] names = new byte[nFields][];
    for (int f = 0; f < nFields; f++) {
      names[f] = asciiName(fields.get(f));
      if (names[f] == null) {
        names = null;
        break;
      }
    }
    int n = values.size();
    // every record is located before the first value is passed: a malformed record fails the call
    // before any value is read, as in multiGetRecords
    long[] found = new long[Math.max(1, n * nFields)];
    Map<Integer, Map<String, byte[]>> decoded = null;
    long[] one = new long[nFields];
    for (int k = 0; k < n; k++) {
      byte[] data = values.get(k);
      if (data == null) {
        Arrays.fill(found, k * nFields, (k + 1) * nFields, -1L);
        continue;
      }
      if (names != null && Codec.locateFields(data, names, one)) {
        System.arraycopy(one, 0, found, k * nFields, nFields);
        continue;
      }
      if (decoded == null) {
        decoded = new java.util.HashMap<>();
      }
      decoded.put(k, Codec.readRecord(data));
    }
    for (int k = 0; k < n; k++) {
      Map<String, byte[]> record = decoded == null ? null : decoded.get(k);
      if (record != null) {
        for (int f = 0; f < nFields; f++) {
          byte[] value = record.get(fields.get(f));
          if (value != null) {
            reader.field(k, f, value, 0, value.length);
          }
        }
        continue;
      }
      byte[] data = values.get(k);
      for (int f = 0; f < nFields; f++) {
        long at = found[k * nFields + f];
        if (at >= 0) {
          reader.field(k, f, data, (int) (at >>> 32), (int) at);
        }
      }
    }
  }

  @Override
  public int mergeRecords(String namespace, List<FieldWrite> writes) {
    requireNonNull(writes, "writes is null");
    byte[] prefix = Keys.prefix(namespace);
    checkOpen();
    if (writes.isEmpty()) {
      return 0;
    }
    // group by key, keeping call order among the writes of one key
    LinkedHashMap<KeyBytes, List<FieldWrite>> byKey =
        new LinkedHashMap<>(writes.size() * 4 / 3 + 1);
    for (int i = 0, n = writes.size(); i < n; i++) {
      FieldWrite w = writes.get(i);
      byKey
          .computeIfAbsent(new KeyBytes(Keys.key(prefix, w.key())), k -> new ArrayList<>(2))
          .add(w);
    }
    List<byte[]> physicalKeys = new ArrayList<>(byKey.size());
    boolean[] locked = new boolean[LOCK_STRIPES];
    for (KeyBytes k : byKey.keySet()) {
      physicalKeys.add(k.bytes);
      locked[stripe(k.hash)] = true;
    }
    // ascending stripe order: no deadlock between calls that share stripes
    int held = 0;
    try {
      for (int s = 0; s < LOCK_STRIPES; s++) {
        if (locked[s]) {
          stripes[s].lock();
          held = s + 1;
        }
      }
      List<byte[]> stored = db.multiGetAsList(readOptions, physicalKeys);
      int applied = 0;
      try (WriteBatch batch = new WriteBatch()) {
        int i = 0;
        for (List<FieldWrite> keyWrites : byKey.values()) {
          byte[] physicalKey = physicalKeys.get(i);
          byte[] storedRecord = stored.get(i);
          i++;
          if (storedRecord == null && keyWrites.size() == 1) {
            // a new key with one write (a first load): nothing to merge with
            FieldWrite w = keyWrites.get(0);
            batch.put(physicalKey, Codec.encodeSingleFieldRecord(w.field(), w.value()));
            applied++;
            continue;
          }
          if (keyWrites.size() == 1 && storedRecord != null) {
            // one write onto a stored record that has the field (the steady state of feature and
            // result writes): compare and splice in place, the same bytes as the decoding path
            FieldWrite w = keyWrites.get(0);
            byte[] name = asciiName(w.field());
            long at = name == null ? -1 : Codec.locateField(storedRecord, name);
            if (at >= 0 && (int) at >= KvStore.STAMP_BYTES) {
              int start = (int) (at >>> 32);
              if (Arrays.compareUnsigned(
                      w.value(),
                      0,
                      KvStore.STAMP_BYTES,
                      storedRecord,
                      start,
                      start + KvStore.STAMP_BYTES)
                  >= 0) {
                batch.put(
                    physicalKey, Codec.replaceField(storedRecord, start, (int) at, w.value()));
                applied++;
              }
              continue;
            }
          }
          LinkedHashMap<String, byte[]> record = Codec.decodeRecord(storedRecord);
          int before = applied;
          for (int j = 0, n = keyWrites.size(); j < n; j++) {
            FieldWrite w = keyWrites.get(j);
            byte[] current = record.get(w.field());
            if (current == null || Stamps.compare(w.value(), current) >= 0) {
              record.put(w.field(), w.value());
              applied++;
            }
          }
          if (applied != before) {
            batch.put(physicalKey, Codec.encodeRecord(record));
          }
        }
        if (applied > 0) {
          db.write(writeOptions, batch);
        }
      }
      return applied;
    } catch (RocksDBException e) {
      throw failure("mergeRecords", e);
    } finally {
      for (int s = 0; s < held; s++) {
        if (locked[s]) {
          stripes[s].unlock();
        }
      }
    }
  }

  /** The UTF-8 bytes of an ASCII field name, or null when it has other characters. */
  private static byte[] asciiName(String field) {
    for (int i = 0, n = field.length(); i < n; i++) {
      if (field.charAt(i) >= 0x80) {
        return null;
      }
    }
    return field.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
  }

  private static int stripe(int hash) {
    return (hash ^ (hash >>> 16)) & (LOCK_STRIPES - 1);
  }

  // ------------------------------------------------------------------ snapshots

  @Override
  public void publish(String name, String snapshotId, int keep) {
    Keys.validate(name, "snapshot name");
    Keys.validate(snapshotId, "snapshot id");
    if (keep < 1) {
      throw ScorelineException.userError(
          "keep", "keep must be at least 1 (the published snapshot itself), got " + keep);
    }
    checkOpen();
    snapshotLock.lock();
    try {
      List<String> old = snapshotList(name);
      List<String> next = new ArrayList<>(Math.min(old.size() + 1, keep));
      next.add(snapshotId);
      List<String> dropped = new ArrayList<>();
      for (String id : old) {
        if (id.equals(snapshotId)) {
          continue;
        }
        if (next.size() < keep) {
          next.add(id);
        } else {
          dropped.add(id);
        }
      }
      writeSnapshotList(name, next, dropped);
    } finally {
      snapshotLock.unlock();
    }
  }

  @Override
  public Optional<String> currentSnapshot(String name) {
    List<String> list = snapshots(name);
    return list.isEmpty() ? Optional.empty() : Optional.of(list.get(0));
  }

  @Override
  public List<String> snapshots(String name) {
    Keys.validate(name, "snapshot name");
    checkOpen();
    return snapshotList(name);
  }

  @Override
  public String rollback(String name) {
    Keys.validate(name, "snapshot name");
    checkOpen();
    snapshotLock.lock();
    try {
      List<String> old = snapshotList(name);
      if (old.size() < 2) {
        throw ScorelineException.userError(
            "name",
            "cannot roll back '"
                + name
                + "': "
                + (old.isEmpty()
                    ? "nothing was published"
                    : "no previous snapshot is kept (publish with keep >= 2 to allow rollback)"));
      }
      writeSnapshotList(name, old.subList(1, old.size()), List.of(old.get(0)));
      return old.get(1);
    } finally {
      snapshotLock.unlock();
    }
  }

  @Override
  public void dropSnapshot(String name, String snapshotId) {
    Keys.validate(name, "snapshot name");
    Keys.validate(snapshotId, "snapshot id");
    checkOpen();
    snapshotLock.lock();
    try {
      List<String> old = snapshotList(name);
      if (!old.isEmpty() && old.get(0).equals(snapshotId)) {
        throw ScorelineException.userError(
            "snapshotId",
            "snapshot '"
                + snapshotId
                + "' is the current snapshot of '"
                + name
                + "'; roll back or publish another one before dropping it");
      }
      List<String> next = new ArrayList<>(old);
      next.remove(snapshotId);
      writeSnapshotList(name, next.size() == old.size() ? null : next, List.of(snapshotId));
    } finally {
      snapshotLock.unlock();
    }
  }

  /** The published list of {@code name}, from the write-through cache or the database. */
  private List<String> snapshotList(String name) {
    List<String> cached = snapshotLists.get(name);
    if (cached != null) {
      return cached;
    }
    return snapshotLists.computeIfAbsent(
        name,
        n -> {
          try {
            return Codec.decodeSnapshotList(db.get(readOptions, Keys.snapshotsKey(n)));
          } catch (RocksDBException e) {
            throw failure("reading the snapshots of '" + n + "'", e);
          }
        });
  }

  /**
   * Writes the new list (unless null) and drops the data of {@code dropped} in one synced batch,
   * then updates the cache. Caller holds {@link #snapshotLock}.
   */
  private void writeSnapshotList(String name, List<String> next, List<String> dropped) {
    try (WriteBatch batch = new WriteBatch()) {
      if (next != null) {
        batch.put(Keys.snapshotsKey(name), Codec.encodeSnapshotList(next));
      }
      for (String id : dropped) {
        byte[] prefix = Keys.prefix(KvStore.snapshotNamespace(name, id));
        batch.deleteRange(prefix, Keys.rangeEnd(prefix));
      }
      db.write(syncWriteOptions, batch);
    } catch (RocksDBException e) {
      // the batch may or may not be durable: forget the cache, re-read on next use
      snapshotLists.remove(name);
      throw failure("updating the snapshots of '" + name + "'", e);
    }
    if (next != null) {
      snapshotLists.put(name, List.copyOf(next));
    }
    deleteFilesOf(name, dropped);
  }

  /**
   * Deletes the SST files that lie wholly inside dropped snapshots' ranges (the files their bulk
   * loads ingested), which the range deletions already hide: their space comes back now rather than
   * at a compaction that may not come soon (ingested files sit in the bottommost level). Files that
   * also hold other keys stay until compaction. A failure here loses no data and is only logged.
   */
  private void deleteFilesOf(String name, List<String> dropped) {
    if (dropped.isEmpty()) {
      return;
    }
    List<byte[]> ranges = new ArrayList<>(dropped.size() * 2);
    for (String id : dropped) {
      byte[] prefix = Keys.prefix(KvStore.snapshotNamespace(name, id));
      ranges.add(prefix);
      ranges.add(Keys.rangeEnd(prefix));
    }
    try {
      db.deleteFilesInRanges(db.getDefaultColumnFamily(), ranges, false);
    } catch (RocksDBException e) {
      log.warn(
          "RocksDB in {}: deleting the files of dropped snapshots {} of '{}' failed ({}); a"
              + " compaction reclaims their space",
          dir,
          dropped,
          name,
          e.getMessage());
    }
  }

  // ------------------------------------------------------------------ lifecycle

  /** Closes the database and every native handle. Idempotent. */
  @Override
  public void close() {
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
    }
    // the database first, then what it was opened with
    closeAll(
        new ArrayList<>(
            Arrays.asList(
                bloomFilter,
                blockCache,
                envOptions,
                syncWriteOptions,
                writeOptions,
                readOptions,
                options,
                db)));
  }

  void checkOpen() {
    if (closed) {
      throw new ScorelineException(
          ErrorCode.UNAVAILABLE, "the RocksDB store in " + dir + " is closed");
    }
  }

  private static List<byte[]> physicalKeys(byte[] prefix, List<byte[]> keys) {
    List<byte[]> out = new ArrayList<>(keys.size());
    for (int i = 0, n = keys.size(); i < n; i++) {
      out.add(Keys.key(prefix, requireNonNull(keys.get(i), "key is null")));
    }
    return out;
  }

  private ScorelineException failure(String what, RocksDBException e) {
    return new ScorelineException(
        ErrorCode.INTERNAL, "RocksDB " + what + " failed in " + dir + ": " + e.getMessage(), e);
  }

  private static <T extends AutoCloseable> T add(List<AutoCloseable> created, T resource) {
    created.add(resource);
    return resource;
  }

  /** Closes in reverse order of the list, skipping nulls, suppressing nothing fatal. */
  private static void closeAll(List<AutoCloseable> resources) {
    RuntimeException first = null;
    for (int i = resources.size() - 1; i >= 0; i--) {
      AutoCloseable r = resources.get(i);
      if (r == null) {
        continue;
      }
      try {
        r.close();
      } catch (Exception e) {
        if (first == null) {
          first = new ScorelineException(ErrorCode.INTERNAL, "closing RocksDB failed", e);
        } else {
          first.addSuppressed(e);
        }
      }
    }
    if (first != null) {
      throw first;
    }
  }

  /** A physical key with array equality, for grouping the writes of one call by key. */
  private static final class KeyBytes {
    final byte[] bytes;
    final int hash;

    KeyBytes(byte[] bytes) {
      this.bytes = bytes;
      this.hash = KeyHash.of(bytes);
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof KeyBytes other && other.hash == hash && Arrays.equals(other.bytes, bytes);
    }

    @Override
    public int hashCode() {
      return hash;
    }
  }
}
