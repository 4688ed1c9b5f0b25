package dev.scoreline.batch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.scoreline.core.error.ErrorCode;
import dev.scoreline.core.error.ScorelineException;
import dev.scoreline.core.feature.Definitions.Entity;
import dev.scoreline.core.feature.Definitions.KeyColumn;
import dev.scoreline.core.feature.ValueType;
import dev.scoreline.core.feature.online.EntityKeys;
import dev.scoreline.core.kv.BulkLoad;
import dev.scoreline.core.kv.KvStore;
import dev.scoreline.core.progress.ProgressListener;
import dev.scoreline.core.surface.RankedList;
import dev.scoreline.rocksdb.RocksDbKvStore;
import dev.scoreline.testing.ForwardingKvStore;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentSkipListSet;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SnapshotWriterTest {
  static final Entity USER =
      new Entity("user", List.of(new KeyColumn("user_id", ValueType.INT64)), null);
  static final String NAME = "recs";
  static final int USERS = 300;
  static final int ITEMS = 200;
  static final int DIM = 8;
  static final int K = 10;
  static final int USER_BLOCK = 10; // 30 user blocks
  static final int PARTITIONS = 12;

  @TempDir Path dir;
  KvStore store;
  final Clock clock = Clock.fixed(Instant.parse("2026-11-28T02:00:00Z"), ZoneOffset.UTC);

  @BeforeEach
  void open() {
    store = RocksDbKvStore.open(dir.resolve("db"));
  }

  @AfterEach
  void close() {
    store.close();
  }

  /** One model version: factors from a seed; ids are rows shifted so they differ from rows. */
  record Model(long[] userIds, float[] users, long[] itemIds, float[] items) {
    static Model of(long seed) {
      Random rnd = new Random(seed);
      long[] userIds = new long[USERS];
      for (int u = 0; u < USERS; u++) {
        userIds[u] = 1000 + u;
      }
      long[] itemIds = new long[ITEMS];
      for (int i = 0; i < ITEMS; i++) {
        itemIds[i] = 50_000 + 3L * i;
      }
      return new Model(
          userIds,
          DotProductTopKTest.gaussian(rnd, USERS * DIM),
          itemIds,
          DotProductTopKTest.gaussian(rnd, ITEMS * DIM));
    }

    DotProductSource source() {
      DotProductTopK topK = new DotProductTopK(items, ITEMS, DIM, K, 64, USER_BLOCK);
      return new DotProductSource(USER, userIds, users, itemIds, topK, Exclusions.NONE, PARTITIONS);
    }

    /** The expected list of every user, from the brute-force reference. */
    List<RankedList> expected() {
      TopKBlock ref =
          DotProductTopK.referenceTopK(items, ITEMS, DIM, users, 0, USERS, K, Exclusions.NONE);
      List<RankedList> out = new ArrayList<>();
      for (int u = 0; u < USERS; u++) {
        out.add(ref.rankedList(u, itemIds));
      }
      return out;
    }
  }

  /** Wraps a source: records the partitions written, optionally fails or blocks in one. */
  static class Recording implements SnapshotSource {
    final SnapshotSource delegate;
    final Set<Integer> written = new ConcurrentSkipListSet<>();
    volatile int failIn = -1;

    Recording(SnapshotSource delegate) {
      this.delegate = delegate;
    }

    @Override
    public int partitions() {
      return delegate.partitions();
    }

    @Override
    public long entities(int p) {
      return delegate.entities(p);
    }

    @Override
    public String fingerprint() {
      return delegate.fingerprint();
    }

    @Override
    public void write(int p, PartitionOutput out) throws Exception {
      if (p == failIn) {
        // half of the partition is written, then it fails
        delegate.write(
            p,
            new PartitionOutput() {
              int n;

              @Override
              public void put(byte[] key, byte[] value) {
                if (++n > 5) {
                  throw new ScorelineException(ErrorCode.UNAVAILABLE, "disk on fire");
                }
                out.put(key, value);
              }

              @Override
              public void scored(long count) {}
            });
      }
      delegate.write(p, out);
      written.add(p);
    }
  }

  static List<byte[]> keys(Model m) {
    List<byte[]> keys = new ArrayList<>();
    for (long id : m.userIds()) {
      keys.add(EntityKeys.encode(USER, List.of(id)));
    }
    return keys;
  }

  /** The lists of the current snapshot, read the way an online reader does. */
  List<RankedList> current(Model m) {
    String id = store.currentSnapshot(NAME).orElseThrow();
    return decode(store.multiGet(KvStore.snapshotNamespace(NAME, id), keys(m)));
  }

  static List<RankedList> decode(List<byte[]> values) {
    List<RankedList> out = new ArrayList<>();
    for (byte[] v : values) {
      out.add(v == null ? null : RankedList.decode(v));
    }
    return out;
  }

  SnapshotWriter writer() {
    return new SnapshotWriter(store, clock);
  }

  static SnapshotWriter.Options options(String id, int threads) {
    return SnapshotWriter.Options.defaults()
        .withSnapshotId(id)
        .withThreads(threads)
        .withWriteBatch(7);
  }

  @Test
  void write_publishesEveryListEqualToBruteForce() {
    Model m = Model.of(1);
    AtomicLong progressed = new AtomicLong();
    AtomicLong total = new AtomicLong();
    ProgressListener progress =
        new ProgressListener() {
          @Override
          public void start(String task, long t) {
            total.set(t);
          }

          @Override
          public void advance(long n) {
            progressed.addAndGet(n);
          }

          @Override
          public void finish() {}
        };
    BatchRunSummary s =
        writer()
            .write(
                NAME,
                m.source(),
                SnapshotWriter.Options.defaults().withThreads(3).withProgress(progress));

    assertThat(s.snapshotId()).isEqualTo("20261128T020000Z");
    assertThat(store.currentSnapshot(NAME)).contains(s.snapshotId());
    assertThat(current(m)).isEqualTo(m.expected());
    assertThat(s.entities()).isEqualTo(USERS);
    assertThat(s.computedScores()).isEqualTo((long) USERS * ITEMS);
    assertThat(s.partitions()).isEqualTo(PARTITIONS);
    assertThat(s.resumedPartitions()).isZero();
    assertThat(total.get()).isEqualTo(USERS);
    assertThat(progressed.get()).isEqualTo(USERS);
    assertThat(writer().pending(NAME)).isEmpty();
    assertThat(writer().history(NAME))
        .extracting(BatchRunSummary::snapshotId)
        .containsExactly(s.snapshotId());
  }

  @Test
  void write_partitionThrows_oldSnapshotStaysCurrent_rerunResumesOnlyMissingPartitions() {
    Model a = Model.of(1);
    Model b = Model.of(2);
    writer().write(NAME, a.source(), options("a", 2));

    Recording failing = new Recording(b.source());
    failing.failIn = 5;
    assertThatThrownBy(() -> writer().write(NAME, failing, options(null, 1)))
        .isInstanceOfSatisfying(
            ScorelineException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.UNAVAILABLE));

    // readers still see a, the new snapshot is not visible
    assertThat(store.currentSnapshot(NAME)).contains("a");
    assertThat(store.snapshots(NAME)).containsExactly("a");
    assertThat(current(a)).isEqualTo(a.expected());
    SnapshotWriter.PendingRun pending = writer().pending(NAME).orElseThrow();
    assertThat(pending.completed()).isEqualTo(5); // one thread: partitions 0..4 finished first
    assertThat(failing.written).containsExactly(0, 1, 2, 3, 4);

    // the re-run resumes the same snapshot and computes only the missing partitions
    Recording rerun = new Recording(b.source());
    BatchRunSummary s = writer().write(NAME, rerun, options(null, 3));
    assertThat(s.snapshotId()).isEqualTo(pending.snapshotId());
    assertThat(rerun.written).containsExactlyInAnyOrder(5, 6, 7, 8, 9, 10, 11);
    assertThat(s.resumedPartitions()).isEqualTo(5);
    assertThat(s.entities()).isEqualTo(USERS);
    assertThat(s.computedEntities()).isEqualTo(USERS - b.source().firstUser(5));
    assertThat(store.snapshots(NAME)).containsExactly(pending.snapshotId(), "a");
    assertThat(writer().pending(NAME)).isEmpty();

    // identical to an uninterrupted run
    List<byte[]> resumed = store.multiGet(KvStore.snapshotNamespace(NAME, s.snapshotId()), keys(b));
    writer().write("clean", b.source(), options("c", 2));
    List<byte[]> clean = store.multiGet(KvStore.snapshotNamespace("clean", "c"), keys(b));
    for (int u = 0; u < USERS; u++) {
      assertThat(resumed.get(u)).as("user row %d", u).isEqualTo(clean.get(u));
    }
    assertThat(decode(resumed)).isEqualTo(b.expected());
  }

  @Test
  void write_interrupted_leavesOldSnapshot_andResumes() throws Exception {
    Model a = Model.of(1);
    Model b = Model.of(2);
    writer().write(NAME, a.source(), options("a", 2));

    CountDownLatch blocked = new CountDownLatch(1);
    SnapshotSource blocking =
        new Recording(b.source()) {
          @Override
          public void write(int p, PartitionOutput out) throws Exception {
            if (p == 3) {
              blocked.countDown();
              Thread.sleep(60_000); // until the writer is interrupted
            }
            super.write(p, out);
          }
        };
    AtomicReference<Throwable> thrown = new AtomicReference<>();
    Thread job =
        new Thread(
            () -> {
              try {
                writer().write(NAME, blocking, options(null, 1));
              } catch (Throwable t) {
                thrown.set(t);
              }
            });
    job.start();
    assertThat(blocked.await(30, TimeUnit.SECONDS)).isTrue();
    job.interrupt(); // the job is stopped, as by Ctrl-C
    job.join(30_000);
    assertThat(job.isAlive()).isFalse();
    assertThat(thrown.get()).isInstanceOf(ScorelineException.class);
    assertThat(store.currentSnapshot(NAME)).contains("a");
    assertThat(current(a)).isEqualTo(a.expected());
    assertThat(writer().pending(NAME).orElseThrow().completed()).isEqualTo(3);

    Recording rerun = new Recording(b.source());
    writer().write(NAME, rerun, options(null, 2));
    assertThat(rerun.written).doesNotContain(0, 1, 2).contains(3, 11);
    assertThat(current(b)).isEqualTo(b.expected());
  }

  @Test
  void write_bulkLoadCommitFails_partitionNotRecordedNorVisible_resumeCompletes() {
    Model a = Model.of(1);
    Model b = Model.of(2);
    writer().write(NAME, a.source(), options("a", 2));
    DotProductSource source = b.source();
    int failing = 5;
    byte[] failingKey = EntityKeys.encode(USER, List.of(b.userIds()[source.firstUser(failing)]));
    // the real RocksDB bulk load, except that the commit of partition 5's load fails
    KvStore failingCommits =
        new ForwardingKvStore(store) {
          @Override
          public BulkLoad bulkLoad(String namespace, int writeBatch) {
            BulkLoad load = delegate.bulkLoad(namespace, writeBatch);
            return new BulkLoad() {
              boolean hasFailingKey;

              @Override
              public void put(byte[] key, byte[] value) {
                hasFailingKey |= Arrays.equals(key, failingKey);
                load.put(key, value);
              }

              @Override
              public long entries() {
                return load.entries();
              }

              @Override
              public void commit() {
                if (hasFailingKey) {
                  throw new ScorelineException(ErrorCode.UNAVAILABLE, "disk full");
                }
                load.commit();
              }

              @Override
              public void close() {
                load.close();
              }
            };
          }
        };

    assertThatThrownBy(
            () -> new SnapshotWriter(failingCommits, clock).write(NAME, source, options(null, 2)))
        .isInstanceOfSatisfying(
            ScorelineException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.UNAVAILABLE));

    assertThat(store.currentSnapshot(NAME)).contains("a");
    assertThat(current(a)).isEqualTo(a.expected());
    SnapshotWriter.PendingRun pending = writer().pending(NAME).orElseThrow();
    assertThat(pending.completed()).isLessThan(PARTITIONS);
    // the failed partition's entries never reached the unpublished namespace either
    List<byte[]> failedKeys = new ArrayList<>();
    for (int u = source.firstUser(failing); u < source.firstUser(failing + 1); u++) {
      failedKeys.add(EntityKeys.encode(USER, List.of(b.userIds()[u])));
    }
    assertThat(store.multiGet(KvStore.snapshotNamespace(NAME, pending.snapshotId()), failedKeys))
        .containsOnlyNulls();

    Recording rerun = new Recording(b.source());
    BatchRunSummary s = writer().write(NAME, rerun, options(null, 2));
    assertThat(s.snapshotId()).isEqualTo(pending.snapshotId());
    assertThat(rerun.written).contains(failing).hasSize(PARTITIONS - pending.completed());
    assertThat(current(b)).isEqualTo(b.expected());
  }

  @Test
  void write_storeWithoutBulkLoad_writesThroughPuts_theSameBytes() {
    Model m = Model.of(3);
    writer().write("bulk", m.source(), options("s", 2));
    KvStore putsOnly = new ForwardingKvStore(store); // the default bulk load: batched putAll

    BatchRunSummary s =
        new SnapshotWriter(putsOnly, clock).write(NAME, m.source(), options("s", 3));

    assertThat(s.entities()).isEqualTo(USERS);
    assertThat(current(m)).isEqualTo(m.expected());
    List<byte[]> viaPuts = store.multiGet(KvStore.snapshotNamespace(NAME, "s"), keys(m));
    List<byte[]> viaBulk = store.multiGet(KvStore.snapshotNamespace("bulk", "s"), keys(m));
    for (int u = 0; u < USERS; u++) {
      assertThat(viaPuts.get(u)).as("user row %d", u).isEqualTo(viaBulk.get(u));
    }
  }

  @Test
  void rollback_afterBulkLoadedSnapshots_servesThePreviousOneExactly_andDropsTheRolledBack() {
    Model a = Model.of(1);
    Model b = Model.of(2);
    writer().write(NAME, a.source(), options("a", 3));
    writer().write(NAME, b.source(), options("b", 3));

    assertThat(writer().rollback(NAME)).isEqualTo("a");

    assertThat(current(a)).isEqualTo(a.expected());
    assertThat(store.multiGet(KvStore.snapshotNamespace(NAME, "b"), keys(b))).containsOnlyNulls();
    // a new run after the rollback is bulk-loaded and published as usual
    writer().write(NAME, b.source(), options("b2", 3));
    assertThat(current(b)).isEqualTo(b.expected());
    assertThat(store.snapshots(NAME)).containsExactly("b2", "a");
  }

  @Test
  void write_pendingRunWithOtherInputs_isAbandonedAndWrittenFromScratch() {
    Model a = Model.of(1);
    Model b = Model.of(2);
    Recording failing = new Recording(a.source());
    failing.failIn = 4;
    assertThatThrownBy(() -> writer().write(NAME, failing, options("first", 1)))
        .isInstanceOf(ScorelineException.class);
    assertThat(store.currentSnapshot(NAME)).isEmpty();

    Recording other = new Recording(b.source());
    BatchRunSummary s = writer().write(NAME, other, options(null, 2));
    assertThat(other.written).hasSize(PARTITIONS);
    assertThat(s.resumedPartitions()).isZero();
    assertThat(current(b)).isEqualTo(b.expected());
    // the abandoned run's entries are gone
    assertThat(store.multiGet(KvStore.snapshotNamespace(NAME, "first"), keys(a)))
        .containsOnlyNulls();
  }

  @Test
  void abandon_dropsThePendingRun() {
    Model a = Model.of(1);
    Recording failing = new Recording(a.source());
    failing.failIn = 2;
    assertThatThrownBy(() -> writer().write(NAME, failing, options("x1", 1)))
        .isInstanceOf(ScorelineException.class);
    assertThat(writer().abandon(NAME)).contains("x1");
    assertThat(writer().pending(NAME)).isEmpty();
    assertThat(store.multiGet(KvStore.snapshotNamespace(NAME, "x1"), keys(a))).containsOnlyNulls();
    Recording rerun = new Recording(a.source());
    writer().write(NAME, rerun, options(null, 2));
    assertThat(rerun.written).hasSize(PARTITIONS);
  }

  @Test
  void write_publishedSnapshotId_isUserError() {
    Model a = Model.of(1);
    writer().write(NAME, a.source(), options("a", 2));
    assertThatThrownBy(() -> writer().write(NAME, a.source(), options("a", 2)))
        .isInstanceOfSatisfying(
            ScorelineException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.USER_ERROR));
  }

  @Test
  void write_generatedIds_areUniquePerName_andOldOnesBeyondKeepAreDropped() {
    Model a = Model.of(1);
    SnapshotWriter.Options keep2 = SnapshotWriter.Options.defaults().withKeep(2).withThreads(2);
    String first = writer().write(NAME, a.source(), keep2).snapshotId();
    String second = writer().write(NAME, a.source(), keep2).snapshotId();
    String third = writer().write(NAME, a.source(), keep2).snapshotId();
    assertThat(List.of(first, second, third)).doesNotHaveDuplicates();
    assertThat(store.snapshots(NAME)).containsExactly(third, second);
    assertThat(store.multiGet(KvStore.snapshotNamespace(NAME, first), keys(a))).containsOnlyNulls();
    assertThat(writer().history(NAME))
        .extracting(BatchRunSummary::snapshotId)
        .containsExactly(third, second, first);
  }

  @Test
  void rollback_restoresThePreviousSnapshot() {
    Model a = Model.of(1);
    Model b = Model.of(2);
    writer().write(NAME, a.source(), options("a", 2));
    writer().write(NAME, b.source(), options("b", 2));
    assertThat(current(b)).isEqualTo(b.expected());

    assertThat(writer().rollback(NAME)).isEqualTo("a");
    assertThat(store.currentSnapshot(NAME)).contains("a");
    assertThat(current(a)).isEqualTo(a.expected());
  }

  @Test
  void publish_concurrentReader_seesOldOrNewListsForAllKeys_neverAMix() throws Exception {
    Model a = Model.of(1);
    Model b = Model.of(2);
    writer().write(NAME, a.source(), options("a", 2));
    List<RankedList> expectA = a.expected();
    List<RankedList> expectB = b.expected();
    List<byte[]> keys = keys(a);

    AtomicBoolean stop = new AtomicBoolean();
    AtomicInteger readsA = new AtomicInteger();
    AtomicInteger readsB = new AtomicInteger();
    AtomicReference<String> mixed = new AtomicReference<>();
    Thread reader =
        new Thread(
            () -> {
              while (!stop.get() && mixed.get() == null) {
                String id = store.currentSnapshot(NAME).orElseThrow();
                List<RankedList> lists =
                    decode(store.multiGet(KvStore.snapshotNamespace(NAME, id), keys));
                if (lists.equals(expectA)) {
                  readsA.incrementAndGet();
                } else if (lists.equals(expectB)) {
                  readsB.incrementAndGet();
                } else {
                  mixed.set("snapshot " + id + " read neither all-old nor all-new lists");
                }
              }
            });
    reader.start();
    try {
      while (readsA.get() < 3) {
        Thread.onSpinWait();
      }
      // a failing run first, then a successful one: readers see a, then b
      Recording failing = new Recording(b.source());
      failing.failIn = 7;
      assertThatThrownBy(() -> writer().write(NAME, failing, options("b", 2)))
          .isInstanceOf(ScorelineException.class);
      writer().write(NAME, b.source(), options("b", 2).withKeep(2));
      int seen = readsB.get();
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (readsB.get() < seen + 3 && mixed.get() == null && System.nanoTime() < deadline) {
        Thread.onSpinWait();
      }
    } finally {
      stop.set(true);
      reader.join(30_000);
    }
    assertThat(mixed.get()).isNull();
    assertThat(readsA.get()).isGreaterThanOrEqualTo(3);
    assertThat(readsB.get()).isGreaterThanOrEqualTo(3);
  }

  @Test
  void source_partitionsCoverEveryUserOnce_inWholeBlocks() {
    DotProductSource s = Model.of(1).source();
    long sum = 0;
    for (int p = 0; p < s.partitions(); p++) {
      assertThat(s.firstUser(p) % USER_BLOCK).isZero();
      sum += s.entities(p);
    }
    assertThat(sum).isEqualTo(USERS);
    assertThat(s.firstUser(s.partitions())).isEqualTo(USERS);
    assertThat(s.fingerprint())
        .isEqualTo(Model.of(1).source().fingerprint())
        .isNotEqualTo(Model.of(2).source().fingerprint());
    assertThat(Arrays.asList(s.partitions())).containsExactly(PARTITIONS);
  }
}
