package dev.scoreline.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.scoreline.core.feature.FeatureRef;
import dev.scoreline.core.feature.FeatureRegistry;
import dev.scoreline.core.feature.online.FeatureStatus;
import dev.scoreline.core.feature.online.FeatureVectors;
import dev.scoreline.core.feature.online.OnlineFeatureStore;
import dev.scoreline.core.kv.KvStore;
import dev.scoreline.redis.RedisKvStore;
import dev.scoreline.rocksdb.RocksDbKvStore;
import dev.scoreline.testing.RedisServerProcess;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The feature store through the {@code scoreline} command, end to end: Parquet written by DuckDB,
 * {@code materialize} into RocksDB (re-run, {@code --incremental}) and into a real Redis, then
 * {@code training-set} with point-in-time values read back through DuckDB.
 */
class FeatureStoreEndToEndTest {
  /**
   * user (user_id int64). user_stats: a directory of Parquet files, ttl 2d. user_profile: one
   * Parquet file, no ttl, with an embedding.
   */
  private static final String FEATURES_YAML =
      String.join(
          "\n",
          "entities:",
          "  - name: user",
          "    keys: [{name: user_id, type: int64}]",
          "feature-views:",
          "  - name: user_stats",
          "    entity: user",
          "    source: {path: data/user_stats}",
          "    timestamp-column: event_ts",
          "    ttl: 2d",
          "    features:",
          "      - {name: clicks, type: int64}",
          "      - {name: ctr, type: fp64}",
          "  - name: user_profile",
          "    entity: user",
          "    source: {path: data/user_profile.parquet}",
          "    features:",
          "      - {name: country, type: string}",
          "      - {name: embedding, type: fp32_list}",
          "feature-services:",
          "  - name: ranker",
          "    features: [user_stats:clicks, user_stats:ctr, user_profile:*]",
          "");

  private static final List<FeatureRef> FEATURES =
      List.of(
          new FeatureRef("user_stats", "clicks"),
          new FeatureRef("user_stats", "ctr"),
          new FeatureRef("user_profile", "country"),
          new FeatureRef("user_profile", "embedding"));

  @TempDir Path dir;
  private final ByteArrayOutputStream out = new ByteArrayOutputStream();
  private final ByteArrayOutputStream err = new ByteArrayOutputStream();
  private PrintStream oldOut;
  private PrintStream oldErr;

  @BeforeEach
  void setUp() throws Exception {
    oldOut = System.out;
    oldErr = System.err;
    System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
    System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
    Files.createDirectories(dir.resolve("features"));
    Files.createDirectories(dir.resolve("data/user_stats"));
    Files.writeString(dir.resolve("features/features.yaml"), FEATURES_YAML);
    // user 1: three events, the newest before 2026-01-15 is clicks 3; user 2: one event with a
    // null ctr; user 3: an event after 2026-01-15 only
    copyToParquet(
        "SELECT user_id::BIGINT AS user_id, clicks::BIGINT AS clicks, ctr::DOUBLE AS ctr,"
            + " event_ts FROM (VALUES"
            + " (1, 1, 0.1, TIMESTAMP '2026-01-01 00:00:00'),"
            + " (1, 2, 0.2, TIMESTAMP '2026-01-05 00:00:00'),"
            + " (1, 3, 0.3, TIMESTAMP '2026-01-10 00:00:00'),"
            + " (2, 20, NULL, TIMESTAMP '2026-01-03 00:00:00'),"
            + " (3, 30, 0.9, TIMESTAMP '2026-01-20 00:00:00'))"
            + " t(user_id, clicks, ctr, event_ts)",
        dir.resolve("data/user_stats/part-1.parquet"));
    copyToParquet(
        "SELECT user_id::BIGINT AS user_id, country, embedding::FLOAT[] AS embedding,"
            + " event_timestamp FROM (VALUES"
            + " (1, 'NZ', [0.5, -1.25], TIMESTAMP '2026-01-02 00:00:00'),"
            + " (2, 'FR', [1.0, 2.0], TIMESTAMP '2026-01-02 00:00:00'))"
            + " t(user_id, country, embedding, event_timestamp)",
        dir.resolve("data/user_profile.parquet"));
  }

