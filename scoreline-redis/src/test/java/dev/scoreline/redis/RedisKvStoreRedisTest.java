package dev.scoreline.redis;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.scoreline.core.error.ErrorCode;
import dev.scoreline.core.error.ScorelineException;
import dev.scoreline.core.kv.FieldWrite;
import dev.scoreline.core.kv.KvEntry;
import dev.scoreline.core.kv.KvStore;
import dev.scoreline.core.kv.Stamps;
import dev.scoreline.testing.RedisServerProcess;
import io.lettuce.core.KillArgs;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisFuture;
import io.lettuce.core.RedisURI;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import io.lettuce.core.codec.ByteArrayCodec;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/** Behaviour of {@link RedisKvStore} that the {@code KvStoreContract} cannot see. */
@ExtendWith(RedisServerExtension.class)
class RedisKvStoreRedisTest {
  private static final int DB = 1;
  private static RedisServerProcess redis;

  private RedisKvStore store;
  private RedisClient adminClient;
  private StatefulRedisConnection<byte[], byte[]> adminConnection;
  private RedisCommands<byte[], byte[]> admin;

  @BeforeAll
  static void startRedis(RedisServerProcess server) {
    redis = server;
  }

  /** Opens the store under test; a subclass reads through Lettuce instead. */
  RedisKvStore open(String uri) {
    return RedisKvStore.connect(uri);
  }

  @BeforeEach
  void openStore() {
    redis.flush(DB);
    store = open(redis.uri(DB));
    // an admin connection of its own, never the store's
    adminClient = RedisClient.create(RedisURI.create(redis.uri(DB)));
    adminConnection = adminClient.connect(ByteArrayCodec.INSTANCE);
    admin = adminConnection.sync();
  }

  @AfterEach
  void closeStore() {
    adminConnection.close();
    adminClient.shutdown();
    store.close();
    redis.flush(DB);
  }

  // ---------------------------------------------------------------- key layout

  @Test
  void keyLayout_isVersionOneAsDocumented() {
    store.putAll("user", List.of(new KvEntry(new byte[] {0x00, (byte) 0xff}, bytes("v"))));
    byte[] stamped = value(Stamps.stamp(1, 2), "p");
    store.mergeRecords("user", List.of(new FieldWrite(bytes("e1"), "clicks", stamped)));
    store.putAll("feed@s1", List.of(new KvEntry(bytes("item"), bytes("x"))));
    store.publish("feed", "s1", 2);

    assertThat(admin.get(raw("sl1:d:user\0", new byte[] {0x00, (byte) 0xff})))
        .isEqualTo(bytes("v"));
    assertThat(admin.type(raw("sl1:d:user\0", bytes("e1")))).isEqualTo("hash");
    assertThat(admin.hget(raw("sl1:d:user\0", bytes("e1")), bytes("clicks"))).isEqualTo(stamped);
    assertThat(admin.get(raw("sl1:d:feed@s1\0", bytes("item")))).isEqualTo(bytes("x"));
    assertThat(admin.lrange(bytes("sl1:s:feed"), 0, -1)).containsExactly(bytes("s1"));
    assertThat(admin.dbsize()).isEqualTo(4);
  }

  @Test
  void namespaceWithColon_neverCollidesWithAnotherNamespacesKeys() {
    // a naive "namespace:key" layout maps both to "a:b:c"
    store.putAll("a:b", List.of(new KvEntry(bytes("c"), bytes("in a:b"))));
    store.putAll("a", List.of(new KvEntry(bytes("b:c"), bytes("in a"))));
    store.mergeRecords("x:y", List.of(field("z", "f", 1, "in x:y")));
    store.mergeRecords("x", List.of(field("y:z", "f", 1, "in x")));

    assertThat(store.multiGet("a:b", keys("c")).get(0)).isEqualTo(bytes("in a:b"));
    assertThat(store.multiGet("a", keys("b:c")).get(0)).isEqualTo(bytes("in a"));
    assertThat(payload(store.multiGetRecords("x:y", keys("z")).get(0).get("f")))
        .isEqualTo("in x:y");
    assertThat(payload(store.multiGetRecords("x", keys("y:z")).get(0).get("f"))).isEqualTo("in x");

    store.dropNamespace("a");
    store.dropNamespace("x");

    assertThat(store.multiGet("a", keys("b:c")).get(0)).isNull();
    assertThat(store.multiGet("a:b", keys("c")).get(0)).isEqualTo(bytes("in a:b"));
    assertThat(store.multiGetRecords("x", keys("y:z")).get(0)).isEmpty();
    assertThat(store.multiGetRecords("x:y", keys("z")).get(0)).containsOnlyKeys("f");
  }

