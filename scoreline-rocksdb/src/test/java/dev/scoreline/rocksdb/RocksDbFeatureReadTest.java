package dev.scoreline.rocksdb;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.scoreline.core.error.ScorelineException;
import dev.scoreline.core.feature.FeatureRef;
import dev.scoreline.core.feature.FeatureRegistry;
import dev.scoreline.core.feature.FeatureRow;
import dev.scoreline.core.feature.online.EntityKeys;
import dev.scoreline.core.feature.online.FeatureStatus;
import dev.scoreline.core.feature.online.FeatureVectors;
import dev.scoreline.core.feature.online.OnlineFeatureStore;
import dev.scoreline.core.kv.FieldWrite;
import dev.scoreline.core.kv.KvEntry;
import dev.scoreline.core.kv.KvStore;
import dev.scoreline.core.kv.Stamps;
import dev.scoreline.testing.ForwardingKvStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
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
 * The online feature read over RocksDB, which decodes each view value in place inside the record
 * {@code multiGet} returned ({@link RocksDbKvStore#readRecordFields}), against the same read
 * through {@link KvStore#multiGetRecords}' copies (the store behind a plain forwarding store that
 * keeps the interface's default {@code readRecordFields}): the same statuses, values, event times
 * and errors.
 */
class RocksDbFeatureReadTest {
  static final Instant NOW = Instant.parse("2024-05-01T12:00:00Z");

  static final String YAML =
      String.join(
          "\n",
          "entities:",
          "  - name: user",
          "    keys: [{name: user_id, type: int64}]",
          "  - name: item",
          "    keys: [{name: item_id, type: string}]",
          "feature-views:",
          "  - name: all_types",
          "    entity: user",
          "    source: {path: data/all_types.parquet}",
          "    features:",
          "      - {name: i64, type: int64}",
          "      - {name: f64, type: fp64}",
          "      - {name: f32, type: fp32}",
          "      - {name: s, type: string}",
          "      - {name: b, type: bool}",
          "      - {name: raw, type: bytes}",
          "      - {name: vec, type: fp32_list}",
          "      - {name: ids, type: int64_list}",
          "      - {name: tags, type: string_list}",
          "  - name: stats",
          "    entity: user",
          "    source: {path: data/stats.parquet}",
          "    ttl: 1h",
          "    features:",
          "      - {name: clicks, type: int64}",
          "      - {name: ctr, type: fp64}",
          "  - name: item_stats",
          "    entity: item",
          "    source: {path: data/item_stats.parquet}",
          "    features:",
          "      - {name: price, type: fp32}",
          "");

  @TempDir Path dir;
  RocksDbKvStore kv;
  OnlineFeatureStore inPlace;
  OnlineFeatureStore copying;
  FeatureRegistry registry;

  @BeforeEach
  void setUp() throws Exception {
    Files.createDirectories(dir.resolve("features"));
    Files.writeString(dir.resolve("features/features.yaml"), YAML);
    registry = FeatureRegistry.load(dir);
    kv = RocksDbKvStore.open(dir.resolve("db"));
    Clock clock = Clock.fixed(NOW, ZoneOffset.UTC);
    inPlace = new OnlineFeatureStore(kv, registry, clock);
    copying = new OnlineFeatureStore(new ForwardingKvStore(kv), registry, clock);
  }

  @AfterEach
  void tearDown() {
    kv.close();
  }

  private List<FeatureRef> features(String... names) {
    return registry.resolve("features", List.of(names));
  }

  private static FeatureRow row(long user, Instant event, Object... values) {
    return new FeatureRow(List.of(user), event, null, values);
  }

  @Test
  void get_everyTypeNullExpiredAndNotFound_sameAsDecodingCopiedRecords() {
    Object[] all = {
      -7L,
      2.5,
      3.5f,
      "ü-s",
      true,
      new byte[] {9, 8},
      new float[] {1f, -2f},
      new long[] {2L, Long.MIN_VALUE},
      List.of("t", "")
    };
    inPlace.write(
        "all_types",
        List.of(
            row(1, NOW, all),
            row(2, NOW, new Object[9]), // every feature NULL
            row(3, NOW, all)));
    inPlace.write(
        "stats",
        List.of(
            row(1, NOW.minusSeconds(60), 5L, 0.25), // present
            row(2, NOW.minus(Duration.ofHours(2)), 6L, 0.5), // EXPIRED (ttl 1h)
            row(4, NOW, null, 0.75))); // only this view: all_types NOT_FOUND
    List<FeatureRef> refs = features("all_types:*", "stats:*", "stats:ctr");
    // user 5 has no record at all; user 1 twice (read once, copied)
    List<Map<String, Object>> rows = new ArrayList<>();
    for (long u : new long[] {1, 2, 3, 4, 5, 1}) {
      rows.add(Map.of("user_id", u));
    }

    FeatureVectors got = inPlace.get(refs, rows);

    FeatureVectors want = copying.get(refs, rows);
    assertSame(got, want);
    assertThat(got.status(0, 0)).isEqualTo(FeatureStatus.PRESENT);
    assertThat(got.status(0, 1)).isEqualTo(FeatureStatus.NULL);
    assertThat(got.status(9, 1)).isEqualTo(FeatureStatus.EXPIRED);
    assertThat(got.status(9, 4)).isEqualTo(FeatureStatus.NOT_FOUND);
    assertThat(got.status(0, 3)).isEqualTo(FeatureStatus.NOT_FOUND);
    assertThat(got.status(9, 3)).isEqualTo(FeatureStatus.NULL);
    assertThat(got.value(3, 5)).isEqualTo("ü-s");
    assertThat((float[]) got.value(6, 0)).containsExactly(1f, -2f);
  }

  @Test
  void get_ids_sameAsRowMapsOfTheKeyColumn() {
    inPlace.write("stats", List.of(row(1, NOW, 5L, 0.25), row(3, NOW, 7L, 0.5)));
    List<FeatureRef> refs = features("stats:*");
    long[] ids = {3, 1, 2, 3};
    List<Map<String, Object>> rows = new ArrayList<>();
    for (long id : ids) {
      rows.add(Map.of("user_id", id));
    }

    FeatureVectors byIds = inPlace.get(refs, "user_id", ids);

    assertSame(byIds, copying.get(refs, rows));
    assertThat(byIds.getLong(0, 0)).isEqualTo(7L);
    assertThat(byIds.status(0, 2)).isEqualTo(FeatureStatus.NOT_FOUND);
  }

  @Test
  void get_idsOfAStringKeyOrAnotherColumn_sameUserErrorAsRowMaps() {
    List<FeatureRef> items = features("item_stats:price");
    List<FeatureRef> users = features("stats:clicks");

    assertSameFailure(
        () -> inPlace.get(items, "item_id", new long[] {1}),
        () -> copying.get(items, List.of(Map.of("item_id", 1L))));
    assertSameFailure(
        () -> inPlace.get(users, "item_id", new long[] {1}),
        () -> copying.get(users, List.of(Map.of("item_id", 1L))));
  }

  @Test
  void get_truncatedViewValue_sameInternalErrorAsDecodingCopiedRecords() {
    byte[] key = EntityKeys.encode(registry.entity("user"), List.of(1L));
    // a stamp, format version 1, 2 features, INT64 tag, then only 3 of its 8 bytes
    long now = NOW.getEpochSecond() * 1_000_000L;
    byte[] value = Arrays.copyOf(Stamps.stamp(now, now), 16 + 6);
    value[16] = 1;
    value[17] = 2;
    value[18] = 1;
    kv.mergeRecords("features/user", List.of(new FieldWrite(key, "stats", value)));

    Throwable got =
        assertSameFailure(
            () -> inPlace.get(features("stats:ctr"), List.of(Map.of("user_id", 1L))),
            () -> copying.get(features("stats:ctr"), List.of(Map.of("user_id", 1L))));

    assertThat(got).hasMessageContaining("truncated: need 8 bytes at offset 19 of 22");
  }

  @Test
  void get_plainValueUnderAnEntityKey_sameUserErrorAsDecodingCopiedRecords() {
    byte[] key = EntityKeys.encode(registry.entity("user"), List.of(1L));
    kv.putAll("features/user", List.of(new KvEntry(key, new byte[] {7, 7})));

    assertSameFailure(
        () -> inPlace.get(features("stats:ctr"), List.of(Map.of("user_id", 1L))),
        () -> copying.get(features("stats:ctr"), List.of(Map.of("user_id", 1L))));
  }

  @Test
  void readRecordFields_passesTheBytesMultiGetRecordsReturns() {
    byte[] a = "a".getBytes(java.nio.charset.StandardCharsets.UTF_8);
    byte[] b = "b".getBytes(java.nio.charset.StandardCharsets.UTF_8);
    kv.mergeRecords(
        "ns",
        List.of(
            new FieldWrite(a, "v1", payload(1, "one")),
            new FieldWrite(a, "vü", payload(2, "two")),
            new FieldWrite(a, "v3", payload(3, "three")),
            new FieldWrite(b, "v3", payload(4, "four"))));
    List<byte[]> keys = List.of(a, "absent".getBytes(java.nio.charset.StandardCharsets.UTF_8), b);
    List<Map<String, byte[]>> records = kv.multiGetRecords("ns", keys);

    for (List<String> fields : List.of(List.of("v3", "v1", "none"), List.of("vü", "v3"))) {
      List<String> seen = new ArrayList<>();
      kv.readRecordFields(
          "ns",
          keys,
          fields,
          (k, f, bytes, offset, length) -> {
            assertThat(Arrays.copyOfRange(bytes, offset, offset + length))
                .isEqualTo(records.get(k).get(fields.get(f)));
            seen.add(k + ":" + fields.get(f));
          });
      List<String> want = new ArrayList<>();
      for (int k = 0; k < keys.size(); k++) {
        for (String f : fields) {
          if (records.get(k).containsKey(f)) {
            want.add(k + ":" + f);
          }
        }
      }
      assertThat(seen).containsExactlyElementsOf(want);
    }
  }

  private static byte[] payload(long event, String s) {
    byte[] p = s.getBytes(java.nio.charset.StandardCharsets.UTF_8);
    byte[] out = Arrays.copyOf(Stamps.stamp(event, event), 16 + p.length);
    System.arraycopy(p, 0, out, 16, p.length);
    return out;
  }

  private static Throwable assertSameFailure(Runnable got, Runnable want) {
    Throwable g = catchThrowable(got::run);
    Throwable w = catchThrowable(want::run);
    assertThat(g).isInstanceOf(ScorelineException.class);
    assertThat(w).isInstanceOf(ScorelineException.class);
    assertThat(((ScorelineException) g).code()).isEqualTo(((ScorelineException) w).code());
    assertThat(((ScorelineException) g).field()).isEqualTo(((ScorelineException) w).field());
    assertThat(g).hasMessage(w.getMessage());
    return g;
  }

  private static void assertSame(FeatureVectors got, FeatureVectors want) {
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
}
