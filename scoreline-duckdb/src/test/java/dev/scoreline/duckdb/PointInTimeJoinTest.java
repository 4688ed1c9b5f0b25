package dev.scoreline.duckdb;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.tuple;

import dev.scoreline.core.error.ErrorCode;
import dev.scoreline.core.error.ScorelineException;
import dev.scoreline.core.feature.FeatureRef;
import dev.scoreline.core.feature.FeatureRegistry;
import dev.scoreline.duckdb.PointInTimeJoin.Strategy;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Point-in-time join semantics with hand-computed expectations, each under both join strategies.
 * Times are on 2024-01-01 (UTC) unless written out.
 */
class PointInTimeJoinTest {
  static final String FEATURES =
      """
      entities:
        - name: user
          keys: [{name: user_id, type: int64}]
        - name: item
          keys: [{name: item_id, type: string}]
        - name: user_country
          keys: [{name: user_id, type: int64}, {name: country, type: string}]
      feature-views:
        - name: user_stats
          entity: user
          source: {path: data/user_stats.parquet}
          timestamp-column: event_ts
          created-timestamp-column: created_ts
          ttl: 2h
          features:
            - {name: clicks, type: int64}
            - {name: ctr, type: fp64}
        - name: user_profile
          entity: user
          source: {path: data/profile}
          timestamp-column: event_ts
          features:
            - {name: tier, type: string}
        - name: item_stats
          entity: item
          source: {path: data/items.csv}
          timestamp-column: event_ts
          features:
            - {name: price, type: fp64}
            - {name: embedding, type: fp32_list}
        - name: user_country_stats
          entity: user_country
          source: {path: data/user_country.parquet}
          timestamp-column: event_ts
          features:
            - {name: spend, type: int64}
      """;

  @TempDir Path dir;
  TestProject project;

  @BeforeEach
  void setUp() {
    project = new TestProject(dir).features("features", FEATURES);
    // Defaults so that every view's source exists; tests overwrite what they use.
    userStats("(0, '2000-01-01 00:00:00', '2000-01-01 00:00:00', 0, 0.0)");
    project.write(
        "data/profile/part-0.parquet",
        "SELECT 0::BIGINT AS user_id, TIMESTAMP '2000-01-01' AS event_ts, 'none' AS tier");
    project.write(
        "data/items.csv",
        "SELECT '000' AS item_id, TIMESTAMP '2000-01-01' AS event_ts, 0.0 AS price,"
            + " [0.0]::FLOAT[] AS embedding");
    project.write(
        "data/user_country.parquet",
        "SELECT 0::BIGINT AS user_id, 'xx' AS country, TIMESTAMP '2000-01-01' AS event_ts,"
            + " 0::BIGINT AS spend");
  }

  @AfterEach
  void tearDown() {
    project.close();
  }

  /** Writes user_stats rows {@code (user_id, 'event_ts', 'created_ts', clicks, ctr)}. */
  void userStats(String... rows) {
    project.write(
        "data/user_stats.parquet",
        "SELECT user_id::BIGINT AS user_id, event_ts::TIMESTAMP AS event_ts,"
            + " created_ts::TIMESTAMP AS created_ts, clicks::BIGINT AS clicks, ctr::DOUBLE AS ctr"
            + " FROM (VALUES "
            + String.join(", ", rows)
            + ") t(user_id, event_ts, created_ts, clicks, ctr)");
  }

  /** Writes a spine of rows {@code (user_id, 'ts')} and returns its path. */
  Path userSpine(String... rows) {
    return project.write(
        "spine.parquet",
        "SELECT user_id::BIGINT AS user_id, ts::TIMESTAMP AS ts FROM (VALUES "
            + String.join(", ", rows)
            + ") t(user_id, ts)");
  }