  @AfterEach
  void restore() {
    System.setOut(oldOut);
    System.setErr(oldErr);
  }

  private String output() {
    return out.toString(StandardCharsets.UTF_8) + err.toString(StandardCharsets.UTF_8);
  }

  private static void copyToParquet(String query, Path file) throws SQLException {
    try (Connection c = DriverManager.getConnection("jdbc:duckdb:");
        Statement s = c.createStatement()) {
      s.execute(
          "COPY (" + query + ") TO '" + file.toString().replace("'", "''") + "' (FORMAT PARQUET)");
    }
  }

  private static List<List<Object>> query(String sql) throws SQLException {
    List<List<Object>> rows = new ArrayList<>();
    try (Connection c = DriverManager.getConnection("jdbc:duckdb:");
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery(sql)) {
      int n = rs.getMetaData().getColumnCount();
      while (rs.next()) {
        List<Object> row = new ArrayList<>(n);
        for (int i = 1; i <= n; i++) {
          row.add(rs.getObject(i));
        }
        rows.add(row);
      }
    }
    return rows;
  }

  private int materialize(String... args) {
    List<String> all = new ArrayList<>(List.of("materialize", dir.toString()));
    all.addAll(Arrays.asList(args));
    return Main.execute(all.toArray(new String[0]));
  }

  /** Per user 1..3: the features' statuses and values, read as of {@code now}. */
  private static List<String> read(KvStore kv, Path project, Instant now) {
    OnlineFeatureStore store =
        new OnlineFeatureStore(kv, FeatureRegistry.load(project), Clock.fixed(now, ZoneOffset.UTC));
    FeatureVectors v =
        store.get(
            FEATURES, List.of(Map.of("user_id", 1), Map.of("user_id", 2), Map.of("user_id", 3)));
    List<String> out = new ArrayList<>();
    for (int r = 0; r < v.rowCount(); r++) {
      StringBuilder sb = new StringBuilder("user " + (r + 1) + ":");
      for (int f = 0; f < v.featureCount(); f++) {
        Object value = v.value(f, r);
        sb.append(' ')
            .append(v.status(f, r) == FeatureStatus.PRESENT ? "" : v.status(f, r) + "/")
            .append(value instanceof float[] ? Arrays.toString((float[]) value) : value);
      }
      out.add(sb.toString());
    }
    return out;
  }

  private List<String> readRocksDb(Instant now) {
    try (RocksDbKvStore kv = RocksDbKvStore.open(dir.resolve(".scoreline/online"))) {
      return read(kv, dir, now);
    }
  }

  @Test
  void materialize_intoRocksDb_rerunSameValues_incrementalPicksUpNewRows() throws Exception {
    Instant jan11 = Instant.parse("2026-01-11T00:00:00Z");

    assertThat(materialize("--start", "2026-01-01", "--end", "2026-01-15")).as(output()).isZero();
    List<String> first = readRocksDb(jan11);
    assertThat(first)
        .containsExactly(
            "user 1: 3 0.3 NZ [0.5, -1.25]",
            "user 2: EXPIRED/null EXPIRED/null FR [1.0, 2.0]",
            "user 3: NOT_FOUND/null NOT_FOUND/null NOT_FOUND/null NOT_FOUND/null");
    assertThat(output()).contains("materialized").contains("rocksdb");

    assertThat(materialize("--start", "2026-01-01", "--end", "2026-01-15")).as(output()).isZero();
    assertThat(readRocksDb(jan11)).isEqualTo(first);

    // a new file with a newer event for user 1, and user 3's event now inside the interval
    copyToParquet(
        "SELECT 1::BIGINT AS user_id, 4::BIGINT AS clicks, 0.4::DOUBLE AS ctr,"
            + " TIMESTAMP '2026-01-16 00:00:00' AS event_ts",
        dir.resolve("data/user_stats/part-2.parquet"));
    assertThat(materialize("--incremental", "--end", "2026-01-25")).as(output()).isZero();
    assertThat(dir.resolve(".scoreline/materialize.json")).exists();
    assertThat(readRocksDb(Instant.parse("2026-01-21T00:00:00Z")))
        .containsExactly(
            "user 1: EXPIRED/null EXPIRED/null NZ [0.5, -1.25]",
            "user 2: EXPIRED/null EXPIRED/null FR [1.0, 2.0]",
            "user 3: 30 0.9 NOT_FOUND/null NOT_FOUND/null");
    assertThat(readRocksDb(Instant.parse("2026-01-17T00:00:00Z")).get(0))
        .isEqualTo("user 1: 4 0.4 NZ [0.5, -1.25]");
  }

