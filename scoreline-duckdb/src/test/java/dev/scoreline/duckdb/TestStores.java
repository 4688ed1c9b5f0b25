package dev.scoreline.duckdb;

import dev.scoreline.core.feature.FeatureRegistry;

/** Stores sized for tests: two threads, 512 MB. */
final class TestStores {
  private TestStores() {}

  static DuckDbConfig config() {
    return DuckDbConfig.defaults().withThreads(2).withMemoryLimit("512MB");
  }

  static DuckDbOfflineStore open(FeatureRegistry registry, PointInTimeJoin.Strategy strategy) {
    return new DuckDbOfflineStore(registry, config(), strategy);
  }

  static DuckDbOfflineStore open(FeatureRegistry registry) {
    return new DuckDbOfflineStore(registry, config());
  }
}
