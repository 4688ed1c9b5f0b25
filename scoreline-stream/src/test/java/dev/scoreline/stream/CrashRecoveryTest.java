package dev.scoreline.stream;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.scoreline.stream.fraud.CardTransactions;
import dev.scoreline.stream.log.EventLog;
import dev.scoreline.stream.log.PositionFile;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Crash safety: the streaming engine runs in a child JVM that is killed ({@code destroyForcibly},
 * SIGKILL) twice while events are being sent and processed; the client resends from the last batch
 * it saw acknowledged, as a real client would. After a third run completes: every event id has
 * exactly one result, poison lines are dead letters, every offset of the log is accounted for and
 * committed positions never went back or skipped.
 */
class CrashRecoveryTest {
  @TempDir Path dir;

  record Run(int lastAcked, List<Long> committed, boolean idle) {}

  @Test
  void killMinus9_midStream_thenRestart_everyEventIdHasExactlyOneResult() throws Exception {
    StreamFixture setup = new StreamFixture(dir, null, 100);
    Path project = setup.project;
    List<String> lines = new ArrayList<>();
    Set<String> ids = new HashSet<>();
    Set<String> poison = Set.of("{broken json", "{\"card_id\": \"not-a-card\"}", "[]");
    List<String> poisonList = new ArrayList<>(poison);
    int n = 0;
    for (CardTransactions.Txn t : setup.data.transactions()) {
      lines.add(new String(t.toJson(), StandardCharsets.UTF_8));
      ids.add(t.id());
      if (++n % 150 == 0 && !poisonList.isEmpty()) {
        lines.add(poisonList.remove(0));
      }
    }
    setup.close();
    Path events = dir.resolve("events.jsonl");
    Files.write(events, lines, StandardCharsets.UTF_8);
    assertThat(lines.size()).isGreaterThan(600);

    List<Long> committed = new ArrayList<>();
    // the client resends the last two batches it saw acknowledged: duplicates in the log
    Run r1 = run(project, events, 0, false, 150, Integer.MAX_VALUE);
    committed.addAll(r1.committed);
    // run 2 catches up on run 1's backlog while new events arrive, and is killed half-way
    int from2 = Math.max(0, r1.lastAcked - 40);
    Run r2 = run(project, events, from2, false, Long.MAX_VALUE, from2 + (lines.size() - from2) / 2);
    committed.addAll(r2.committed);
    Run r3 = run(project, events, Math.max(0, r2.lastAcked - 40), true, -1, Integer.MAX_VALUE);
    committed.addAll(r3.committed);
    System.out.printf(
        "run 1 killed at %d acked (last committed %s), run 2 killed at %d (last committed %s)%n",
        r1.lastAcked,
        r1.committed.isEmpty() ? "-" : r1.committed.get(r1.committed.size() - 1),
        r2.lastAcked,
        r2.committed.isEmpty() ? "-" : r2.committed.get(r2.committed.size() - 1));
    assertThat(r3.idle).isTrue();
    assertThat(r3.lastAcked).isEqualTo(lines.size());
    // committed positions only move forward, across crashes too
    for (int i = 1; i < committed.size(); i++) {
      assertThat(committed.get(i)).isGreaterThanOrEqualTo(committed.get(i - 1));
    }

    Path data = project.resolve(".scoreline/stream");
    Map<String, Integer> resultCount = new HashMap<>();
    Map<String, List<String>> where = new HashMap<>();
    try (EventLog results = EventLog.openReadOnly(data.resolve("surfaces/fraud-check/results"))) {
      long o = 0;
      for (byte[] p : readAll(results)) {
        JsonNode j = Json.MAPPER.readTree(p);
        resultCount.merge(j.get("event_id").asText(), 1, Integer::sum);
        where
            .computeIfAbsent(j.get("event_id").asText(), k -> new ArrayList<>())
            .add("result@" + o++ + " from input@" + j.get("source").get("offset").asLong());
      }
    }
    resultCount.forEach(
        (id, c) -> {
          if (c > 1) {
            System.out.println("duplicate " + id + ": " + where.get(id));
          }
        });
    assertThat(resultCount.keySet()).isEqualTo(ids);
    assertThat(resultCount.values()).allMatch(c -> c == 1);

    Set<Long> deadOffsets = new HashSet<>();
    Set<String> deadEvents = new HashSet<>();
    try (EventLog dl = EventLog.openReadOnly(data.resolve("surfaces/fraud-check/dead-letters"))) {
      for (byte[] p : readAll(dl)) {
        DeadLetter d = DeadLetter.fromJson(p);
        assertThat(deadOffsets.add(d.offset())).as("one dead letter per offset").isTrue();
        deadEvents.add(new String(d.event(), StandardCharsets.UTF_8));
      }
    }
    assertThat(deadEvents).isEqualTo(poison);

    // every offset of the input log is a result, a dead letter or a resent duplicate
    long end;
    Set<String> seen = new HashSet<>();
    try (EventLog in = EventLog.openReadOnly(data.resolve("streams/transactions/log"))) {
      end = in.endOffset();
      long offset = 0;
      for (byte[] p : readAll(in)) {
        String text = new String(p, StandardCharsets.UTF_8);
        if (poison.contains(text)) {
          assertThat(deadOffsets).contains(offset);
        } else {
          String id = Json.MAPPER.readTree(p).get("txn_id").asText();
          assertThat(resultCount).containsKey(id);
          seen.add(id);
        }
        offset++;
      }
    }
    assertThat(seen).isEqualTo(ids);
    System.out.printf(
        "%d events sent, %d records in the log (%d resent), %d dead letters%n",
        lines.size(), end, end - lines.size(), deadOffsets.size());
    assertThat(end).isGreaterThanOrEqualTo(lines.size());
    long stored =
        new PositionFile(data.resolve("streams/transactions/consumers/fraud-check.position"))
            .read()
            .get("offset");
    assertThat(stored).isEqualTo(end);
    assertThat(committed.get(committed.size() - 1)).isEqualTo(end);
  }

