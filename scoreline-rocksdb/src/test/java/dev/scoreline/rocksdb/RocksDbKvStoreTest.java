package dev.scoreline.rocksdb;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.scoreline.core.error.ErrorCode;
import dev.scoreline.core.error.ScorelineException;
import dev.scoreline.core.kv.BulkLoad;
import dev.scoreline.core.kv.KvEntry;
import dev.scoreline.core.kv.KvStore;
import dev.scoreline.core.kv.Stamps;
import dev.scoreline.testing.KvStoreContract;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RocksDbKvStoreTest extends KvStoreContract {
  @TempDir Path dir;

  private final List<RocksDbKvStore> opened = new ArrayList<>();

  @Override
  protected KvStore newStore() {
    return open(dir.resolve("db"));
  }

  private RocksDbKvStore open(Path path) {
    RocksDbKvStore s = RocksDbKvStore.open(path);
    opened.add(s);
    return s;
  }

  @AfterEach
  void closeStores() {
    for (RocksDbKvStore s : opened) {
      s.close();
    }
  }

  @Test
  void kind_isRocksdb() {
    assertThat(store.kind()).isEqualTo("rocksdb");
  }

  @Test
  void reopen_afterClose_keepsDataRecordsAndSnapshotPointer() {
    Path path = dir.resolve("reopen");
    RocksDbKvStore first = open(path);
    first.putAll("ns", List.of(entry("k", "v")));
    first.mergeRecords("ns", List.of(field("e", "view", 5, "r")));
    first.putAll(KvStore.snapshotNamespace("feed", "s1"), List.of(entry("item", "s1")));
    first.publish("feed", "s1", 2);
    first.putAll(KvStore.snapshotNamespace("feed", "s2"), List.of(entry("item", "s2")));
    first.publish("feed", "s2", 2);
    first.close();

    RocksDbKvStore second = open(path);

    assertThat(second.multiGet("ns", keys("k")).get(0)).isEqualTo(bytes("v"));
    assertThat(payload(second.multiGetRecords("ns", keys("e")).get(0).get("view"))).isEqualTo("r");
    assertThat(second.currentSnapshot("feed")).contains("s2");
    assertThat(second.snapshots("feed")).containsExactly("s2", "s1");
    assertThat(second.rollback("feed")).isEqualTo("s1");
    assertThat(second.multiGet(KvStore.snapshotNamespace("feed", "s1"), keys("item")).get(0))
        .isEqualTo(bytes("s1"));
  }

  @Test
  void mergeRecords_newKeysBesideExistingOnes_mergeLastWriteWins_andSurviveReopen() {
    // one call with: new keys written once (no record to merge with), a new key written twice,
    // and existing keys (newer, older and other-field writes)
    Path path = dir.resolve("fresh");
    RocksDbKvStore first = open(path);
    first.mergeRecords("ns", List.of(field("old", "v", 10, "old@10")));

    int applied =
        first.mergeRecords(
            "ns",
            List.of(
                field("a", "v", 5, "a@5"),
                field("b", "v", 7, "b@7"),
                field("twice", "v", 9, "twice@9"),
                field("twice", "v", 8, "twice@8"),
                field("twice", "w", 1, "w@1"),
                field("old", "v", 9, "old@9"),
                field("old", "w", 3, "w@3")));

    assertThat(applied).isEqualTo(5);
    first.close();
    RocksDbKvStore second = open(path);
    List<java.util.Map<String, byte[]>> r =
        second.multiGetRecords("ns", keys("a", "b", "twice", "old"));
    assertThat(r.get(0).keySet()).containsExactly("v");
    assertThat(payload(r.get(0).get("v"))).isEqualTo("a@5");
    assertThat(payload(r.get(1).get("v"))).isEqualTo("b@7");
    assertThat(payload(r.get(2).get("v"))).isEqualTo("twice@9");
    assertThat(payload(r.get(2).get("w"))).isEqualTo("w@1");
    assertThat(payload(r.get(3).get("v"))).isEqualTo("old@10");
    assertThat(payload(r.get(3).get("w"))).isEqualTo("w@3");
  }

  @Test
  void mergeRecords_oneWriteOntoAStoredField_keepsTheOtherFields_andTheRecordLayout() {
    store.mergeRecords(
        "ns",
        List.of(
            field("e", "profile", 5, "p@5"),
            field("e", "velocity", 5, "v@5"),
            field("e", "last", 5, "l@5")));

    int newer = store.mergeRecords("ns", List.of(field("e", "velocity", 6, "v@6, longer")));
    int older = store.mergeRecords("ns", List.of(field("e", "profile", 4, "p@4")));
    int same = store.mergeRecords("ns", List.of(field("e", "last", 5, "l@5 again")));

    assertThat(new int[] {newer, older, same}).containsExactly(1, 0, 1);
    LinkedHashMap<String, byte[]> expected = new LinkedHashMap<>();
    expected.put("profile", value(Stamps.stamp(5, 0), "p@5"));
    expected.put("velocity", value(Stamps.stamp(6, 0), "v@6, longer"));
    expected.put("last", value(Stamps.stamp(5, 0), "l@5 again"));
    assertThat(store.multiGet("ns", keys("e")).get(0)).isEqualTo(Codec.encodeRecord(expected));
  }

  @Test
  void bulkLoad_nothingReadableBeforeCommit_closeWithoutCommitLeavesNothing() throws Exception {
    RocksDbKvStore db = (RocksDbKvStore) store;
    try (BulkLoad load = db.bulkLoad("snap@1", 16)) {
      load.put(bytes("a"), bytes("1"));
      load.put(bytes("b"), bytes("2"));

      assertThat(db.multiGet("snap@1", keys("a", "b"))).containsOnlyNulls();
    }

    assertThat(db.multiGet("snap@1", keys("a", "b"))).containsOnlyNulls();
    assertThat(filesIn(db.directory().resolve("bulk-load"))).isEmpty();
  }

  @Test
  void bulkLoad_largerThanOneFile_ingestsSeveralFiles_laterEntriesWin() throws Exception {
    RocksDbKvStore db = (RocksDbKvStore) store;
    java.util.Map<String, String> expected = new java.util.HashMap<>();
    try (BulkLoad load = db.bulkLoad("snap@1", 4_000L)) { // about 100 entries per file
      for (int round = 0; round < 3; round++) {
        for (int i = 999; i >= 0; i -= 1 + round) {
          String k = "key-" + i;
          String v = "round " + round + " of " + k + " ".repeat(20);
          load.put(bytes(k), bytes(v));
          expected.put(k, v);
        }
      }
      load.commit();
    }

    List<String> k = new ArrayList<>(expected.keySet());
    List<byte[]> values = db.multiGet("snap@1", keys(k.toArray(String[]::new)));
    for (int i = 0; i < k.size(); i++) {
      assertThat(new String(values.get(i), UTF_8)).isEqualTo(expected.get(k.get(i)));
    }
    assertThat(filesIn(db.directory().resolve("bulk-load"))).isEmpty();
  }

  @Test
  void bulkLoad_bypassesTheWriteAheadLog_andSurvivesReopen() throws Exception {
    Path path = dir.resolve("bulk");
    RocksDbKvStore first = open(path);
    byte[] value = new byte[1000];
    java.util.Arrays.fill(value, (byte) 7);
    try (BulkLoad load = first.bulkLoad("snap@1", 1)) {
      for (int i = 0; i < 4_000; i++) { // 4 MB
        load.put(bytes(String.format("%05d", i)), value);
      }
      load.commit();
    }
    long walBytes = 0;
    for (Path f : filesIn(path)) {
      if (f.getFileName().toString().endsWith(".log")) {
        walBytes += java.nio.file.Files.size(f);
      }
    }
    assertThat(walBytes).as("write-ahead log bytes").isLessThan(100_000);
    first.close();
    // a load a stopped process left behind in the bulk-load folder is removed on open
    java.nio.file.Files.write(path.resolve("bulk-load").resolve("load-1.sst"), new byte[] {1});

    RocksDbKvStore second = open(path);

    assertThat(second.multiGet("snap@1", keys("00000", "03999"))).containsExactly(value, value);
    assertThat(filesIn(path.resolve("bulk-load"))).isEmpty();
  }

  @Test
  void publish_droppingABulkLoadedSnapshot_deletesItsFiles() throws Exception {
    Path path = dir.resolve("drop");
    RocksDbKvStore db = open(path);
    java.util.Random rnd = new java.util.Random(3);
    byte[] value = new byte[1000];
    for (String id : List.of("s1", "s2", "s3")) {
      try (BulkLoad load = db.bulkLoad(KvStore.snapshotNamespace("feed", id), 1)) {
        for (int i = 0; i < 4_000; i++) {
          value = new byte[1000];
          rnd.nextBytes(value); // incompressible: 4 MB per snapshot on disk
          load.put(bytes(String.format("%05d", i)), value);
        }
        load.commit();
      }
      db.publish("feed", id, 1); // keeps only the new one
    }

    long sstBytes = 0;
    for (Path f : filesIn(path)) {
      if (f.getFileName().toString().endsWith(".sst")) {
        sstBytes += java.nio.file.Files.size(f);
      }
    }
    assertThat(sstBytes)
        .as("SST bytes with one 4 MB snapshot kept")
        .isBetween(4_000_000L, 6_000_000L);
    assertThat(db.multiGet(KvStore.snapshotNamespace("feed", "s3"), keys("03999")))
        .containsExactly(value);
    assertThat(db.multiGet(KvStore.snapshotNamespace("feed", "s2"), keys("00000")))
        .containsOnlyNulls();
  }

  @Test
  void bulkLoad_afterClose_failsUnavailable() {
    RocksDbKvStore db = (RocksDbKvStore) store;
    BulkLoad load = db.bulkLoad("snap@1", 16);
    load.put(bytes("a"), bytes("1"));
    db.close();

    assertThatThrownBy(load::commit)
        .isInstanceOfSatisfying(
            ScorelineException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.UNAVAILABLE));
    assertThatThrownBy(() -> db.bulkLoad("snap@1", 16))
        .isInstanceOfSatisfying(
            ScorelineException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.UNAVAILABLE));
  }

  private static List<Path> filesIn(Path folder) throws java.io.IOException {
    try (java.util.stream.Stream<Path> s = java.nio.file.Files.list(folder)) {
      return s.toList();
    }
  }

  @Test
  void namespaceWithZeroByte_isRejectedAsUserError() {
    assertUserError(() -> store.putAll("bad\0ns", List.of(entry("k", "v"))));
    assertUserError(() -> store.multiGet("bad\0ns", keys("k")));
    assertUserError(() -> store.dropNamespace("\0"));
    assertUserError(() -> store.mergeRecords("a\0", List.of(field("e", "f", 1, "x"))));
    assertUserError(() -> store.publish("feed", "s\0", 1));
    assertThatThrownBy(() -> store.multiGet("bad\0ns", keys("k")))
        .isInstanceOfSatisfying(
            ScorelineException.class, e -> assertThat(e.field()).contains("namespace"));
  }

  @Test
  void emptyNamespace_isRejectedAsUserError() {
    assertUserError(() -> store.putAll("", List.of(entry("k", "v"))));
    assertUserError(() -> store.currentSnapshot(""));
  }

  @Test
  void dropNamespace_doesNotTouchSnapshotMetadata() {
    store.putAll(KvStore.snapshotNamespace("feed", "s1"), List.of(entry("item", "s1")));
    store.publish("feed", "s1", 2);

    store.dropNamespace("feed");

    assertThat(store.currentSnapshot("feed")).contains("s1");
    assertThat(store.multiGet(KvStore.snapshotNamespace("feed", "s1"), keys("item")).get(0))
        .isEqualTo(bytes("s1"));
  }

  @Test
  void mergeRecords_ontoPlainValue_isRejectedAsUserError() {
    store.putAll("ns", List.of(new KvEntry(bytes("k"), new byte[] {42, 1, 2})));

    assertUserError(() -> store.mergeRecords("ns", List.of(field("k", "f", 1, "x"))));
    assertUserError(() -> store.multiGetRecords("ns", keys("k")));
    assertThat(store.multiGet("ns", keys("k")).get(0)).isEqualTo(new byte[] {42, 1, 2});
  }

  @Test
  void recordValue_hasDocumentedLayout() {
    byte[] stamp = Stamps.stamp(1, 2);
    store.mergeRecords("ns", List.of(field("k", "ab", stamp, "x")));

    byte[] raw = store.multiGet("ns", keys("k")).get(0);

    byte[] expected = new byte[1 + 1 + 1 + 2 + 1 + 17];
    expected[0] = 1; // format
    expected[1] = 1; // one field
    expected[2] = 2; // name length
    expected[3] = 'a';
    expected[4] = 'b';
    expected[5] = 17; // value length
    System.arraycopy(stamp, 0, expected, 6, 16);
    expected[22] = 'x';
    assertThat(raw).isEqualTo(expected);
  }

  @Test
  void open_directoryInUse_failsUnavailable() {
    assertThatThrownBy(() -> RocksDbKvStore.open(dir.resolve("db")))
        .isInstanceOfSatisfying(
            ScorelineException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.UNAVAILABLE));
  }

  @Test
  void callAfterClose_failsUnavailable_andCloseIsIdempotent() {
    RocksDbKvStore s = open(dir.resolve("closed"));
    s.close();
    s.close();

    assertThatThrownBy(() -> s.multiGet("ns", keys("k")))
        .isInstanceOfSatisfying(
            ScorelineException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.UNAVAILABLE));
  }

  @Test
  void open_customConfig_works() {
    RocksDbKvStore s =
        RocksDbKvStore.open(
            dir.resolve("custom"),
            RocksDbConfig.defaults().withBlockCacheBytes(8L << 20).withSyncWrites(true));
    opened.add(s);
    s.putAll("ns", List.of(entry("k", "v")));

    assertThat(new String(s.multiGet("ns", keys("k")).get(0), UTF_8)).isEqualTo("v");
  }

  private static void assertUserError(Runnable call) {
    assertThatThrownBy(call::run)
        .isInstanceOfSatisfying(
            ScorelineException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.USER_ERROR));
  }
}
