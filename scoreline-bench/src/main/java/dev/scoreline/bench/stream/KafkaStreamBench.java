package dev.scoreline.bench.stream;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.scoreline.kafka.KafkaEvents;
import dev.scoreline.stream.StreamProcessor;
import dev.scoreline.stream.StreamService;
import dev.scoreline.stream.fraud.CardTransactions;
import dev.scoreline.stream.fraud.FraudExample;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.HdrHistogram.Histogram;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * Load driver of the fraud-check surface on Kafka: an in-process single-node KRaft broker (the test
 * kit; it shares the machine's cores with the processor and the load generator), source topic
 * {@code card-txns} (3 partitions, keyed by card), results to {@code card-txns.scores}. An
 * open-loop producer sends at {@code --rate} events/s; a consumer reads the results.
 *
 * <p>Latency = result received by the consumer minus the event's Kafka timestamp (set by the
 * producer at send), split into {@code source hop + processing} (scored_at minus the event
 * timestamp) and {@code sink hop} (received minus scored_at).
 *
 * <pre>
 * java -cp "scoreline-bench/target/scoreline-bench.jar:scoreline-bench/target/lib/*" \
 *   dev.scoreline.bench.stream.KafkaStreamBench --rate 10000 --seconds 20
 * </pre>
 */
public final class KafkaStreamBench {
  private static final ObjectMapper MAPPER = new ObjectMapper();

  private KafkaStreamBench() {}

  public static void main(String[] argv) throws Exception {
    StreamBench.quietLogs();
    StreamBench.Args a = StreamBench.Args.parse(argv);
    double rate = a.rate > 0 ? a.rate : 10_000;
    long end = Instant.now().getEpochSecond() * 1_000_000L;
    int days = Math.max(1, (int) Math.ceil((a.warmup + rate * (a.seconds + 3)) / (a.cards * 3.0)));
    CardTransactions data = CardTransactions.generate(42, a.cards, days, end, 0.03);
    try (BenchKafka kafka = BenchKafka.start()) {
      String topic = "card-txns";
      kafka.createTopic(topic, 3);
      kafka.createTopic(topic + ".scores", 3);
      kafka.createTopic(topic + ".dead-letters", 1);
      String source =
          "  source: {type: kafka, topic: "
              + topic
              + ", bootstrap-servers: \""
              + kafka.bootstrapServers()
              + "\", properties: {max.poll.records: \"2000\", fetch.max.wait.ms: \"5\"}}";
      String yaml =
          FraudExample.surfaceYaml(source, "    kafka: {topic: " + topic + ".scores}")
              .replace("    log: {}", "    log: false")
              .replace(
                  "  lanes: 2",
                  "  lanes: "
                      + a.lanes
                      + "\n  batch-size: "
                      + a.batch
                      + "\n  dead-letters: {type: kafka}");
      try (StreamBench.Setup s = new StreamBench.Setup(a, data, yaml)) {
        List<CardTransactions.Txn> txns = data.transactions();
        System.out.printf(
            Locale.ROOT,
            "kafka stream bench: fraud-check, %d cards, %d lanes, batch %d, %d cores, broker in"
                + " process%n",
            a.cards,
            a.lanes,
            a.batch,
            Runtime.getRuntime().availableProcessors());
        try (StreamService svc = s.start(a.fsync);
            KafkaEvents out = KafkaEvents.open(kafka.bootstrapServers(), topic, Map.of())) {
          StreamProcessor p = svc.processor("fraud-check");
          // warm-up, not measured
          int i = 0;
          List<CompletableFuture<Void>> acks = new ArrayList<>();
          for (; i < a.warmup; i += 500) {
            acks.add(send(out, txns, i, Math.min(a.warmup, i + 500)));
          }
          for (CompletableFuture<Void> f : acks) {
            f.get(60, TimeUnit.SECONDS);
          }
          waitDone(p, a.warmup);
          Histogram total = new Histogram(60_000_000L, 3);
          Histogram first = new Histogram(60_000_000L, 3);
          Histogram second = new Histogram(60_000_000L, 3);
          AtomicBoolean stop = new AtomicBoolean();
          long measureFrom = StreamBench.micros(Instant.now()) + 3_000_000L;
          Thread reader =
              new Thread(
                  () ->
                      read(
                          kafka.bootstrapServers(),
                          topic + ".scores",
                          measureFrom,
                          stop,
                          total,
                          first,
                          second),
                  "bench-kafka-results");
          reader.start();
          int perTick = Math.max(1, (int) Math.round(rate / 100));
          long next = System.nanoTime();
          long stopAt = next + TimeUnit.SECONDS.toNanos(a.seconds + 3);
          int sent = 0;
          long late = 0;
          int limit = txns.size();
          while (System.nanoTime() < stopAt && i < limit) {
            int to = Math.min(limit, i + perTick);
            send(out, txns, i, to);
            sent += to - i;
            i = to;
            next += 10_000_000L;
            long sleep = next - System.nanoTime();
            if (sleep > 0) {
              TimeUnit.NANOSECONDS.sleep(sleep);
            } else {
              late++;
            }
          }
          waitDone(p, a.warmup + sent);
          Thread.sleep(1000);
          stop.set(true);
          reader.join();
          System.out.printf(
              Locale.ROOT,
              "kafka latency at %.0f events/s for %d s (%d events, producer late on %d ticks,"
                  + " %d measured): p50 %.1f ms, p99 %.1f ms, p99.9 %.1f ms, max %.1f ms%n"
                  + "  source hop + processing (scored_at - event timestamp): p50 %.1f ms, p99 %.1f"
                  + " ms%n"
                  + "  sink hop (received - scored_at): p50 %.1f ms, p99 %.1f ms%n",
              rate,
              a.seconds,
              sent,
              late,
              total.getTotalCount(),
              total.getValueAtPercentile(50) / 1000.0,
              total.getValueAtPercentile(99) / 1000.0,
              total.getValueAtPercentile(99.9) / 1000.0,
              total.getMaxValue() / 1000.0,
              first.getValueAtPercentile(50) / 1000.0,
              first.getValueAtPercentile(99) / 1000.0,
              second.getValueAtPercentile(50) / 1000.0,
              second.getValueAtPercentile(99) / 1000.0);
        }
      }
    }
  }