  @Test
  void dropNamespace_globCharactersInNamespace_dropOnlyThatNamespace() {
    List<String> namespaces = List.of("a*", "a?", "a[b]", "a\\", "ab", "a", "a[b]x", "a*b", "a\\*");
    for (String ns : namespaces) {
      store.putAll(ns, List.of(new KvEntry(bytes("k"), bytes(ns))));
    }

    for (String dropped : List.of("a*", "a?", "a[b]", "a\\")) {
      store.dropNamespace(dropped);

      assertThat(store.multiGet(dropped, keys("k")).get(0)).as(dropped).isNull();
    }
    for (String kept : List.of("ab", "a", "a[b]x", "a*b", "a\\*")) {
      assertThat(store.multiGet(kept, keys("k")).get(0)).as(kept).isEqualTo(bytes(kept));
    }
  }

  @Test
  void dropNamespace_manyKeys_spanningScanPages_removesAllAndOnlyThem() {
    store.putAll("big", entries("k", 20_000));
    store.putAll("bigger", entries("k", 5_000));

    store.dropNamespace("big");

    assertThat(admin.dbsize()).isEqualTo(5_000);
    assertThat(store.multiGet("bigger", keys("k0", "k4999"))).doesNotContainNull();
  }

  @Test
  void invalidNames_areUserErrors() {
    assertUserError(() -> store.putAll("", List.of()));
    assertUserError(() -> store.multiGet("a\0b", keys("k")));
    assertUserError(() -> store.dropNamespace("bad\uD800"));
    assertUserError(() -> store.currentSnapshot(""));
    assertUserError(() -> store.publish("feed", "s@1", 2));
    assertUserError(() -> store.publish("feed", "", 2));
    assertUserError(() -> store.dropSnapshot("feed", "a@b"));
    assertUserError(
        () ->
            store.mergeRecords(
                "ns",
                List.of(new FieldWrite(bytes("k"), "view\uDC00", value(Stamps.stamp(1, 1), "")))));
    assertThat(admin.dbsize()).isZero();
  }

  @Test
  void namespaceWithSurrogatePair_isValid_andDistinctFromQuestionMark() {
    store.putAll("emoji\uD83D\uDE00", List.of(new KvEntry(bytes("k"), bytes("smile"))));

    assertThat(store.multiGet("emoji\uD83D\uDE00", keys("k")).get(0)).isEqualTo(bytes("smile"));
    assertThat(store.multiGet("emoji?", keys("k")).get(0)).isNull();
  }

  // ---------------------------------------------------------------- records

  @Test
  void mergeRecords_storedValueShorterThanStamp_comparesLikeAPrefix() {
    // stamp(0, 0) starts 0x80 0x00 ...: a stored 0x80 is a prefix of it (older), 0x81 is newer
    admin.hset(raw("sl1:d:ns\0", bytes("e")), bytes("prefix"), new byte[] {(byte) 0x80});
    admin.hset(raw("sl1:d:ns\0", bytes("e")), bytes("newer"), new byte[] {(byte) 0x81});

    int applied =
        store.mergeRecords(
            "ns", List.of(field("e", "prefix", 0, "p"), field("e", "newer", 0, "n")));

    assertThat(applied).isEqualTo(1);
    Map<String, byte[]> record = store.multiGetRecords("ns", keys("e")).get(0);
    assertThat(payload(record.get("prefix"))).isEqualTo("p");
    assertThat(record.get("newer")).containsExactly((byte) 0x81);
  }

