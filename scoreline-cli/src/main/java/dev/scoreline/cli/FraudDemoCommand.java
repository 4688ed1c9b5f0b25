package dev.scoreline.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.scoreline.core.error.ErrorCode;
import dev.scoreline.core.error.ScorelineException;
import dev.scoreline.kafka.KafkaEvents;
import dev.scoreline.rocksdb.RocksDbKvStore;
import dev.scoreline.stream.StreamConfig;
import dev.scoreline.stream.StreamProcessor;
import dev.scoreline.stream.fraud.CardTransactions;
import dev.scoreline.stream.fraud.FraudExample;
import dev.scoreline.stream.fraud.Mlp;
import dev.scoreline.stream.log.EventLog;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code scoreline stream demo}: the fraud-check example end to end. Runs the surface, pushes the
 * synthetic cards' profiles, sends their transactions (two days of card activity with injected
 * fraud, replayed faster than real time) to the stream, prints alerts as they appear and, at the
 * end, how the alerts compare with the injected fraud and the event-to-result latency.
 */
@Command(
    name = "demo",
    mixinStandardHelpOptions = true,
    description = {
      "The fraud-check example (examples/fraud): stream synthetic card transactions through the"
          + " fraud-check surface and print alerts seconds after the events. --train retrains the"
          + " example's model on a fresh synthetic dataset first."
    })
final class FraudDemoCommand implements Callable<Integer> {
  static final String SURFACE = "fraud-check";
  static final long CARDS_SEED = 2025;
  private static final ObjectMapper MAPPER = new ObjectMapper();

  @Spec CommandSpec spec;

  @Parameters(
      index = "0",
      arity = "0..1",
      paramLabel = "PROJECT",
      description = "The example project (default: ${DEFAULT-VALUE}).")
  Path project = Path.of("examples/fraud");

  @Option(
      names = "--rate",
      paramLabel = "N",
      description = "Events per second (default: ${DEFAULT-VALUE}).")
  int rate = 500;

  @Option(names = "--cards", paramLabel = "N", description = "Cards (default: ${DEFAULT-VALUE}).")
  int cards = 1000;

  @Option(
      names = "--days",
      paramLabel = "N",
      description = "Days of card activity (default: ${DEFAULT-VALUE}).")
  int days = 1;

  @Option(names = "--port", paramLabel = "PORT", description = "Default: ${DEFAULT-VALUE}.")
  int port = 8080;

  @Option(
      names = "--partitions",
      paramLabel = "N",
      description =
          "Kafka source: partitions of the topic when the demo creates it (default: ${DEFAULT-VALUE}).")
  int partitions = 3;

  @Option(names = "--quiet", description = "Do not print each alert.")
  boolean quiet;

  @Option(
      names = "--train",
      description =
          "Retrain the model (models/fraud/1/model.onnx, models/fraud/training.json) first.")
  boolean train;

  @Option(names = "--train-only", description = "Retrain and exit.")
  boolean trainOnly;

