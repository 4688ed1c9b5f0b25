package dev.scoreline.duckdb;

import java.nio.file.Path;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * Tuning of a {@link DuckDbOfflineStore}: the resources the in-process DuckDB database may use.
 * DuckDB spills joins, sorts and windows to {@code tempDirectory} once {@code memoryLimit} is
 * reached, so large point-in-time joins and scans run in bounded memory.
 *
 * @param threads DuckDB worker threads
 * @param memoryLimit DuckDB's buffer-manager limit, such as {@code 1GB} or {@code 512MiB}; it does
 *     not include the JVM heap
 * @param tempDirectory where DuckDB spills; {@code null} creates a fresh directory under {@code
 *     java.io.tmpdir} that the store deletes on close
 */
public record DuckDbConfig(int threads, String memoryLimit, Path tempDirectory) {
  private static final Pattern MEMORY =
      Pattern.compile("\\d+(\\.\\d+)?\\s*(b|kb|mb|gb|tb|kib|mib|gib|tib)");

  public DuckDbConfig {
    if (threads < 1) {
      throw new IllegalArgumentException("threads must be >= 1: " + threads);
    }
    if (memoryLimit == null
        || !MEMORY.matcher(memoryLimit.trim().toLowerCase(Locale.ROOT)).matches()) {
      throw new IllegalArgumentException(
          "memoryLimit '" + memoryLimit + "' is not a size; use e.g. 512MB, 1GB, 4GiB");
    }
    memoryLimit = memoryLimit.trim();
  }

  /**
   * Half the available processors (at least 1; the rest stays with online serving), a 1 GB memory
   * limit and a private temp directory.
   */
  public static DuckDbConfig defaults() {
    return new DuckDbConfig(
        Math.max(1, Runtime.getRuntime().availableProcessors() / 2), "1GB", null);
  }

  public DuckDbConfig withThreads(int threads) {
    return new DuckDbConfig(threads, memoryLimit, tempDirectory);
  }

  public DuckDbConfig withMemoryLimit(String memoryLimit) {
    return new DuckDbConfig(threads, memoryLimit, tempDirectory);
  }

  public DuckDbConfig withTempDirectory(Path tempDirectory) {
    return new DuckDbConfig(threads, memoryLimit, tempDirectory);
  }
}
