package dev.scoreline.duckdb;

import static java.util.Objects.requireNonNull;

import dev.scoreline.core.error.ErrorCode;
import dev.scoreline.core.error.ScorelineException;
import dev.scoreline.core.feature.Definitions.Feature;
import dev.scoreline.core.feature.Definitions.FeatureView;
import dev.scoreline.core.feature.Definitions.KeyColumn;
import dev.scoreline.core.feature.FeatureRef;
import dev.scoreline.core.feature.FeatureRegistry;
import dev.scoreline.core.feature.FeatureRow;
import dev.scoreline.core.feature.ValueType;
import dev.scoreline.core.feature.spi.OfflineStore;
import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.StringJoiner;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import org.duckdb.DuckDBConnection;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The default {@link OfflineStore}: an in-process, in-memory DuckDB database that reads feature
 * views' Parquet and CSV sources in place (a file, or a directory of files of one format; see
 * {@link SourceScan}).
 *
 * <p><b>Semantics.</b>
 *
 * <ul>
 *   <li>Times: TIMESTAMP columns are UTC; TIMESTAMPTZ is converted to UTC; DATE is midnight UTC;
 *       integer columns are epoch milliseconds; VARCHAR is parsed as ISO 8601. Precision is the
 *       microsecond. Rows with a null event time are ignored.
 *   <li>Newest row: greatest event time, then greatest created time (a null created time loses),
 *       then the later row in the source: later file by name, then later row in the file. So a late
 *       correction (same event time, later created time) wins, and with no created column the last
 *       written row wins.
 *   <li>Point-in-time join: Feast's semantics: {@code event_ts <= spine_ts} (equality counts as
 *       known) and, with a TTL, {@code event_ts >= spine_ts - ttl} (inclusive); the created time
 *       only breaks ties, it does not filter (no "as known at" mode). See {@link PointInTimeJoin}
 *       for the SQL.
 * </ul>
 *
 * <p><b>Resources.</b> DuckDB uses {@link DuckDbConfig#threads} threads and spills to {@link
 * DuckDbConfig#tempDirectory} beyond {@link DuckDbConfig#memoryLimit}; {@link #scanLatest} streams
 * its result (JDBC result streaming, {@value #FETCH_SIZE}-row chunks), so neither side holds a
 * whole source in memory.
 *
 * <p>Sources are described and validated on each call (so new files in a directory are seen):
 * missing or mistyped columns fail with {@link ErrorCode#USER_ERROR} naming the view, the file, the
 * column and the columns that exist. Thread-safe: each call runs on its own DuckDB connection.
 * Close it after its users stopped; a call after {@link #close} fails with {@link
 * ErrorCode#UNAVAILABLE}.
 */
public final class DuckDbOfflineStore implements OfflineStore {
  private static final Logger LOG = LoggerFactory.getLogger(DuckDbOfflineStore.class);
  static final int FETCH_SIZE = 2048;

  private final FeatureRegistry registry;
  private final DuckDbConfig config;
  private final PointInTimeJoin.Strategy strategy;
  private final Path tempDirectory;
  private final boolean ownsTempDirectory;
  private final DuckDBConnection root;
  private final AtomicBoolean closed = new AtomicBoolean();

  /** A store with {@link DuckDbConfig#defaults()}. */
  public DuckDbOfflineStore(FeatureRegistry registry) {
    this(registry, DuckDbConfig.defaults());
  }

  public DuckDbOfflineStore(FeatureRegistry registry, DuckDbConfig config) {
    this(registry, config, PointInTimeJoin.Strategy.ASOF);
  }

  DuckDbOfflineStore(
      FeatureRegistry registry, DuckDbConfig config, PointInTimeJoin.Strategy strategy) {
    this.registry = requireNonNull(registry, "registry is null");
    this.config = requireNonNull(config, "config is null");
    this.strategy = requireNonNull(strategy, "strategy is null");
    try {
      if (config.tempDirectory() == null) {
        this.tempDirectory =
            Files.createTempDirectory(
                Path.of(System.getProperty("java.io.tmpdir")), "scoreline-duckdb-");
        this.ownsTempDirectory = true;
      } else {
        this.tempDirectory = Files.createDirectories(config.tempDirectory());
        this.ownsTempDirectory = false;
      }
    } catch (IOException e) {
      throw new ScorelineException(
          ErrorCode.USER_ERROR, "cannot create the DuckDB temp directory: " + e, e);
    }
    Properties props = new Properties();
    props.setProperty("jdbc_stream_results", "true");
    props.setProperty("threads", Integer.toString(config.threads()));
    props.setProperty("memory_limit", config.memoryLimit());
    props.setProperty("temp_directory", tempDirectory.toString());
    props.setProperty("preserve_insertion_order", "true");
    props.setProperty("autoinstall_known_extensions", "false");
    try {
      this.root = (DuckDBConnection) DriverManager.getConnection("jdbc:duckdb:", props);
    } catch (SQLException e) {
      deleteTempDirectory();
      throw new ScorelineException(ErrorCode.INTERNAL, "cannot start DuckDB: " + e.getMessage(), e);
    }
    LOG.debug(
        "DuckDB offline store: {} threads, memory limit {}, temp {}",
        config.threads(),
        config.memoryLimit(),
        tempDirectory);
  }

  /** The configuration this store runs with. */
  public DuckDbConfig config() {
    return config;
  }

  @Override
  public long count(FeatureView view, Instant start, Instant end) {
    requireNonNull(view, "view is null");
    requireNonNull(start, "start is null");
    requireNonNull(end, "end is null");
    try (Connection c = connect()) {
      ViewScan scan = ViewScan.open(c, registry, view);
      String sql = "SELECT count(*) FROM " + scan.eventsOnly() + " f" + where(interval(start, end));
      LOG.debug("count {}: {}", view.name(), sql);
      try (Statement s = c.createStatement();
          ResultSet rs = s.executeQuery(sql)) {
        rs.next();
        return rs.getLong(1);
      } catch (SQLException e) {
        throw DuckDbErrors.map(e, scan.context());
      }
    } catch (SQLException e) {
      throw DuckDbErrors.map(e, "feature view '" + view.name() + "'");
    }
  }

  /**
   * {@inheritDoc}
   *
   * <p>SQL: the view's normalized rows ({@link ViewScan#normalized}) with {@code start <= event <
   * end} and no null key, {@code QUALIFY row_number() OVER (PARTITION BY keys ORDER BY event DESC,
   * created DESC NULLS LAST, file DESC, pos DESC) = 1}, streamed in no particular order. Rows with
   * a null key part are skipped. The sink runs on the calling thread; an exception from it stops
   * the scan and propagates.
   *
   * <p>Unique keys: a first, cheap query ({@code count(*) = count(DISTINCT keys)} over the same
   * rows, reading only the key and time columns) checks whether every key occurs once in the
   * interval (a daily snapshot, a first load). Then every row is the newest of its key, and the
   * rows are streamed straight from the source without the window: the same rows, but no blocking
   * sort of the whole interval before the first row (about half of the scan's time on a 2-million
   * row Parquet file), so the writes start at once. Otherwise the window query runs as above.
   */
  @Override
  public long scanLatest(FeatureView view, Instant start, Instant end, Consumer<FeatureRow> sink) {
    requireNonNull(view, "view is null");
    requireNonNull(start, "start is null");
    requireNonNull(end, "end is null");
    requireNonNull(sink, "sink is null");
    try (Connection c = connect()) {
      ViewScan scan = ViewScan.open(c, registry, view);
      List<Feature> features = view.features();
      int[] all = new int[features.size()];
      for (int i = 0; i < all.length; i++) {
        all[i] = i;
      }
      int keyCount = scan.keyCount();
      StringJoiner select = new StringJoiner(", ");
      StringJoiner partition = new StringJoiner(", ");
      List<String> conditions = interval(start, end);
      for (int k = 0; k < keyCount; k++) {
        select.add(ViewScan.key(k));
        partition.add(ViewScan.key(k));
        conditions.add("f." + ViewScan.key(k) + " IS NOT NULL");
      }
      select.add("epoch_us(" + Sql.ident(ViewScan.EVENT) + ")");
      select.add("epoch_us(" + Sql.ident(ViewScan.CREATED) + ")");
      for (int i = 0; i < all.length; i++) {
        select.add(ViewScan.value(i));
      }
      String filtered = " FROM " + scan.normalized(all) + " f" + where(conditions);
      boolean unique = keysUnique(c, scan, filtered, partition.toString(), keyCount);
      String sql =
          unique
              ? "SELECT " + select + filtered
              : latestSql(select.toString(), filtered, partition.toString());
      LOG.debug("scanLatest {} (unique keys: {}): {}", view.name(), unique, sql);
      List<KeyColumn> keys = scan.keys();
      ValueType[] types = new ValueType[features.size()];
      for (int i = 0; i < types.length; i++) {
        types[i] = features.get(i).type();
      }
      long rows = 0;
      try (Statement s = c.createStatement()) {
        s.setFetchSize(FETCH_SIZE);
        try (ResultSet rs = s.executeQuery(sql)) {
          while (rs.next()) {
            Object[] key = new Object[keyCount];
            for (int k = 0; k < keyCount; k++) {
              key[k] =
                  keys.get(k).type() == ValueType.INT64
                      ? Long.valueOf(rs.getLong(k + 1))
                      : rs.getString(k + 1);
            }
            Instant event = Sql.instantOfMicros(rs.getLong(keyCount + 1));
            long createdMicros = rs.getLong(keyCount + 2);
            Instant created = rs.wasNull() ? null : Sql.instantOfMicros(createdMicros);
            Object[] values = new Object[types.length];
            for (int i = 0; i < types.length; i++) {
              values[i] = DuckTypes.read(rs, keyCount + 3 + i, types[i]);
            }
            sink.accept(new FeatureRow(List.of(key), event, created, values));
            rows++;
          }
        }
      } catch (SQLException e) {
        throw DuckDbErrors.map(e, scan.context());
      }
      return rows;
    } catch (SQLException e) {
      throw DuckDbErrors.map(e, "feature view '" + view.name() + "'");
    }
  }

  /**
   * {@inheritDoc}
   *
   * <p>The spine is a Parquet or CSV file (or a directory of them); it must have {@code
   * timestampColumn} and, for each requested view, the key columns of the view's entity under the
   * same names. Features are written in the order requested; output types follow {@link DuckTypes}.
   * The output is written to a temporary file next to {@code output} and moved into place, so a
   * failed join leaves no partial file.
   */
  @Override
  public long pointInTimeJoin(
      Path spine,
      String timestampColumn,
      List<FeatureRef> features,
      FeatureRegistry registry,
      Path output) {
    requireNonNull(spine, "spine is null");
    requireNonNull(timestampColumn, "timestampColumn is null");
    requireNonNull(features, "features is null");
    requireNonNull(registry, "registry is null");
    requireNonNull(output, "output is null");
    if (features.isEmpty()) {
      throw ScorelineException.userError("features", "no features requested");
    }
    // Group the requested features by view, keeping first-appearance order.
    Map<String, List<Integer>> byView = new LinkedHashMap<>();
    Set<FeatureRef> seen = new HashSet<>();
    for (int i = 0; i < features.size(); i++) {
      FeatureRef ref = requireNonNull(features.get(i), "features[" + i + "] is null");
      if (!seen.add(ref)) {
        throw ScorelineException.userError(
            "features[" + i + "]", "feature " + ref + " is requested twice");
      }
      FeatureView view = registry.view(ref.view());
      if (view.indexOf(ref.feature()) < 0) {
        throw new ScorelineException(
            ErrorCode.NOT_FOUND,
            "features[" + i + "]",
            "view '"
                + view.name()
                + "' has no feature '"
                + ref.feature()
                + "'; it has "
                + view.features().stream().map(Feature::name).toList(),
            null);
      }
      byView.computeIfAbsent(view.name(), v -> new ArrayList<>()).add(i);
    }

    Path out = output.toAbsolutePath().normalize();
    Path tmp = null;
    try (Connection c = connect()) {
      // The spine: string key columns are read as VARCHAR from CSV.
      List<String> stringKeys = new ArrayList<>();
      for (String viewName : byView.keySet()) {
        for (KeyColumn k : registry.entity(registry.view(viewName).entity()).keys()) {
          if (k.type() == ValueType.STRING) {
            stringKeys.add(k.name());
          }
        }
      }
      SourceScan spineScan =
          SourceScan.open(c, "spine", spine.toAbsolutePath().normalize(), null, stringKeys);
      String spineTs = spineScan.timestamp(timestampColumn, "the spine's timestamp column");

      List<PointInTimeJoin.Part> parts = new ArrayList<>();
      List<int[]> columns = new ArrayList<>(features.size());
      for (int i = 0; i < features.size(); i++) {
        columns.add(null);
      }
      Set<String> outputNames = new HashSet<>();
      for (String column : spineScan.columnNames()) {
        outputNames.add(column.toLowerCase(Locale.ROOT));
      }
      for (Map.Entry<String, List<Integer>> e : byView.entrySet()) {
        FeatureView view = registry.view(e.getKey());
        List<String> spineKeys = new ArrayList<>();
        String entity = view.entity();
        for (KeyColumn k : registry.entity(entity).keys()) {
          String actual = spineScan.column(k.name());
          if (actual == null) {
            throw SourceScan.userError(
                "spine "
                    + spine
                    + " has no column '"
                    + k.name()
                    + "', the key of entity '"
                    + entity
                    + "' that view '"
                    + view.name()
                    + "' needs; name the spine's key columns like the entity's key columns."
                    + " Spine columns: "
                    + spineScan.columnNames());
          }
          spineKeys.add(actual);
        }
        ViewScan scan = ViewScan.open(c, registry, view);
        List<Integer> requested = e.getValue();
        int[] indexes = new int[requested.size()];
        List<String> names = new ArrayList<>();
        for (int j = 0; j < requested.size(); j++) {
          FeatureRef ref = features.get(requested.get(j));
          indexes[j] = view.indexOf(ref.feature());
          String name = view.name() + "__" + ref.feature();
          if (!outputNames.add(name.toLowerCase(Locale.ROOT))) {
            throw SourceScan.userError(
                "output column '"
                    + name
                    + "' (feature "
                    + ref
                    + ") clashes with a column of spine "
                    + spine
                    + "; rename that spine column");
          }
          names.add(name);
          columns.set(requested.get(j), new int[] {parts.size(), j});
        }
        parts.add(new PointInTimeJoin.Part(scan, indexes, List.copyOf(spineKeys), names));
      }

      String createSpine = PointInTimeJoin.createSpine(spineScan, spineTs);
      String query = PointInTimeJoin.query(spineScan.columnNames(), parts, columns, strategy);
      Files.createDirectories(out.getParent());
      tmp = out.resolveSibling("." + out.getFileName() + ".tmp-" + UUID.randomUUID());
      String copy = "COPY (" + query + ") TO " + Sql.literal(tmp.toString()) + " (FORMAT PARQUET)";
      LOG.debug("pointInTimeJoin {}:\n{};\n{}", spine, createSpine, copy);
      long spineRows;
      long written;
      try (Statement s = c.createStatement()) {
        s.execute(createSpine);
        try (ResultSet rs = s.executeQuery("SELECT count(*) FROM " + PointInTimeJoin.SPINE)) {
          rs.next();
          spineRows = rs.getLong(1);
        }
        written = s.executeLargeUpdate(copy);
      } catch (SQLException e) {
        throw DuckDbErrors.map(e, "point-in-time join of spine " + spine);
      }
      if (written != spineRows) {
        throw new ScorelineException(
            ErrorCode.INTERNAL,
            "point-in-time join wrote " + written + " rows for " + spineRows + " spine rows");
      }
      move(tmp, out);
      tmp = null;
      return written;
    } catch (SQLException e) {
      throw DuckDbErrors.map(e, "point-in-time join of spine " + spine);
    } catch (IOException e) {
      throw new ScorelineException(
          ErrorCode.USER_ERROR, "cannot write the point-in-time join to " + output + ": " + e, e);
    } finally {
      if (tmp != null) {
        try {
          Files.deleteIfExists(tmp);
        } catch (IOException e) {
          LOG.warn("cannot delete {}: {}", tmp, e.toString());
        }
      }
    }
  }

  private static void move(Path from, Path to) throws IOException {
    try {
      Files.move(from, to, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } catch (AtomicMoveNotSupportedException e) {
      Files.move(from, to, StandardCopyOption.REPLACE_EXISTING);
    }
  }

  /** Conditions {@code start <= event < end} on {@code f.__sl_event}, as a mutable list. */
  /** The window query keeping the newest row per key of {@code filtered} (FROM ... WHERE ...). */
  private static String latestSql(String select, String filtered, String partition) {
    return "SELECT "
        + select
        + filtered
        + " QUALIFY row_number() OVER (PARTITION BY "
        + partition
        + " ORDER BY "
        + Sql.ident(ViewScan.EVENT)
        + " DESC, "
        + Sql.ident(ViewScan.CREATED)
        + " DESC NULLS LAST, "
        + Sql.ident(SourceScan.FILE)
        + " DESC, "
        + Sql.ident(SourceScan.POS)
        + " DESC) = 1";
  }

  /**
   * Whether no key occurs twice among the rows of {@code filtered} (then each row is the newest of
   * its key). DuckDB reads only the key and event columns for it.
   */
  private static boolean keysUnique(
      Connection c, ViewScan scan, String filtered, String keys, int keyCount) throws SQLException {
    String distinct = keyCount == 1 ? keys : "row(" + keys + ")";
    String sql = "SELECT count(*) = count(DISTINCT " + distinct + ")" + filtered;
    try (Statement s = c.createStatement();
        ResultSet rs = s.executeQuery(sql)) {
      rs.next();
      return rs.getBoolean(1);
    } catch (SQLException e) {
      throw DuckDbErrors.map(e, scan.context());
    }
  }

  private static List<String> interval(Instant start, Instant end) {
    List<String> conditions = new ArrayList<>();
    String event = "f." + Sql.ident(ViewScan.EVENT);
    if (!start.isBefore(end)) {
      conditions.add("false");
      return conditions;
    }
    if (!Sql.beforeAll(start)) {
      conditions.add(event + " >= " + Sql.ceilTimestamp(start));
    }
    if (!Sql.afterAll(end)) {
      conditions.add(event + " < " + Sql.ceilTimestamp(end));
    }
    conditions.add(event + " IS NOT NULL");
    return conditions;
  }

  private static String where(List<String> conditions) {
    return conditions.isEmpty() ? "" : " WHERE " + String.join(" AND ", conditions);
  }

  /** A connection of its own for one call, in UTC. */
  private Connection connect() throws SQLException {
    if (closed.get()) {
      throw new ScorelineException(ErrorCode.UNAVAILABLE, "the DuckDB offline store is closed");
    }
    Connection c;
    try {
      c = root.duplicate();
    } catch (SQLException e) {
      if (closed.get()) {
        throw new ScorelineException(
            ErrorCode.UNAVAILABLE, "the DuckDB offline store is closed", e);
      }
      throw e;
    }
    try (Statement s = c.createStatement()) {
      s.execute("SET TimeZone = 'UTC'");
    } catch (SQLException e) {
      c.close();
      throw e;
    }
    return c;
  }

  /** The value of a DuckDB setting as a connection of this store sees it (for tests). */
  String currentSetting(String name) {
    try (Connection c = connect();
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT current_setting(" + Sql.literal(name) + ")")) {
      rs.next();
      return rs.getString(1);
    } catch (SQLException e) {
      throw DuckDbErrors.map(e, "setting " + name);
    }
  }

  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    try {
      root.close();
    } catch (SQLException e) {
      LOG.warn("closing DuckDB: {}", e.toString());
    }
    deleteTempDirectory();
  }

  private void deleteTempDirectory() {
    if (!ownsTempDirectory || tempDirectory == null || !Files.exists(tempDirectory)) {
      return;
    }
    try {
      Files.walkFileTree(
          tempDirectory,
          new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs)
                throws IOException {
              Files.delete(file);
              return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path dir, IOException e) throws IOException {
              Files.delete(dir);
              return FileVisitResult.CONTINUE;
            }
          });
    } catch (IOException e) {
      LOG.warn("cannot delete DuckDB temp directory {}: {}", tempDirectory, e.toString());
    }
  }
}
