package dev.scoreline.duckdb;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.tuple;

import dev.scoreline.core.error.ErrorCode;
import dev.scoreline.core.error.ScorelineException;
import dev.scoreline.core.feature.Definitions.Feature;
import dev.scoreline.core.feature.Definitions.FeatureView;
import dev.scoreline.core.feature.FeatureRegistry;
import dev.scoreline.core.feature.FeatureRow;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** count, scanLatest, type conversion, source validation and bounded-memory scans. */
class DuckDbOfflineStoreTest {
  static final Instant T0 = Instant.parse("2024-01-01T00:00:00Z");
  static final Instant FAR_PAST = Instant.parse("1900-01-01T00:00:00Z");
  static final Instant FAR_FUTURE = Instant.parse("2100-01-01T00:00:00Z");

  @TempDir Path dir;
  TestProject project;

  TestProject project(String yaml) {
    project = new TestProject(dir).features("features", yaml);
    return project;
  }

  @AfterEach
  void tearDown() {
    if (project != null) {
      project.close();
    }
  }

  static String view(String source, String created, String features) {
    return """
        entities:
          - name: user
            keys: [{name: user_id, type: int64}]
        feature-views:
          - name: stats
            entity: user
            source: {path: %s}
            timestamp-column: event_ts
            %s
            features:
        %s
        """
        .formatted(
            source,
            created == null ? "" : "created-timestamp-column: " + created,
            features.indent(6).stripTrailing());
  }

  static List<FeatureRow> scan(FeatureRegistry registry, String view, Instant from, Instant to) {
    List<FeatureRow> rows = new ArrayList<>();
    try (DuckDbOfflineStore store = TestStores.open(registry)) {
      long n = store.scanLatest(registry.view(view), from, to, rows::add);
      assertThat(n).isEqualTo(rows.size());
    }
    rows.sort(Comparator.comparing(r -> r.key().toString()));
    return rows;
  }

  @Test
  void scanLatest_returnsNewestRowPerKey_tiesByCreatedThenSourceOrder() {
    project(view("data/s.parquet", "created_ts", "- {name: clicks, type: int64}"));
    project.write(
        "data/s.parquet",
        "SELECT user_id::BIGINT AS user_id, event_ts::TIMESTAMP AS event_ts,"
            + " created_ts::TIMESTAMP AS created_ts, clicks::BIGINT AS clicks FROM (VALUES"
            + " (1, '2024-01-01 01:00', '2024-01-01 01:00', 10),"
            + " (1, '2024-01-01 03:00', '2024-01-01 03:00', 11)," // newest
            + " (1, '2024-01-01 02:00', '2024-01-01 09:00', 12),"
            + " (2, '2024-01-01 05:00', '2024-01-01 06:00', 20)," // greatest created
            + " (2, '2024-01-01 05:00', '2024-01-01 05:30', 21),"
            + " (2, '2024-01-01 05:00', NULL, 22),"
            + " (3, '2024-01-01 05:00', NULL, 30),"
            + " (3, '2024-01-01 05:00', NULL, 31)," // same times: later row wins
            + " (4, NULL, NULL, 40)" // no event time: ignored
            + ") t(user_id, event_ts, created_ts, clicks)");

    List<FeatureRow> rows = scan(project.registry(), "stats", FAR_PAST, FAR_FUTURE);

    assertThat(rows)
        .extracting(
            r -> r.key(), r -> r.values()[0], FeatureRow::eventTime, FeatureRow::createdTime)
        .containsExactly(
            tuple(List.of(1L), 11L, T0.plusSeconds(3 * 3600), T0.plusSeconds(3 * 3600)),
            tuple(List.of(2L), 20L, T0.plusSeconds(5 * 3600), T0.plusSeconds(6 * 3600)),
            tuple(List.of(3L), 31L, T0.plusSeconds(5 * 3600), null));
  }

