package dev.scoreline.stream;

import dev.scoreline.core.error.ScorelineException;
import dev.scoreline.core.feature.FeatureRegistry;
import dev.scoreline.core.feature.online.OnlineFeatureStore;
import dev.scoreline.core.model.InferenceMetrics;
import dev.scoreline.core.model.InferenceRequest;
import dev.scoreline.core.model.InferenceResponse;
import dev.scoreline.core.model.ModelManager;
import dev.scoreline.core.model.ModelRepository;
import dev.scoreline.core.surface.SnapshotLists;
import dev.scoreline.core.surface.SurfaceEngine;
import dev.scoreline.core.surface.Surfaces;
import dev.scoreline.onnx.OnnxRuntime;
import dev.scoreline.rocksdb.RocksDbKvStore;
import dev.scoreline.stream.fraud.CardTransactions;
import dev.scoreline.stream.fraud.FraudExample;
import dev.scoreline.stream.fraud.Mlp;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * The fraud-check example project in a temporary directory with a real ONNX model (an MLP trained
 * on a small synthetic dataset, once per JVM), RocksDB stores, the model manager and the surface
 * engine: what the CLI composes, built by hand.
 */
final class StreamFixture implements AutoCloseable {
  static final Instant NOW = Instant.parse("2030-01-01T00:00:00Z");
  private static byte[] model;

  final Path project;
  final CardTransactions data;
  final RocksDbKvStore kv;
  final FeatureRegistry registry;
  final OnlineFeatureStore store;
  final OnnxRuntime runtime = new OnnxRuntime();
  final ExecutorService workers = Executors.newFixedThreadPool(2);
  final ModelManager manager;
  final SurfaceEngine engine;
  final SimpleMeterRegistry meters = new SimpleMeterRegistry();

  /** Returns the error a model call should fail with, or null to run it. */
  volatile java.util.function.Function<InferenceRequest, ScorelineException> fault = r -> null;

  /** A model trained once per JVM on 60 cards over 3 days. */
  static synchronized byte[] model(Path tmp) {
    if (model == null) {
      try {
        Path dir = Files.createTempDirectory(tmp, "train");
        CardTransactions train = CardTransactions.generate(99, 80, 3, micros(NOW), 0.3);
        FraudExample.writeProject(dir, train, NOW.minusSeconds(86_400 * 10));
        try (RocksDbKvStore k = RocksDbKvStore.open(dir.resolve("kv"))) {
          FraudExample.TrainingSet set =
              FraudExample.inputs(dir, k, train, NOW.minusSeconds(864_000));
          Mlp m = Mlp.train(set.x(), set.y(), new Mlp.Settings(8, 4, 64, 0.01, 1e-5, 3));
          model = m.toOnnx("features", "score", "test model");
        }
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return model;
  }

  static long micros(Instant t) {
    return t.getEpochSecond() * 1_000_000L + t.getNano() / 1000;
  }

  StreamFixture(Path dir, String surfaceYaml) {
    this(dir, surfaceYaml, 30);
  }

  StreamFixture(Path dir, String surfaceYaml, int cards) {
    this(
        dir.resolve("project"),
        CardTransactions.generate(7, cards, 2, micros(NOW), 0.2),
        true,
        surfaceYaml,
        dir);
  }

  /** Opens a project written before (by another fixture, possibly in another JVM). */
  static StreamFixture open(Path project) {
    return new StreamFixture(project, null, false, null, null);
  }

  private StreamFixture(
      Path project, CardTransactions data, boolean create, String surfaceYaml, Path tmp) {
    this.project = project;
    this.data = data;
    if (create) {
      FraudExample.writeProject(project, data, NOW.minusSeconds(86_400 * 10));
      try {
        if (surfaceYaml != null) {
          Files.writeString(project.resolve("surfaces/fraud-check.yaml"), surfaceYaml);
        }
        Files.createDirectories(project.resolve("models/fraud/1"));
        Files.write(project.resolve("models/fraud/1/model.onnx"), model(tmp));
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    this.kv = RocksDbKvStore.open(project.resolve(".scoreline/online"));
    this.registry = FeatureRegistry.load(project);
    this.store = new OnlineFeatureStore(kv, registry, Clock.systemUTC());
    if (create) {
      FraudExample.pushCards(store, data, NOW.minusSeconds(86_400 * 10));
    }
    this.manager =
        new ModelManager(
            new ModelRepository(project.resolve("models")),
            List.of(runtime),
            new InferenceMetrics(meters),
            workers);
    manager.loadAll(List.of("fraud"));
    Surfaces surfaces = Surfaces.load(project, registry);
    this.engine =
        new SurfaceEngine(
            surfaces, store, new SnapshotLists(kv), this::infer, null, workers, meters);
  }

  private CompletableFuture<InferenceResponse> infer(InferenceRequest r) {
    try {
      ScorelineException f = fault.apply(r);
      if (f != null) {
        return CompletableFuture.failedFuture(f);
      }
      return CompletableFuture.completedFuture(manager.infer(r));
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  Path dataDir() {
    return project.resolve(".scoreline/stream");
  }

  StreamService start() {
    return start(StreamService.Options.defaults());
  }

  StreamService start(StreamService.Options o) {
    return StreamService.start(engine, registry, store, kv, dataDir(), meters, o);
  }

  @Override
  public void close() {
    manager.close();
    workers.shutdownNow();
    runtime.close();
    kv.close();
  }
}