  static List<byte[]> readAll(EventLog log) throws InterruptedException {
    List<byte[]> out = new ArrayList<>();
    try (EventLog.Reader r = log.reader(0)) {
      for (List<EventLog.Entry> es; !(es = r.poll(1000, 0, TimeUnit.MILLISECONDS)).isEmpty(); ) {
        for (EventLog.Entry e : es) {
          out.add(e.payload());
        }
      }
    }
    return out;
  }

  /**
   * Runs a worker from {@code from}; kills it (SIGKILL) once it reports a committed position of at
   * least {@code killAtCommitted} or acknowledged {@code killAtAcked} events (events are still
   * arriving and being processed), or lets it finish when {@code finish}.
   */
  private Run run(
      Path project, Path events, int from, boolean finish, long killAtCommitted, int killAtAcked)
      throws Exception {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    ProcessBuilder pb =
        new ProcessBuilder(
                java,
                "-Xmx256m",
                "-cp",
                System.getProperty("java.class.path"),
                CrashWorker.class.getName(),
                project.toString(),
                events.toString(),
                Integer.toString(from),
                finish ? "finish" : "wait")
            .redirectErrorStream(true);
    Process p = pb.start();
    LinkedBlockingQueue<String> out = new LinkedBlockingQueue<>();
    Thread reader =
        new Thread(
            () -> {
              try (BufferedReader br =
                  new BufferedReader(
                      new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                for (String l; (l = br.readLine()) != null; ) {
                  out.add(l);
                }
              } catch (Exception e) {
                // the process died
              }
              out.add("<eof>");
            });
    reader.setDaemon(true);
    reader.start();
    int acked = from;
    boolean idle = false;
    List<Long> committed = new ArrayList<>();
    List<String> log = new ArrayList<>();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
    while (System.nanoTime() < deadline) {
      String l = out.poll(100, TimeUnit.MILLISECONDS);
      if (l == null) {
        continue;
      }
      if (l.equals("<eof>")) {
        break;
      }
      log.add(l);
      if (l.startsWith("acked ")) {
        acked = Integer.parseInt(l.substring(6));
        if (!finish && acked >= killAtAcked) {
          p.destroyForcibly();
          p.waitFor(10, TimeUnit.SECONDS);
          break;
        }
      } else if (l.startsWith("committed ")) {
        long c = Long.parseLong(l.substring(10));
        committed.add(c);
        if (!finish && c >= killAtCommitted) {
          p.destroyForcibly();
          p.waitFor(10, TimeUnit.SECONDS);
          break;
        }
      } else if (l.equals("idle")) {
        idle = true;
        if (!finish) {
          p.destroyForcibly();
          p.waitFor(10, TimeUnit.SECONDS);
          break;
        }
      }
    }
    if (finish) {
      assertThat(p.waitFor(30, TimeUnit.SECONDS)).as("worker output: %s", log).isTrue();
      assertThat(p.exitValue()).as("worker output: %s", log).isZero();
    }
    p.destroyForcibly();
    reader.join(5000);
    assertThat(acked).as("worker output: %s", log).isGreaterThan(from);
    System.out.println("worker from " + from);
    return new Run(acked, committed, idle);
  }
}
