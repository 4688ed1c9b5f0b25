package dev.scoreline.core.feature.online;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.scoreline.core.error.ErrorCode;
import dev.scoreline.core.error.ScorelineException;
import dev.scoreline.core.feature.FeatureFixtures;
import dev.scoreline.core.feature.FeatureFixtures.MutableClock;
import dev.scoreline.core.feature.FeatureRef;
import dev.scoreline.core.feature.FeatureRegistry;
import dev.scoreline.core.feature.FeatureRow;
import dev.scoreline.core.feature.InMemoryKvStore;
import dev.scoreline.core.feature.ValueType;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class OnlineFeatureStoreTest {
  static final Instant T0 = Instant.parse("2024-05-01T12:00:00Z");
  static final FeatureRef CLICKS = new FeatureRef("user_stats", "clicks");
  static final FeatureRef CTR = new FeatureRef("user_stats", "ctr");
  static final FeatureRef COUNTRY = new FeatureRef("user_profile", "country");
  static final FeatureRef EMBEDDING = new FeatureRef("user_profile", "embedding");
  static final FeatureRef PRICE = new FeatureRef("item_stats", "price");
  static final FeatureRef IN_STOCK = new FeatureRef("item_stats", "in_stock");

  @TempDir Path dir;
  InMemoryKvStore kv;
  FeatureRegistry registry;
  MutableClock clock;
  OnlineFeatureStore store;

  @BeforeEach
  void setUp() {
    kv = new InMemoryKvStore();
    registry = FeatureFixtures.registry(dir);
    clock = new MutableClock(T0);
    store = new OnlineFeatureStore(kv, registry, clock);
  }

  static FeatureRow row(long user, Instant event, Instant created, Object... values) {
    return new FeatureRow(List.of(user), event, created, values);
  }

  static Map<String, Object> user(Object id) {
    Map<String, Object> m = new HashMap<>();
    m.put("user_id", id);
    return m;
  }

  static Map<String, Object> keys(Object userId, Object itemId) {
    Map<String, Object> m = new HashMap<>();
    m.put("user_id", userId);
    m.put("item_id", itemId);
    return m;
  }

  static void assertError(ThrowingCallable call, ErrorCode code, String field) {
    assertThatThrownBy(call)
        .isInstanceOfSatisfying(
            ScorelineException.class,
            e -> {
              assertThat(e.code()).isEqualTo(code);
              if (field != null) {
                assertThat(e.field()).contains(field);
              }
            });
  }

  // ---------------------------------------------------------------- statuses

  @Test
  void get_writtenRow_presentWithValueAndEventTime() {
    Instant event = T0.minusSeconds(60);
    store.write("user_stats", List.of(row(1, event, null, 10L, 0.25)));

    FeatureVectors v = store.get(List.of(CLICKS, CTR), List.of(user(1L)));

    assertThat(v.names()).containsExactly("user_stats:clicks", "user_stats:ctr");
    assertThat(v.rowCount()).isEqualTo(1);
    assertThat(v.status(0, 0)).isEqualTo(FeatureStatus.PRESENT);
    assertThat(v.value(0, 0)).isEqualTo(10L);
    assertThat(v.getLong(0, 0)).isEqualTo(10L);
    assertThat(v.value(1, 0)).isEqualTo(0.25);
    assertThat(v.getDouble(1, 0)).isEqualTo(0.25);
    assertThat(v.eventTime(0, 0)).isEqualTo(event);
    assertThat(v.eventTime(1, 0)).isEqualTo(event);
  }

  @Test
  void get_unknownKey_notFoundWithoutTimestamp() {
    store.write("user_stats", List.of(row(1, T0, null, 10L, 0.25)));

    FeatureVectors v = store.get(List.of(CLICKS), List.of(user(2L)));

    assertThat(v.status(0, 0)).isEqualTo(FeatureStatus.NOT_FOUND);
    assertThat(v.value(0, 0)).isNull();
    assertThat(v.eventTime(0, 0)).isNull();
    assertThat(v.getLong(0, 0)).isZero();
  }

  @Test
  void get_keyWithOtherViewOnly_notFound() {
    store.write("user_profile", List.of(row(1, T0, null, "de", null)));

    FeatureVectors v = store.get(List.of(CLICKS, COUNTRY), List.of(user(1L)));

    assertThat(v.status(0, 0)).isEqualTo(FeatureStatus.NOT_FOUND);
    assertThat(v.status(1, 0)).isEqualTo(FeatureStatus.PRESENT);
  }

  @Test
  void get_nullFeature_nullStatusWithTimestamp() {
    store.write("user_stats", List.of(row(1, T0, null, null, 0.5)));

    FeatureVectors v = store.get(List.of(CLICKS, CTR), List.of(user(1L)));

    assertThat(v.status(0, 0)).isEqualTo(FeatureStatus.NULL);
    assertThat(v.value(0, 0)).isNull();
    assertThat(v.eventTime(0, 0)).isEqualTo(T0);
    assertThat(v.status(1, 0)).isEqualTo(FeatureStatus.PRESENT);
  }

  @Test
  void get_olderThanTtl_expiredWithNullValueAndTimestamp() {
    Instant event = T0.minus(Duration.ofHours(2)); // user_stats ttl: 1h
    store.write("user_stats", List.of(row(1, event, null, 10L, 0.25)));

    FeatureVectors v = store.get(List.of(CLICKS), List.of(user(1L)));

    assertThat(v.status(0, 0)).isEqualTo(FeatureStatus.EXPIRED);
    assertThat(v.value(0, 0)).isNull();
    assertThat(v.eventTime(0, 0)).isEqualTo(event);
  }

  @Test
  void get_ttlBoundary_exactlyTtlOldPresentAndOneMicrosecondOlderExpired() {
    store.write("user_stats", List.of(row(1, T0.minus(Duration.ofHours(1)), null, 1L, null)));
    store.write(
        "user_stats",
        List.of(row(2, T0.minus(Duration.ofHours(1)).minusNanos(1000), null, 2L, null)));

    FeatureVectors v = store.get(List.of(CLICKS), List.of(user(1L), user(2L)));

    assertThat(v.status(0, 0)).isEqualTo(FeatureStatus.PRESENT);
    assertThat(v.status(0, 1)).isEqualTo(FeatureStatus.EXPIRED);
  }

  @Test
  void get_viewWithoutTtl_neverExpires() {
    store.write(
        "user_profile", List.of(row(1, Instant.parse("1990-01-01T00:00:00Z"), null, "de", null)));

    assertThat(store.get(List.of(COUNTRY), List.of(user(1L))).status(0, 0))
        .isEqualTo(FeatureStatus.PRESENT);
  }

  @Test
  void get_futureEventTime_present() {
    store.write("user_stats", List.of(row(1, T0.plus(Duration.ofDays(1)), null, 1L, null)));

    assertThat(store.get(List.of(CLICKS), List.of(user(1L))).status(0, 0))
        .isEqualTo(FeatureStatus.PRESENT);
  }

  // ---------------------------------------------------------------- round trips

  @Test
  void get_twoViewsOfOneEntity_oneMultiGetRecordsCall() {
    store.write("user_stats", List.of(row(1, T0, null, 10L, 0.25), row(2, T0, null, 20L, 0.5)));
    store.write("user_profile", List.of(row(1, T0, null, "de", new float[] {1f, 2f})));
    kv.multiGetRecordsCalls.set(0);

    FeatureVectors v =
        store.get(List.of(CLICKS, COUNTRY, EMBEDDING, CTR), List.of(user(1L), user(2L)));

    assertThat(kv.multiGetRecordsCalls.get()).isEqualTo(1);
    assertThat(v.value(0, 0)).isEqualTo(10L);
    assertThat(v.value(1, 0)).isEqualTo("de");
    assertThat((float[]) v.value(2, 0)).containsExactly(1f, 2f);
    assertThat(v.value(3, 1)).isEqualTo(0.5);
    assertThat(v.status(1, 1)).isEqualTo(FeatureStatus.NOT_FOUND);
  }

  @Test
  void get_featuresOfTwoEntities_oneCallPerEntity() {
    store.write("user_stats", List.of(row(1, T0, null, 10L, null)));
    store.write(
        "item_stats",
        List.of(
            new FeatureRow(List.of("a"), T0, null, new Object[] {1.5f, true}),
            new FeatureRow(List.of("b"), T0, null, new Object[] {2.5f, false})));
    kv.multiGetRecordsCalls.set(0);

    FeatureVectors v =
        store.get(
            List.of(CLICKS, PRICE, IN_STOCK), List.of(keys(1L, "a"), keys(1L, "b"), keys(1L, "c")));

    assertThat(kv.multiGetRecordsCalls.get()).isEqualTo(2);
    assertThat(v.getLong(0, 0)).isEqualTo(10L);
    assertThat(v.getLong(0, 2)).isEqualTo(10L);
    assertThat(v.getFloat(1, 0)).isEqualTo(1.5f);
    assertThat(v.getFloat(1, 1)).isEqualTo(2.5f);
    assertThat(v.getBoolean(2, 0)).isTrue();
    assertThat(v.value(2, 1)).isEqualTo(false);
    assertThat(v.status(1, 2)).isEqualTo(FeatureStatus.NOT_FOUND);
  }

  @Test
  void get_sameKeyInManyRows_readOnceAndCopied() {
    store.write("user_stats", List.of(row(7, T0, null, 70L, 0.7)));
    List<Map<String, Object>> rows = new ArrayList<>();
    for (int i = 0; i < 50; i++) {
      rows.add(keys(7L, "item" + i));
    }

    FeatureVectors v = store.get(List.of(CLICKS, CTR), rows);

    assertThat(kv.lastMultiGetKeys).hasSize(1);
    for (int i = 0; i < 50; i++) {
      assertThat(v.getLong(0, i)).isEqualTo(70L);
      assertThat(v.eventTime(1, i)).isEqualTo(T0);
    }
  }

  @Test
  void get_everyValueType_returnsJavaTypesOfValueType() {
    Object[] values = {
      1L, 2.5, 3.5f, "s", true, new byte[] {9}, new float[] {1f}, new long[] {2L}, List.of("t")
    };
    store.write("all_types", List.of(row(1, T0, null, values)));
    List<FeatureRef> all = registry.resolve("features", List.of("all_types:*"));

    FeatureVectors v = store.get(all, List.of(user(1L)));

    assertThat(v.featureCount()).isEqualTo(9);
    for (int f = 0; f < 9; f++) {
      assertThat(v.status(f, 0)).isEqualTo(FeatureStatus.PRESENT);
      assertThat(v.type(f).accepts(v.value(f, 0))).isTrue();
    }
    assertThat(v.value(0, 0)).isEqualTo(1L);
    assertThat(v.value(1, 0)).isEqualTo(2.5);
    assertThat(v.value(2, 0)).isEqualTo(3.5f);
    assertThat(v.value(3, 0)).isEqualTo("s");
    assertThat(v.value(4, 0)).isEqualTo(true);
    assertThat((byte[]) v.value(5, 0)).containsExactly(9);
    assertThat((long[]) v.value(7, 0)).containsExactly(2L);
    assertThat(v.value(8, 0)).isEqualTo(List.of("t"));
  }

  @Test
  void number_isTheNumericValueOfNumbersAndBooleans_nanOtherwise() {
    Object[] values = {
      -3L, 2.5, 3.5f, "7", false, new byte[] {9}, new float[] {1f}, new long[] {2L}, List.of("t")
    };
    store.write("all_types", List.of(row(1, T0, null, values), row(2, T0, null, new Object[9])));
    List<FeatureRef> all = registry.resolve("features", List.of("all_types:*"));

    FeatureVectors v = store.get(all, List.of(user(1L), user(2L), user(3L)));

    double[] want = {-3, 2.5, 3.5, Double.NaN, 0, Double.NaN, Double.NaN, Double.NaN, Double.NaN};
    for (int f = 0; f < 9; f++) {
      assertThat(Double.valueOf(v.number(f, 0)))
          .as(v.names().get(f))
          .isEqualTo(Double.valueOf(want[f]));
      assertThat(v.number(f, 1)).as("NULL").isNaN();
      assertThat(v.number(f, 2)).as("NOT_FOUND").isNaN();
    }
  }

  @Test
  void get_viewStar_expandsToEveryFeature() {
    store.write("user_stats", List.of(row(1, T0, null, 1L, 2.0)));

    FeatureVectors v = store.get(List.of(new FeatureRef("user_stats", "*")), List.of(user(1L)));

    assertThat(v.names()).containsExactly("user_stats:clicks", "user_stats:ctr");
  }

  @Test
  void get_sameFeatureTwice_fillsBothColumns() {
    store.write("user_stats", List.of(row(1, T0, null, 1L, 2.0)));

    FeatureVectors v = store.get(List.of(CTR, CLICKS, CTR), List.of(user(1L)));

    assertThat(v.value(0, 0)).isEqualTo(2.0);
    assertThat(v.value(1, 0)).isEqualTo(1L);
    assertThat(v.value(2, 0)).isEqualTo(2.0);
  }

  @Test
  void get_equalFeatureLists_compiledOnce() {
    store.get(new ArrayList<>(List.of(CLICKS, CTR)), List.of(user(1L)));
    store.get(List.of(CLICKS, CTR), List.of(user(2L)));
    store.get(List.of(CTR), List.of(user(2L)));

    assertThat(store.cachedPlans()).isEqualTo(2);
  }

  @Test
  void get_noRows_noStoreCall() {
    FeatureVectors v = store.get(List.of(CLICKS), List.of());

    assertThat(v.rowCount()).isZero();
    assertThat(kv.multiGetRecordsCalls.get()).isZero();
  }

  @Test
  void get_featureAppendedToViewAfterWrite_notFound() {
    store.write("user_stats", List.of(row(1, T0, null, 1L, 2.0)));
    Path evolved = dir.resolve("evolved");
    FeatureRegistry next =
        FeatureFixtures.registry(
            evolved,
            FeatureFixtures.FEATURES_YAML.replace(
                "      - {name: ctr, type: fp64}\n",
                "      - {name: ctr, type: fp64}\n      - {name: views, type: int64}\n"));
    OnlineFeatureStore reader = new OnlineFeatureStore(kv, next, clock);

    FeatureVectors v =
        reader.get(List.of(CLICKS, new FeatureRef("user_stats", "views")), List.of(user(1L)));

    assertThat(v.status(0, 0)).isEqualTo(FeatureStatus.PRESENT);
    assertThat(v.status(1, 0)).isEqualTo(FeatureStatus.NOT_FOUND);
    assertThat(v.eventTime(1, 0)).isNull();
  }

  @Test
  void get_int64KeyAsDigitStringOrInteger_accepted() {
    store.write("user_stats", List.of(row(42, T0, null, 1L, null)));

    FeatureVectors v = store.get(List.of(CLICKS), List.of(user("42"), user(42), user(42L)));

    for (int r = 0; r < 3; r++) {
      assertThat(v.getLong(0, r)).isEqualTo(1L);
    }
  }

  // ---------------------------------------------------------------- errors

  @Test
  void get_unknownView_notFoundNamingIt() {
    assertError(
        () -> store.get(List.of(CLICKS, new FeatureRef("nope", "x")), List.of(user(1L))),
        ErrorCode.NOT_FOUND,
        "features[1]");
  }

  @Test
  void get_unknownFeature_notFoundNamingIt() {
    assertThatThrownBy(
            () -> store.get(List.of(new FeatureRef("user_stats", "clickz")), List.of(user(1L))))
        .isInstanceOfSatisfying(
            ScorelineException.class,
            e -> {
              assertThat(e.code()).isEqualTo(ErrorCode.NOT_FOUND);
              assertThat(e.field()).contains("features[0]");
              assertThat(e.getMessage()).contains("clickz").contains("clicks");
            });
  }

  @Test
  void get_offlineOnlyView_userError() {
    assertError(
        () -> store.get(List.of(new FeatureRef("archive", "old")), List.of(user(1L))),
        ErrorCode.USER_ERROR,
        "features[0]");
  }

  @Test
  void get_missingKeyColumn_userErrorNamingRowAndColumn() {
    assertThatThrownBy(() -> store.get(List.of(CLICKS, PRICE), List.of(keys(1L, "a"), user(2L))))
        .isInstanceOfSatisfying(
            ScorelineException.class,
            e -> {
              assertThat(e.code()).isEqualTo(ErrorCode.USER_ERROR);
              assertThat(e.field()).contains("entityRows[1].item_id");
              assertThat(e.getMessage()).contains("entityRows[1]").contains("item_id");
            });
  }

  @Test
  void get_wrongKeyType_userErrorNamingRowAndColumn() {
    assertError(
        () -> store.get(List.of(CLICKS), List.of(user(1L), user("abc"))),
        ErrorCode.USER_ERROR,
        "entityRows[1].user_id");
    assertError(
        () -> store.get(List.of(PRICE), List.of(keys(1L, 5))),
        ErrorCode.USER_ERROR,
        "entityRows[0].item_id");
  }

  @Test
  void get_ids_sameAsRowMapsOfTheKeyColumn() {
    store.write("user_stats", List.of(row(1, T0, null, 10L, 0.25), row(2, T0, null, null, 0.5)));
    store.write("user_profile", List.of(row(2, T0, null, "de", new float[] {1f})));
    long[] ids = {2, 1, 9, 2};
    List<Map<String, Object>> rows = new ArrayList<>();
    for (long id : ids) {
      rows.add(Map.of("user_id", id));
    }
    List<FeatureRef> refs = List.of(CLICKS, CTR, COUNTRY, EMBEDDING);
    FeatureVectors want = store.get(refs, rows);
    kv.multiGetRecordsCalls.set(0);

    FeatureVectors got = store.get(refs, "user_id", ids);

    assertThat(kv.multiGetRecordsCalls.get()).isEqualTo(1);
    assertThat(kv.lastMultiGetKeys).hasSize(3);
    assertSameVectors(got, want);
    assertThat(got.getLong(0, 1)).isEqualTo(10L);
    assertThat(got.status(0, 0)).isEqualTo(FeatureStatus.NULL);
    assertThat(got.status(0, 2)).isEqualTo(FeatureStatus.NOT_FOUND);
  }

  @Test
  void get_idsOfAnEntityKeyedOtherwise_sameUserErrorAsRowMaps() {
    // item_stats is keyed by a string item_id; user_stats has no item_id
    for (FeatureRef ref : List.of(PRICE, CLICKS)) {
      Throwable want =
          org.assertj.core.api.Assertions.catchThrowable(
              () -> store.get(List.of(ref), List.of(Map.of("item_id", 5L))));

      Throwable got =
          org.assertj.core.api.Assertions.catchThrowable(
              () -> store.get(List.of(ref), "item_id", new long[] {5}));

      assertThat(want).isInstanceOf(ScorelineException.class);
      assertThat(got).isInstanceOf(ScorelineException.class).hasMessage(want.getMessage());
      assertThat(((ScorelineException) got).field()).isEqualTo(((ScorelineException) want).field());
    }
  }

  @Test
  void get_valuesPassedInPlaceInsideLargerBuffers_sameAsCopies() {
    Object[] values = {
      1L, 2.5, 3.5f, "s", true, new byte[] {9}, new float[] {1f}, new long[] {2L}, List.of("t")
    };
    store.write("all_types", List.of(row(1, T0, null, values), row(2, T0, null, new Object[9])));
    store.write(
        "user_stats",
        List.of(row(1, T0, null, 10L, 0.25), row(2, T0.minus(Duration.ofHours(2)), null, 1L, 1.0)));
    OnlineFeatureStore inPlace = new OnlineFeatureStore(new InPlace(kv), registry, clock);
    List<FeatureRef> refs = registry.resolve("features", List.of("all_types:*", "user_stats:*"));
    List<Map<String, Object>> rows = List.of(user(1L), user(2L), user(3L), user(1L));

    FeatureVectors got = inPlace.get(refs, rows);

    assertSameVectors(got, store.get(refs, rows));
    assertThat(got.status(0, 0)).isEqualTo(FeatureStatus.PRESENT);
    assertThat(got.status(0, 1)).isEqualTo(FeatureStatus.NULL);
    assertThat(got.status(9, 1)).isEqualTo(FeatureStatus.EXPIRED);
    assertThat(got.status(9, 2)).isEqualTo(FeatureStatus.NOT_FOUND);
  }

  @Test
  void get_truncatedValuePassedInPlace_sameErrorAsACopy() {
    byte[] key = EntityKeys.encode(registry.entity("user"), List.of(1L));
    long t = T0.getEpochSecond() * 1_000_000L;
    // stamp, version 1, 2 features, an INT64 tag and 3 of its 8 bytes
    byte[] value = java.util.Arrays.copyOf(dev.scoreline.core.kv.Stamps.stamp(t, t), 22);
    value[16] = 1;
    value[17] = 2;
    value[18] = 1;
    kv.mergeRecords(
        "features/user", List.of(new dev.scoreline.core.kv.FieldWrite(key, "user_stats", value)));
    OnlineFeatureStore inPlace = new OnlineFeatureStore(new InPlace(kv), registry, clock);

    Throwable got =
        org.assertj.core.api.Assertions.catchThrowable(
            () -> inPlace.get(List.of(CTR), List.of(user(1L))));

    Throwable want =
        org.assertj.core.api.Assertions.catchThrowable(
            () -> store.get(List.of(CTR), List.of(user(1L))));
    assertThat(want).hasMessageContaining("truncated: need 8 bytes at offset 19 of 22");
    assertThat(got).isInstanceOf(ScorelineException.class).hasMessage(want.getMessage());
  }

  static void assertSameVectors(FeatureVectors got, FeatureVectors want) {
    assertThat(got.names()).isEqualTo(want.names());
    assertThat(got.rowCount()).isEqualTo(want.rowCount());
    for (int f = 0; f < want.featureCount(); f++) {
      for (int r = 0; r < want.rowCount(); r++) {
        String at = want.names().get(f) + " row " + r;
        assertThat(got.status(f, r)).as(at).isEqualTo(want.status(f, r));
        assertThat(got.eventMicros(f, r)).as(at).isEqualTo(want.eventMicros(f, r));
        assertThat(got.value(f, r)).as(at).isEqualTo(want.value(f, r));
      }
    }
  }

  /**
   * A store that passes each record field value in place inside a larger buffer (junk before and
   * after it), as RocksDB passes values inside the record it read; everything else is {@code s}'s.
   */
  static final class InPlace implements dev.scoreline.core.kv.KvStore {
    private final dev.scoreline.core.kv.KvStore s;

    InPlace(dev.scoreline.core.kv.KvStore s) {
      this.s = s;
    }

    @Override
    public void readRecordFields(
        String namespace, List<byte[]> keys, List<String> fields, FieldReader reader) {
      List<Map<String, byte[]>> records = s.multiGetRecords(namespace, keys);
      for (int k = 0; k < keys.size(); k++) {
        for (int f = 0; f < fields.size(); f++) {
          byte[] v = records.get(k).get(fields.get(f));
          if (v != null) {
            byte[] buf = new byte[v.length + 10];
            java.util.Arrays.fill(buf, (byte) 0x7f);
            System.arraycopy(v, 0, buf, 7, v.length);
            reader.field(k, f, buf, 7, v.length);
          }
        }
      }
    }

    @Override
    public String kind() {
      return s.kind();
    }

    @Override
    public List<byte[]> multiGet(String namespace, List<byte[]> keys) {
      return s.multiGet(namespace, keys);
    }

    @Override
    public void putAll(String namespace, List<dev.scoreline.core.kv.KvEntry> entries) {
      s.putAll(namespace, entries);
    }

    @Override
    public void deleteAll(String namespace, List<byte[]> keys) {
      s.deleteAll(namespace, keys);
    }

    @Override
    public void dropNamespace(String namespace) {
      s.dropNamespace(namespace);
    }

    @Override
    public List<Map<String, byte[]>> multiGetRecords(String namespace, List<byte[]> keys) {
      return s.multiGetRecords(namespace, keys);
    }

    @Override
    public int mergeRecords(String namespace, List<dev.scoreline.core.kv.FieldWrite> writes) {
      return s.mergeRecords(namespace, writes);
    }

    @Override
    public void publish(String name, String snapshotId, int keep) {
      s.publish(name, snapshotId, keep);
    }

    @Override
    public java.util.Optional<String> currentSnapshot(String name) {
      return s.currentSnapshot(name);
    }

    @Override
    public List<String> snapshots(String name) {
      return s.snapshots(name);
    }

    @Override
    public String rollback(String name) {
      return s.rollback(name);
    }

    @Override
    public void dropSnapshot(String name, String snapshotId) {
      s.dropSnapshot(name, snapshotId);
    }

    @Override
    public void close() {
      s.close();
    }
  }

  @Test
  void get_tooManyRows_userErrorWithLimit() {
    OnlineFeatureStore small =
        new OnlineFeatureStore(kv, registry, clock, new OnlineFeatureStore.Options(2, false));

    assertThatThrownBy(() -> small.get(List.of(CLICKS), List.of(user(1L), user(2L), user(3L))))
        .isInstanceOfSatisfying(
            ScorelineException.class,
            e -> {
              assertThat(e.code()).isEqualTo(ErrorCode.USER_ERROR);
              assertThat(e.getMessage()).contains("2");
            });
    assertThat(small.get(List.of(CLICKS), List.of(user(1L), user(2L))).rowCount()).isEqualTo(2);
  }

  @Test
  void get_defaultLimit_isOneThousand() {
    List<Map<String, Object>> rows = new ArrayList<>();
    for (int i = 0; i < 1001; i++) {
      rows.add(user((long) i));
    }
    assertError(() -> store.get(List.of(CLICKS), rows), ErrorCode.USER_ERROR, "entityRows");
    assertThat(store.get(List.of(CLICKS), rows.subList(0, 1000)).rowCount()).isEqualTo(1000);
  }

  // ---------------------------------------------------------------- last write wins

  private Object clicksOf(long user) {
    return store.get(List.of(CLICKS), List.of(user(user))).value(0, 0);
  }

  @Test
  void write_olderEvent_neverOverwritesNewer() {
    assertThat(store.write("user_stats", List.of(row(1, T0, null, 2L, null)))).isEqualTo(1);
    clock.advance(Duration.ofSeconds(1));

    int applied =
        store.write(
            "user_stats", List.of(row(1, T0.minusSeconds(1), T0.plusSeconds(99), 1L, null)));

    assertThat(applied).isZero();
    assertThat(clicksOf(1)).isEqualTo(2L);
  }

  @Test
  void write_sameEventLaterCreated_replaces() {
    store.write("user_stats", List.of(row(1, T0, T0, 1L, null)));

    int applied = store.write("user_stats", List.of(row(1, T0, T0.plusMillis(1), 2L, null)));

    assertThat(applied).isEqualTo(1);
    assertThat(clicksOf(1)).isEqualTo(2L);
  }

  @Test
  void write_sameEventEarlierCreated_ignored() {
    store.write("user_stats", List.of(row(1, T0, T0.plusMillis(1), 1L, null)));

    assertThat(store.write("user_stats", List.of(row(1, T0, T0, 2L, null)))).isZero();
    assertThat(clicksOf(1)).isEqualTo(1L);
  }

  @Test
  void write_sameEventSameCreated_laterArrivalWins() {
    store.write("user_stats", List.of(row(1, T0, T0, 1L, null)));
    store.write("user_stats", List.of(row(1, T0, T0, 2L, null)));

    assertThat(clicksOf(1)).isEqualTo(2L);
  }

  @Test
  void write_noCreatedTime_stampsArrivalTime() {
    clock.set(T0.plusSeconds(5));
    store.write("user_stats", List.of(row(1, T0, null, 1L, null)));
    byte[] stored =
        kv.field(
            "features/user", EntityKeys.encode(registry.entity("user"), List.of(1L)), "user_stats");

    assertThat(ViewCodec.eventMicros(stored)).isEqualTo(Times.micros(T0));
    assertThat(ViewCodec.createdMicros(stored)).isEqualTo(Times.micros(T0.plusSeconds(5)));

    // a later arrival of the same event replaces it
    clock.advance(Duration.ofSeconds(1));
    assertThat(store.write("user_stats", List.of(row(1, T0, null, 3L, null)))).isEqualTo(1);
    assertThat(clicksOf(1)).isEqualTo(3L);
  }

  @Test
  void prepare_writesNothing_stampsArrivalAtPrepare_thenWriteMerges() {
    clock.set(T0.plusSeconds(5));
    OnlineFeatureStore.PreparedWrite prepared =
        store.prepare("user_stats", List.of(row(1, T0, null, 1L, null), row(2, T0, null, 2L, 0.5)));
    clock.advance(Duration.ofSeconds(10));

    assertThat(prepared.size()).isEqualTo(2);
    assertThat(kv.mergeRecordsCalls.get()).isZero();
    assertThat(store.get(List.of(CLICKS), List.of(user(1L))).status(0, 0))
        .isEqualTo(FeatureStatus.NOT_FOUND);

    assertThat(store.write(prepared)).isEqualTo(2);
    assertThat(clicksOf(1)).isEqualTo(1L);
    assertThat(clicksOf(2)).isEqualTo(2L);
    byte[] stored =
        kv.field(
            "features/user", EntityKeys.encode(registry.entity("user"), List.of(1L)), "user_stats");
    assertThat(ViewCodec.createdMicros(stored)).isEqualTo(Times.micros(T0.plusSeconds(5)));
    // LWW holds for prepared rows too: an older event prepared later is not applied
    assertThat(
            store.write(
                store.prepare("user_stats", List.of(row(1, T0.minusSeconds(1), null, 9L, null)))))
        .isZero();
    assertThat(clicksOf(1)).isEqualTo(1L);
    assertThat(store.write(store.prepare("user_stats", List.of()))).isZero();
  }

  @Test
  void prepare_invalidRow_userErrorNamingRow_beforeAnyWrite() {
    assertError(
        () ->
            store.prepare(
                "user_stats", List.of(row(1, T0, null, 1L, null), row(2, T0, null, 1, null))),
        ErrorCode.USER_ERROR,
        "rows[1].clicks");
    assertThat(kv.mergeRecordsCalls.get()).isZero();
  }

  @Test
  void write_viewsOfOneEntity_mergeIndependently() {
    store.write("user_stats", List.of(row(1, T0, null, 1L, null)));
    store.write("user_profile", List.of(row(1, T0.minusSeconds(100), null, "de", null)));

    FeatureVectors v = store.get(List.of(CLICKS, COUNTRY), List.of(user(1L)));

    assertThat(v.value(0, 0)).isEqualTo(1L);
    assertThat(v.value(1, 0)).isEqualTo("de");
    assertThat(v.eventTime(1, 0)).isEqualTo(T0.minusSeconds(100));
  }

  @Test
  void write_wrongValueType_userErrorNamingRowAndFeatureAndWritesNothing() {
    assertError(
        () ->
            store.write(
                "user_stats", List.of(row(1, T0, null, 1L, null), row(2, T0, null, 1, null))),
        ErrorCode.USER_ERROR,
        "rows[1].clicks");
    assertThat(kv.mergeRecordsCalls.get()).isZero();
  }

  @Test
  void write_wrongKeyType_userErrorNamingRowAndKeyColumn() {
    assertError(
        () ->
            store.write("user_stats", List.of(new FeatureRow(List.of(1), T0, null, new Object[2]))),
        ErrorCode.USER_ERROR,
        "rows[0].user_id");
  }

  @Test
  void write_missingEventTime_userError() {
    assertError(
        () -> store.write("user_stats", List.of(row(1, null, null, 1L, null))),
        ErrorCode.USER_ERROR,
        "rows[0].event_ts");
  }

  @Test
  void write_unknownOrOfflineView_errors() {
    assertError(() -> store.write("nope", List.of()), ErrorCode.NOT_FOUND, null);
    assertError(() -> store.write("archive", List.of()), ErrorCode.USER_ERROR, null);
  }

  // ---------------------------------------------------------------- push

  static Map<String, Object> map(Object... kv) {
    Map<String, Object> m = new LinkedHashMap<>();
    for (int i = 0; i < kv.length; i += 2) {
      m.put((String) kv[i], kv[i + 1]);
    }
    return m;
  }

  @Test
  void pushRows_jsonTypes_convertedToFeatureTypes() {
    List<Map<String, Object>> rows =
        List.of(
            map(
                "user_id",
                "7",
                "i64",
                5,
                "f64",
                2,
                "f32",
                0.5,
                "s",
                "x",
                "b",
                true,
                "raw",
                Base64.getEncoder().encodeToString(new byte[] {1, 2}),
                "vec",
                List.of(1, 2.5),
                "ids",
                List.of(1, 2L, BigInteger.TEN, "11"),
                "tags",
                List.of("a", "b"),
                "event_timestamp",
                "2024-05-01T14:00:00+02:00"));

    assertThat(store.pushRows("all_types", rows)).isEqualTo(1);

    FeatureVectors v =
        store.get(registry.resolve("features", List.of("all_types:*")), List.of(user(7L)));
    assertThat(v.value(0, 0)).isEqualTo(5L);
    assertThat(v.value(1, 0)).isEqualTo(2.0);
    assertThat(v.value(2, 0)).isEqualTo(0.5f);
    assertThat(v.value(3, 0)).isEqualTo("x");
    assertThat(v.value(4, 0)).isEqualTo(true);
    assertThat((byte[]) v.value(5, 0)).containsExactly(1, 2);
    assertThat((float[]) v.value(6, 0)).containsExactly(1f, 2.5f);
    assertThat((long[]) v.value(7, 0)).containsExactly(1L, 2L, 10L, 11L);
    assertThat(v.value(8, 0)).isEqualTo(List.of("a", "b"));
    assertThat(v.eventTime(0, 0)).isEqualTo(T0);
  }

  @Test
  void pushRows_epochMillisAndCreatedColumn_usedForStamp() {
    store.pushRows(
        "user_stats",
        List.of(
            map(
                "user_id",
                1,
                "clicks",
                3,
                "event_ts",
                T0.toEpochMilli(),
                "created_ts",
                "2024-05-01T12:00:01Z")));
    byte[] stored =
        kv.field(
            "features/user", EntityKeys.encode(registry.entity("user"), List.of(1L)), "user_stats");

    assertThat(ViewCodec.eventMicros(stored)).isEqualTo(Times.micros(T0));
    assertThat(ViewCodec.createdMicros(stored)).isEqualTo(Times.micros(T0.plusSeconds(1)));
  }

  @Test
  void pushRows_missingFeature_writtenAsNull() {
    store.pushRows(
        "user_stats", List.of(map("user_id", 1, "event_ts", "2024-05-01T12:00:00Z", "ctr", 0.5)));

    FeatureVectors v = store.get(List.of(CLICKS, CTR), List.of(user(1L)));

    assertThat(v.status(0, 0)).isEqualTo(FeatureStatus.NULL);
    assertThat(v.value(1, 0)).isEqualTo(0.5);
  }

  @Test
  void pushRows_unknownColumn_userErrorNamingItAndListingValidColumns() {
    assertThatThrownBy(
            () ->
                store.pushRows(
                    "user_stats",
                    List.of(
                        map("user_id", 1, "event_ts", 1),
                        map("user_id", 1, "event_ts", 1, "clickz", 3))))
        .isInstanceOfSatisfying(
            ScorelineException.class,
            e -> {
              assertThat(e.code()).isEqualTo(ErrorCode.USER_ERROR);
              assertThat(e.field()).contains("rows[1].clickz");
              assertThat(e.getMessage())
                  .contains("clickz")
                  .contains("did you mean 'clicks'")
                  .contains("created_ts")
                  .contains("ctr")
                  .contains("event_ts")
                  .contains("user_id");
            });
  }

  @Test
  void pushRows_valueOfWrongType_userErrorNamingRowAndColumn() {
    Object[][] cases = {
      {"i64", "abc"},
      {"i64", 1.5},
      {"f64", "1.5"},
      {"f32", 1e300},
      {"s", 3},
      {"b", "true"},
      {"raw", "not base64!"},
      {"vec", "1,2"},
      {"ids", List.of(1.5)},
      {"tags", List.of("a", 1)}
    };
    for (Object[] c : cases) {
      String column = (String) c[0];
      assertThatThrownBy(
              () ->
                  store.pushRows(
                      "all_types", List.of(map("user_id", 1, "event_timestamp", 1, column, c[1]))))
          .as("%s = %s", column, c[1])
          .isInstanceOfSatisfying(
              ScorelineException.class,
              e -> {
                assertThat(e.code()).isEqualTo(ErrorCode.USER_ERROR);
                assertThat(e.field().orElseThrow()).startsWith("rows[0]." + column);
              });
    }
  }

  @Test
  void pushRows_listWithNullElement_userErrorNamingElement() {
    List<Object> vec = new ArrayList<>();
    vec.add(1.0);
    vec.add(null);

    assertError(
        () ->
            store.pushRows(
                "all_types", List.of(map("user_id", 1, "event_timestamp", 1, "vec", vec))),
        ErrorCode.USER_ERROR,
        "rows[0].vec[1]");
  }

  @Test
  void pushRows_integralDoubleForInt64_accepted() {
    store.pushRows(
        "user_stats", List.of(map("user_id", 1, "event_ts", T0.toString(), "clicks", 3.0)));

    assertThat(clicksOf(1)).isEqualTo(3L);
  }

  @Test
  void pushRows_missingOrBadTimestamp_userError() {
    assertError(
        () -> store.pushRows("user_stats", List.of(map("user_id", 1, "clicks", 3))),
        ErrorCode.USER_ERROR,
        "rows[0].event_ts");
    assertError(
        () -> store.pushRows("user_stats", List.of(map("user_id", 1, "event_ts", "yesterday"))),
        ErrorCode.USER_ERROR,
        "rows[0].event_ts");
  }

  @Test
  void pushRows_missingKeyColumn_userError() {
    assertError(
        () -> store.pushRows("user_stats", List.of(map("event_ts", 1, "clicks", 3))),
        ErrorCode.USER_ERROR,
        "rows[0].user_id");
  }

  @Test
  void pushRows_offlineLogEnabled_appendsJsonLinesPerView() throws Exception {
    OnlineFeatureStore logging =
        new OnlineFeatureStore(kv, registry, clock, new OnlineFeatureStore.Options(1000, true));

    logging.pushRows(
        "user_stats", List.of(map("user_id", "1", "event_ts", T0.toString(), "clicks", 3)));
    logging.pushRows("user_stats", List.of(map("user_id", 2, "event_ts", T0.toString())));

    Path file = dir.resolve("data/pushed/user_stats/2024-05-01.jsonl");
    List<String> lines = Files.readAllLines(file);
    assertThat(lines).hasSize(2);
    JsonNode first = new ObjectMapper().readTree(lines.get(0));
    assertThat(first.get("user_id").asLong()).isEqualTo(1L);
    assertThat(first.get("event_ts").asText()).isEqualTo(T0.toString());
    assertThat(first.get("created_ts").asText()).isEqualTo(T0.toString()); // arrival
    assertThat(first.get("clicks").asLong()).isEqualTo(3L);
    assertThat(first.get("ctr").isNull()).isTrue();
  }

  @Test
  void pushRows_offlineLogDisabledByDefault_writesNoFile() {
    store.pushRows("user_stats", List.of(map("user_id", 2, "event_ts", T0.toString())));

    assertThat(dir.resolve("data/pushed")).doesNotExist();
  }

  @Test
  void featureVectors_typedAccessorOnWrongType_throws() {
    FeatureVectors v = store.get(List.of(CLICKS), List.of(user(1L)));

    assertThatThrownBy(() -> v.getDouble(0, 0)).isInstanceOf(IllegalStateException.class);
    assertThat(v.type(0)).isEqualTo(ValueType.INT64);
    assertThat(v.indexOf("user_stats:clicks")).isZero();
  }
}
