package dev.scoreline.spark;

import dev.scoreline.core.error.ErrorCode;
import dev.scoreline.core.error.ScorelineException;
import dev.scoreline.core.model.InferenceMetrics;
import dev.scoreline.core.model.ModelManager;
import dev.scoreline.core.model.ModelRepository;
import dev.scoreline.core.surface.SnapshotLists;
import dev.scoreline.core.surface.Surface;
import dev.scoreline.core.surface.SurfaceEngine;
import dev.scoreline.onnx.OnnxRuntime;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What scores a surface in one JVM: the project's stores, the model loaded on ONNX Runtime and the
 * {@link SurfaceEngine}, composed exactly as the local engine ({@code scoreline batch}) composes
 * them. Opened lazily, <b>once per JVM and run</b>: every task of a run on an executor shares one
 * context (one model session, one Redis connection), however many partitions the executor runs. A
 * context of an earlier run of the same project and surface is closed when a new run's first task
 * arrives; the rest close when the JVM exits. In {@code local[N]} mode the driver and the tasks
 * share the driver's context, so an embedded RocksDB store is opened once.
 *
 * <p>The driver's context loads the model from the project's repository; an executor's context
 * loads it from the {@link ModelBundle} the driver broadcast, written into a private temporary
 * repository (deleted at close), so every executor scores with the driver's model files.
 */