  @Test
  void mergeRecords_stampBytesAbove0x7f_compareUnsigned() {
    byte[] low = new byte[KvStore.STAMP_BYTES];
    byte[] high = new byte[KvStore.STAMP_BYTES];
    Arrays.fill(low, (byte) 0x7f);
    Arrays.fill(high, (byte) 0x80);
    high[15] = 0;
    store.mergeRecords("ns", List.of(new FieldWrite(bytes("e"), "f", value(high, "high"))));

    assertThat(store.mergeRecords("ns", List.of(new FieldWrite(bytes("e"), "f", value(low, "l")))))
        .isZero();
    assertThat(payload(store.multiGetRecords("ns", keys("e")).get(0).get("f"))).isEqualTo("high");
  }

  @Test
  void multiGetRecords_fieldNamesReusedAcrossCalls_decodeEveryNameAndValue() {
    List<FieldWrite> writes = new ArrayList<>();
    for (int i = 0; i < 50; i++) {
      writes.add(field("e" + i, "vüe_" + (i % 3), i, "p" + i));
      writes.add(field("e" + i, "", i, "empty" + i));
    }
    store.mergeRecords("ns", writes);

    for (int round = 0; round < 2; round++) {
      List<Map<String, byte[]>> records = store.multiGetRecords("ns", keysOf("e", 51));
      for (int i = 0; i < 50; i++) {
        assertThat(records.get(i)).containsOnlyKeys("vüe_" + (i % 3), "");
        assertThat(payload(records.get(i).get("vüe_" + (i % 3)))).isEqualTo("p" + i);
        assertThat(payload(records.get(i).get(""))).isEqualTo("empty" + i);
      }
      assertThat(records.get(50)).isEmpty();
    }
  }

  @Test
  void multiGetRecords_sameKeyTwiceInOneCall_bothSlotsFilled() {
    store.mergeRecords("ns", List.of(field("a", "f", 1, "a1")));

    List<Map<String, byte[]>> records = store.multiGetRecords("ns", keys("a", "b", "a"));

    assertThat(payload(records.get(0).get("f"))).isEqualTo("a1");
    assertThat(records.get(1)).isEmpty();
    assertThat(payload(records.get(2).get("f"))).isEqualTo("a1");
  }

  @Test
  void recordOnPlainValueKey_isUserError() {
    store.putAll("ns", List.of(new KvEntry(bytes("k"), bytes("plain"))));

    assertUserError(() -> store.mergeRecords("ns", List.of(field("k", "f", 1, "record"))));
    assertUserError(() -> store.multiGetRecords("ns", keys("k")));
    assertThat(store.multiGet("ns", keys("k")).get(0)).isEqualTo(bytes("plain"));
  }

  @Test
  void mergeRecords_afterScriptFlush_fallsBackToEval() {
    store.mergeRecords("ns", List.of(field("a", "f", 5, "a5")));
    admin.scriptFlush();

    int applied =
        store.mergeRecords("ns", List.of(field("a", "f", 4, "older"), field("b", "f", 1, "b1")));

    assertThat(applied).isEqualTo(1);
    assertThat(payload(store.multiGetRecords("ns", keys("a")).get(0).get("f"))).isEqualTo("a5");
    admin.scriptFlush();
    store.publish("feed", "s1", 2);
    store.publish("feed", "s2", 2);
    assertThat(store.rollback("feed")).isEqualTo("s1");
  }