  @Test
  void scanLatest_noCreatedColumn_laterFileThenLaterRowWins() {
    project(view("data/dir", null, "- {name: clicks, type: int64}"));
    project.write(
        "data/dir/a.parquet",
        "SELECT * FROM (VALUES (1::BIGINT, TIMESTAMP '2024-01-01 05:00', 1::BIGINT),"
            + " (1::BIGINT, TIMESTAMP '2024-01-01 05:00', 2::BIGINT),"
            + " (2::BIGINT, TIMESTAMP '2024-01-01 05:00', 3::BIGINT)) t(user_id, event_ts, clicks)");
    project.write(
        "data/dir/b.parquet",
        "SELECT * FROM (VALUES (1::BIGINT, TIMESTAMP '2024-01-01 05:00', 4::BIGINT),"
            + " (2::BIGINT, TIMESTAMP '2024-01-01 04:00', 5::BIGINT)) t(user_id, event_ts, clicks)");

    List<FeatureRow> rows = scan(project.registry(), "stats", FAR_PAST, FAR_FUTURE);

    assertThat(rows).extracting(r -> r.values()[0]).containsExactly(4L, 3L);
  }

  @Test
  void scanLatest_keysUniqueInInterval_returnsEveryRowOfTheInterval() {
    // key 1 repeats in the file, but not inside [T0, T0 + 2h): the rows are streamed without the
    // window; the 03:00 row of key 1 is outside and must not appear
    project(view("data/s.parquet", null, "- {name: clicks, type: int64}"));
    project.write(
        "data/s.parquet",
        "SELECT * FROM (VALUES (1::BIGINT, TIMESTAMP '2024-01-01 01:00', 1::BIGINT),"
            + " (2::BIGINT, TIMESTAMP '2024-01-01 01:30', 2::BIGINT),"
            + " (1::BIGINT, TIMESTAMP '2024-01-01 03:00', 3::BIGINT),"
            + " (NULL::BIGINT, TIMESTAMP '2024-01-01 01:00', 4::BIGINT),"
            + " (NULL::BIGINT, TIMESTAMP '2024-01-01 01:10', 5::BIGINT)) t(user_id, event_ts,"
            + " clicks)");
    FeatureRegistry registry = project.registry();

    assertThat(scan(registry, "stats", T0, T0.plusSeconds(7200)))
        .extracting(r -> r.key(), r -> r.values()[0])
        .containsExactly(tuple(List.of(1L), 1L), tuple(List.of(2L), 2L));
    assertThat(scan(registry, "stats", FAR_PAST, FAR_FUTURE))
        .extracting(r -> r.key(), r -> r.values()[0])
        .containsExactly(tuple(List.of(1L), 3L), tuple(List.of(2L), 2L));
  }

  @Test
  void scanLatest_compoundKeys_uniquenessIsOfTheWholeKey() {
    String yaml =
        """
        entities:
          - name: pair
            keys: [{name: user_id, type: int64}, {name: country, type: string}]
        feature-views:
          - name: stats
            entity: pair
            source: {path: data/s.parquet}
            timestamp-column: event_ts
            features:
              - {name: clicks, type: int64}
        """;
    project(yaml);
    // each column repeats, every (user_id, country) pair is unique: all rows
    project.write(
        "data/s.parquet",
        "SELECT * FROM (VALUES (1::BIGINT, 'de', TIMESTAMP '2024-01-01 01:00', 1::BIGINT),"
            + " (1::BIGINT, 'fr', TIMESTAMP '2024-01-01 01:00', 2::BIGINT),"
            + " (2::BIGINT, 'de', TIMESTAMP '2024-01-01 01:00', 3::BIGINT)) t(user_id, country,"
            + " event_ts, clicks)");
    assertThat(scan(project.registry(), "stats", FAR_PAST, FAR_FUTURE))
        .extracting(r -> r.key(), r -> r.values()[0])
        .containsExactly(
            tuple(List.of(1L, "de"), 1L),
            tuple(List.of(1L, "fr"), 2L),
            tuple(List.of(2L, "de"), 3L));

    // a repeated pair: only its newest row
    project.write(
        "data/s.parquet",
        "SELECT * FROM (VALUES (1::BIGINT, 'de', TIMESTAMP '2024-01-01 02:00', 1::BIGINT),"
            + " (1::BIGINT, 'fr', TIMESTAMP '2024-01-01 01:00', 2::BIGINT),"
            + " (1::BIGINT, 'de', TIMESTAMP '2024-01-01 01:00', 3::BIGINT)) t(user_id, country,"
            + " event_ts, clicks)");
    assertThat(scan(project.registry(), "stats", FAR_PAST, FAR_FUTURE))
        .extracting(r -> r.key(), r -> r.values()[0])
        .containsExactly(tuple(List.of(1L, "de"), 1L), tuple(List.of(1L, "fr"), 2L));
  }

