package dev.scoreline.cli;

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
 * A user's project directory ({@code scoreline.yaml}, {@code models/}, {@code features/}) and the
 * stores it names, opened on first use and closed together. The composition root that picks the
 * store implementations by name.
 */
final class Project implements AutoCloseable {
  private final Path dir;
  private final ProjectConfig config;
  private FeatureRegistry registry;
  private KvStore kv;
  private OfflineStore offline;
  private OnlineFeatureStore online;
  private Surfaces surfaces;
  private final VectorIndexes indexes = new DefaultVectorIndexes();

  Project(Path dir) {
    this.dir = dir.toAbsolutePath().normalize();
    this.config = ProjectConfig.load(this.dir);
  }

  Path dir() {
    return dir;
  }

  ProjectConfig config() {
    return config;
  }

  FeatureRegistry registry() {
    if (registry == null) {
      registry = FeatureRegistry.load(dir);
    }
    return registry;
  }

  Surfaces surfaces() {
    if (surfaces == null) {
      surfaces = Surfaces.load(dir, registry());
    }
    return surfaces;
  }

  boolean hasSurfaces() {
    return !surfaces().isEmpty();
  }

  /** Opens a vector index of this project by its path as a surface names it. */
  VectorIndex vectorIndex(String path) {
    return indexes.open(dir.resolve(path));
  }

  boolean hasFeatures() {
    return !registry().views().isEmpty();
  }

  KvStore kvStore() {
    if (kv == null) {
      ProjectConfig.OnlineStore o = config.onlineStore();
      kv =
          o.type().equals("redis")
              ? RedisKvStore.connect(o.uri())
              : RocksDbKvStore.open(dir.resolve(o.path()));
    }
    return kv;
  }

  OnlineFeatureStore onlineFeatures() {
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

  OfflineStore offlineStore() {
    if (offline == null) {
      ProjectConfig.OfflineStore o = config.offlineStore();
      DuckDbConfig c = DuckDbConfig.defaults().withMemoryLimit(o.memoryLimit());
      offline =
          new DuckDbOfflineStore(registry(), o.threads() > 0 ? c.withThreads(o.threads()) : c);
    }
    return offline;
  }

  @Override
  public void close() {
    if (offline != null) {
      offline.close();
    }
    if (kv != null) {
      kv.close();
    }
  }
}