  @Test
  @Timeout(value = 120, unit = TimeUnit.SECONDS)
  void mergeRecords_10kRecordsInOneCall_pipelined_allApplied() {
    List<FieldWrite> writes = new ArrayList<>();
    for (int i = 0; i < 10_000; i++) {
      writes.add(field("e" + i, "view", i, "p" + i));
      writes.add(field("e" + i, "other", i, "o" + i));
    }

    assertThat(store.mergeRecords("ns", writes)).isEqualTo(20_000);

    List<Map<String, byte[]>> records = store.multiGetRecords("ns", keysOf("e", 10_000));
    for (int i = 0; i < 10_000; i++) {
      assertThat(payload(records.get(i).get("view"))).isEqualTo("p" + i);
      assertThat(payload(records.get(i).get("other"))).isEqualTo("o" + i);
    }
  }

  // ---------------------------------------------------------------- throughput paths

  @Test
  @Timeout(value = 120, unit = TimeUnit.SECONDS)
  void putAll_50kKeys_pipelined_allReadableAndDeletable() {
    store.putAll("batch", entries("k", 50_000));

    assertThat(admin.dbsize()).isEqualTo(50_000);
    List<byte[]> values = store.multiGet("batch", keysOf("k", 50_000));
    for (int i = 0; i < 50_000; i++) {
      assertThat(values.get(i)).isEqualTo(bytes("v" + i));
    }

    store.deleteAll("batch", keysOf("k", 50_000));

    assertThat(admin.dbsize()).isZero();
  }

  @Test
  void putAll_valuesOverChunkBytes_splitAcrossCommands_roundTrip() {
    byte[] big = new byte[3 << 20];
    Arrays.fill(big, (byte) 7);
    List<KvEntry> entries = List.of(kv("a", big), kv("b", big), kv("a", bytes("last")));

    store.putAll("ns", entries);

    assertThat(store.multiGet("ns", keys("a", "b"))).containsExactly(bytes("last"), big);
  }

  // ---------------------------------------------------------------- shared state, failures

  @Test
  void twoStoresSharingOneRedis_seeEachOthersWritesAndSnapshotFlips() {
    try (RedisKvStore other = open(redis.uri(DB))) {
      store.putAll("ns", List.of(new KvEntry(bytes("k"), bytes("from first"))));
      other.mergeRecords("ns", List.of(field("e", "f", 2, "from second")));

      assertThat(other.multiGet("ns", keys("k")).get(0)).isEqualTo(bytes("from first"));
      assertThat(payload(store.multiGetRecords("ns", keys("e")).get(0).get("f")))
          .isEqualTo("from second");
      assertThat(store.mergeRecords("ns", List.of(field("e", "f", 1, "older")))).isZero();

      store.putAll(KvStore.snapshotNamespace("feed", "s1"), List.of(kv("item", bytes("s1"))));
      store.publish("feed", "s1", 2);
      assertThat(other.currentSnapshot("feed")).contains("s1");
      other.putAll(KvStore.snapshotNamespace("feed", "s2"), List.of(kv("item", bytes("s2"))));
      other.publish("feed", "s2", 2);
      assertThat(store.currentSnapshot("feed")).contains("s2");
      assertThat(store.multiGet("feed@s2", keys("item")).get(0)).isEqualTo(bytes("s2"));

      assertThat(store.rollback("feed")).isEqualTo("s1");
      assertThat(other.currentSnapshot("feed")).contains("s1");
      assertThat(other.snapshots("feed")).containsExactly("s1");
      assertThat(other.multiGet("feed@s2", keys("item")).get(0)).isNull();
    }
  }

  @Test
  @Timeout(value = 60, unit = TimeUnit.SECONDS)
  void clientKill_lettuceReconnects_nextCallWorks() {
    store.putAll("ns", List.of(new KvEntry(bytes("k"), bytes("before"))));

    long killed = admin.clientKill(KillArgs.Builder.typeNormal().skipme());

    assertThat(killed).isPositive();
    assertThat(store.multiGet("ns", keys("k")).get(0)).isEqualTo(bytes("before"));
    store.putAll("ns", List.of(new KvEntry(bytes("k"), bytes("after"))));
    assertThat(store.mergeRecords("ns", List.of(field("e", "f", 1, "r")))).isEqualTo(1);
    assertThat(admin.get(raw("sl1:d:ns\0", bytes("k")))).isEqualTo(bytes("after"));
  }

