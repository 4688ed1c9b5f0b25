package dev.scoreline.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.scoreline.stream.fraud.CardTransactions;
import dev.scoreline.stream.fraud.FraudExample;
import dev.scoreline.stream.fraud.Mlp;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code scoreline stream}: the fraud-check project run by {@link StreamLauncher} (what the command
 * runs), events sent with {@code stream send}, results read with {@code stream tail}, poison events
 * listed and replayed with {@code stream dlq}.
 */
class StreamCommandTest {
  @TempDir Path dir;

  record Run(int code, String out) {}

  static Run run(String... args) {
    PrintStream old = System.out;
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
    try {
      int code = Main.execute(args);
      return new Run(code, out.toString(StandardCharsets.UTF_8));
    } finally {
      System.setOut(old);
    }
  }

  @Test
  void send_tail_dlqListAndReplay() throws Exception {
    Instant now = Instant.parse("2030-01-01T00:00:00Z");
    CardTransactions data =
        CardTransactions.generate(5, 20, 1, now.getEpochSecond() * 1_000_000L, 0.1);
    Path project = dir.resolve("fraud");
    FraudExample.writeProject(project, data, now.minusSeconds(86_400));
    SplittableRandom r = new SplittableRandom(1);
    float[][] x = new float[8][21];
    int[] y = new int[8];
    for (int i = 0; i < 8; i++) {
      for (int j = 0; j < 21; j++) {
        x[i][j] = (float) r.nextDouble();
      }
      y[i] = i % 2;
    }
    Files.createDirectories(project.resolve("models/fraud/1"));
    Files.write(
        project.resolve("models/fraud/1/model.onnx"),
        Mlp.train(x, y, new Mlp.Settings(4, 1, 8, 0.01, 0, 1)).toOnnx("features", "score", null));
    List<String> lines = new ArrayList<>();
    for (CardTransactions.Txn t : data.transactions()) {
      lines.add(new String(t.toJson(), StandardCharsets.UTF_8));
    }
    lines.add("{\"txn_id\": \"poison-1\", \"amount\": 1}");
    Path events = dir.resolve("events.jsonl");
    Files.write(events, lines);

    StreamLauncher.Options o =
        new StreamLauncher.Options(project, Set.of("fraud-check"), 0, null, true);
    try (StreamLauncher l = StreamLauncher.start(o)) {
      String url = "http://127.0.0.1:" + l.port();
      Run send =
          run("stream", "send", "transactions", events.toString(), "--url", url, "--batch", "50");
      assertThat(send.code()).as(send.out()).isZero();
      assertThat(send.out()).contains("Sent " + lines.size() + " event(s)");
      assertThat(l.streams().processor("fraud-check").awaitIdle(Duration.ofSeconds(30))).isTrue();
    }

    Run tail = run("stream", "tail", "fraud-check", project.toString(), "--last", "1000");
    assertThat(tail.code()).isZero();
    for (CardTransactions.Txn t : data.transactions()) {
      assertThat(tail.out()).contains("\"event_id\":\"" + t.id() + "\"");
    }
    Run list = run("stream", "dlq", "list", "fraud-check", project.toString());
    assertThat(list.out()).contains("1 dead letter(s)").contains("poison-1").contains("card_id");

    Run replay = run("stream", "dlq", "replay", "fraud-check", project.toString());
    assertThat(replay.code()).as(replay.out()).isZero();
    assertThat(replay.out()).contains("Replayed 1 event(s)");
    try (StreamLauncher l = StreamLauncher.start(o)) {
      assertThat(l.streams().processor("fraud-check").awaitIdle(Duration.ofSeconds(30))).isTrue();
    }
    Run again = run("stream", "dlq", "list", "fraud-check", project.toString());
    assertThat(again.out()).contains("2 dead letter(s)").contains("[replayed]");
  }
}
