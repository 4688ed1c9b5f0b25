package dev.scoreline.cli;

import dev.scoreline.batch.BatchEntities;
import dev.scoreline.batch.BatchRunSummary;
import dev.scoreline.batch.SnapshotWriter;
import dev.scoreline.batch.SurfaceSnapshotSource;
import dev.scoreline.core.error.ScorelineException;
import dev.scoreline.core.model.InferenceMetrics;
import dev.scoreline.core.model.ModelManager;
import dev.scoreline.core.model.ModelRepository;
import dev.scoreline.core.progress.ProgressBar;
import dev.scoreline.core.surface.SnapshotLists;
import dev.scoreline.core.surface.Surface;
import dev.scoreline.core.surface.SurfaceEngine;
import dev.scoreline.onnx.OnnxRuntime;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code scoreline batch}: run a surface for every entity into a KV snapshot; status; rollback. */
@Command(
    name = "batch",
    mixinStandardHelpOptions = true,
    versionProvider = Main.Version.class,
    description = {
      "Run a surface for every entity with the shared pipeline (candidates, features, model,"
          + " rules) and publish the ranked lists as a new KV snapshot: readers keep the previous"
          + " snapshot until every partition succeeded; an interrupted run resumes from its"
          + " completed partitions; the previous snapshots are kept for rollback (docs/batch.md).",
      "",
      "The online endpoint GET /v1/surfaces/<surface>/<key> of a surface with mode: batch answers"
          + " from the current snapshot."
    },
    subcommands = {BatchCommand.Status.class, BatchCommand.Rollback.class})