  @Test
  @Timeout(value = 60, unit = TimeUnit.SECONDS)
  void clientKill_beforeBatchedRecordRead_reconnectsAndReadsEveryRecord() {
    List<FieldWrite> writes = new ArrayList<>();
    for (int i = 0; i < 300; i++) {
      writes.add(field("e" + i, "view", i, "p" + i));
    }
    store.mergeRecords("ns", writes);

    assertThat(admin.clientKill(KillArgs.Builder.typeNormal().skipme())).isPositive();
    List<Map<String, byte[]>> records = store.multiGetRecords("ns", keysOf("e", 301));

    for (int i = 0; i < 300; i++) {
      assertThat(payload(records.get(i).get("view"))).isEqualTo("p" + i);
    }
    assertThat(records.get(300)).isEmpty();
  }

  @Test
  @Timeout(value = 60, unit = TimeUnit.SECONDS)
  void clientKill_afterConcurrentReads_everyPooledConnectionReplaced_readsWork() throws Exception {
    List<FieldWrite> writes = new ArrayList<>();
    for (int i = 0; i < 300; i++) {
      writes.add(field("e" + i, "view", i, "p" + i));
    }
    store.mergeRecords("ns", writes);
    int readers = 4;
    ExecutorService pool = Executors.newFixedThreadPool(readers);
    try {
      CyclicBarrier start = new CyclicBarrier(readers);
      List<Future<Integer>> done = new ArrayList<>();
      for (int t = 0; t < readers; t++) {
        done.add(
            pool.submit(
                () -> {
                  start.await();
                  int read = 0;
                  for (int round = 0; round < 50; round++) {
                    read += store.multiGetRecords("ns", keysOf("e", 300)).size();
                  }
                  return read;
                }));
      }
      for (Future<Integer> f : done) {
        assertThat(f.get()).isEqualTo(50 * 300);
      }
    } finally {
      pool.shutdownNow();
    }

    assertThat(admin.clientKill(KillArgs.Builder.typeNormal().skipme())).isPositive();

    for (int round = 0; round < 3; round++) {
      List<Map<String, byte[]>> records = store.multiGetRecords("ns", keysOf("e", 300));
      assertThat(payload(records.get(299).get("view"))).isEqualTo("p299");
      assertThat(store.multiGet("ns", keys("absent")).get(0)).isNull();
    }
  }

  @Test
  @Timeout(value = 60, unit = TimeUnit.SECONDS)
  void replyLaterThanTimeout_failsUnavailable_andTheLateReplyIsNeverTakenForTheNextCall()
      throws Exception {
    store.mergeRecords("ns", List.of(field("a", "view", 1, "from a"), field("b", "view", 1, "b")));
    try (RedisKvStore quick = open(redis.uri(DB) + "?timeout=300ms")) {
      assertThat(payload(quick.multiGetRecords("ns", keys("a")).get(0).get("view")))
          .isEqualTo("from a");
      // a script that keeps the (single-threaded) server busy for 1.2 s
      RedisFuture<Object> busy =
          adminConnection
              .async()
              .eval(
                  "local t = redis.call('TIME') local s = t[1] * 1000000 + t[2]"
                      + " while true do local n = redis.call('TIME')"
                      + " if n[1] * 1000000 + n[2] - s > 1200000 then break end end return 1",
                  ScriptOutputType.INTEGER);
      Thread.sleep(100);

      assertThatThrownBy(() -> quick.multiGetRecords("ns", keys("a")))
          .isInstanceOfSatisfying(
              ScorelineException.class,
              e -> {
                assertThat(e.code()).isEqualTo(ErrorCode.UNAVAILABLE);
                assertThat(e.getMessage()).contains("HGETALL").contains("no reply within");
              });
      assertThat(busy.get(10, TimeUnit.SECONDS)).isEqualTo(1L);

      assertThat(quick.multiGetRecords("ns", keys("b")).get(0)).containsOnlyKeys("view");
      assertThat(payload(quick.multiGetRecords("ns", keys("b")).get(0).get("view"))).isEqualTo("b");
    }
  }

