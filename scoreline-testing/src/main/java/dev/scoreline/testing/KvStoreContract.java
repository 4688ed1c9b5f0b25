package dev.scoreline.testing;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.scoreline.core.error.ErrorCode;
import dev.scoreline.core.error.ScorelineException;
import dev.scoreline.core.kv.BulkLoad;
import dev.scoreline.core.kv.FieldWrite;
import dev.scoreline.core.kv.KvEntry;
import dev.scoreline.core.kv.KvStore;
import dev.scoreline.core.kv.Stamps;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The contract every {@link KvStore} passes. An implementation's test extends this class and
 * implements {@link #newStore()}; every test runs against a fresh, empty store.
 *
 * <p>The contract never closes the store it gets: the subclass created it, so the subclass closes
 * it (and removes its data: a temporary directory, a flushed Redis database) in its own
 * {@code @AfterEach}. The store under test is {@link #store}.
 *
 * <p>Behaviour pinned here beyond the {@link KvStore} Javadoc, so that every implementation agrees:
 *
 * <ul>
 *   <li>the writes of one {@link KvStore#mergeRecords} call are applied in list order, so two
 *       writes of the same field in one call compare with each other as two calls would;
 *   <li>{@link KvStore#deleteAll} deletes records too (a record is one key);
 *   <li>a committed {@link KvStore#bulkLoad} reads back exactly, whatever the order entries were
 *       put in (the last of a key put twice wins); it replaces what was stored under its keys, and
 *       a later put replaces what it loaded; a second commit or a put after the commit is an {@link
 *       IllegalStateException};
 *   <li>{@link KvStore#publish} with {@code keep < 1} and {@link KvStore#rollback} without a
 *       previous snapshot fail with {@link ErrorCode#USER_ERROR};
 *   <li>{@link KvStore#dropSnapshot} of the current snapshot fails with {@link
 *       ErrorCode#USER_ERROR} (roll back first); of a kept older one removes it from {@link
 *       KvStore#snapshots} too, so a rollback never lands on dropped data.
 * </ul>
 */
public abstract class KvStoreContract {
  private static final String NS = "ns";

  /** The store under test, fresh and empty for each test. */
  protected KvStore store;

  /**
   * A fresh, empty store. Called once before each test; the subclass keeps a handle and closes it
   * after the test.
   */
  protected abstract KvStore newStore();

  @BeforeEach
  protected final void createStore() {
    store = newStore();
  }

  // ---------------------------------------------------------------- plain values

  @Test
  public void kind_isNotBlank() {
    assertThat(store.kind()).isNotBlank();
  }

  @Test
  public void multiGet_returnsValuesInKeyOrder_nullForAbsentKeys() {
    store.putAll(NS, List.of(entry("a", "1"), entry("b", "2"), entry("c", "3")));

    List<byte[]> values = store.multiGet(NS, keys("c", "missing", "a", "b", "a"));

    assertThat(values).hasSize(5);
    assertThat(values.get(0)).isEqualTo(bytes("3"));
    assertThat(values.get(1)).isNull();
    assertThat(values.get(2)).isEqualTo(bytes("1"));
    assertThat(values.get(3)).isEqualTo(bytes("2"));
    assertThat(values.get(4)).isEqualTo(bytes("1"));
  }

  @Test
  public void multiGet_emptyStore_returnsAllNulls() {
    List<byte[]> values = store.multiGet(NS, keys("a", "b"));

    assertThat(values).hasSize(2).containsOnlyNulls();
  }

  @Test
  public void emptyLists_areNoOps() {
    store.putAll(NS, List.of());
    store.deleteAll(NS, List.of());

    assertThat(store.multiGet(NS, List.of())).isEmpty();
    assertThat(store.multiGetRecords(NS, List.of())).isEmpty();
    assertThat(store.mergeRecords(NS, List.of())).isZero();
  }

  @Test
  public void binaryKeys_withZeroAndFfBytes_roundTrip() {
    List<byte[]> keys =
        List.of(
            new byte[] {0x00},
            new byte[] {0x00, 0x00},
            new byte[] {(byte) 0xff},
            new byte[] {(byte) 0xff, (byte) 0xff, (byte) 0xff},
            new byte[] {0x00, (byte) 0xff, 0x00},
            new byte[] {(byte) 0xff, 0x00},
            new byte[] {'a', 0x00, 'b'},
            new byte[] {'a'});
    List<KvEntry> entries = new ArrayList<>();
    for (int i = 0; i < keys.size(); i++) {
      entries.add(new KvEntry(keys.get(i), new byte[] {(byte) i, 0x00, (byte) 0xff}));
    }
    store.putAll(NS, entries);

    List<byte[]> values = store.multiGet(NS, keys);

    for (int i = 0; i < keys.size(); i++) {
      assertThat(values.get(i)).as("key %d", i).isEqualTo(new byte[] {(byte) i, 0x00, (byte) 0xff});
    }
  }

  @Test
  public void putAll_largeValue_1MiB_roundTrips() {
    byte[] big = randomBytes(1 << 20, 42);
    store.putAll(NS, List.of(new KvEntry(bytes("big"), big), entry("small", "x")));

    List<byte[]> values = store.multiGet(NS, keys("big", "small"));

    assertThat(values.get(0)).isEqualTo(big);
    assertThat(values.get(1)).isEqualTo(bytes("x"));
  }

  @Test
  public void namespaces_sameKey_areIsolated() {
    store.putAll("user", List.of(entry("k", "user")));
    store.putAll("user2", List.of(entry("k", "user2")));
    store.putAll("use", List.of(entry("rk", "use")));

    assertThat(store.multiGet("user", keys("k")).get(0)).isEqualTo(bytes("user"));
    assertThat(store.multiGet("user2", keys("k")).get(0)).isEqualTo(bytes("user2"));
    assertThat(store.multiGet("use", keys("k", "rk"))).containsExactly(null, bytes("use"));
    assertThat(store.multiGet("other", keys("k")).get(0)).isNull();
  }

  @Test
  public void putAll_duplicateKey_lastEntryWins() {
    store.putAll(NS, List.of(entry("k", "first"), entry("j", "j"), entry("k", "last")));

    assertThat(store.multiGet(NS, keys("k", "j"))).containsExactly(bytes("last"), bytes("j"));
  }

  @Test
  public void putAll_existingKey_overwrites() {
    store.putAll(NS, List.of(entry("k", "old")));
    store.putAll(NS, List.of(entry("k", "new")));

    assertThat(store.multiGet(NS, keys("k")).get(0)).isEqualTo(bytes("new"));
  }

  // ---------------------------------------------------------------- bulk loads

  @Test
  public void bulkLoad_entriesInAnyOrder_readBackExactlyAfterCommit_lastEntryWins() {
    SplittableRandom rnd = new SplittableRandom(11);
    Map<String, byte[]> expected = new HashMap<>();
    try (BulkLoad load = store.bulkLoad(NS, 7)) {
      for (int i = 0; i < 500; i++) {
        String key = "k" + rnd.nextInt(400); // unsorted, some keys twice
        byte[] value = randomBytes(1 + rnd.nextInt(700), i);
        load.put(bytes(key), value);
        expected.put(key, value);
      }
      assertThat(load.entries()).isEqualTo(500);
      load.commit();
    }

    List<String> keys = new ArrayList<>(expected.keySet());
    List<byte[]> values = store.multiGet(NS, keys(keys.toArray(String[]::new)));
    for (int i = 0; i < keys.size(); i++) {
      assertThat(values.get(i)).as(keys.get(i)).isEqualTo(expected.get(keys.get(i)));
    }
    assertThat(store.multiGet(NS, keys("k400", "other"))).containsOnlyNulls();
  }

  @Test
  public void bulkLoad_binaryKeys_withZeroAndFfBytes_roundTrip() {
    List<byte[]> keys =
        List.of(
            new byte[] {(byte) 0xff, 0x00},
            new byte[] {0x00},
            new byte[] {'a', 0x00, 'b'},
            new byte[] {(byte) 0xff},
            new byte[] {0x00, 0x00});
    try (BulkLoad load = store.bulkLoad(NS, 2)) {
      for (int i = 0; i < keys.size(); i++) {
        load.put(keys.get(i), new byte[] {(byte) i, 0x00, (byte) 0xff});
      }
      load.commit();
    }

    List<byte[]> values = store.multiGet(NS, keys);

    for (int i = 0; i < keys.size(); i++) {
      assertThat(values.get(i)).as("key %d", i).isEqualTo(new byte[] {(byte) i, 0x00, (byte) 0xff});
    }
  }

  @Test
  public void bulkLoad_overExistingKeys_newerWritesWin_inBothDirections() {
    store.putAll(NS, List.of(entry("a", "put-before"), entry("b", "put-before")));
    try (BulkLoad load = store.bulkLoad(NS, 100)) {
      load.put(bytes("b"), bytes("loaded"));
      load.put(bytes("c"), bytes("loaded"));
      load.commit();
    }
    store.putAll(NS, List.of(entry("c", "put-after")));

    assertThat(store.multiGet(NS, keys("a", "b", "c")))
        .containsExactly(bytes("put-before"), bytes("loaded"), bytes("put-after"));
  }

  @Test
  public void bulkLoad_staysInItsNamespace_andDropNamespaceRemovesIt() {
    store.putAll("snap@2", List.of(entry("k", "neighbour")));
    try (BulkLoad load = store.bulkLoad("snap@1", 100)) {
      load.put(bytes("k"), bytes("loaded"));
      load.put(bytes("j"), bytes("loaded"));
      load.commit();
    }

    assertThat(store.multiGet("snap@1", keys("k", "j")))
        .containsExactly(bytes("loaded"), bytes("loaded"));
    assertThat(store.multiGet("snap@2", keys("k", "j"))).containsExactly(bytes("neighbour"), null);
    assertThat(store.multiGet("snap", keys("k"))).containsOnlyNulls();

    store.dropNamespace("snap@1");

    assertThat(store.multiGet("snap@1", keys("k", "j"))).containsOnlyNulls();
    assertThat(store.multiGet("snap@2", keys("k"))).containsExactly(bytes("neighbour"));
  }

  @Test
  public void bulkLoad_empty_commitsNothing() {
    try (BulkLoad load = store.bulkLoad(NS, 10)) {
      load.commit();
      assertThat(load.entries()).isZero();
    }

    assertThat(store.multiGet(NS, keys("a"))).containsOnlyNulls();
  }

  @Test
  public void bulkLoad_commitTwiceOrPutAfterCommit_isIllegal() {
    try (BulkLoad load = store.bulkLoad(NS, 10)) {
      load.put(bytes("a"), bytes("1"));
      load.commit();

      assertThatThrownBy(load::commit).isInstanceOf(IllegalStateException.class);
      assertThatThrownBy(() -> load.put(bytes("b"), bytes("2")))
          .isInstanceOf(IllegalStateException.class);
    }
    assertThat(store.multiGet(NS, keys("a", "b"))).containsExactly(bytes("1"), null);
  }

  @Test
  public void bulkLoad_concurrentLoads_ofDisjointKeys_allLand() throws Exception {
    int threads = 4;
    int perThread = 2_000;
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      List<Future<?>> futures = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        int thread = t;
        futures.add(
            pool.submit(
                () -> {
                  try (BulkLoad load = store.bulkLoad("snap@" + (thread % 2), 256)) {
                    for (int i = 0; i < perThread; i++) {
                      load.put(bytes(thread + "/" + i), bytes(thread + ":" + i));
                    }
                    load.commit();
                  }
                }));
      }
      for (Future<?> f : futures) {
        f.get(60, TimeUnit.SECONDS);
      }
    } finally {
      pool.shutdownNow();
    }

    for (int t = 0; t < threads; t++) {
      List<byte[]> keys = new ArrayList<>();
      for (int i = 0; i < perThread; i++) {
        keys.add(bytes(t + "/" + i));
      }
      List<byte[]> values = store.multiGet("snap@" + (t % 2), keys);
      for (int i = 0; i < perThread; i++) {
        assertThat(values.get(i)).as("thread %d entry %d", t, i).isEqualTo(bytes(t + ":" + i));
      }
    }
  }

  @Test
  public void deleteAll_removesOnlyGivenKeys_andIgnoresAbsentKeys() {
    store.putAll(NS, List.of(entry("a", "1"), entry("b", "2"), entry("c", "3")));
    store.putAll("other", List.of(entry("a", "other")));

    store.deleteAll(NS, keys("a", "missing", "c"));

    assertThat(store.multiGet(NS, keys("a", "b", "c"))).containsExactly(null, bytes("2"), null);
    assertThat(store.multiGet("other", keys("a")).get(0)).isEqualTo(bytes("other"));
  }

  @Test
  public void deleteAll_removesRecordsToo() {
    store.mergeRecords(NS, List.of(field("e1", "view", 10, "v"), field("e2", "view", 10, "w")));

    store.deleteAll(NS, keys("e1"));

    List<Map<String, byte[]>> records = store.multiGetRecords(NS, keys("e1", "e2"));
    assertThat(records.get(0)).isEmpty();
    assertThat(records.get(1)).containsOnlyKeys("view");
  }

  @Test
  public void dropNamespace_removesOnlyThatNamespace_recordsIncluded() {
    store.putAll(
        "user", List.of(entry("k", "1"), new KvEntry(new byte[] {(byte) 0xff}, bytes("2"))));
    store.mergeRecords("user", List.of(field("e", "view", 1, "r")));
    store.putAll("user2", List.of(entry("k", "keep")));
    store.putAll("use", List.of(entry("k", "keep")));
    store.mergeRecords("user2", List.of(field("e", "view", 1, "keep")));

    store.dropNamespace("user");

    assertThat(store.multiGet("user", List.of(bytes("k"), new byte[] {(byte) 0xff})))
        .containsOnlyNulls();
    assertThat(store.multiGetRecords("user", keys("e")).get(0)).isEmpty();
    assertThat(store.multiGet("user2", keys("k")).get(0)).isEqualTo(bytes("keep"));
    assertThat(store.multiGet("use", keys("k")).get(0)).isEqualTo(bytes("keep"));
    assertThat(payload(store.multiGetRecords("user2", keys("e")).get(0).get("view")))
        .isEqualTo("keep");
  }

  @Test
  public void dropNamespace_thenWrite_works() {
    store.putAll(NS, List.of(entry("k", "old")));
    store.dropNamespace(NS);
    store.dropNamespace("never-written");

    store.putAll(NS, List.of(entry("k", "new")));

    assertThat(store.multiGet(NS, keys("k")).get(0)).isEqualTo(bytes("new"));
  }

  // ---------------------------------------------------------------- records

  @Test
  public void multiGetRecords_absentKey_returnsEmptyMap() {
    store.mergeRecords(NS, List.of(field("present", "view", 1, "v")));

    List<Map<String, byte[]>> records = store.multiGetRecords(NS, keys("absent", "present"));

    assertThat(records).hasSize(2);
    assertThat(records.get(0)).isNotNull().isEmpty();
    assertThat(records.get(1)).containsOnlyKeys("view");
  }

  @Test
  public void mergeRecords_absentRecord_isCreated_withStampInValue() {
    FieldWrite write = field("e", "view", 7, "payload");

    int applied = store.mergeRecords(NS, List.of(write));

    assertThat(applied).isEqualTo(1);
    Map<String, byte[]> record = store.multiGetRecords(NS, keys("e")).get(0);
    assertThat(record).containsOnlyKeys("view");
    assertThat(record.get("view")).isEqualTo(write.value());
  }

  @Test
  public void mergeRecords_newerStamp_replaces() {
    store.mergeRecords(NS, List.of(field("e", "view", 10, "old")));

    int applied = store.mergeRecords(NS, List.of(field("e", "view", 11, "new")));

    assertThat(applied).isEqualTo(1);
    assertThat(readField(NS, "e", "view")).isEqualTo("new");
  }

  @Test
  public void mergeRecords_olderStamp_neverOverwritesNewer() {
    store.mergeRecords(NS, List.of(field("e", "view", 10, "new")));

    int applied = store.mergeRecords(NS, List.of(field("e", "view", 9, "late-old")));

    assertThat(applied).isZero();
    assertThat(readField(NS, "e", "view")).isEqualTo("new");
  }

  @Test
  public void mergeRecords_equalStamp_replaces_lateCorrection() {
    store.mergeRecords(NS, List.of(field("e", "view", 10, "wrong")));

    int applied = store.mergeRecords(NS, List.of(field("e", "view", 10, "corrected")));

    assertThat(applied).isEqualTo(1);
    assertThat(readField(NS, "e", "view")).isEqualTo("corrected");
  }

  @Test
  public void mergeRecords_sameEventTime_newerCreatedTimeWins() {
    store.mergeRecords(NS, List.of(field("e", "view", Stamps.stamp(10, 5), "created-5")));

    assertThat(store.mergeRecords(NS, List.of(field("e", "view", Stamps.stamp(10, 4), "c4"))))
        .isZero();
    assertThat(store.mergeRecords(NS, List.of(field("e", "view", Stamps.stamp(10, 6), "c6"))))
        .isEqualTo(1);
    assertThat(readField(NS, "e", "view")).isEqualTo("c6");
  }

  @Test
  public void mergeRecords_stampsCompareUnsigned_beforeEpochIsOlder() {
    store.mergeRecords(NS, List.of(field("e", "view", Stamps.stamp(1, 0), "after-epoch")));

    int applied =
        store.mergeRecords(NS, List.of(field("e", "view", Stamps.stamp(-1, 0), "before-epoch")));

    assertThat(applied).isZero();
    assertThat(readField(NS, "e", "view")).isEqualTo("after-epoch");
    assertThat(store.mergeRecords(NS, List.of(field("e", "view", Stamps.stamp(2, 0), "later"))))
        .isEqualTo(1);
    assertThat(readField(NS, "e", "view")).isEqualTo("later");
  }

  @Test
  public void mergeRecords_fieldsAreIndependent() {
    store.mergeRecords(
        NS,
        List.of(field("e", "profile", 100, "profile@100"), field("e", "clicks", 5, "clicks@5")));

    // older than profile's stamp but newer than clicks': only clicks changes
    int applied =
        store.mergeRecords(
            NS, List.of(field("e", "profile", 50, "profile@50"), field("e", "clicks", 50, "c@50")));

    assertThat(applied).isEqualTo(1);
    Map<String, byte[]> record = store.multiGetRecords(NS, keys("e")).get(0);
    assertThat(record).containsOnlyKeys("profile", "clicks");
    assertThat(payload(record.get("profile"))).isEqualTo("profile@100");
    assertThat(payload(record.get("clicks"))).isEqualTo("c@50");
  }

  @Test
  public void mergeRecords_returnsAppliedCount() {
    store.mergeRecords(NS, List.of(field("a", "f", 10, "a10"), field("b", "f", 10, "b10")));

    int applied =
        store.mergeRecords(
            NS,
            List.of(
                field("a", "f", 9, "older"), // rejected
                field("a", "g", 1, "new field"), // applied
                field("b", "f", 10, "equal"), // applied
                field("c", "f", 1, "new key"), // applied
                field("b", "f", 3, "older"))); // rejected

    assertThat(applied).isEqualTo(3);
    List<Map<String, byte[]>> records = store.multiGetRecords(NS, keys("a", "b", "c"));
    assertThat(payload(records.get(0).get("f"))).isEqualTo("a10");
    assertThat(payload(records.get(0).get("g"))).isEqualTo("new field");
    assertThat(payload(records.get(1).get("f"))).isEqualTo("equal");
    assertThat(payload(records.get(2).get("f"))).isEqualTo("new key");
  }

  @Test
  public void mergeRecords_sameFieldTwiceInOneCall_appliedInOrder() {
    int applied =
        store.mergeRecords(
            NS,
            List.of(
                field("e", "f", 5, "first"), // applied (absent)
                field("e", "f", 3, "older"), // rejected against the first
                field("e", "f", 5, "tie"), // applied (equal)
                field("e", "f", 4, "older again"))); // rejected

    assertThat(applied).isEqualTo(2);
    assertThat(readField(NS, "e", "f")).isEqualTo("tie");
  }

  @Test
  public void mergeRecords_binaryKeysAndUnicodeFieldNames_roundTrip() {
    byte[] k1 = {0x00, (byte) 0xff};
    byte[] k2 = {(byte) 0xff, 0x00, 0x00};
    store.mergeRecords(
        NS,
        List.of(
            new FieldWrite(k1, "vue_é_视图", value(Stamps.stamp(1, 1), "x")),
            new FieldWrite(k2, "", value(Stamps.stamp(1, 1), "empty name"))));

    List<Map<String, byte[]>> records = store.multiGetRecords(NS, List.of(k1, k2));

    assertThat(payload(records.get(0).get("vue_é_视图"))).isEqualTo("x");
    assertThat(payload(records.get(1).get(""))).isEqualTo("empty name");
  }

  @Test
  public void mergeRecords_largeFieldValue_roundTrips() {
    byte[] big = value(Stamps.stamp(1, 1), randomBytes(1 << 20, 7));
    store.mergeRecords(
        NS, List.of(new FieldWrite(bytes("e"), "big", big), field("e", "s", 1, "s")));

    Map<String, byte[]> record = store.multiGetRecords(NS, keys("e")).get(0);

    assertThat(record.get("big")).isEqualTo(big);
    assertThat(payload(record.get("s"))).isEqualTo("s");
  }

  @Test
  public void mergeRecords_namespacesAreIsolated() {
    store.mergeRecords("a", List.of(field("e", "f", 10, "in a")));

    int applied = store.mergeRecords("b", List.of(field("e", "f", 1, "in b")));

    assertThat(applied).isEqualTo(1);
    assertThat(readField("a", "e", "f")).isEqualTo("in a");
    assertThat(readField("b", "e", "f")).isEqualTo("in b");
  }

  @Test
  @Timeout(value = 120, unit = TimeUnit.SECONDS)
  public void mergeRecords_concurrentWritersOnSameKeys_maxStampWins() throws Exception {
    int threads = 8;
    int callsPerThread = 200;
    int keyCount = 8;
    String[] fields = {"f1", "f2", "f3"};
    AtomicLong created = new AtomicLong(); // makes every stamp unique, so the max is unique
    List<List<FieldWrite>> perThread = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      SplittableRandom random = new SplittableRandom(1000 + t);
      List<FieldWrite> writes = new ArrayList<>();
      for (int i = 0; i < callsPerThread * 4; i++) {
        String key = "k" + random.nextInt(keyCount);
        String f = fields[random.nextInt(fields.length)];
        byte[] stamp =
            Stamps.stamp(random.nextLong(-1_000_000, 1_000_000), created.getAndIncrement());
        writes.add(new FieldWrite(bytes(key), f, value(stamp, "t" + t + "-" + i)));
      }
      perThread.add(writes);
    }
    Map<String, FieldWrite> expected = new HashMap<>();
    for (List<FieldWrite> writes : perThread) {
      for (FieldWrite w : writes) {
        expected.merge(
            new String(w.key(), UTF_8) + "/" + w.field(),
            w,
            (a, b) -> Stamps.compare(a.value(), b.value()) >= 0 ? a : b);
      }
    }

    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      CountDownLatch start = new CountDownLatch(1);
      List<Future<?>> futures = new ArrayList<>();
      for (List<FieldWrite> writes : perThread) {
        futures.add(
            pool.submit(
                () -> {
                  start.await();
                  for (int i = 0; i < writes.size(); i += 4) {
                    store.mergeRecords(NS, writes.subList(i, i + 4));
                  }
                  return null;
                }));
      }
      start.countDown();
      for (Future<?> f : futures) {
        f.get(100, TimeUnit.SECONDS);
      }
    } finally {
      pool.shutdownNow();
    }

    List<byte[]> recordKeys = new ArrayList<>();
    for (int k = 0; k < keyCount; k++) {
      recordKeys.add(bytes("k" + k));
    }
    List<Map<String, byte[]>> records = store.multiGetRecords(NS, recordKeys);
    for (Map.Entry<String, FieldWrite> e : expected.entrySet()) {
      String[] keyAndField = e.getKey().split("/");
      int k = Integer.parseInt(keyAndField[0].substring(1));
      assertThat(records.get(k).get(keyAndField[1]))
          .as("%s", e.getKey())
          .isEqualTo(e.getValue().value());
    }
  }

  // ---------------------------------------------------------------- snapshots

  @Test
  public void snapshots_neverPublished_areEmpty() {
    assertThat(store.currentSnapshot("feed")).isEmpty();
    assertThat(store.snapshots("feed")).isEmpty();
  }

  @Test
  public void publish_makesCurrent_andListsNewestFirst() {
    writeSnapshot("feed", "s1", 3);
    store.publish("feed", "s1", 3);
    assertThat(store.currentSnapshot("feed")).contains("s1");

    writeSnapshot("feed", "s2", 3);
    store.publish("feed", "s2", 3);

    assertThat(store.currentSnapshot("feed")).contains("s2");
    assertThat(store.snapshots("feed")).containsExactly("s2", "s1");
    assertThat(readSnapshotValue("feed", "s1")).isEqualTo("s1");
    assertThat(readSnapshotValue("feed", "s2")).isEqualTo("s2");
  }

  @Test
  public void publish_namesAreIndependent() {
    writeSnapshot("feed", "s1", 1);
    writeSnapshot("digest", "d1", 1);
    store.publish("feed", "s1", 2);
    store.publish("digest", "d1", 2);

    assertThat(store.currentSnapshot("feed")).contains("s1");
    assertThat(store.currentSnapshot("digest")).contains("d1");
    assertThat(store.snapshots("feed")).containsExactly("s1");
  }

  @Test
  public void publish_keepN_dropsOlderSnapshotsAndTheirData() {
    for (int i = 1; i <= 4; i++) {
      writeSnapshot("feed", "s" + i, 10);
      store.publish("feed", "s" + i, 2);
    }

    assertThat(store.currentSnapshot("feed")).contains("s4");
    assertThat(store.snapshots("feed")).containsExactly("s4", "s3");
    assertThat(snapshotValues("feed", "s1", 10)).containsOnlyNulls();
    assertThat(snapshotValues("feed", "s2", 10)).containsOnlyNulls();
    assertThat(snapshotValues("feed", "s3", 10)).containsOnly(bytes("s3"));
    assertThat(snapshotValues("feed", "s4", 10)).containsOnly(bytes("s4"));
  }

  @Test
  public void publish_keepOne_keepsOnlyCurrent() {
    writeSnapshot("feed", "s1", 3);
    store.publish("feed", "s1", 1);
    writeSnapshot("feed", "s2", 3);
    store.publish("feed", "s2", 1);

    assertThat(store.snapshots("feed")).containsExactly("s2");
    assertThat(snapshotValues("feed", "s1", 3)).containsOnlyNulls();
  }

  @Test
  public void publish_keepBelowOne_throwsUserError() {
    writeSnapshot("feed", "s1", 1);

    assertThatThrownBy(() -> store.publish("feed", "s1", 0))
        .isInstanceOfSatisfying(
            ScorelineException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.USER_ERROR));
    assertThat(store.currentSnapshot("feed")).isEmpty();
  }

  @Test
  public void rollback_makesPreviousCurrent_andDropsRolledBackSnapshot() {
    for (int i = 1; i <= 3; i++) {
      writeSnapshot("feed", "s" + i, 5);
      store.publish("feed", "s" + i, 3);
    }

    String current = store.rollback("feed");

    assertThat(current).isEqualTo("s2");
    assertThat(store.currentSnapshot("feed")).contains("s2");
    assertThat(store.snapshots("feed")).containsExactly("s2", "s1");
    assertThat(snapshotValues("feed", "s3", 5)).containsOnlyNulls();
    assertThat(snapshotValues("feed", "s2", 5)).containsOnly(bytes("s2"));

    assertThat(store.rollback("feed")).isEqualTo("s1");
    assertThat(store.snapshots("feed")).containsExactly("s1");
  }

  @Test
  public void rollback_noPrevious_throwsUserError() {
    writeSnapshot("feed", "s1", 2);
    store.publish("feed", "s1", 3);

    assertThatThrownBy(() -> store.rollback("feed"))
        .isInstanceOfSatisfying(
            ScorelineException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.USER_ERROR));
    assertThat(store.currentSnapshot("feed")).contains("s1");
    assertThat(snapshotValues("feed", "s1", 2)).containsOnly(bytes("s1"));
  }

  @Test
  public void rollback_neverPublished_throwsUserError() {
    assertThatThrownBy(() -> store.rollback("feed"))
        .isInstanceOfSatisfying(
            ScorelineException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.USER_ERROR));
  }

  @Test
  public void dropSnapshot_unpublished_removesItsDataOnly() {
    writeSnapshot("feed", "s1", 4);
    store.publish("feed", "s1", 2);
    writeSnapshot("feed", "abandoned", 4);

    store.dropSnapshot("feed", "abandoned");

    assertThat(snapshotValues("feed", "abandoned", 4)).containsOnlyNulls();
    assertThat(store.currentSnapshot("feed")).contains("s1");
    assertThat(store.snapshots("feed")).containsExactly("s1");
    assertThat(snapshotValues("feed", "s1", 4)).containsOnly(bytes("s1"));
  }

  @Test
  public void dropSnapshot_keptPrevious_removesItFromList() {
    writeSnapshot("feed", "s1", 2);
    store.publish("feed", "s1", 3);
    writeSnapshot("feed", "s2", 2);
    store.publish("feed", "s2", 3);

    store.dropSnapshot("feed", "s1");

    assertThat(store.snapshots("feed")).containsExactly("s2");
    assertThat(snapshotValues("feed", "s1", 2)).containsOnlyNulls();
    assertThatThrownBy(() -> store.rollback("feed"))
        .isInstanceOfSatisfying(
            ScorelineException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.USER_ERROR));
  }

  @Test
  public void dropSnapshot_current_throwsUserError() {
    writeSnapshot("feed", "s1", 2);
    store.publish("feed", "s1", 3);

    assertThatThrownBy(() -> store.dropSnapshot("feed", "s1"))
        .isInstanceOfSatisfying(
            ScorelineException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.USER_ERROR));
    assertThat(store.currentSnapshot("feed")).contains("s1");
    assertThat(snapshotValues("feed", "s1", 2)).containsOnly(bytes("s1"));
  }

  @Test
  @Timeout(value = 120, unit = TimeUnit.SECONDS)
  public void readersDuringPublish_neverSeeAMixOfSnapshots() throws Exception {
    int keyCount = 100;
    int snapshotCount = 20;
    List<byte[]> snapshotKeys = new ArrayList<>();
    for (int i = 0; i < keyCount; i++) {
      snapshotKeys.add(bytes("item-" + i));
    }
    writeSnapshot("feed", "s0", keyCount);
    store.publish("feed", "s0", 2);

    AtomicBoolean done = new AtomicBoolean();
    AtomicLong consistentReads = new AtomicLong();
    ExecutorService pool = Executors.newFixedThreadPool(2);
    try {
      Future<?> reader =
          pool.submit(
              () -> {
                do {
                  String current = store.currentSnapshot("feed").orElseThrow();
                  List<byte[]> values =
                      store.multiGet(KvStore.snapshotNamespace("feed", current), snapshotKeys);
                  assertThat(values).hasSize(keyCount);
                  boolean complete = true;
                  for (byte[] v : values) {
                    if (v == null) {
                      complete = false;
                    } else {
                      assertThat(new String(v, UTF_8))
                          .as("value under %s", current)
                          .isEqualTo(current);
                    }
                  }
                  if (complete) {
                    consistentReads.incrementAndGet();
                  } else {
                    // legitimate only when the snapshot was dropped (beyond keep) meanwhile
                    assertThat(store.snapshots("feed")).doesNotContain(current);
                  }
                } while (!done.get());
                return null;
              });
      Future<?> writer =
          pool.submit(
              () -> {
                try {
                  for (int s = 1; s <= snapshotCount; s++) {
                    writeSnapshot("feed", "s" + s, keyCount);
                    store.publish("feed", "s" + s, 2);
                  }
                } finally {
                  done.set(true);
                }
                return null;
              });
      writer.get(100, TimeUnit.SECONDS);
      reader.get(100, TimeUnit.SECONDS);
    } finally {
      done.set(true);
      pool.shutdownNow();
    }

    assertThat(consistentReads.get()).isPositive();
    assertThat(store.currentSnapshot("feed")).contains("s" + snapshotCount);
  }

  // ---------------------------------------------------------------- helpers

  /** UTF-8 bytes of {@code s}. */
  protected static byte[] bytes(String s) {
    return s.getBytes(UTF_8);
  }

  /** UTF-8 bytes of each string. */
  protected static List<byte[]> keys(String... keys) {
    List<byte[]> out = new ArrayList<>(keys.length);
    for (String k : keys) {
      out.add(bytes(k));
    }
    return out;
  }

  protected static KvEntry entry(String key, String value) {
    return new KvEntry(bytes(key), bytes(value));
  }

  /** A record field write stamped with event time {@code eventMicros} (created time 0). */
  protected static FieldWrite field(String key, String field, long eventMicros, String payload) {
    return field(key, field, Stamps.stamp(eventMicros, 0), payload);
  }

  protected static FieldWrite field(String key, String field, byte[] stamp, String payload) {
    return new FieldWrite(bytes(key), field, value(stamp, payload));
  }

  /** {@code stamp} followed by the UTF-8 bytes of {@code payload}. */
  protected static byte[] value(byte[] stamp, String payload) {
    return value(stamp, bytes(payload));
  }

  protected static byte[] value(byte[] stamp, byte[] payload) {
    byte[] v = Arrays.copyOf(stamp, KvStore.STAMP_BYTES + payload.length);
    System.arraycopy(payload, 0, v, KvStore.STAMP_BYTES, payload.length);
    return v;
  }

  /** The payload (after the stamp) of a record field value, as UTF-8; null for null. */
  protected static String payload(byte[] fieldValue) {
    if (fieldValue == null) {
      return null;
    }
    return new String(
        fieldValue, KvStore.STAMP_BYTES, fieldValue.length - KvStore.STAMP_BYTES, UTF_8);
  }

  private String readField(String namespace, String key, String field) {
    return payload(store.multiGetRecords(namespace, keys(key)).get(0).get(field));
  }

  /** Writes {@code count} keys {@code item-i} whose value is the snapshot id. */
  private void writeSnapshot(String name, String id, int count) {
    List<KvEntry> entries = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      entries.add(entry("item-" + i, id));
    }
    store.putAll(KvStore.snapshotNamespace(name, id), entries);
  }

  private List<byte[]> snapshotValues(String name, String id, int count) {
    List<byte[]> snapshotKeys = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      snapshotKeys.add(bytes("item-" + i));
    }
    return store.multiGet(KvStore.snapshotNamespace(name, id), snapshotKeys);
  }

  private String readSnapshotValue(String name, String id) {
    byte[] v = snapshotValues(name, id, 1).get(0);
    return v == null ? null : new String(v, UTF_8);
  }

  private static byte[] randomBytes(int n, long seed) {
    byte[] b = new byte[n];
    new Random(seed).nextBytes(b);
    return b;
  }
}