  @Test
  void scanLatest_andCount_respectHalfOpenInterval() {
    project(view("data/s.parquet", null, "- {name: clicks, type: int64}"));
    project.write(
        "data/s.parquet",
        "SELECT * FROM (VALUES (1::BIGINT, TIMESTAMP '2023-12-31 23:59:59.999999', 1::BIGINT),"
            + " (1::BIGINT, TIMESTAMP '2024-01-01 00:00:00', 2::BIGINT),"
            + " (2::BIGINT, TIMESTAMP '2024-01-01 00:59:59.999999', 3::BIGINT),"
            + " (2::BIGINT, TIMESTAMP '2024-01-01 01:00:00', 4::BIGINT),"
            + " (3::BIGINT, TIMESTAMP '2024-01-01 01:00:00', 5::BIGINT)) t(user_id, event_ts, clicks)");
    FeatureRegistry registry = project.registry();
    Instant end = T0.plusSeconds(3600);

    List<FeatureRow> rows = scan(registry, "stats", T0, end);

    assertThat(rows).extracting(r -> r.values()[0]).containsExactly(2L, 3L);
    try (DuckDbOfflineStore store = TestStores.open(registry)) {
      FeatureView v = registry.view("stats");
      assertThat(store.count(v, T0, end)).isEqualTo(2);
      assertThat(store.count(v, FAR_PAST, FAR_FUTURE)).isEqualTo(5);
      assertThat(store.count(v, Instant.MIN, Instant.MAX)).isEqualTo(5);
      assertThat(store.count(v, end, T0)).isZero();
      // Sub-microsecond bounds: 00:59:59.999999 is before 00:59:59.9999991.
      assertThat(store.count(v, T0, end.minusNanos(900))).isEqualTo(2);
      assertThat(store.count(v, T0.plusNanos(1), end)).isEqualTo(1);
    }
  }

  @Test
  void scanLatest_convertsEveryValueType() {
    project(
        view(
            "data/s.parquet",
            null,
            """
            - {name: i, type: int64}
            - {name: d, type: fp64}
            - {name: f, type: fp32}
            - {name: s, type: string}
            - {name: b, type: bool}
            - {name: y, type: bytes}
            - {name: emb, type: fp32_list}
            - {name: emb_d, type: fp32_list}
            - {name: emb_a, type: fp32_list}
            - {name: ids, type: int64_list}
            - {name: tags, type: string_list}
            - {name: small, type: int64}
            """));
    project.write(
        "data/s.parquet",
        "SELECT 1::BIGINT AS user_id, TIMESTAMP '2024-01-01 00:00:00' AS event_ts,"
            + " 9007199254740993::BIGINT AS i, 0.1::DOUBLE AS d, 1.5::FLOAT AS f, 'héllo' AS s,"
            + " true AS b, '\\x00\\xFFab'::BLOB AS y, [0.25, -1.0, NULL]::FLOAT[] AS emb,"
            + " [0.5, 2.0]::DOUBLE[] AS emb_d, [1.0, 2.0, 3.0]::FLOAT[3] AS emb_a,"
            + " [1, -2, 3]::BIGINT[] AS ids, ['a', NULL, 'c']::VARCHAR[] AS tags,"
            + " 7::TINYINT AS small"
            + " UNION ALL SELECT 2, TIMESTAMP '2024-01-01 00:00:00', NULL, NULL, NULL, NULL, NULL,"
            + " NULL, NULL, NULL, NULL, NULL, NULL, NULL");

    List<FeatureRow> rows = scan(project.registry(), "stats", FAR_PAST, FAR_FUTURE);

    Object[] v = rows.get(0).values();
    assertThat(v[0]).isEqualTo(9007199254740993L);
    assertThat(v[1]).isEqualTo(0.1d);
    assertThat(v[2]).isEqualTo(1.5f);
    assertThat(v[3]).isEqualTo("héllo");
    assertThat(v[4]).isEqualTo(true);
    assertThat((byte[]) v[5]).containsExactly(0, 0xFF, 'a', 'b');
    assertThat((float[]) v[6]).containsExactly(0.25f, -1.0f, Float.NaN);
    assertThat((float[]) v[7]).containsExactly(0.5f, 2.0f);
    assertThat((float[]) v[8]).containsExactly(1f, 2f, 3f);
    assertThat((long[]) v[9]).containsExactly(1L, -2L, 3L);
    assertThat(v[10]).isEqualTo(Arrays.asList("a", null, "c"));
    assertThat(v[11]).isEqualTo(7L);
    List<Feature> features = project.registry().view("stats").features();
    for (int i = 0; i < features.size(); i++) {
      assertThat(features.get(i).type().accepts(v[i])).as(features.get(i).name()).isTrue();
    }
    assertThat(rows.get(1).values()).containsOnlyNulls();
    assertThat(rows.get(0).key()).containsExactly(1L);
    assertThat(rows.get(0).eventTime()).isEqualTo(T0);
  }