  @Test
  @Timeout(value = 60, unit = TimeUnit.SECONDS)
  void serverGone_callFailsUnavailable_withinTimeout() {
    RedisServerProcess doomed = RedisServerProcess.start();
    try (RedisKvStore onDoomed = open(doomed.uri(0) + "?timeout=1s")) {
      onDoomed.putAll("ns", List.of(new KvEntry(bytes("k"), bytes("v"))));
      doomed.close();

      assertThatThrownBy(() -> onDoomed.multiGet("ns", keys("k")))
          .isInstanceOfSatisfying(
              ScorelineException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.UNAVAILABLE));
      assertThatThrownBy(() -> onDoomed.multiGetRecords("ns", keys("k", "j")))
          .isInstanceOfSatisfying(
              ScorelineException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.UNAVAILABLE));
    } finally {
      doomed.close();
    }
  }

  @Test
  void connect_nothingListening_isUnavailable() {
    RedisServerProcess stopped = RedisServerProcess.start();
    String uri = stopped.uri(0);
    stopped.close();

    assertThatThrownBy(() -> RedisKvStore.connect(uri))
        .isInstanceOfSatisfying(
            ScorelineException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.UNAVAILABLE));
  }

  @Test
  void connect_malformedUri_isUserError() {
    assertUserError(() -> RedisKvStore.connect("http://nowhere"));
  }

  @Test
  void closedStore_isUnavailable_andCloseIsIdempotent() {
    RedisKvStore closed = open(redis.uri(DB));
    closed.close();
    closed.close();

    assertThatThrownBy(() -> closed.multiGet("ns", keys("k")))
        .isInstanceOfSatisfying(
            ScorelineException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.UNAVAILABLE));
  }

  @Test
  void kind_isRedis() {
    assertThat(store.kind()).isEqualTo("redis");
  }

  // ---------------------------------------------------------------- helpers

  private static void assertUserError(ThrowingCallable call) {
    assertThatThrownBy(call)
        .isInstanceOfSatisfying(
            ScorelineException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.USER_ERROR));
  }

  private static byte[] bytes(String s) {
    return s.getBytes(UTF_8);
  }

  private static byte[] raw(String prefix, byte[] key) {
    byte[] p = bytes(prefix);
    byte[] out = Arrays.copyOf(p, p.length + key.length);
    System.arraycopy(key, 0, out, p.length, key.length);
    return out;
  }

  private static List<byte[]> keys(String... keys) {
    List<byte[]> out = new ArrayList<>();
    for (String k : keys) {
      out.add(bytes(k));
    }
    return out;
  }

  private static List<byte[]> keysOf(String prefix, int n) {
    List<byte[]> out = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      out.add(bytes(prefix + i));
    }
    return out;
  }

  private static List<KvEntry> entries(String prefix, int n) {
    List<KvEntry> out = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      out.add(new KvEntry(bytes(prefix + i), bytes("v" + i)));
    }
    return out;
  }

  private static KvEntry kv(String key, byte[] value) {
    return new KvEntry(bytes(key), value);
  }

  private static FieldWrite field(String key, String field, long eventMicros, String payload) {
    return new FieldWrite(bytes(key), field, value(Stamps.stamp(eventMicros, 0), payload));
  }

  private static byte[] value(byte[] stamp, String payload) {
    byte[] p = bytes(payload);
    byte[] v = Arrays.copyOf(stamp, KvStore.STAMP_BYTES + p.length);
    System.arraycopy(p, 0, v, KvStore.STAMP_BYTES, p.length);
    return v;
  }

  private static String payload(byte[] fieldValue) {
    return fieldValue == null
        ? null
        : new String(
            fieldValue, KvStore.STAMP_BYTES, fieldValue.length - KvStore.STAMP_BYTES, UTF_8);
  }
}
