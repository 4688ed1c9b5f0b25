package dev.scoreline.rocksdb;

/**
 * Tuning of a {@link RocksDbKvStore}. The defaults suit the feature-store read path (point lookups
 * of hot keys from the block cache) and bulk materialization (large write batches).
 *
 * @param blockCacheBytes LRU block cache shared by data, index and filter blocks
 * @param bloomBitsPerKey bits per key of the whole-key Bloom filters (10 is about 1% false
 *     positives); 0 disables them
 * @param writeBufferBytes size of one memtable
 * @param maxBackgroundJobs flush and compaction threads
 * @param syncWrites fsync the write-ahead log on every data write; off by default: the WAL is still
 *     written, so acknowledged writes survive a process crash, but the last ones may be lost on a
 *     machine crash. Snapshot publish and rollback always sync, and so do bulk loads (their SST
 *     files are synced and ingested)
 */
public record RocksDbConfig(
    long blockCacheBytes,
    int bloomBitsPerKey,
    long writeBufferBytes,
    int maxBackgroundJobs,
    boolean syncWrites) {
  public static final long DEFAULT_BLOCK_CACHE_BYTES = 64L << 20;

  public RocksDbConfig {
    if (blockCacheBytes < 0) {
      throw new IllegalArgumentException("blockCacheBytes must be >= 0: " + blockCacheBytes);
    }
    if (bloomBitsPerKey < 0 || bloomBitsPerKey > 64) {
      throw new IllegalArgumentException("bloomBitsPerKey must be in [0, 64]: " + bloomBitsPerKey);
    }
    if (writeBufferBytes < (1 << 20)) {
      throw new IllegalArgumentException("writeBufferBytes must be >= 1 MiB: " + writeBufferBytes);
    }
    if (maxBackgroundJobs < 1) {
      throw new IllegalArgumentException("maxBackgroundJobs must be >= 1: " + maxBackgroundJobs);
    }
  }

  /** 64 MiB block cache, 10-bit Bloom filters, 64 MiB memtables, 4 background jobs, no fsync. */
  public static RocksDbConfig defaults() {
    return new RocksDbConfig(DEFAULT_BLOCK_CACHE_BYTES, 10, 64L << 20, 4, false);
  }

  public RocksDbConfig withBlockCacheBytes(long bytes) {
    return new RocksDbConfig(
        bytes, bloomBitsPerKey, writeBufferBytes, maxBackgroundJobs, syncWrites);
  }

  public RocksDbConfig withSyncWrites(boolean sync) {
    return new RocksDbConfig(
        blockCacheBytes, bloomBitsPerKey, writeBufferBytes, maxBackgroundJobs, sync);
  }
}