  Path join(Strategy strategy, Path spine, String... features) {
    FeatureRegistry registry = project.registry();
    List<FeatureRef> refs = new ArrayList<>();
    for (String f : features) {
      refs.add(FeatureRef.parse("features", f));
    }
    Path out = dir.resolve("out/training.parquet");
    try (DuckDbOfflineStore store = TestStores.open(registry, strategy)) {
      long rows = store.pointInTimeJoin(spine, "ts", refs, registry, out);
      assertThat(rows).isEqualTo(project.countRows(spine)).isEqualTo(project.countRows(out));
    }
    return out;
  }

  List<Object> clicks(Strategy strategy, Path spine) {
    return project.column(join(strategy, spine, "user_stats:clicks"), "user_stats__clicks");
  }

  @ParameterizedTest
  @EnumSource(Strategy.class)
  void pointInTimeJoin_eventAtSpineTime_isKnown(Strategy strategy) {
    userStats("(1, '2024-01-01 10:00:00', '2024-01-01 10:00:00', 5, 0.5)");
    Path spine = userSpine("(1, '2024-01-01 10:00:00')", "(1, '2024-01-01 09:59:59.999999')");

    assertThat(clicks(strategy, spine)).containsExactly(5L, null);
  }

  @ParameterizedTest
  @EnumSource(Strategy.class)
  void pointInTimeJoin_featureAfterSpineTime_isNotUsed(Strategy strategy) {
    userStats(
        "(1, '2024-01-01 09:00:00', '2024-01-01 09:00:00', 1, 0.1)",
        "(1, '2024-01-01 11:00:00', '2024-01-01 11:00:00', 2, 0.2)");
    Path spine =
        userSpine(
            "(1, '2024-01-01 10:00:00')",
            "(1, '2024-01-01 10:59:59.999999')",
            "(1, '2024-01-01 11:00:00')",
            "(1, '2024-01-01 08:59:59')");

    assertThat(clicks(strategy, spine)).containsExactly(1L, 1L, 2L, null);
  }

  @ParameterizedTest
  @EnumSource(Strategy.class)
  void pointInTimeJoin_ttlLowerBound_isInclusive_andJustOutsideIsNull(Strategy strategy) {
    // user_stats has ttl 2h; user_profile has none.
    userStats("(1, '2024-01-01 08:00:00', '2024-01-01 08:00:00', 7, 0.7)");
    project.write(
        "data/profile/part-0.parquet",
        "SELECT 1::BIGINT AS user_id, TIMESTAMP '2024-01-01 08:00:00' AS event_ts, 'gold' AS tier");
    Path spine =
        userSpine(
            "(1, '2024-01-01 10:00:00')", // exactly ttl old: kept
            "(1, '2024-01-01 10:00:00.000001')", // one microsecond too old
            "(1, '2024-01-01 09:00:00')");

    Path out = join(strategy, spine, "user_stats:clicks", "user_profile:tier");

    assertThat(project.readParquet(out))
        .extracting(r -> r.get("user_stats__clicks"), r -> r.get("user_profile__tier"))
        .containsExactly(tuple(7L, "gold"), tuple(null, "gold"), tuple(7L, "gold"));
  }

  @ParameterizedTest
  @EnumSource(Strategy.class)
  void pointInTimeJoin_equalEventTimes_brokenByCreatedTime(Strategy strategy) {
    userStats(
        "(1, '2024-01-01 09:00:00', '2024-01-01 09:05:00', 1, 0.1)",
        "(1, '2024-01-01 09:00:00', '2024-01-01 09:10:00', 2, 0.2)",
        "(1, '2024-01-01 09:00:00', '2024-01-01 09:01:00', 3, 0.3)",
        "(1, '2024-01-01 09:00:00', NULL, 4, 0.4)");
    Path spine = userSpine("(1, '2024-01-01 10:00:00')");

    assertThat(clicks(strategy, spine)).containsExactly(2L);
  }