  @Override
  public Integer call() throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    if (train || trainOnly) {
      train(out);
      if (trainOnly) {
        return ExitCodes.OK;
      }
    }
    if (!Files.exists(project.resolve("models/fraud/1/model.onnx"))) {
      throw ScorelineException.userError(
          "model",
          "no model at " + project.resolve("models/fraud/1/model.onnx") + "; run with --train");
    }
    long end = micros(Instant.now());
    CardTransactions data = CardTransactions.generate(CARDS_SEED, cards, days, end, 0.03);
    Map<String, Boolean> labels = FraudExample.labels(data);
    try (StreamLauncher l =
        StreamLauncher.start(
            new StreamLauncher.Options(project, Set.of(SURFACE), port, null, true))) {
      StreamProcessor p = l.streams().processor(SURFACE);
      StreamConfig c = p.config();
      FraudExample.pushCards(
          l.project().onlineFeatures(), data, Instant.now().minusSeconds(86_400));
      out.printf(
          "fraud-check: %d cards, %d transactions over %d day(s) (%d injected fraud), at %d events/s%n",
          data.cards().size(),
          data.transactions().size(),
          days,
          labels.values().stream().filter(b -> b).count(),
          rate);
      out.println(
          "source: "
              + p.status().source()
              + "; status: http://127.0.0.1:"
              + l.port()
              + "/v1/streams");
      out.flush();
      EventLog results = l.streams().resultLog(SURFACE);
      Watcher w = new Watcher(results, labels, out, quiet);
      Thread watcher = new Thread(w, "demo-results");
      watcher.setDaemon(true);
      watcher.start();
      long t0 = System.nanoTime();
      if (c.embeddedStream() != null) {
        send(data, "http://127.0.0.1:" + l.port() + "/v1/events/" + c.embeddedStream());
      } else if (c.source().type().equals("kafka")) {
        sendKafka(data, c.source().config());
      } else {
        throw new ScorelineException(
            ErrorCode.UNSUPPORTED,
            "the demo feeds embedded and kafka sources, not " + c.source().type());
      }
      p.awaitIdle(Duration.ofMinutes(5));
      Thread.sleep(300);
      w.stop.set(true);
      watcher.join(5000);
      double secs = (System.nanoTime() - t0) / 1e9;
      w.summary(out, data.transactions().size(), secs);
    }
    return ExitCodes.OK;
  }

  private void send(CardTransactions data, String url) throws Exception {
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    URI uri = URI.create(url);
    int perTick = Math.max(1, rate / 20);
    long tick = 50_000_000L;
    long next = System.nanoTime();
    List<CardTransactions.Txn> txns = data.transactions();
    for (int i = 0; i < txns.size(); i += perTick) {
      StringBuilder body = new StringBuilder();
      for (int k = i; k < Math.min(txns.size(), i + perTick); k++) {
        body.append(new String(txns.get(k).toJson(), StandardCharsets.UTF_8)).append('\n');
      }
      StreamCommand.Send.post(http, uri, body.toString());
      next += tick;
      long sleep = next - System.nanoTime();
      if (sleep > 0) {
        TimeUnit.NANOSECONDS.sleep(sleep);
      }
    }
  }

  /** Produces the transactions to the source topic, keyed by card, paced at the rate. */
  private void sendKafka(CardTransactions data, Map<String, Object> source) throws Exception {
    String topic = String.valueOf(source.get("topic"));
    Object bs = source.get("bootstrap-servers");
    Map<String, String> props = new java.util.LinkedHashMap<>();
    if (source.get("properties") instanceof Map<?, ?> m) {
      m.forEach((k, v) -> props.put(String.valueOf(k), String.valueOf(v)));
    }
    try (KafkaEvents out = KafkaEvents.open(String.valueOf(bs), topic, props)) {
      out.createTopicIfMissing(partitions, (short) 1);
      int perTick = Math.max(1, rate / 20);
      long next = System.nanoTime();
      List<CardTransactions.Txn> txns = data.transactions();
      for (int i = 0; i < txns.size(); i += perTick) {
        List<byte[]> keys = new ArrayList<>();
        List<byte[]> values = new ArrayList<>();
        for (int k = i; k < Math.min(txns.size(), i + perTick); k++) {
          keys.add(Long.toString(txns.get(k).cardId()).getBytes(StandardCharsets.UTF_8));
          values.add(txns.get(k).toJson());
        }
        out.send(keys, values).get(30, TimeUnit.SECONDS);
        next += 50_000_000L;
        long sleep = next - System.nanoTime();
        if (sleep > 0) {
          TimeUnit.NANOSECONDS.sleep(sleep);
        }
      }
    }
  }

  /** Reads the result log as it grows: alerts, their labels, latency. */
  static final class Watcher implements Runnable {
    final EventLog log;
    final Map<String, Boolean> labels;
    final PrintWriter out;
    final boolean quiet;
    final AtomicBoolean stop = new AtomicBoolean();
    final AtomicLong results = new AtomicLong();
    long alerts;
    long trueAlerts;
    final List<Long> latencyMicros = new ArrayList<>();

    Watcher(EventLog log, Map<String, Boolean> labels, PrintWriter out, boolean quiet) {
      this.log = log;
      this.labels = labels;
      this.out = out;
      this.quiet = quiet;
    }

    @Override
    public void run() {
      try (EventLog.Reader r = log.reader(log.endOffset())) {
        while (true) {
          List<EventLog.Entry> es = r.poll(1000, 100, TimeUnit.MILLISECONDS);
          long now = micros(Instant.now());
          for (EventLog.Entry e : es) {
            JsonNode n = MAPPER.readTree(e.payload());
            results.incrementAndGet();
            latencyMicros.add(now - micros(Instant.parse(n.get("accepted_at").asText())));
            if (n.get("alerts").size() > 0) {
              alerts++;
              String id = n.get("event_id").asText();
              boolean fraud = labels.getOrDefault(id, false);
              if (fraud) {
                trueAlerts++;
              }
              if (!quiet) {
                out.printf(
                    Locale.ROOT,
                    "ALERT %-16s card %-6s %-9s score %.3f  (%s)%n",
                    n.get("alerts").get(0).asText(),
                    n.get("key").get("card_id").asText(),
                    id,
                    n.get("score").floatValue(),
                    fraud ? "injected fraud" : "legitimate");
                out.flush();
              }
            }
          }
          if (es.isEmpty() && stop.get()) {
            return;
          }
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }

    void summary(PrintWriter out, int sent, double secs) {
      long fraud = labels.values().stream().filter(b -> b).count();
      long[] lat = latencyMicros.stream().mapToLong(Long::longValue).toArray();
      Arrays.sort(lat);
      out.println();
      out.printf(Locale.ROOT, "%d events sent, %d results in %.1f s%n", sent, results.get(), secs);
      out.printf(
          Locale.ROOT,
          "%d alerts: %d on injected fraud (precision %.2f); %d of %d fraudulent transactions"
              + " alerted (recall %.2f)%n",
          alerts,
          trueAlerts,
          alerts == 0 ? 0.0 : (double) trueAlerts / alerts,
          trueAlerts,
          fraud,
          fraud == 0 ? 0.0 : (double) trueAlerts / fraud);
      if (lat.length > 0) {
        out.printf(
            Locale.ROOT,
            "event-to-result latency (accepted -> result readable): p50 %.1f ms, p99 %.1f ms%n",
            lat[lat.length / 2] / 1000.0,
            lat[(int) Math.min(lat.length - 1, Math.floor(lat.length * 0.99))] / 1000.0);
      }
      out.flush();
    }
  }

  // ---------------------------------------------------------------- training

  private void train(PrintWriter out) throws IOException {
    Instant asOf = Instant.now().minusSeconds(86_400);
    long end = micros(Instant.now());
    out.println("Training the fraud model on synthetic card transactions...");
    out.flush();
    CardTransactions trainData = CardTransactions.generate(1, 3000, 7, end, 0.04);
    CardTransactions testData = CardTransactions.generate(2, 1500, 7, end, 0.04);
    CardTransactions demo = CardTransactions.generate(CARDS_SEED, cards, days, end, 0.03);
    // definitions and data/cards.csv of the demo cards
    FraudExample.writeProject(project, demo, asOf);
    Path tmp = Files.createTempDirectory("scoreline-fraud-train");
    FraudExample.TrainingSet a;
    FraudExample.TrainingSet b;
    try {
      try (RocksDbKvStore k = RocksDbKvStore.open(tmp.resolve("a"))) {
        a = FraudExample.inputs(project, k, trainData, asOf);
      }
      try (RocksDbKvStore k = RocksDbKvStore.open(tmp.resolve("b"))) {
        b = FraudExample.inputs(project, k, testData, asOf);
      }
    } finally {
      try (Stream<Path> s = Files.walk(tmp)) {
        for (Path f : s.sorted(Comparator.reverseOrder()).toList()) {
          Files.deleteIfExists(f);
        }
      }
    }
    FraudExample.Report r = FraudExample.train(a, b, Mlp.Settings.defaults());
    Files.createDirectories(project.resolve("models/fraud/1"));
    Files.write(
        project.resolve("models/fraud/1/model.onnx"),
        r.model().toOnnx("features", "score", "fraud-check example model; see training.json"));
    Files.writeString(project.resolve("models/fraud/training.json"), r.toJson());
    out.print(r.toJson());
    out.println("Wrote " + project.resolve("models/fraud/1/model.onnx"));
    out.flush();
  }

  static long micros(Instant t) {
    return t.getEpochSecond() * 1_000_000L + t.getNano() / 1000;
  }
}