  private static CompletableFuture<Void> send(
      KafkaEvents out, List<CardTransactions.Txn> txns, int from, int to) {
    List<byte[]> keys = new ArrayList<>(to - from);
    List<byte[]> values = new ArrayList<>(to - from);
    for (int k = from; k < to; k++) {
      CardTransactions.Txn t = txns.get(k);
      keys.add(Long.toString(t.cardId()).getBytes(StandardCharsets.UTF_8));
      values.add(t.toJson());
    }
    return out.send(keys, values);
  }

  private static void waitDone(StreamProcessor p, long n) throws InterruptedException {
    long end = System.nanoTime() + TimeUnit.MINUTES.toNanos(5);
    while (p.status().results() + p.status().deadLetters() + p.status().duplicates() < n
        && System.nanoTime() < end) {
      Thread.sleep(10);
    }
  }

  private static void read(
      String bootstrap,
      String topic,
      long measureFrom,
      AtomicBoolean stop,
      Histogram total,
      Histogram first,
      Histogram second) {
    try (KafkaConsumer<byte[], byte[]> c =
        new KafkaConsumer<>(
            Map.of(
                "bootstrap.servers",
                bootstrap,
                "group.id",
                "bench-reader",
                "auto.offset.reset",
                "latest",
                "fetch.max.wait.ms",
                "5"),
            new ByteArrayDeserializer(),
            new ByteArrayDeserializer())) {
      c.subscribe(List.of(topic));
      while (!stop.get()) {
        for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(50))) {
          long now = StreamBench.micros(Instant.now());
          JsonNode n = MAPPER.readTree(r.value());
          long accepted = StreamBench.micros(Instant.parse(n.get("accepted_at").asText()));
          long scored = StreamBench.micros(Instant.parse(n.get("scored_at").asText()));
          if (accepted >= measureFrom) {
            total.recordValue(clamp(now - accepted));
            first.recordValue(clamp(scored - accepted));
            second.recordValue(clamp(now - scored));
          }
        }
      }
    } catch (Exception e) {
      throw new RuntimeException(e);
    }
  }

  private static long clamp(long v) {
    return Math.max(0, Math.min(v, 59_000_000L));
  }
}