  @Test
  void scanLatest_csvSource_stringKeysKeepZeros_andTimesParse() {
    project = new TestProject(dir);
    project.features(
        "features",
        """
        entities:
          - name: item
            keys: [{name: item_id, type: string}]
        feature-views:
          - name: items
            entity: item
            source: {path: data/items.csv}
            timestamp-column: ts
            created-timestamp-column: created_ms
            features:
              - {name: price, type: fp64}
              - {name: emb, type: fp32_list}
              - {name: code, type: string}
        """);
    project.write(
        "data/items.csv",
        "SELECT * FROM (VALUES"
            + " ('007', '2024-01-01T02:00:00+02:00', 1704067200000, 1.5, [1.0, 2.0]::FLOAT[], '01'),"
            + " ('007', '2024-01-01T00:00:00Z', 1704067200001, 2.5, [3.0]::FLOAT[], '02'),"
            + " ('7', '2024-01-01T00:00:00Z', 1704067200000, 3.5, []::FLOAT[], '03'))"
            + " t(item_id, ts, created_ms, price, emb, code)");

    List<FeatureRow> rows = scan(project.registry(), "items", FAR_PAST, FAR_FUTURE);

    assertThat(rows).extracting(r -> r.key()).containsExactly(List.of("007"), List.of("7"));
    FeatureRow r = rows.get(0);
    // Both rows of '007' are at 00:00Z; the greater created time (epoch millis) wins.
    assertThat(r.eventTime()).isEqualTo(T0);
    assertThat(r.createdTime()).isEqualTo(T0.plusMillis(1));
    assertThat(r.values()[0]).isEqualTo(2.5);
    assertThat((float[]) r.values()[1]).containsExactly(3.0f);
    assertThat(r.values()[2]).isEqualTo("02");
    assertThat((float[]) rows.get(1).values()[1]).isEmpty();
  }