  @Test
  void trainingSet_pointInTimeValuesWrittenToParquet() throws Exception {
    Path spine = dir.resolve("spine.parquet");
    copyToParquet(
        "SELECT user_id::BIGINT AS user_id, event_timestamp FROM (VALUES"
            + " (1, TIMESTAMP '2026-01-05 00:00:00'),"
            + " (1, TIMESTAMP '2026-01-03 00:00:00'),"
            + " (1, TIMESTAMP '2026-01-04 23:59:59'),"
            + " (1, TIMESTAMP '2026-01-12 00:00:00'),"
            + " (1, TIMESTAMP '2026-01-12 00:00:01'),"
            + " (2, TIMESTAMP '2026-01-04 00:00:00'),"
            + " (9, TIMESTAMP '2026-01-04 00:00:00'))"
            + " t(user_id, event_timestamp)",
        spine);
    Path output = dir.resolve("training.parquet");

    int code =
        Main.execute(
            "training-set",
            dir.toString(),
            "--spine",
            spine.toString(),
            "--service",
            "ranker",
            "-o",
            output.toString());

    assertThat(code).as(output()).isZero();
    List<List<Object>> rows =
        query(
            "SELECT user_id, user_stats__clicks, user_stats__ctr, user_profile__country"
                + " FROM read_parquet('"
                + output
                + "')");
    // spine order kept; event_ts == spine ts counts; the 2d ttl lookback is inclusive
    assertThat(rows)
        .containsExactly(
            List.of(1L, 2L, 0.2, "NZ"), // the 01-05 event, at its own time
            List.of(1L, 1L, 0.1, "NZ"), // the 01-01 event, exactly 2d old
            Arrays.asList(1L, null, null, "NZ"), // 01-01 is over 2d old; 01-05 not known yet
            List.of(1L, 3L, 0.3, "NZ"), // the 01-10 event, exactly 2d old
            Arrays.asList(1L, null, null, "NZ"), // 01-10 is 2d and 1s old
            Arrays.asList(2L, 20L, null, "FR"), // ctr was null in the source
            Arrays.asList(9L, null, null, null)); // no such user
  }

  @Test
  void materialize_intoRedis_sameValuesAsRocksDb() throws Exception {
    try (RedisServerProcess redis = RedisServerProcess.start()) {
      Files.writeString(
          dir.resolve("scoreline.yaml"),
          "online-store:\n  type: redis\n  uri: redis://127.0.0.1:" + redis.port() + "/0\n");

      assertThat(materialize("--start", "2025-01-01", "--end", "2026-01-15")).as(output()).isZero();

      assertThat(output()).contains("redis");
      List<String> values;
      try (RedisKvStore kv = RedisKvStore.connect("redis://127.0.0.1:" + redis.port() + "/0")) {
        values = read(kv, dir, Instant.parse("2026-01-11T00:00:00Z"));
      }
      assertThat(values)
          .containsExactly(
              "user 1: 3 0.3 NZ [0.5, -1.25]",
              "user 2: EXPIRED/null EXPIRED/null FR [1.0, 2.0]",
              "user 3: NOT_FOUND/null NOT_FOUND/null NOT_FOUND/null NOT_FOUND/null");
    }
  }
}