  @ParameterizedTest
  @EnumSource(Strategy.class)
  void pointInTimeJoin_lateCorrection_wins(Strategy strategy) {
    userStats(
        "(1, '2024-01-01 09:00:00', '2024-01-01 09:00:00', 1, 0.1)",
        "(1, '2024-01-01 10:00:00', '2024-01-01 10:00:00', 2, 0.2)",
        // the 09:00 value, corrected at 12:00
        "(1, '2024-01-01 09:00:00', '2024-01-01 12:00:00', 100, 1.0)");
    Path spine = userSpine("(1, '2024-01-01 09:30:00')", "(1, '2024-01-01 10:30:00')");

    // The created time breaks ties only; it is not an "as known at" filter (Feast's default).
    assertThat(clicks(strategy, spine)).containsExactly(100L, 2L);
  }

  @ParameterizedTest
  @EnumSource(Strategy.class)
  void pointInTimeJoin_missingEntity_isNull(Strategy strategy) {
    userStats("(1, '2024-01-01 09:00:00', '2024-01-01 09:00:00', 1, 0.1)");
    Path spine =
        userSpine("(42, '2024-01-01 10:00:00')", "(NULL, '2024-01-01 10:00:00')", "(1, NULL)");

    assertThat(clicks(strategy, spine)).containsExactly(null, null, null);
  }

  @ParameterizedTest
  @EnumSource(Strategy.class)
  void pointInTimeJoin_duplicateSpineRows_eachGetTheValue(Strategy strategy) {
    userStats(
        "(1, '2024-01-01 09:00:00', '2024-01-01 09:00:00', 1, 0.1)",
        "(2, '2024-01-01 09:00:00', '2024-01-01 09:00:00', 2, 0.2)");
    Path spine =
        userSpine(
            "(1, '2024-01-01 10:00:00')",
            "(1, '2024-01-01 10:00:00')",
            "(2, '2024-01-01 10:00:00')",
            "(1, '2024-01-01 10:00:00')");

    assertThat(clicks(strategy, spine)).containsExactly(1L, 1L, 2L, 1L);
  }

  @ParameterizedTest
  @EnumSource(Strategy.class)
  void pointInTimeJoin_twoEntities_userAndItemKeysInOneSpine(Strategy strategy) {
    userStats(
        "(1, '2024-01-01 09:00:00', '2024-01-01 09:00:00', 10, 0.1)",
        "(2, '2024-01-01 09:00:00', '2024-01-01 09:00:00', 20, 0.2)");
    project.write(
        "data/items.csv",
        "SELECT * FROM (VALUES ('007', TIMESTAMP '2024-01-01 08:00:00', 9.5, [0.5, 1.5]::FLOAT[]),"
            + " ('007', TIMESTAMP '2024-01-01 10:30:00', 7.0, [2.0, 3.0]::FLOAT[]),"
            + " ('8', TIMESTAMP '2024-01-01 08:00:00', 1.0, [4.0]::FLOAT[]))"
            + " t(item_id, event_ts, price, embedding)");
    Path spine =
        project.write(
            "spine.parquet",
            "SELECT * FROM (VALUES (1::BIGINT, '007', TIMESTAMP '2024-01-01 10:00:00', true),"
                + " (2::BIGINT, '8', TIMESTAMP '2024-01-01 11:00:00', false),"
                + " (1::BIGINT, '007', TIMESTAMP '2024-01-01 11:00:00', true),"
                + " (3::BIGINT, '7', TIMESTAMP '2024-01-01 11:00:00', false))"
                + " t(user_id, item_id, ts, label)");

    Path out =
        join(strategy, spine, "item_stats:embedding", "user_stats:clicks", "item_stats:price");

    assertThat(project.schema(out))
        .containsExactly(
            Map.entry("user_id", "BIGINT"),
            Map.entry("item_id", "VARCHAR"),
            Map.entry("ts", "TIMESTAMP"),
            Map.entry("label", "BOOLEAN"),
            Map.entry("item_stats__embedding", "FLOAT[]"),
            Map.entry("user_stats__clicks", "BIGINT"),
            Map.entry("item_stats__price", "DOUBLE"));
    assertThat(project.readParquet(out))
        .extracting(
            r -> r.get("user_id"),
            r -> r.get("label"),
            r -> r.get("user_stats__clicks"),
            r -> r.get("item_stats__price"),
            r -> r.get("item_stats__embedding"))
        .containsExactly(
            tuple(1L, true, 10L, 9.5, List.of(0.5f, 1.5f)),
            tuple(2L, false, 20L, 1.0, List.of(4.0f)),
            tuple(1L, true, 10L, 7.0, List.of(2.0f, 3.0f)),
            // '7' is not '007': string keys are not numbers
            tuple(3L, false, null, null, null));
  }

