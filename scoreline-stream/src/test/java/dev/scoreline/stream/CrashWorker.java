package dev.scoreline.stream;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The child JVM of {@link CrashRecoveryTest}: opens the project, starts its streaming surface,
 * sends events {@code [from, end)} of a JSON-lines file in batches of 20 (printing {@code acked
 * <next index>} after each acknowledged batch, as a client would learn it), prints the committed
 * position as it moves ({@code committed <n>}), and once everything is processed either exits
 * ({@code finish}) or waits to be killed.
 */
public final class CrashWorker {
  private CrashWorker() {}

  public static void main(String[] args) throws Exception {
    Path project = Path.of(args[0]);
    Path events = Path.of(args[1]);
    int from = Integer.parseInt(args[2]);
    boolean finish = args[3].equals("finish");
    List<byte[]> lines = new ArrayList<>();
    for (String l : Files.readAllLines(events, StandardCharsets.UTF_8)) {
      lines.add(l.getBytes(StandardCharsets.UTF_8));
    }
    StreamFixture f = StreamFixture.open(project);
    StreamService service = f.start();
    StreamProcessor p = service.processor("fraud-check");
    Thread watcher =
        new Thread(
            () -> {
              long last = -1;
              while (true) {
                Long c = p.status().committed().get(0);
                if (c != null && c != last) {
                  System.out.println("committed " + c);
                  System.out.flush();
                  last = c;
                }
                try {
                  Thread.sleep(5);
                } catch (InterruptedException e) {
                  return;
                }
              }
            });
    watcher.setDaemon(true);
    watcher.start();
    for (int i = from; i < lines.size(); i += 20) {
      int end = Math.min(lines.size(), i + 20);
      service.append("transactions", lines.subList(i, end)).join();
      System.out.println("acked " + end);
      System.out.flush();
      Thread.sleep(25);
    }
    if (!p.awaitIdle(Duration.ofSeconds(60))) {
      System.out.println("not idle");
      System.exit(3);
    }
    System.out.println("idle");
    System.out.flush();
    if (finish) {
      service.close();
      f.close();
      System.out.println("closed");
      System.exit(0);
    }
    Thread.sleep(Long.MAX_VALUE);
  }
}
