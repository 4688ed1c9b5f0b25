package dev.scoreline.batch;

import static org.assertj.core.api.Assertions.assertThat;

import dev.scoreline.core.kv.KvStore;
import dev.scoreline.rocksdb.RocksDbKvStore;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A batch job whose process is killed (SIGKILL) mid-run, then resumed by another process. */
class KilledJobTest {
  @TempDir Path dir;

  /** The child process: writes model 2 slowly, one partition at a time, announcing each. */
  public static void main(String[] args) throws Exception {
    try (KvStore store = RocksDbKvStore.open(Path.of(args[0]))) {
      SnapshotSource slow =
          new SnapshotWriterTest.Recording(SnapshotWriterTest.Model.of(2).source()) {
            @Override
            public void write(int p, PartitionOutput out) throws Exception {
              System.out.println("start " + p);
              System.out.flush();
              super.write(p, out);
              Thread.sleep(200);
            }
          };
      new SnapshotWriter(store)
          .write(SnapshotWriterTest.NAME, slow, SnapshotWriterTest.options(null, 1));
      System.out.println("published");
    }
  }

  @Test
  void killedProcess_leavesOldSnapshotCurrent_nextRunResumesAndMatchesUninterrupted()
      throws Exception {
    Path db = dir.resolve("db");
    SnapshotWriterTest.Model a = SnapshotWriterTest.Model.of(1);
    SnapshotWriterTest.Model b = SnapshotWriterTest.Model.of(2);
    try (KvStore store = RocksDbKvStore.open(db)) {
      new SnapshotWriter(store)
          .write(SnapshotWriterTest.NAME, a.source(), SnapshotWriterTest.options("a", 2));
    }

    Process child =
        new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp",
                System.getProperty("java.class.path"),
                KilledJobTest.class.getName(),
                db.toString())
            .redirectErrorStream(true)
            .start();
    try (BufferedReader out =
        new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
      String line;
      while ((line = out.readLine()) != null && !line.equals("start 6")) {
        // partitions 0..4 are recorded before partition 6 starts: one writer thread, and one
        // computed partition at most (5) waits for its commit while the next one computes
      }
      assertThat(line).as("child output").isEqualTo("start 6");
      child.destroyForcibly(); // SIGKILL: no shutdown hooks, no cleanup
      assertThat(child.waitFor(30, TimeUnit.SECONDS)).isTrue();
    }

    try (KvStore store = RocksDbKvStore.open(db)) {
      assertThat(store.currentSnapshot(SnapshotWriterTest.NAME)).contains("a");
      String id = store.currentSnapshot(SnapshotWriterTest.NAME).orElseThrow();
      assertThat(
              SnapshotWriterTest.decode(
                  store.multiGet(
                      KvStore.snapshotNamespace(SnapshotWriterTest.NAME, id),
                      SnapshotWriterTest.keys(a))))
          .isEqualTo(a.expected());
      SnapshotWriter writer = new SnapshotWriter(store);
      SnapshotWriter.PendingRun pending = writer.pending(SnapshotWriterTest.NAME).orElseThrow();
      assertThat(pending.completed()).isGreaterThanOrEqualTo(5);

      SnapshotWriterTest.Recording rerun = new SnapshotWriterTest.Recording(b.source());
      BatchRunSummary s =
          writer.write(SnapshotWriterTest.NAME, rerun, SnapshotWriterTest.options(null, 2));
      assertThat(s.snapshotId()).isEqualTo(pending.snapshotId());
      assertThat(rerun.written).hasSize(SnapshotWriterTest.PARTITIONS - pending.completed());
      assertThat(
              SnapshotWriterTest.decode(
                  store.multiGet(
                      KvStore.snapshotNamespace(SnapshotWriterTest.NAME, s.snapshotId()),
                      SnapshotWriterTest.keys(b))))
          .isEqualTo(b.expected());
    }
  }
}