final class BatchCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Parameters(index = "0", paramLabel = "SURFACE", description = "The surface to run.")
  String surface;

  @Parameters(
      index = "1",
      arity = "0..1",
      paramLabel = "PROJECT",
      description = "Project directory (default: .).")
  Path project = Path.of(".");

  @Option(
      names = "--entities",
      paramLabel = "FILE",
      description =
          "A CSV file with a header of the entity's key columns, one entity per line (default:"
              + " every entity of the view named by the surface's batch.entities, else of its"
              + " first entity feature's view, in the offline store).")
  Path entitiesFile;

  @Option(
      names = "--partitions",
      defaultValue = "64",
      paramLabel = "N",
      description = "Partitions: the unit of parallelism and of resume (default: 64).")
  int partitions;

  @Option(
      names = "--threads",
      paramLabel = "N",
      description = "Partitions run at once (default: the number of cores).")
  int threads = Runtime.getRuntime().availableProcessors();

  @Option(
      names = "--keep",
      defaultValue = "3",
      paramLabel = "N",
      description = "Published snapshots kept for rollback, the new one included (default: 3).")
  int keep;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    try (Project p = new Project(project)) {
      BatchRunSummary s = run(p, surface, entitiesFile, partitions, threads, keep);
      out.printf(
          "published snapshot %s of %s: %,d entities (%,d computed, %d of %d partitions resumed)"
              + " in %.1f s, %,.0f entities/s%n",
          s.snapshotId(),
          s.name(),
          s.entities(),
          s.computedEntities(),
          s.resumedPartitions(),
          s.partitions(),
          s.duration().toMillis() / 1000.0,
          s.computedEntities() / Math.max(1e-9, s.duration().toNanos() / 1e9));
      out.println("kept for rollback: " + s.kept());
      out.flush();
    }
    return ExitCodes.OK;
  }

  static BatchRunSummary run(
      Project p, String surfaceName, Path entitiesFile, int partitions, int threads, int keep) {
    Surface s = p.surfaces().get(surfaceName);
    List<Map<String, Object>> entities =
        entitiesFile != null ? readEntities(s, entitiesFile) : scanEntities(p, s);
    if (entities.isEmpty()) {
      throw ScorelineException.userError(
          "entities", "no entities to score for surface '" + surfaceName + "'");
    }
    OnnxRuntime runtime = new OnnxRuntime();
    ExecutorService infer =
        Executors.newFixedThreadPool(
            threads, ServerLauncher.daemonThreads("scoreline-batch-infer-"));
    ExecutorService pipeline =
        Executors.newFixedThreadPool(threads, ServerLauncher.daemonThreads("scoreline-batch-"));
    try (ModelManager manager =
        new ModelManager(
            new ModelRepository(p.dir().resolve("models")),
            List.of(runtime),
            new InferenceMetrics(new SimpleMeterRegistry()),
            infer)) {
      String model = s.spec().model().name();
      manager.loadAll(List.of(model));
      s.checkModel(manager.metadata(model, s.spec().model().version()));
      SurfaceEngine engine =
          new SurfaceEngine(
              p.surfaces(),
              p.onlineFeatures(),
              new SnapshotLists(p.kvStore()),
              manager::inferAsync,
              p::vectorIndex,
              pipeline,
              null);
      String version = manager.resolveVersion(model, s.spec().model().version());
      SurfaceSnapshotSource source =
          new SurfaceSnapshotSource(
              engine, surfaceName, entities, partitions, s.spec().size(), model + "/" + version);
      return new SnapshotWriter(p.kvStore())
          .write(
              s.batchSnapshot(),
              source,
              SnapshotWriter.Options.defaults()
                  .withThreads(threads)
                  .withKeep(keep)
                  .withProgress(
                      new ProgressBar(
                          System.err, "entities", System.console() != null, System::nanoTime)));
    } finally {
      pipeline.shutdownNow();
      infer.shutdownNow();
      runtime.close();
    }
  }

  /** Every entity with a row in the surface's entity view (offline store). */
  static List<Map<String, Object>> scanEntities(Project p, Surface s) {
    return BatchEntities.scan(p.registry(), p.offlineStore(), s);
  }

  /** Entities from a CSV file whose header names the key columns. */
  static List<Map<String, Object>> readEntities(Surface s, Path file) {
    return BatchEntities.read(s, file);
  }

  @Command(
      name = "status",
      mixinStandardHelpOptions = true,
      versionProvider = Main.Version.class,
      description =
          "The current snapshot of a surface, its kept snapshots, run history and an"
              + " unfinished run.")
  static final class Status implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Parameters(index = "0", paramLabel = "SURFACE")
    String surface;

    @Parameters(index = "1", arity = "0..1", paramLabel = "PROJECT")
    Path project = Path.of(".");

    @Override
    public Integer call() {
      PrintWriter out = spec.commandLine().getOut();
      try (Project p = new Project(project)) {
        Surface s = p.surfaces().get(surface);
        String name = s.batchSnapshot();
        SnapshotWriter w = new SnapshotWriter(p.kvStore());
        out.println("surface " + s.name() + " (snapshot name " + name + ")");
        out.println("current: " + p.kvStore().currentSnapshot(name).orElse("(none published)"));
        out.println("kept:    " + p.kvStore().snapshots(name));
        w.pending(name)
            .ifPresent(
                r ->
                    out.printf(
                        "unfinished run %s: %d of %d partitions done, started %s (re-run to"
                            + " resume)%n",
                        r.snapshotId(), r.completed(), r.partitions(), r.started()));
        out.println("history (newest first):");
        for (BatchRunSummary r : w.history(name)) {
          out.printf(
              "  %s  %,d entities  %.1f s  finished %s%n",
              r.snapshotId(), r.entities(), r.duration().toMillis() / 1000.0, r.finishedAt());
        }
        out.flush();
      }
      return ExitCodes.OK;
    }
  }

  @Command(
      name = "rollback",
      mixinStandardHelpOptions = true,
      versionProvider = Main.Version.class,
      description = "Make the previous published snapshot of a surface current again.")
  static final class Rollback implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Parameters(index = "0", paramLabel = "SURFACE")
    String surface;

    @Parameters(index = "1", arity = "0..1", paramLabel = "PROJECT")
    Path project = Path.of(".");

    @Override
    public Integer call() {
      PrintWriter out = spec.commandLine().getOut();
      try (Project p = new Project(project)) {
        Surface s = p.surfaces().get(surface);
        String now = new SnapshotWriter(p.kvStore()).rollback(s.batchSnapshot());
        out.println("current snapshot of " + s.batchSnapshot() + " is now " + now);
        out.flush();
      }
      return ExitCodes.OK;
    }
  }
}
