package dev.scoreline.cli;

import dev.scoreline.batch.BatchRunSummary;
import dev.scoreline.core.feature.materialize.Materializer;
import dev.scoreline.core.progress.ProgressListener;
import dev.scoreline.core.retrieval.Similarity;
import dev.scoreline.demo.DemoData;
import dev.scoreline.demo.Quickstart;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * The Spark runner's tests reach the local engine through here: {@code scoreline batch} ({@link
 * BatchCommand#run}) and the quickstart's preparation of the demo project, both package-private in
 * the CLI. Lives in the CLI's package on the test class path only.
 */
public final class LocalEngine {
  private LocalEngine() {}

  /**
   * Writes the small demo shop into {@code dir} with its online store on Redis at {@code redisUri}
   * and prepares it as {@code scoreline quickstart} does: materialize, item index, candidates,
   * popularity fallback.
   *
   * @return the project directory
   */
  public static Path prepareDemo(Path dir, String redisUri, PrintStream log) {
    DemoData data = Quickstart.build(dir, Quickstart.Options.small(), ProgressListener.NONE, log);
    Path project = data.projectDir();
    try {
      Files.writeString(
          project.resolve("scoreline.yaml"),
          "online-store:\n  type: redis\n  uri: "
              + redisUri
              + "\noffline-store:\n  type: duckdb\n  threads: 2\n  memory-limit: 1GB\n");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    try (Project p = new Project(project)) {
      new Materializer(
              p.offlineStore(),
              p.onlineFeatures(),
              p.dir().resolve(".scoreline"),
              Clock.systemUTC(),
              ProgressListener.NONE)
          .materialize(List.of(), data.dataStart().minusSeconds(86_400), Instant.now());
      IndexCommand.build(
          p, "item_profile:embedding", DemoData.INDEX_DIR, "jvector", Similarity.DOT_PRODUCT);
      CandidatesCommand.run(p, DemoData.SURFACE, 2);
      QuickstartCommand.publishPopular(p.kvStore(), data);
    }
    return project;
  }

  /** {@code scoreline batch <surface> --entities FILE --partitions N --threads T --keep K}. */
  public static BatchRunSummary batch(
      Path project, String surface, Path entitiesFile, int partitions, int threads, int keep) {
    try (Project p = new Project(project)) {
      return BatchCommand.run(p, surface, entitiesFile, partitions, threads, keep);
    }
  }

  /** The entities {@code scoreline batch} scores when no file is given. */
  public static List<Map<String, Object>> scanEntities(Path project, String surface) {
    try (Project p = new Project(project)) {
      return BatchCommand.scanEntities(p, p.surfaces().get(surface));
    }
  }
}
