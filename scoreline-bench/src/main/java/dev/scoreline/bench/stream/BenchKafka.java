package dev.scoreline.bench.stream;

import static java.util.concurrent.TimeUnit.SECONDS;

import java.lang.reflect.Field;
import java.net.InetSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.RetriableException;
import org.apache.kafka.common.test.KafkaClusterTestKit;
import org.apache.kafka.common.test.TestKitNodes;
import org.apache.kafka.common.utils.Exit;
import org.apache.kafka.metadata.bootstrap.BootstrapMetadata;
import org.apache.kafka.server.ServerSocketFactory;
import org.apache.kafka.server.common.Feature;
import org.apache.kafka.server.common.MetadataVersion;

/**
 * A real single-node KRaft Kafka broker in the test JVM ({@code kafka-test-common-runtime}), with
 * the three traps of {@code shared/reference/kafka-testkit.md} handled:
 *
 * <ul>
 *   <li>P-A: the bootstrap metadata is built with every production feature at its default level
 *       ({@code setBootstrapMetadataVersion} would drop {@code group.version} and the KIP-848
 *       consumer protocol with it);
 *   <li>P-B: {@link #createTopic} waits until every partition answers {@code listOffsets}, so an
 *       idempotent producer started right after cannot lose its first batch (KAFKA-15591);
 *   <li>P-C: every listener socket is pre-bound to 127.0.0.1 (the kit binds the wildcard address),
 *       through the builder's socket manager; this fails loudly if the kit's fields change.
 * </ul>
 *
 * A copy of scoreline-kafka's test helper {@code EmbeddedKafka} (test code is not a dependency).
 */
final class BenchKafka implements AutoCloseable {
  static {
    // JVM-global: a broker fatal path must not System.exit() the surefire fork (P-D)
    Exit.setExitProcedure(
        (c, m) -> {
          throw new IllegalStateException("Kafka Exit.exit(" + c + "): " + m);
        });
    Exit.setHaltProcedure(
        (c, m) -> {
          throw new IllegalStateException("Kafka Exit.halt(" + c + "): " + m);
        });
  }

  private final KafkaClusterTestKit kit;

  private BenchKafka(KafkaClusterTestKit kit) {
    this.kit = kit;
  }

  static BenchKafka start() throws Exception {
    MetadataVersion mv = MetadataVersion.LATEST_PRODUCTION;
    Map<String, Short> features = new TreeMap<>();
    for (Feature f : Feature.PRODUCTION_FEATURES) {
      features.put(f.featureName(), f.defaultLevel(mv));
    }
    TestKitNodes nodes =
        new TestKitNodes.Builder(BootstrapMetadata.fromVersions(mv, features, "tests"))
            .setCombined(true)
            .setNumBrokerNodes(1)
            .setNumControllerNodes(1)
            .build();
    KafkaClusterTestKit.Builder b = new KafkaClusterTestKit.Builder(nodes);
    Map<String, String> props = new TreeMap<>();
    props.put("offsets.topic.replication.factor", "1");
    props.put("offsets.topic.num.partitions", "1");
    props.put("transaction.state.log.replication.factor", "1");
    props.put("transaction.state.log.min.isr", "1");
    props.put("transaction.state.log.num.partitions", "1");
    props.put("group.initial.rebalance.delay.ms", "0");
    props.put("auto.create.topics.enable", "false");
    props.put("listeners", "EXTERNAL://127.0.0.1:0,CONTROLLER://127.0.0.1:0");
    props.forEach(b::setConfigProp);
    Set<Integer> ids = new TreeSet<>(nodes.brokerNodes().keySet());
    ids.addAll(nodes.controllerNodes().keySet());
    pinToLoopback(b, ids, List.of("EXTERNAL", "CONTROLLER"));
    KafkaClusterTestKit kit = b.build();
    try {
      kit.format();
      kit.startup();
      kit.waitForReadyBrokers();
    } catch (Exception e) {
      kit.close();
      throw e;
    }
    return new BenchKafka(kit);
  }

  /** P-C: pre-binds each node's listener sockets on 127.0.0.1 in the kit's socket manager. */
  @SuppressWarnings("unchecked")
  private static void pinToLoopback(
      KafkaClusterTestKit.Builder b, Set<Integer> nodeIds, List<String> listeners)
      throws Exception {
    Field managerField = KafkaClusterTestKit.Builder.class.getDeclaredField("socketFactoryManager");
    managerField.setAccessible(true);
    Object manager = managerField.get(b);
    Field socketsField = manager.getClass().getDeclaredField("sockets");
    socketsField.setAccessible(true);
    Map<Integer, Map<String, ServerSocketChannel>> sockets =
        (Map<Integer, Map<String, ServerSocketChannel>>) socketsField.get(manager);
    synchronized (manager) {
      for (int id : nodeIds) {
        Map<String, ServerSocketChannel> forNode =
            sockets.computeIfAbsent(id, x -> new HashMap<>());
        for (String l : listeners) {
          // Kafka's own factory: a non-blocking channel, as the acceptor needs
          forNode.put(
              l,
              ServerSocketFactory.INSTANCE.openServerSocket(
                  l, new InetSocketAddress("127.0.0.1", 0), -1, -1));
        }
      }
    }
  }

  /** The bootstrap servers: a new random port for every start (P-E). */
  String bootstrapServers() {
    return kit.bootstrapServers();
  }

  /** Creates a topic and waits until every partition is led and writable (P-B). */
  void createTopic(String topic, int partitions) throws Exception {
    try (Admin a = Admin.create(Map.of("bootstrap.servers", bootstrapServers()))) {
      a.createTopics(List.of(new NewTopic(topic, partitions, (short) 1))).all().get(30, SECONDS);
      Map<TopicPartition, OffsetSpec> all = new HashMap<>();
      for (int p = 0; p < partitions; p++) {
        all.put(new TopicPartition(topic, p), OffsetSpec.latest());
      }
      long end = System.nanoTime() + SECONDS.toNanos(30);
      while (true) {
        try {
          a.listOffsets(all).all().get(30, SECONDS);
          return;
        } catch (ExecutionException e) {
          if (!(e.getCause() instanceof RetriableException) || System.nanoTime() > end) {
            throw e;
          }
          Thread.sleep(20);
        }
      }
    }
  }

  @Override
  public void close() throws Exception {
    kit.close();
  }
}
