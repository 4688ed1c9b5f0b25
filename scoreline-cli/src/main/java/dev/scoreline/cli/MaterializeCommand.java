package dev.scoreline.cli;

import dev.scoreline.core.error.ScorelineException;
import dev.scoreline.core.feature.materialize.Materializer;
import dev.scoreline.core.progress.ProgressBar;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code scoreline materialize}: offline sources to the online store. */
@Command(
    name = "materialize",
    mixinStandardHelpOptions = true,
    versionProvider = Main.Version.class,
    description = {
      "Load the newest value per entity of each online feature view from its offline source into"
          + " the online store (RocksDB or Redis, per scoreline.yaml).",
      "",
      "Either --start/--end (an interval [start, end)) or --incremental (from the end of the last"
          + " successful run, else end - ttl). Re-running is safe: writes are last-write-wins by"
          + " event time."
    })
final class MaterializeCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Parameters(
      index = "0",
      arity = "0..1",
      paramLabel = "PROJECT",
      description = "Project directory (default: .).")
  Path project = Path.of(".");

  @Option(
      names = "--start",
      paramLabel = "TIME",
      description = "Interval start: ISO-8601 instant or date (UTC).")
  String start;

  @Option(
      names = "--end",
      paramLabel = "TIME",
      description = "Interval end, exclusive (default: now).")
  String end;

  @Option(
      names = "--incremental",
      description = "Start each view where its last successful run ended.")
  boolean incremental;

  @Option(
      names = "--view",
      paramLabel = "NAME",
      description = "Only this feature view (repeatable; default: every online view).")
  List<String> views = new ArrayList<>();

  @Override
  public Integer call() {
    if (incremental == (start != null)) {
      throw ScorelineException.userError(
          "start", "give either --start (with optional --end) or --incremental");
    }
    Instant endAt = end == null ? Instant.now() : parseTime("--end", end);
    PrintWriter out = spec.commandLine().getOut();
    try (Project p = new Project(project)) {
      if (!p.hasFeatures()) {
        throw ScorelineException.userError(
            "features",
            "no feature views in " + p.dir().resolve("features") + "/*.yaml; see docs/features.md");
      }
      Materializer m =
          new Materializer(
              p.offlineStore(),
              p.onlineFeatures(),
              p.dir().resolve(".scoreline"),
              Clock.systemUTC(),
              new ProgressBar(System.err));
      Materializer.Summary s =
          incremental
              ? m.materializeIncremental(views, endAt)
              : m.materialize(views, parseTime("--start", start), endAt);
      for (Materializer.ViewResult v : s.views()) {
        out.printf(
            "%-24s [%s, %s)  read %,d  written %,d  applied %,d  %,.0f rows/s%n",
            v.view(),
            v.start(),
            v.end(),
            v.rowsRead(),
            v.rowsWritten(),
            v.rowsApplied(),
            v.rowsPerSecond());
      }
      out.printf(
          "materialized %,d rows in %.1f s (%,.0f rows/s) into %s%n",
          s.rowsWritten(),
          s.duration().toMillis() / 1000.0,
          s.rowsPerSecond(),
          p.config().onlineStore().type());
      out.flush();
    }
    return ExitCodes.OK;
  }

  static Instant parseTime(String option, String text) {
    try {
      return Instant.parse(text);
    } catch (DateTimeParseException e) {
      try {
        return LocalDate.parse(text).atStartOfDay(ZoneOffset.UTC).toInstant();
      } catch (DateTimeParseException e2) {
        throw ScorelineException.userError(
            option,
            option + " '" + text + "' is not a time; use 2026-11-28 or 2026-11-28T12:00:00Z");
      }
    }
  }
}
