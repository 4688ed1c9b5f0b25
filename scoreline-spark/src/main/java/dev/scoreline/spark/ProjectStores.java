package dev.scoreline.spark;

import dev.scoreline.core.config.ProjectConfig;
import dev.scoreline.core.feature.FeatureRegistry;
import dev.scoreline.core.feature.online.OnlineFeatureStore;
import dev.scoreline.core.feature.spi.OfflineStore;
import dev.scoreline.core.kv.KvStore;
import dev.scoreline.core.retrieval.VectorIndex;
import dev.scoreline.core.retrieval.VectorIndexes;
import dev.scoreline.core.surface.Surfaces;
import dev.scoreline.duckdb.DuckDbConfig;
import dev.scoreline.duckdb.DuckDbOfflineStore;
import dev.scoreline.redis.RedisKvStore;
import dev.scoreline.retrieval.DefaultVectorIndexes;
import dev.scoreline.rocksdb.RocksDbKvStore;
import java.nio.file.Path;
import java.time.Clock;

/**
 * A project directory and the stores its {@code scoreline.yaml} names, opened on first use and
 * closed together: the same composition as the CLI's project (RocksDB or Redis online store, DuckDB
 * offline store, jvector/exact vector indexes), for the Spark driver and executors.
 */
final class ProjectStores implements AutoCloseable {
  private final Path dir;
  private final ProjectConfig config;
  private final VectorIndexes indexes = new DefaultVectorIndexes();
  private FeatureRegistry registry;
  private Surfaces surfaces;
  private KvStore kv;
  private OnlineFeatureStore online;
  private OfflineStore offline;

  ProjectStores(Path dir) {
    this.dir = dir.toAbsolutePath().normalize();
    this.config = ProjectConfig.load(this.dir);
  }

  Path dir() {
    return dir;
  }

  ProjectConfig config() {
    return config;
  }

  synchronized FeatureRegistry registry() {
    if (registry == null) {
      registry = FeatureRegistry.load(dir);
    }
    return registry;
  }

  synchronized Surfaces surfaces() {
    if (surfaces == null) {
      surfaces = Surfaces.load(dir, registry());
    }
    return surfaces;
  }

  /** Opens a vector index by its path as a surface names it (relative to the project). */
  VectorIndex vectorIndex(String path) {
    return indexes.open(dir.resolve(path));
  }

  synchronized KvStore kvStore() {
    if (kv == null) {
      ProjectConfig.OnlineStore o = config.onlineStore();
      kv =
          o.type().equals("redis")
              ? RedisKvStore.connect(o.uri())
              : RocksDbKvStore.open(dir.resolve(o.path()));
    }
    return kv;
  }

  synchronized OnlineFeatureStore onlineFeatures() {
    if (online == null) {
      online =
          new OnlineFeatureStore(
              kvStore(),
              registry(),
              Clock.systemUTC(),
              new OnlineFeatureStore.Options(
                  config.features().maxEntitiesPerRequest(), config.features().pushToOfflineLog()));
    }
    return online;
  }

  synchronized OfflineStore offlineStore() {
    if (offline == null) {
      ProjectConfig.OfflineStore o = config.offlineStore();
      DuckDbConfig c = DuckDbConfig.defaults().withMemoryLimit(o.memoryLimit());
      offline =
          new DuckDbOfflineStore(registry(), o.threads() > 0 ? c.withThreads(o.threads()) : c);
    }
    return offline;
  }

  @Override
  public synchronized void close() {
    if (offline != null) {
      offline.close();
      offline = null;
    }
    if (kv != null) {
      kv.close();
      kv = null;
    }
  }
}
