package dev.scoreline.kafka;

import dev.scoreline.core.feature.FeatureRegistry;
import dev.scoreline.core.feature.online.OnlineFeatureStore;
import dev.scoreline.core.model.InferenceMetrics;
import dev.scoreline.core.model.InferenceResponse;
import dev.scoreline.core.model.ModelManager;
import dev.scoreline.core.model.ModelRepository;
import dev.scoreline.core.surface.SnapshotLists;
import dev.scoreline.core.surface.SurfaceEngine;
import dev.scoreline.core.surface.Surfaces;
import dev.scoreline.onnx.OnnxRuntime;
import dev.scoreline.rocksdb.RocksDbKvStore;
import dev.scoreline.stream.StreamService;
import dev.scoreline.stream.fraud.CardTransactions;
import dev.scoreline.stream.fraud.FraudExample;
import dev.scoreline.stream.fraud.Mlp;
import dev.scoreline.stream.spi.StreamConnector;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * The fraud-check example project for the Kafka tests: written to a directory with the surface
 * reading {@code topic} in {@code group} (results to {@code <topic>.scores}, poison events to the
 * Kafka dead-letter topic), its cards pushed to a RocksDB online store, the model loaded on ONNX
 * Runtime, and the surface engine over them.
 */
class FraudKafkaProject implements AutoCloseable {
  final Path project;
  final CardTransactions data;
  final RocksDbKvStore kv;
  final FeatureRegistry registry;
  final OnlineFeatureStore store;
  final OnnxRuntime runtime = new OnnxRuntime();
  final ExecutorService workers = Executors.newFixedThreadPool(2);
  final ModelManager manager;
  final SurfaceEngine engine;

  /** A small fraud model (21 features) trained on fixed random data. */
  static byte[] trainModel() {
    SplittableRandom r = new SplittableRandom(1);
    float[][] x = new float[16][21];
    int[] y = new int[16];
    for (int i = 0; i < 16; i++) {
      for (int j = 0; j < 21; j++) {
        x[i][j] = (float) r.nextDouble();
      }
      y[i] = i % 2;
    }
    return Mlp.train(x, y, new Mlp.Settings(4, 1, 8, 0.01, 0, 1)).toOnnx("features", "score", null);
  }

  FraudKafkaProject(
      Path project,
      CardTransactions data,
      String topic,
      String group,
      String bootstrapServers,
      byte[] model,
      Instant now)
      throws Exception {
    this(
        project,
        data,
        topic,
        group,
        bootstrapServers,
        model,
        now,
        "    kafka: {topic: " + topic + ".scores}",
        "");
  }

  /**
   * @param sinks the sink lines after {@code kv} and {@code log}
   * @param streamLines more lines of the {@code stream} section (after {@code lanes: 2})
   */
  FraudKafkaProject(
      Path project,
      CardTransactions data,
      String topic,
      String group,
      String bootstrapServers,
      byte[] model,
      Instant now,
      String sinks,
      String streamLines)
      throws Exception {
    this.project = project;
    this.data = data;
    FraudExample.writeProject(project, data, now.minusSeconds(864_000));
    String source =
        "  source: {type: kafka, topic: "
            + topic
            + ", group: "
            + group
            + ", bootstrap-servers: \""
            + bootstrapServers
            + "\"}";
    Files.writeString(
        project.resolve("surfaces/fraud-check.yaml"),
        FraudExample.surfaceYaml(source, sinks)
            .replace("  lanes: 2", "  lanes: 2\n  dead-letters: {type: kafka}" + streamLines));
    Files.createDirectories(project.resolve("models/fraud/1"));
    Files.write(project.resolve("models/fraud/1/model.onnx"), model);
    kv = RocksDbKvStore.open(project.resolve(".scoreline/online"));
    registry = FeatureRegistry.load(project);
    store = new OnlineFeatureStore(kv, registry, Clock.systemUTC());
    FraudExample.pushCards(store, data, now.minusSeconds(864_000));
    manager =
        new ModelManager(
            new ModelRepository(project.resolve("models")),
            List.of(runtime),
            new InferenceMetrics(new SimpleMeterRegistry()),
            workers);
    manager.loadAll(List.of("fraud"));
    engine =
        new SurfaceEngine(
            Surfaces.load(project, registry),
            store,
            new SnapshotLists(kv),
            q -> {
              try {
                return CompletableFuture.<InferenceResponse>completedFuture(manager.infer(q));
              } catch (RuntimeException e) {
                return CompletableFuture.failedFuture(e);
              }
            },
            null,
            workers,
            null);
  }

  /** Starts the project's streams, the Kafka connector found by ServiceLoader as in the CLI. */
  StreamService startService() {
    return StreamService.start(
        engine,
        registry,
        store,
        kv,
        project.resolve(".scoreline/stream"),
        new SimpleMeterRegistry(),
        StreamService.Options.defaults());
  }

  /** Starts the project's streams with these connectors and the Kafka connector. */
  StreamService startService(StreamConnector... more) {
    List<StreamConnector> connectors = new java.util.ArrayList<>(List.of(more));
    connectors.add(new KafkaConnector());
    return StreamService.start(
        engine,
        registry,
        store,
        kv,
        project.resolve(".scoreline/stream"),
        new SimpleMeterRegistry(),
        new StreamService.Options(null, connectors, java.util.Set.of()));
  }

  @Override
  public void close() {
    manager.close();
    workers.shutdownNow();
    runtime.close();
    kv.close();
  }
}