final class ScoringContext implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(ScoringContext.class);

  /** project dir + '\0' + surface → the context of the latest run seen in this JVM. */
  private static final Map<String, ScoringContext> OPEN = new HashMap<>();

  private static boolean hookAdded;

  /** Contexts opened in this JVM so far (tests check one per run in {@code local[N]} mode). */
  static final AtomicInteger OPENED = new AtomicInteger();

  private final String runId;
  private final ProjectStores stores;
  private final Surface surface;
  private final OnnxRuntime runtime;
  private final ExecutorService infer;
  private final ExecutorService pipeline;
  private final ModelManager manager;
  private final SurfaceEngine engine;
  private final String modelVersion;
  private final Path bundleRepository;

  /**
   * @param bundle the surface's model as broadcast by the driver, or null to load it from the
   *     project's repository (the driver)
   */
  ScoringContext(Path project, String surfaceName, String runId, ModelBundle bundle) {
    this.runId = runId;
    if (!Files.isDirectory(project)) {
      throw ScorelineException.userError(
          "project",
          "project directory "
              + project
              + " does not exist on this machine; the Spark runner reads the project (models,"
              + " features, surfaces, indexes) from a path every executor can read: a shared"
              + " file system mounted at the same path");
    }
    this.stores = new ProjectStores(project);
    Path models = stores.dir().resolve("models");
    Path bundleDir = null;
    OnnxRuntime rt = null;
    ExecutorService inferPool = null;
    ExecutorService pipelinePool = null;
    ModelManager mm = null;
    try {
      this.surface = stores.surfaces().get(surfaceName);
      if (bundle != null) {
        if (!bundle.name().equals(surface.spec().model().name())) {
          throw new IllegalStateException(
              "broadcast model " + bundle.name() + " is not the surface's model");
        }
        bundleDir = Files.createTempDirectory("scoreline-models-");
        bundle.writeTo(bundleDir);
        models = bundleDir;
      }
      int threads = Runtime.getRuntime().availableProcessors();
      rt = new OnnxRuntime();
      inferPool = Executors.newFixedThreadPool(threads, daemonThreads("scoreline-spark-infer-"));
      pipelinePool = Executors.newFixedThreadPool(threads, daemonThreads("scoreline-spark-"));
      mm =
          new ModelManager(
              new ModelRepository(models),
              List.of(rt),
              new InferenceMetrics(new SimpleMeterRegistry()),
              inferPool);
      String model = surface.spec().model().name();
      mm.load(model);
      surface.checkModel(mm.metadata(model, surface.spec().model().version()));
      this.modelVersion = mm.resolveVersion(model, surface.spec().model().version());
      this.engine =
          new SurfaceEngine(
              stores.surfaces(),
              stores.onlineFeatures(),
              new SnapshotLists(stores.kvStore()),
              mm::inferAsync,
              stores::vectorIndex,
              pipelinePool,
              null);
    } catch (IOException e) {
      closeAll(mm, pipelinePool, inferPool, rt, stores, bundleDir);
      throw new UncheckedIOException("cannot create a temporary model repository", e);
    } catch (RuntimeException | Error e) {
      closeAll(mm, pipelinePool, inferPool, rt, stores, bundleDir);
      throw e;
    }
    this.bundleRepository = bundleDir;
    this.runtime = rt;
    this.infer = inferPool;
    this.pipeline = pipelinePool;
    this.manager = mm;
  }

  /**
   * The context of run {@code runId} in this JVM, opened on first use. A context of another run of
   * the same project and surface is closed first.
   */
  static ScoringContext get(String project, String surface, String runId) {
    return get(project, surface, runId, () -> null);
  }

  /**
   * {@link #get(String, String, String)} for an executor: a context opened here loads the model
   * from {@code bundle} (asked for only when a context is opened).
   */
  static ScoringContext get(
      String project, String surface, String runId, Supplier<ModelBundle> bundle) {
    String key = project + '\0' + surface;
    ScoringContext stale;
    synchronized (OPEN) {
      ScoringContext c = OPEN.get(key);
      if (c != null && c.runId.equals(runId)) {
        return c;
      }
      stale = c;
      OPEN.remove(key);
      if (stale != null) {
        stale.closeQuietly();
      }
      long t0 = System.nanoTime();
      c = new ScoringContext(Path.of(project), surface, runId, bundle.get());
      OPEN.put(key, c);
      OPENED.incrementAndGet();
      if (!hookAdded) {
        Runtime.getRuntime()
            .addShutdownHook(new Thread(ScoringContext::closeAll, "scoreline-spark-close"));
        hookAdded = true;
      }
      log.info(
          "opened surface {} of {} (model {} version {}) in {} ms",
          surface,
          project,
          c.surface.spec().model().name(),
          c.modelVersion,
          (System.nanoTime() - t0) / 1_000_000);
      return c;
    }
  }

  /** Closes the context of run {@code runId} in this JVM, if one is open. */
  static void release(String runId) {
    List<ScoringContext> closing = new ArrayList<>();
    synchronized (OPEN) {
      OPEN.values()
          .removeIf(
              c -> {
                if (c.runId.equals(runId)) {
                  closing.add(c);
                  return true;
                }
                return false;
              });
    }
    closing.forEach(ScoringContext::closeQuietly);
  }

  /** Closes every context of this JVM (at exit). */
  static void closeAll() {
    List<ScoringContext> closing;
    synchronized (OPEN) {
      closing = new ArrayList<>(OPEN.values());
      OPEN.clear();
    }
    closing.forEach(ScoringContext::closeQuietly);
  }

  ProjectStores stores() {
    return stores;
  }

  Surface surface() {
    return surface;
  }

  SurfaceEngine engine() {
    return engine;
  }

  /** The version of the surface's model this context loaded (the number, labels resolved). */
  String modelVersion() {
    return modelVersion;
  }

  /**
   * Fails when this JVM loaded another model version than the driver: the shared repository changed
   * during the run, and the snapshot would mix two models.
   */
  void checkModelVersion(String expected) {
    if (!modelVersion.equals(expected)) {
      throw new ScorelineException(
          ErrorCode.UNAVAILABLE,
          "model '"
              + surface.spec().model().name()
              + "': this executor loaded version "
              + modelVersion
              + " but the driver planned the run with version "
              + expected
              + "; the model repository changed during the run. Run the job again");
    }
  }

  @Override
  public void close() {
    closeAll(manager, pipeline, infer, runtime, stores, bundleRepository);
  }

  private void closeQuietly() {
    try {
      close();
    } catch (RuntimeException e) {
      log.warn("closing the scoring context of {} failed: {}", surface.name(), e.toString());
    }
  }

  private static void closeAll(
      ModelManager manager,
      ExecutorService pipeline,
      ExecutorService infer,
      OnnxRuntime runtime,
      ProjectStores stores,
      Path bundleRepository) {
    if (manager != null) {
      manager.close();
    }
    if (pipeline != null) {
      pipeline.shutdownNow();
    }
    if (infer != null) {
      infer.shutdownNow();
    }
    if (runtime != null) {
      runtime.close();
    }
    stores.close();
    if (bundleRepository != null) {
      ModelBundle.deleteQuietly(bundleRepository);
    }
  }

  private static ThreadFactory daemonThreads(String prefix) {
    AtomicInteger n = new AtomicInteger();
    return r -> {
      Thread t = new Thread(r, prefix + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    };
  }
}