  @ParameterizedTest
  @EnumSource(Strategy.class)
  void pointInTimeJoin_directoryOfParquet_laterFileWinsTies(Strategy strategy) {
    project.write(
        "data/profile/part-0.parquet",
        "SELECT * FROM (VALUES (1::BIGINT, TIMESTAMP '2024-01-01 09:00:00', 'silver'),"
            + " (2::BIGINT, TIMESTAMP '2024-01-01 09:00:00', 'bronze'))"
            + " t(user_id, event_ts, tier)");
    project.write(
        "data/profile/part-1.parquet",
        "SELECT * FROM (VALUES (1::BIGINT, TIMESTAMP '2024-01-01 09:00:00', 'gold'),"
            + " (2::BIGINT, TIMESTAMP '2024-01-01 08:00:00', 'iron'))"
            + " t(user_id, event_ts, tier)");
    Path spine = userSpine("(1, '2024-01-01 10:00:00')", "(2, '2024-01-01 10:00:00')");

    Path out = join(strategy, spine, "user_profile:tier");

    assertThat(project.column(out, "user_profile__tier")).containsExactly("gold", "bronze");
  }

  @ParameterizedTest
  @EnumSource(Strategy.class)
  void pointInTimeJoin_csvSpineAndCompositeKey(Strategy strategy) {
    project.write(
        "data/user_country.parquet",
        "SELECT * FROM (VALUES (1::BIGINT, 'de', TIMESTAMP '2024-01-01 09:00:00', 5::BIGINT),"
            + " (1::BIGINT, 'fr', TIMESTAMP '2024-01-01 09:00:00', 6::BIGINT),"
            + " (2::BIGINT, 'de', TIMESTAMP '2024-01-01 09:00:00', 7::BIGINT))"
            + " t(user_id, country, event_ts, spend)");
    Path spine =
        project.write(
            "spine.csv",
            "SELECT * FROM (VALUES (1, 'fr', '2024-01-01T10:00:00Z'),"
                + " (2, 'fr', '2024-01-01T10:00:00Z'), (2, 'de', '2024-01-01T12:00:00+02:00'),"
                + " (2, 'de', '2024-01-01T08:59:59Z')) t(user_id, country, ts)");

    Path out = join(strategy, spine, "user_country_stats:spend");

    // 12:00+02:00 is 10:00 UTC.
    assertThat(project.column(out, "user_country_stats__spend"))
        .containsExactly(6L, null, 7L, null);
  }

  @ParameterizedTest
  @EnumSource(Strategy.class)
  void pointInTimeJoin_keepsSpineColumnsInOrder(Strategy strategy) {
    userStats("(1, '2024-01-01 09:00:00', '2024-01-01 09:00:00', 3, 0.25)");
    Path spine =
        project.write(
            "spine.parquet",
            "SELECT * FROM (VALUES ('a', TIMESTAMP '2024-01-01 10:00:00', 1::BIGINT, 0.5::DOUBLE),"
                + " ('it''s \"b\"', TIMESTAMP '2024-01-01 10:00:00', 1::BIGINT, 1.5::DOUBLE))"
                + " t(\"note \"\"q\"\"\", ts, user_id, \"Label\")");

    Path out = join(strategy, spine, "user_stats:ctr", "user_stats:clicks");

    assertThat(project.schema(out).keySet())
        .containsExactly(
            "note \"q\"", "ts", "user_id", "Label", "user_stats__ctr", "user_stats__clicks");
    assertThat(project.readParquet(out))
        .extracting(r -> r.get("note \"q\""), r -> r.get("Label"), r -> r.get("user_stats__ctr"))
        .containsExactly(tuple("a", 0.5, 0.25), tuple("it's \"b\"", 1.5, 0.25));
  }

