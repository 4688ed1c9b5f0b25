package dev.scoreline.cli;

import dev.scoreline.batch.BatchRunSummary;
import dev.scoreline.batch.ExactCandidates;
import dev.scoreline.core.error.ScorelineException;
import dev.scoreline.core.progress.ProgressBar;
import dev.scoreline.core.retrieval.VectorIndex;
import dev.scoreline.core.surface.CandidateJob;
import dev.scoreline.core.surface.Surface;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Clock;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code scoreline candidates <surface>}: the candidate-generation job of a two-stage surface. */
@Command(
    name = "candidates",
    mixinStandardHelpOptions = true,
    versionProvider = Main.Version.class,
    description = {
      "Precompute each entity's candidates for a two-stage surface: the nearest items to its"
          + " query vector in the surface's index, published as a new KV snapshot (readers switch"
          + " atomically once every list is written; the previous snapshots are kept for"
          + " rollback).",
      "",
      "--exact scores every item instead of searching the index (blocked dot-product kernel,"
          + " recall 1; dot-product and cosine indexes): the entity x item product must fit the"
          + " machine, which it does for catalogs of up to ~10^5 items and ~10^6 entities."
    })
final class CandidatesCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Parameters(index = "0", paramLabel = "SURFACE", description = "The surface name.")
  String surface;

  @Parameters(
      index = "1",
      arity = "0..1",
      paramLabel = "PROJECT",
      description = "Project directory (default: .).")
  Path project = Path.of(".");

  @Option(
      names = "--threads",
      paramLabel = "N",
      description = "Search threads (default: the number of cores).")
  int threads = Runtime.getRuntime().availableProcessors();

  @Option(
      names = "--exact",
      description =
          "Exact nearest items by the batch dot-product kernel instead of ANN searches in the"
              + " index (the index supplies the item vectors).")
  boolean exact;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    try (Project p = new Project(project)) {
      if (exact) {
        BatchRunSummary s = runExact(p, surface, threads);
        out.printf(
            "published snapshot %s of %s: %,d exact lists in %.1f s (%,.0f entities/s)%n",
            s.snapshotId(),
            s.name(),
            s.entities(),
            s.duration().toMillis() / 1000.0,
            s.entitiesPerSecond());
        out.flush();
        return ExitCodes.OK;
      }
      CandidateJob.Summary s = run(p, surface, threads);
      out.printf(
          "published snapshot %s of %s: %,d lists in %.1f s (%,.0f entities/s)%n",
          s.snapshotId(),
          p.surfaces().get(surface).spec().candidates().snapshot(),
          s.entities(),
          s.duration().toMillis() / 1000.0,
          s.entitiesPerSecond());
      out.flush();
    }
    return ExitCodes.OK;
  }

  static BatchRunSummary runExact(Project p, String surfaceName, int threads) {
    Surface s = candidateSurface(p, surfaceName);
    try (VectorIndex index = p.vectorIndex(s.spec().candidates().index())) {
      return new ExactCandidates(s, p.registry(), p.offlineStore(), p.kvStore(), Clock.systemUTC())
          .run(
              index,
              threads,
              new ProgressBar(System.err, "lists", System.console() != null, System::nanoTime));
    }
  }

  private static Surface candidateSurface(Project p, String surfaceName) {
    Surface s = p.surfaces().get(surfaceName);
    if (s.spec().candidates() == null || s.spec().candidates().index() == null) {
      throw ScorelineException.userError(
          "candidates",
          s.origin()
              + ": surface '"
              + s.name()
              + "' has no candidate job: give candidates.source: precomputed with 'snapshot',"
              + " 'index' and 'query'");
    }
    return s;
  }

  static CandidateJob.Summary run(Project p, String surfaceName, int threads) {
    Surface s = candidateSurface(p, surfaceName);
    ExecutorService pool =
        Executors.newFixedThreadPool(
            threads, ServerLauncher.daemonThreads("scoreline-candidates-"));
    try {
      VectorIndex index = p.vectorIndex(s.spec().candidates().index());
      try (index) {
        return new CandidateJob(
                s, p.registry(), p.offlineStore(), p.kvStore(), pool, threads, Clock.systemUTC())
            .run(
                index,
                new ProgressBar(System.err, "lists", System.console() != null, System::nanoTime));
      }
    } finally {
      pool.shutdownNow();
    }
  }
}