  @Test
  void missingColumn_isUserErrorNamingViewFileColumnAndColumns() {
    project(
        view(
            "data/s.parquet", null, "- {name: clicks, type: int64}\n- {name: ctr_7d, type: fp64}"));
    project.write(
        "data/s.parquet",
        "SELECT 1::BIGINT AS user_id, TIMESTAMP '2024-01-01' AS event_ts, 1::BIGINT AS clicks,"
            + " 0.5 AS ctr");
    FeatureRegistry registry = project.registry();

    try (DuckDbOfflineStore store = TestStores.open(registry)) {
      assertThatThrownBy(() -> store.count(registry.view("stats"), FAR_PAST, FAR_FUTURE))
          .isInstanceOfSatisfying(
              ScorelineException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.USER_ERROR))
          .hasMessageContaining("'stats'")
          .hasMessageContaining("s.parquet")
          .hasMessageContaining("'ctr_7d'")
          .hasMessageContaining("[user_id, event_ts, clicks, ctr]");
    }
  }

  @Test
  void missingTimestampOrKeyColumn_isUserError() {
    project(view("data/s.parquet", "created", "- {name: clicks, type: int64}"));
    project.write(
        "data/s.parquet",
        "SELECT 1::BIGINT AS uid, TIMESTAMP '2024-01-01' AS event_ts, 1::BIGINT AS clicks");
    FeatureRegistry registry = project.registry();

    try (DuckDbOfflineStore store = TestStores.open(registry)) {
      assertThatThrownBy(() -> store.scanLatest(registry.view("stats"), T0, T0, r -> {}))
          .isInstanceOfSatisfying(
              ScorelineException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.USER_ERROR))
          .hasMessageContaining("'created'");
      project.write(
          "data/s.parquet",
          "SELECT 1::BIGINT AS uid, TIMESTAMP '2024-01-01' AS event_ts, 1::BIGINT AS clicks,"
              + " TIMESTAMP '2024-01-01' AS created");
      assertThatThrownBy(() -> store.scanLatest(registry.view("stats"), T0, T0, r -> {}))
          .isInstanceOfSatisfying(
              ScorelineException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.USER_ERROR))
          .hasMessageContaining("'user_id'");
    }
  }

  @Test
  void wrongColumnType_isUserError() {
    project(view("data/s.parquet", null, "- {name: emb, type: fp32_list}"));
    project.write(
        "data/s.parquet",
        "SELECT 1::BIGINT AS user_id, TIMESTAMP '2024-01-01' AS event_ts, 1.5::DOUBLE AS emb");
    FeatureRegistry registry = project.registry();

    try (DuckDbOfflineStore store = TestStores.open(registry)) {
      assertThatThrownBy(() -> store.count(registry.view("stats"), FAR_PAST, FAR_FUTURE))
          .isInstanceOfSatisfying(
              ScorelineException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.USER_ERROR))
          .hasMessageContaining("'emb'")
          .hasMessageContaining("DOUBLE");
    }
  }

  @Test
  void missingSource_isUserError() {
    project(view("data/nope.parquet", null, "- {name: clicks, type: int64}"));
    FeatureRegistry registry = project.registry();

    try (DuckDbOfflineStore store = TestStores.open(registry)) {
      assertThatThrownBy(() -> store.count(registry.view("stats"), FAR_PAST, FAR_FUTURE))
          .isInstanceOfSatisfying(
              ScorelineException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.USER_ERROR))
          .hasMessageContaining("nope.parquet");
    }
  }

  @Test
  void pathsWithQuotes_areEscaped() {
    project(view("\"data/it's here/s.parquet\"", null, "- {name: clicks, type: int64}"));
    project.write(
        "data/it's here/s.parquet",
        "SELECT 1::BIGINT AS user_id, TIMESTAMP '2024-01-01' AS event_ts, 5::BIGINT AS clicks");

    assertThat(scan(project.registry(), "stats", FAR_PAST, FAR_FUTURE))
        .extracting(r -> r.values()[0])
        .containsExactly(5L);
  }

  @Test
  void config_isAppliedToDuckDb_andPrivateTempDirectoryIsDeletedOnClose() {
    project(view("data/s.parquet", null, "- {name: clicks, type: int64}"));
    DuckDbOfflineStore store =
        new DuckDbOfflineStore(
            project.registry(), DuckDbConfig.defaults().withThreads(3).withMemoryLimit("300MB"));
    Path temp;
    try (store) {
      assertThat(store.currentSetting("threads")).isEqualTo("3");
      assertThat(store.currentSetting("memory_limit")).isEqualTo("286.1 MiB");
      assertThat(store.currentSetting("TimeZone")).isEqualTo("UTC");
      temp = Path.of(store.currentSetting("temp_directory"));
      assertThat(temp).isDirectory();
      assertThat(temp.getParent()).isEqualTo(Path.of(System.getProperty("java.io.tmpdir")));
    }
    assertThat(temp).doesNotExist();
  }

  @Test
  void scanLatest_sinkFailure_propagates_andStoreStaysUsable() {
    project(view("data/s.parquet", null, "- {name: clicks, type: int64}"));
    project.write(
        "data/s.parquet",
        "SELECT range AS user_id, TIMESTAMP '2024-01-01' AS event_ts, range AS clicks"
            + " FROM range(10000)");
    FeatureRegistry registry = project.registry();
    FeatureView v = registry.view("stats");

    try (DuckDbOfflineStore store = TestStores.open(registry)) {
      assertThatThrownBy(
              () ->
                  store.scanLatest(
                      v,
                      FAR_PAST,
                      FAR_FUTURE,
                      r -> {
                        throw new IllegalStateException("sink is full");
                      }))
          .isInstanceOf(IllegalStateException.class)
          .hasMessage("sink is full");
      assertThat(store.scanLatest(v, FAR_PAST, FAR_FUTURE, r -> {})).isEqualTo(10_000);
    }
  }

  @Test
  void concurrentCalls_eachGetTheirOwnConnection() throws Exception {
    project(view("data/s.parquet", null, "- {name: clicks, type: int64}"));
    project.write(
        "data/s.parquet",
        "SELECT range % 1000 AS user_id, TIMESTAMP '2024-01-01' + to_seconds(range) AS event_ts,"
            + " range AS clicks FROM range(50000)");
    FeatureRegistry registry = project.registry();
    FeatureView v = registry.view("stats");

    try (DuckDbOfflineStore store = TestStores.open(registry)) {
      ExecutorService pool = Executors.newFixedThreadPool(4);
      try {
        List<Future<Long>> results = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
          results.add(pool.submit(() -> store.scanLatest(v, FAR_PAST, FAR_FUTURE, r -> {})));
          results.add(pool.submit(() -> store.count(v, FAR_PAST, FAR_FUTURE)));
        }
        for (int i = 0; i < results.size(); i++) {
          assertThat(results.get(i).get()).isEqualTo(i % 2 == 0 ? 1000L : 50_000L);
        }
      } finally {
        pool.shutdownNow();
      }
    }
  }

  @Test
  void closedStore_isUnavailable() {
    project(view("data/s.parquet", null, "- {name: clicks, type: int64}"));
    FeatureRegistry registry = project.registry();
    DuckDbOfflineStore store = TestStores.open(registry);
    store.close();
    store.close();

    assertThatThrownBy(() -> store.count(registry.view("stats"), FAR_PAST, FAR_FUTURE))
        .isInstanceOfSatisfying(
            ScorelineException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.UNAVAILABLE));
  }

  /**
   * 1M rows over 100k keys, streamed: the sink sees one row per key and keeps nothing, under a 256
   * MB DuckDB limit.
   */
  @Test
  void scanLatest_millionRows_streamsOneRowPerKeyInBoundedMemory() {
    project(view("data/big", null, "- {name: seq, type: int64}\n- {name: emb, type: fp32_list}"));
    // Row r: key r % 100000, event T0 + r seconds, so each key's newest row is r >= 900000.
    for (int part = 0; part < 2; part++) {
      project.write(
          "data/big/part-" + part + ".parquet",
          "SELECT range % 100000 AS user_id,"
              + " TIMESTAMP '2024-01-01' + to_seconds(range) AS event_ts, range AS seq,"
              + " [range % 7, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0]::FLOAT[] AS emb"
              + " FROM range("
              + part * 500_000
              + ", "
              + (part + 1) * 500_000
              + ")");
    }
    FeatureRegistry registry = project.registry();
    AtomicLong delivered = new AtomicLong();
    AtomicLong stale = new AtomicLong();
    AtomicLong keySum = new AtomicLong();
    DuckDbConfig small = TestStores.config().withMemoryLimit("256MB");

    try (DuckDbOfflineStore store = new DuckDbOfflineStore(registry, small)) {
      FeatureView v = registry.view("stats");
      assertThat(store.count(v, FAR_PAST, FAR_FUTURE)).isEqualTo(1_000_000);
      long n =
          store.scanLatest(
              v,
              FAR_PAST,
              FAR_FUTURE,
              r -> {
                delivered.incrementAndGet();
                long seq = (Long) r.values()[0];
                long key = (Long) r.key().get(0);
                if (seq < 900_000
                    || seq % 100_000 != key
                    || ((float[]) r.values()[1]).length != 8) {
                  stale.incrementAndGet();
                }
                keySum.addAndGet(key);
              });

      assertThat(n).isEqualTo(100_000).isEqualTo(delivered.get());
      assertThat(stale.get()).isZero();
      assertThat(keySum.get()).isEqualTo(99_999L * 100_000 / 2);
    }
  }
}