  @Test
  void pointInTimeJoin_spineWithoutEntityKey_isUserError() {
    Path spine =
        project.write("spine.parquet", "SELECT 1 AS uid, TIMESTAMP '2024-01-01 10:00:00' AS ts");

    assertThatThrownBy(() -> join(Strategy.ASOF, spine, "user_stats:clicks"))
        .isInstanceOfSatisfying(
            ScorelineException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.USER_ERROR))
        .hasMessageContaining("user_id")
        .hasMessageContaining("uid");
  }

  @Test
  void pointInTimeJoin_spineWithoutTimestampColumn_isUserError() {
    Path spine =
        project.write("spine.parquet", "SELECT 1 AS user_id, TIMESTAMP '2024-01-01' AS event_ts");

    assertThatThrownBy(() -> join(Strategy.ASOF, spine, "user_stats:clicks"))
        .isInstanceOfSatisfying(
            ScorelineException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.USER_ERROR))
        .hasMessageContaining("'ts'");
  }

  @Test
  void pointInTimeJoin_unknownFeature_isNotFound() {
    Path spine = userSpine("(1, '2024-01-01 10:00:00')");

    assertThatThrownBy(() -> join(Strategy.ASOF, spine, "user_stats:nope"))
        .isInstanceOfSatisfying(
            ScorelineException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.NOT_FOUND));
    assertThatThrownBy(() -> join(Strategy.ASOF, spine, "nope:clicks"))
        .isInstanceOfSatisfying(
            ScorelineException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.NOT_FOUND));
  }

  @Test
  void pointInTimeJoin_featureRequestedTwice_isUserError() {
    Path spine = userSpine("(1, '2024-01-01 10:00:00')");

    assertThatThrownBy(() -> join(Strategy.ASOF, spine, "user_stats:clicks", "user_stats:clicks"))
        .isInstanceOfSatisfying(
            ScorelineException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.USER_ERROR));
  }

  @Test
  void pointInTimeJoin_failure_leavesNoOutputFile() {
    userStats("(1, '2024-01-01 09:00:00', '2024-01-01 09:00:00', 1, 0.1)");
    Path spine =
        project.write(
            "spine.parquet", "SELECT 'not a number' AS user_id, TIMESTAMP '2024-01-01' AS ts");

    assertThatThrownBy(() -> join(Strategy.ASOF, spine, "user_stats:clicks"))
        .isInstanceOfSatisfying(
            ScorelineException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.USER_ERROR));
    assertThat(dir.resolve("out").toFile().list()).isEmpty();
  }

  @Test
  void pointInTimeJoin_strategiesAgreeWithBruteForce_onRandomData() {
    for (long seed = 1; seed <= 6; seed++) {
      RandomHistory h = RandomHistory.generate(seed);
      h.write(project);
      List<Long> expectedTtl = h.expected(RandomHistory.TTL_MINUTES, true);
      List<Long> expectedAll = h.expected(0, false);
      for (Strategy strategy : Strategy.values()) {
        Path out = join(strategy, dir.resolve("spine.parquet"), "user_stats:clicks");
        assertThat(project.column(out, "user_stats__clicks"))
            .as("seed %d, %s, ttl", seed, strategy)
            .containsExactlyElementsOf(expectedTtl);
        Path outAll = join(strategy, dir.resolve("spine.parquet"), "user_profile:tier");
        assertThat(project.column(outAll, "user_profile__tier"))
            .as("seed %d, %s, no ttl", seed, strategy)
            .containsExactlyElementsOf(
                expectedAll.stream().map(v -> v == null ? null : "v" + v).toList());
      }
    }
  }
}
