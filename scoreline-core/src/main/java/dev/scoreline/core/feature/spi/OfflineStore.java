package dev.scoreline.core.feature.spi;

import dev.scoreline.core.feature.Definitions.FeatureView;
import dev.scoreline.core.feature.FeatureRef;
import dev.scoreline.core.feature.FeatureRegistry;
import dev.scoreline.core.feature.FeatureRow;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.function.Consumer;

/**
 * The offline store: reads feature views' sources (Parquet/CSV files) for materialization and
 * builds point-in-time correct training sets. Default implementation: DuckDB in-process ({@code
 * scoreline-duckdb}).
 */
public interface OfflineStore extends AutoCloseable {
  /** Rows of the view with event time in {@code [start, end)} (for progress and ETA). */
  long count(FeatureView view, Instant start, Instant end);

  /**
   * Streams, in bounded memory, the newest row per entity key among those with event time in {@code
   * [start, end)} (ties broken by created time, then by the last row in the source), to {@code
   * sink}.
   *
   * @return rows delivered
   */
  long scanLatest(FeatureView view, Instant start, Instant end, Consumer<FeatureRow> sink);

  /**
   * Point-in-time join: for every row of {@code spine} (a Parquet or CSV file with the entity key
   * columns of each requested view and {@code timestampColumn}), each feature's newest value with
   * {@code event_ts <= spine_ts} and, when the view has a TTL, {@code event_ts >= spine_ts - ttl},
   * ties broken by the greater created time; every spine row kept (missing values are null).
   * Written to {@code output} as Parquet with the spine's columns then one column per feature named
   * {@code view__feature}.
   *
   * @return rows written (equal to the spine's row count)
   */
  long pointInTimeJoin(
      Path spine,
      String timestampColumn,
      List<FeatureRef> features,
      FeatureRegistry registry,
      Path output);

  @Override
  void close();
}
