package dev.scoreline.cli;

import dev.scoreline.core.error.ScorelineException;
import dev.scoreline.core.feature.FeatureRef;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code scoreline training-set}: a point-in-time correct training set to Parquet. */
@Command(
    name = "training-set",
    mixinStandardHelpOptions = true,
    versionProvider = Main.Version.class,
    description = {
      "Join features onto an entity dataframe (a Parquet or CSV 'spine' with entity keys and a"
          + " timestamp) as of each row's time: each feature's newest value with event_ts <="
          + " row time, within the view's ttl; every spine row kept. Writes Parquet."
    })
final class TrainingSetCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Parameters(
      index = "0",
      arity = "0..1",
      paramLabel = "PROJECT",
      description = "Project directory (default: .).")
  Path project = Path.of(".");

  @Option(
      names = "--spine",
      required = true,
      paramLabel = "FILE",
      description = "Entity dataframe (.parquet or .csv).")
  Path spine;

  @Option(
      names = "--timestamp-column",
      paramLabel = "NAME",
      description = "Spine timestamp column (default: ${DEFAULT-VALUE}).")
  String timestampColumn = "event_timestamp";

  @Option(names = "--service", paramLabel = "NAME", description = "Feature service to join.")
  String service;

  @Option(
      names = "--feature",
      paramLabel = "VIEW:FEATURE",
      description = "Feature to join (repeatable; view:* for all).")
  List<String> features = new ArrayList<>();

  @Option(
      names = {"-o", "--output"},
      required = true,
      paramLabel = "FILE",
      description = "Output Parquet file.")
  Path output;

  @Override
  public Integer call() {
    if ((service == null) == features.isEmpty()) {
      throw ScorelineException.userError(
          "service", "give either --service or --feature (not both)");
    }
    try (Project p = new Project(project)) {
      List<FeatureRef> refs =
          service != null
              ? p.registry().service(service)
              : p.registry().resolve("--feature", features);
      long t0 = System.nanoTime();
      long rows =
          p.offlineStore().pointInTimeJoin(spine, timestampColumn, refs, p.registry(), output);
      PrintWriter out = spec.commandLine().getOut();
      out.printf(
          "wrote %,d rows x %d features to %s in %.1f s%n",
          rows, refs.size(), output, (System.nanoTime() - t0) / 1e9);
      out.flush();
    }
    return ExitCodes.OK;
  }
}
