package dev.scoreline.core.config;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A project's {@code scoreline.yaml}. Every key is optional; without the file the embedded defaults
 * apply (RocksDB under {@code .scoreline/online}, DuckDB in-process).
 *
 * <pre>
 * online-store:
 *   type: rocksdb                 # rocksdb (embedded, default) | redis
 *   path: .scoreline/online       # rocksdb: directory, relative to the project
 *   uri: redis://127.0.0.1:6379/0 # redis
 * offline-store:
 *   type: duckdb
 *   threads: 2
 *   memory-limit: 1GB
 * features:
 *   max-entities-per-request: 1000
 *   push-to-offline-log: false
 * </pre>
 */
public record ProjectConfig(OnlineStore onlineStore, OfflineStore offlineStore, Features features) {
  public static final String FILE = "scoreline.yaml";

  public ProjectConfig {
    onlineStore = onlineStore == null ? new OnlineStore(null, null, null) : onlineStore;
    offlineStore = offlineStore == null ? new OfflineStore(null, 0, null) : offlineStore;
    features = features == null ? new Features(0, false) : features;
  }

  /** Reads {@code <project>/scoreline.yaml}, or the defaults when it does not exist. */
  public static ProjectConfig load(Path project) {
    Path f = project.resolve(FILE);
    return Files.exists(f)
        ? ConfigLoader.load(f, ProjectConfig.class)
        : new ProjectConfig(null, null, null);
  }

  /** Where online feature values live. */
  public record OnlineStore(String type, String path, String uri) {
    public OnlineStore {
      type = type == null ? "rocksdb" : type;
      if (!type.equals("rocksdb") && !type.equals("redis")) {
        throw new IllegalArgumentException(
            "online-store.type '" + type + "' is not valid; use rocksdb or redis");
      }
      path = path == null ? ".scoreline/online" : path;
      uri = uri == null ? "redis://127.0.0.1:6379/0" : uri;
    }
  }

  /** The offline store over the project's files. */
  public record OfflineStore(String type, int threads, String memoryLimit) {
    public OfflineStore {
      type = type == null ? "duckdb" : type;
      if (!type.equals("duckdb")) {
        throw new IllegalArgumentException(
            "offline-store.type '" + type + "' is not valid; use duckdb");
      }
      if (threads < 0) {
        throw new IllegalArgumentException("offline-store.threads must be >= 0 (0 = automatic)");
      }
      memoryLimit = memoryLimit == null ? "1GB" : memoryLimit;
    }
  }

  /** Feature serving limits and push behaviour. */
  public record Features(int maxEntitiesPerRequest, boolean pushToOfflineLog) {
    public Features {
      if (maxEntitiesPerRequest < 0) {
        throw new IllegalArgumentException("features.max-entities-per-request must be >= 1");
      }
      maxEntitiesPerRequest = maxEntitiesPerRequest == 0 ? 1000 : maxEntitiesPerRequest;
    }
  }
}
