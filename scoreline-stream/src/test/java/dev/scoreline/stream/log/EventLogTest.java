package dev.scoreline.stream.log;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.scoreline.core.error.ErrorCode;
import dev.scoreline.core.error.ScorelineException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EventLogTest {
  @TempDir Path dir;

  static byte[] b(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  static List<String> readAll(EventLog log, long from) throws InterruptedException {
    List<String> out = new ArrayList<>();
    try (EventLog.Reader r = log.reader(from)) {
      while (true) {
        List<EventLog.Entry> es = r.poll(1000, 0, TimeUnit.MILLISECONDS);
        if (es.isEmpty()) {
          return out;
        }
        for (EventLog.Entry e : es) {
          out.add(new String(e.payload(), StandardCharsets.UTF_8));
        }
      }
    }
  }

  @Test
  void append_isReadBackInOrder_withDenseOffsets() throws Exception {
    try (EventLog log = EventLog.open(dir)) {
      assertThat(log.appendSync(List.of(b("a"), b("b")))).isEqualTo(0);
      assertThat(log.appendSync(List.of(b("c")))).isEqualTo(2);
      assertThat(log.endOffset()).isEqualTo(3);
      assertThat(readAll(log, 0)).containsExactly("a", "b", "c");
      assertThat(readAll(log, 2)).containsExactly("c");
    }
  }

  @Test
  void concurrentAppends_groupCommit_loseNothing() throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try (EventLog log = EventLog.open(dir)) {
      List<CompletableFuture<Long>> fs = new ArrayList<>();
      for (int t = 0; t < 4; t++) {
        int thread = t;
        pool.submit(
            () -> {
              for (int i = 0; i < 250; i++) {
                synchronized (fs) {
                  fs.add(log.append(List.of(b(thread + "-" + i))));
                }
              }
            });
      }
      pool.shutdown();
      assertThat(pool.awaitTermination(30, TimeUnit.SECONDS)).isTrue();
      for (CompletableFuture<Long> f : fs) {
        f.join();
      }
      assertThat(log.endOffset()).isEqualTo(1000);
      assertThat(readAll(log, 0)).hasSize(1000).doesNotHaveDuplicates();
    }
  }

  @Test
  void reopen_truncatesTornTail_andKeepsAcknowledgedRecords() throws Exception {
    try (EventLog log = EventLog.open(dir)) {
      log.appendSync(List.of(b("one"), b("two"), b("three")));
    }
    Path seg = segments().get(0);
    long good = Files.size(seg);
    // a torn write: a header promising 100 bytes, and 10 of them
    try (FileChannel ch =
        FileChannel.open(seg, StandardOpenOption.WRITE, StandardOpenOption.APPEND)) {
      ByteBuffer h = ByteBuffer.allocate(EventLog.HEADER_BYTES + 10);
      h.putInt(100).putInt(123).putLong(3).putLong(0);
      h.rewind();
      ch.write(h);
    }
    try (EventLog log = EventLog.open(dir)) {
      assertThat(Files.size(seg)).isEqualTo(good);
      assertThat(log.endOffset()).isEqualTo(3);
      assertThat(log.appendSync(List.of(b("four")))).isEqualTo(3);
      assertThat(readAll(log, 0)).containsExactly("one", "two", "three", "four");
    }
  }

  @Test
  void reopen_truncatesAtACorruptChecksum() throws Exception {
    try (EventLog log = EventLog.open(dir)) {
      log.appendSync(List.of(b("one"), b("two")));
    }
    Path seg = segments().get(0);
    try (FileChannel ch = FileChannel.open(seg, StandardOpenOption.WRITE)) {
      // flip a payload byte of the second record
      ch.write(
          ByteBuffer.wrap(new byte[] {'X'}), EventLog.HEADER_BYTES + 3 + EventLog.HEADER_BYTES);
    }
    try (EventLog log = EventLog.open(dir)) {
      assertThat(log.endOffset()).isEqualTo(1);
      assertThat(readAll(log, 0)).containsExactly("one");
    }
  }

  @Test
  void segmentsRoll_readersCross_andRetentionDeletesProcessedSegments() throws Exception {
    EventLog.Options small = new EventLog.Options(1024, true);
    try (EventLog log = EventLog.open(dir, small)) {
      for (int i = 0; i < 100; i++) {
        log.appendSync(List.of(b("record-" + i + "-" + "x".repeat(50))));
      }
      assertThat(segments().size()).isGreaterThan(3);
      List<String> all = readAll(log, 0);
      assertThat(all).hasSize(100);
      assertThat(all.get(99)).startsWith("record-99-");
      assertThat(readAll(log, 57).get(0)).startsWith("record-57-");
      int before = segments().size();
      assertThat(log.deleteBefore(60)).isGreaterThan(0);
      assertThat(segments().size()).isLessThan(before);
      assertThat(log.startOffset()).isLessThanOrEqualTo(60);
      assertThat(readAll(log, 60).get(0)).startsWith("record-60-");
    }
    try (EventLog log = EventLog.open(dir, small)) {
      assertThat(log.endOffset()).isEqualTo(100);
      assertThat(log.appendSync(List.of(b("next")))).isEqualTo(100);
    }
  }

  @Test
  void reader_waitsForNewRecords() throws Exception {
    try (EventLog log = EventLog.open(dir);
        EventLog.Reader r = log.reader(0)) {
      ExecutorService pool = Executors.newSingleThreadExecutor();
      try {
        pool.submit(
            () -> {
              Thread.sleep(50);
              return log.appendSync(List.of(b("late")));
            });
        List<EventLog.Entry> es = r.poll(10, 5, TimeUnit.SECONDS);
        assertThat(es).hasSize(1);
        assertThat(es.get(0).appendMicros()).isPositive();
      } finally {
        pool.shutdownNow();
      }
    }
  }

  @Test
  void readOnly_seesCompleteRecords_andRefusesAppends() throws Exception {
    try (EventLog log = EventLog.open(dir)) {
      log.appendSync(List.of(b("a"), b("b")));
      try (EventLog ro = EventLog.openReadOnly(dir)) {
        assertThat(readAll(ro, 0)).containsExactly("a", "b");
        assertThatThrownBy(() -> ro.appendSync(List.of(b("c"))))
            .isInstanceOf(ScorelineException.class)
            .extracting(e -> ((ScorelineException) e).code())
            .isEqualTo(ErrorCode.UNSUPPORTED);
      }
    }
  }

  @Test
  void closedLog_refusesAppends() {
    EventLog log = EventLog.open(dir);
    log.close();
    assertThatThrownBy(() -> log.appendSync(List.of(b("x"))))
        .isInstanceOf(ScorelineException.class)
        .extracting(e -> ((ScorelineException) e).code())
        .isEqualTo(ErrorCode.UNAVAILABLE);
  }

  @Test
  void positionFile_replacesAtomically() {
    PositionFile f = new PositionFile(dir.resolve("p/pos"));
    assertThat(f.read()).isEmpty();
    f.write(Map.of("offset", 12L, "mark", 3L));
    f.write(Map.of("offset", 13L));
    assertThat(f.read()).containsExactly(Map.entry("offset", 13L));
  }

  private List<Path> segments() throws Exception {
    try (Stream<Path> s = Files.list(dir)) {
      return s.filter(p -> p.toString().endsWith(".log")).sorted().toList();
    }
  }
}
