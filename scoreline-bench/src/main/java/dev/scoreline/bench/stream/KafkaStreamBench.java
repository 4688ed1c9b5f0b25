package dev.scoreline.bench.stream;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.scoreline.kafka.KafkaEvents;
import dev.scoreline.stream.StreamProcessor;
import dev.scoreline.stream.StreamService;
import dev.scoreline.stream.fraud.CardTransactions;
import dev.scoreline.stream.fraud.FraudExample;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import javax.management.JMException;
import javax.management.MBeanServer;
import javax.management.ObjectName;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.SynchronizedHistogram;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
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
 * timestamp) and {@code sink hop} (received minus scored_at); the sink hop again at the result
 * record's timestamp (set when the sink sends it): the processor's part (its other sinks, the wait
 * for the previous batch's acknowledgement) and Kafka's (produce, broker, fetch). Events are
 * formatted before the run and results parsed after it, so the load driver takes little of the
 * shared cores. Over the measured window it also reports CPU per result by thread group (broker,
 * processor, its Kafka clients, the load driver, JIT, GC), the broker's requests per second and the
 * clients' own metrics.
 *
 * <p>The processor's Kafka clients run with the connector's defaults; {@code
 * -Dbench.source.properties=k=v,k=v} adds client properties (e.g. the settings of an earlier
 * benchmark, {@code max.poll.records=2000,fetch.max.wait.ms=5}), and {@code
 * -Dbench.stream=key=value;key=value} adds keys to the surface's {@code stream} section (e.g.
 * {@code commit-interval=500ms}).
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
              + "\", properties: {"
              + yamlProperties(System.getProperty("bench.source.properties", ""))
              + "}}";
      String yaml =
          FraudExample.surfaceYaml(source, "    kafka: {topic: " + topic + ".scores}")
              .replace("    log: {}", "    log: false")
              .replace(
                  "  lanes: 2",
                  "  lanes: "
                      + a.lanes
                      + "\n  batch-size: "
                      + a.batch
                      + "\n  dead-letters: {type: kafka}"
                      + streamLines(System.getProperty("bench.stream", "")));
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
        // the events as bytes before anything is measured: formatting them while the processor runs
        // would take the shared cores from what is measured
        int needed =
            (int) Math.min(txns.size(), a.warmup + (long) Math.ceil(rate * (a.seconds + 4)));
        Events events = new Events(txns, needed);
        try (StreamService svc = s.start(a.fsync);
            KafkaEvents out =
                KafkaEvents.open(
                    kafka.bootstrapServers(), topic, Map.of("client.id", "bench-events"))) {
          StreamProcessor p = svc.processor("fraud-check");
          // warm-up, not measured
          int i = 0;
          List<CompletableFuture<Void>> acks = new ArrayList<>();
          for (; i < a.warmup; i += 500) {
            acks.add(events.send(out, i, Math.min(a.warmup, i + 500)));
          }
          for (CompletableFuture<Void> f : acks) {
            f.get(60, TimeUnit.SECONDS);
          }
          waitDone(p, a.warmup);
          AtomicBoolean stop = new AtomicBoolean();
          long measureFrom = StreamBench.micros(Instant.now()) + 3_000_000L;
          Received received = new Received();
          Thread reader =
              new Thread(
                  () -> read(kafka.bootstrapServers(), topic + ".scores", stop, received),
                  "bench-kafka-results");
          reader.start();
          Window window = null;
          // the load generator's send to acknowledgement (acks=all, linger.ms=5), per tick
          Histogram produced = new SynchronizedHistogram(60_000_000L, 3);
          int perTick = Math.max(1, (int) Math.round(rate / 100));
          long next = System.nanoTime();
          long stopAt = next + TimeUnit.SECONDS.toNanos(a.seconds + 3);
          int sent = 0;
          long late = 0;
          int limit = needed;
          long windowAt = next + TimeUnit.SECONDS.toNanos(3);
          while (System.nanoTime() < stopAt && i < limit) {
            if (window == null && System.nanoTime() >= windowAt) {
              window = new Window(p, s.meters);
            }
            int to = Math.min(limit, i + perTick);
            long sentAt = System.nanoTime();
            CompletableFuture<Void> acked = events.send(out, i, to);
            if (window != null) {
              acked.thenRun(() -> produced.recordValue(clamp((System.nanoTime() - sentAt) / 1000)));
            }
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
          Window.Report usage = window == null ? null : window.end(p);
          long lagAtEnd = p.lag();
          waitDone(p, a.warmup + sent);
          Thread.sleep(1000);
          stop.set(true);
          reader.join();
          Histogram total = new Histogram(60_000_000L, 3);
          Histogram first = new Histogram(60_000_000L, 3);
          Histogram second = new Histogram(60_000_000L, 3);
          Histogram toSend = new Histogram(60_000_000L, 3);
          Histogram kafkaHop = new Histogram(60_000_000L, 3);
          received.record(measureFrom, total, first, second, toSend, kafkaHop);
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
          System.out.printf(
              Locale.ROOT,
              "    of which processor until the result's send (result record timestamp, ms"
                  + " resolution - scored_at): p50 %.1f ms, p99 %.1f ms%n"
                  + "    of which produce + broker + fetch (received - result record timestamp):"
                  + " p50 %.1f ms, p99 %.1f ms%n"
                  + "  events: send to broker acknowledgement (load generator, acks=all,"
                  + " linger.ms=5; part of the source hop): p50 %.1f ms, p99 %.1f ms%n"
                  + "  lag when the producer stopped: %d events%n",
              toSend.getValueAtPercentile(50) / 1000.0,
              toSend.getValueAtPercentile(99) / 1000.0,
              kafkaHop.getValueAtPercentile(50) / 1000.0,
              kafkaHop.getValueAtPercentile(99) / 1000.0,
              produced.getValueAtPercentile(50) / 1000.0,
              produced.getValueAtPercentile(99) / 1000.0,
              lagAtEnd);
          if (usage != null) {
            usage.print();
          }
        }
      }
    }
  }

  /**
   * {@code key=value;key=value} (the {@code bench.stream} system property: more keys of the
   * surface's {@code stream} section, e.g. {@code commit-interval=500ms}) as YAML lines.
   */
  private static String streamLines(String spec) {
    StringBuilder sb = new StringBuilder();
    for (String line : spec.split(";")) {
      if (!line.isBlank()) {
        int eq = line.indexOf('=');
        sb.append("\n  ")
            .append(
                eq < 0
                    ? line.trim()
                    : line.substring(0, eq).trim() + ": " + line.substring(eq + 1).trim());
      }
    }
    return sb.toString();
  }

  /**
   * {@code k=v,k=v} (the {@code bench.source.properties} system property: client properties for the
   * processor's Kafka clients, e.g. the settings of an earlier version) as a YAML flow map body.
   */
  private static String yamlProperties(String spec) {
    StringBuilder sb = new StringBuilder();
    for (String kv : spec.split(",")) {
      if (kv.isBlank()) {
        continue;
      }
      int eq = kv.indexOf('=');
      sb.append(sb.length() == 0 ? "" : ", ")
          .append(kv.substring(0, eq).trim())
          .append(": \"")
          .append(kv.substring(eq + 1).trim())
          .append('"');
    }
    return sb.toString();
  }

  /** Keys and values of the events to send, formatted up front. */
  private static final class Events {
    final byte[][] keys;
    final byte[][] values;

    Events(List<CardTransactions.Txn> txns, int n) {
      keys = new byte[n][];
      values = new byte[n][];
      for (int k = 0; k < n; k++) {
        CardTransactions.Txn t = txns.get(k);
        keys[k] = Long.toString(t.cardId()).getBytes(StandardCharsets.UTF_8);
        values[k] = t.toJson();
      }
    }

    CompletableFuture<Void> send(KafkaEvents out, int from, int to) {
      return out.send(
          Arrays.asList(keys).subList(from, to), Arrays.asList(values).subList(from, to));
    }
  }

  private static void waitDone(StreamProcessor p, long n) throws InterruptedException {
    long end = System.nanoTime() + TimeUnit.MINUTES.toNanos(5);
    while (p.status().results() + p.status().deadLetters() + p.status().duplicates() < n
        && System.nanoTime() < end) {
      Thread.sleep(10);
    }
  }

  /**
   * Reads the results; only timestamps the records here (parsing them on the machine's cores while
   * the processor runs would take CPU from what is measured).
   */
  private static void read(String bootstrap, String topic, AtomicBoolean stop, Received out) {
    Map<String, Object> config = new HashMap<>();
    for (String kv : System.getProperty("bench.reader.properties", "").split(",")) {
      if (!kv.isBlank()) {
        config.put(kv.substring(0, kv.indexOf('=')).trim(), kv.substring(kv.indexOf('=') + 1));
      }
    }
    config.put("bootstrap.servers", bootstrap);
    config.put("group.id", "bench-reader");
    config.put("enable.auto.commit", "false");
    config.put("auto.offset.reset", "latest");
    try (KafkaConsumer<byte[], byte[]> c =
        new KafkaConsumer<>(config, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
      c.subscribe(List.of(topic));
      while (!stop.get()) {
        ConsumerRecords<byte[], byte[]> recs = c.poll(Duration.ofMillis(50));
        if (recs.isEmpty()) {
          continue;
        }
        long now = StreamBench.micros(Instant.now());
        for (ConsumerRecord<byte[], byte[]> r : recs) {
          out.add(now, r.timestamp() * 1000, r.value());
        }
      }
    }
  }

  /** Results as received: receive time, the result record's timestamp, the value. */
  private static final class Received {
    private final List<byte[]> values = new ArrayList<>();
    private long[] at = new long[1 << 16];
    private long[] stamped = new long[1 << 16];

    void add(long receivedMicros, long recordMicros, byte[] value) {
      int n = values.size();
      if (n == at.length) {
        at = Arrays.copyOf(at, n * 2);
        stamped = Arrays.copyOf(stamped, n * 2);
      }
      at[n] = receivedMicros;
      stamped[n] = recordMicros;
      values.add(value);
    }

    void record(
        long measureFrom,
        Histogram total,
        Histogram first,
        Histogram second,
        Histogram toSend,
        Histogram kafkaHop)
        throws java.io.IOException {
      for (int k = 0; k < values.size(); k++) {
        JsonNode n = MAPPER.readTree(values.get(k));
        long accepted = StreamBench.micros(Instant.parse(n.get("accepted_at").asText()));
        long scored = StreamBench.micros(Instant.parse(n.get("scored_at").asText()));
        if (accepted >= measureFrom) {
          total.recordValue(clamp(at[k] - accepted));
          first.recordValue(clamp(scored - accepted));
          second.recordValue(clamp(at[k] - scored));
          toSend.recordValue(clamp(stamped[k] - scored));
          kafkaHop.recordValue(clamp(at[k] - stamped[k]));
        }
      }
    }
  }

  /**
   * CPU by thread group and the broker's request counts over the measured window (the in-process
   * broker's Yammer meters, read through JMX).
   */
  private static final class Window {
    private static final List<String> REQUESTS =
        List.of("Produce", "Fetch", "OffsetCommit", "Heartbeat", "Metadata");
    private final long t0 = System.nanoTime();
    private final long results0;
    private final Map<Long, Long> threads0 = javaThreadCpu();
    private final Map<String, Long> native0 = StreamBench.threadCpu();
    private final long process0 = StreamBench.cpuNanos();
    private final Map<String, Long> requests0 = requestCounts();
    private final StageTimes stages;

    Window(StreamProcessor p, io.micrometer.core.instrument.MeterRegistry meters) {
      results0 = p.status().results();
      stages = new StageTimes(meters);
    }

    Report end(StreamProcessor p) {
      double secs = (System.nanoTime() - t0) / 1e9;
      long done = p.status().results() - results0;
      long process = StreamBench.cpuNanos() - process0;
      Map<String, Long> groups = new TreeMap<>();
      ThreadMXBean mx = ManagementFactory.getThreadMXBean();
      long java = 0;
      for (Map.Entry<Long, Long> e : javaThreadCpu().entrySet()) {
        ThreadInfo info = mx.getThreadInfo(e.getKey());
        if (info == null) {
          continue;
        }
        long d = e.getValue() - threads0.getOrDefault(e.getKey(), 0L);
        java += d;
        groups.merge(group(info.getThreadName()), d, Long::sum);
      }
      Map<String, Long> vm = StreamBench.threadCpuSince(native0);
      long gcJit = vm.getOrDefault("GC", 0L) + vm.getOrDefault("JIT", 0L);
      groups.put("JVM: GC", vm.getOrDefault("GC", 0L));
      groups.put("JVM: JIT compilers", vm.getOrDefault("JIT", 0L));
      groups.put("JVM: other native", Math.max(0, process - java - gcJit));
      Map<String, Long> req = requestCounts();
      Map<String, Long> perSec = new TreeMap<>();
      req.forEach((k, v) -> perSec.put(k, Math.round((v - requests0.getOrDefault(k, 0L)) / secs)));
      return new Report(secs, done, process, groups, perSec, clientMetrics(), stages.report());
    }

    /**
     * The Kafka clients' own averages, one line per client; Kafka averages over its last two 30 s
     * samples, so these include part of the warm-up.
     */
    private static List<String> clientMetrics() {
      MBeanServer server = ManagementFactory.getPlatformMBeanServer();
      List<String> out = new ArrayList<>();
      String[][] kinds = {
        {
          "kafka.producer:type=producer-metrics,client-id=*",
          "request-rate",
          "records-per-request-avg",
          "request-latency-avg",
          "record-queue-time-avg"
        },
        {
          "kafka.consumer:type=consumer-fetch-manager-metrics,client-id=*",
          "fetch-rate",
          "records-per-request-avg",
          "fetch-latency-avg"
        },
        {
          "kafka.consumer:type=consumer-coordinator-metrics,client-id=*",
          "commit-rate",
          "commit-latency-avg"
        }
      };
      for (String[] k : kinds) {
        try {
          for (ObjectName o :
              new java.util.TreeSet<>(server.queryNames(new ObjectName(k[0]), null))) {
            StringBuilder sb = new StringBuilder(o.getKeyProperty("client-id")).append(':');
            for (int i = 1; i < k.length; i++) {
              Object v = server.getAttribute(o, k[i]);
              sb.append(' ')
                  .append(k[i])
                  .append(' ')
                  .append(
                      v instanceof Number n
                          ? String.format(Locale.ROOT, "%.1f", n.doubleValue())
                          : String.valueOf(v));
            }
            out.add(sb.toString());
          }
        } catch (JMException e) {
          out.add(k[0] + ": " + e);
        }
      }
      return out;
    }

    private static String group(String name) {
      if (name.startsWith("scoreline-stream")) {
        return "processor: lanes + dispatcher (incl. its Kafka consumer)";
      }
      if (name.startsWith("kafka-producer-network-thread | bench-events") || name.equals("main")) {
        return "bench: load generator + its producer";
      }
      if (name.startsWith("kafka-producer-network-thread")) {
        return "processor: result + dead-letter producers";
      }
      if (name.startsWith("bench-kafka-results") || name.endsWith("| bench-reader")) {
        return "bench: results consumer";
      }
      if (name.startsWith("kafka-coordinator-heartbeat-thread")) {
        return "processor: consumer heartbeat";
      }
      if (name.startsWith("data-plane-kafka-request-handler")) {
        return "broker: request handlers";
      }
      if (name.startsWith("data-plane-kafka-network-thread")) {
        return "broker: network threads";
      }
      return "other Java threads (broker background, RocksDB, metrics)";
    }

    private static Map<Long, Long> javaThreadCpu() {
      ThreadMXBean mx = ManagementFactory.getThreadMXBean();
      Map<Long, Long> out = new HashMap<>();
      for (long id : mx.getAllThreadIds()) {
        long t = mx.getThreadCpuTime(id);
        if (t >= 0) {
          out.put(id, t);
        }
      }
      return out;
    }

    private static Map<String, Long> requestCounts() {
      MBeanServer server = ManagementFactory.getPlatformMBeanServer();
      Map<String, Long> out = new TreeMap<>();
      for (String r : REQUESTS) {
        try {
          ObjectName n =
              new ObjectName(
                  "kafka.network:type=RequestMetrics,name=RequestsPerSec,request="
                      + r
                      + ",version=*");
          long sum = 0;
          for (ObjectName o : server.queryNames(n, null)) {
            sum += ((Number) server.getAttribute(o, "Count")).longValue();
          }
          out.put(r, sum);
        } catch (JMException e) {
          out.put(r, -1L);
        }
      }
      return out;
    }

    record Report(
        double secs,
        long done,
        long processNanos,
        Map<String, Long> groups,
        Map<String, Long> requestsPerSec,
        List<String> clients,
        List<String> stages) {
      void print() {
        System.out.printf(
            Locale.ROOT,
            "  window %.1f s: %d results (%.0f/s), process CPU %.2f cores, %.1f us per result%n",
            secs,
            done,
            done / secs,
            processNanos / 1e9 / secs,
            done == 0 ? 0 : processNanos / 1000.0 / done);
        for (Map.Entry<String, Long> e : groups.entrySet()) {
          System.out.printf(
              Locale.ROOT,
              "    %-58s %.2f cores, %6.1f us per result%n",
              e.getKey(),
              e.getValue() / 1e9 / secs,
              done == 0 ? 0 : e.getValue() / 1000.0 / done);
        }
        System.out.printf(Locale.ROOT, "  broker requests per second: %s%n", requestsPerSec);
        for (String c : clients) {
          System.out.println("  client " + c);
        }
        System.out.println(
            "  processor stages in the window (events; commits for commit): source = event"
                + " timestamp to polled by the processor (produce, broker, fetch, consumer"
                + " buffer), queue = polled to picked up by a lane, process = state, feature"
                + " updates and scoring of its batch, pipeline-wait = waiting for a place in"
                + " batches-in-flight, sink = sink writes started (the KV write is synchronous, in"
                + " here) to acknowledged, commit = offset commit requested to durable");
        for (String st : stages) {
          System.out.println("    " + st);
        }
      }
    }
  }

  private static long clamp(long v) {
    return Math.max(0, Math.min(v, 59_000_000L));
  }
}
