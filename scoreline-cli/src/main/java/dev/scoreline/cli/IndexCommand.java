package dev.scoreline.cli;

import dev.scoreline.core.error.ScorelineException;
import dev.scoreline.core.feature.Definitions.FeatureView;
import dev.scoreline.core.feature.FeatureRef;
import dev.scoreline.core.feature.ValueType;
import dev.scoreline.core.progress.ProgressBar;
import dev.scoreline.core.retrieval.Similarity;
import dev.scoreline.core.retrieval.VectorIndex;
import dev.scoreline.retrieval.IndexBuilder;
import dev.scoreline.retrieval.JVectorOptions;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code scoreline index build}: a vector index over an embedding feature. */
@Command(
    name = "index",
    mixinStandardHelpOptions = true,
    versionProvider = Main.Version.class,
    description = "Vector indexes for retrieval (docs/recommendations.md).",
    subcommands = {IndexCommand.Build.class})
final class IndexCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Override
  public Integer call() {
    spec.commandLine().usage(spec.commandLine().getErr());
    return ExitCodes.USAGE;
  }

  @Command(
      name = "build",
      mixinStandardHelpOptions = true,
      versionProvider = Main.Version.class,
      description = {
        "Build a vector index from the newest value per entity of an fp32_list feature in the"
            + " offline store, and save it under the project.",
        "",
        "Example: scoreline index build my-recs --feature item_profile:embedding --out"
            + " indexes/items"
      })
  static final class Build implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Parameters(
        index = "0",
        arity = "0..1",
        paramLabel = "PROJECT",
        description = "Project directory (default: .).")
    Path project = Path.of(".");

    @Option(
        names = "--feature",
        required = true,
        paramLabel = "VIEW:FEATURE",
        description =
            "The fp32_list feature holding the item vectors; the view's entity must have"
                + " one int64 key column (the item id).")
    String feature;

    @Option(
        names = "--out",
        required = true,
        paramLabel = "DIR",
        description = "Where to save the index, relative to the project (e.g. indexes/items).")
    String out;

    @Option(
        names = "--kind",
        defaultValue = "jvector",
        paramLabel = "KIND",
        description =
            "jvector (graph, approximate) or exact (brute force). Default: ${DEFAULT-VALUE}.")
    String kind;

    @Option(
        names = "--similarity",
        defaultValue = "dot-product",
        paramLabel = "SIM",
        description = "dot-product, cosine or euclidean. Default: ${DEFAULT-VALUE}.")
    String similarity;

    @Override
    public Integer call() {
      PrintWriter pw = spec.commandLine().getOut();
      try (Project p = new Project(project)) {
        Summary s = build(p, feature, out, kind, Similarity.parse(similarity));
        pw.printf(
            "indexed %,d vectors of dimension %d (%s, %s) in %.1f s into %s%n",
            s.size(), s.dimension(), kind, similarity, s.seconds(), p.dir().resolve(out));
        pw.flush();
      }
      return ExitCodes.OK;
    }
  }

  record Summary(int size, int dimension, double seconds) {}

  /** Builds and saves the index of {@code feature} (newest value per entity). */
  static Summary build(Project p, String feature, String out, String kind, Similarity sim) {
    long t0 = System.nanoTime();
    FeatureRef ref = FeatureRef.parse("--feature", feature);
    FeatureView view = p.registry().view(ref.view());
    int fi = view.indexOf(ref.feature());
    if (fi < 0 || view.features().get(fi).type() != ValueType.FP32_LIST) {
      throw ScorelineException.userError(
          "--feature",
          "--feature " + feature + ": not an fp32_list feature of view " + view.name());
    }
    var keys = p.registry().entity(view.entity()).keys();
    if (keys.size() != 1 || keys.get(0).type() != ValueType.INT64) {
      throw ScorelineException.userError(
          "--feature",
          "--feature "
              + feature
              + ": entity "
              + view.entity()
              + " must have one int64 key column to be indexed (item ids are int64)");
    }
    List<Long> ids = new ArrayList<>();
    List<float[]> vectors = new ArrayList<>();
    p.offlineStore()
        .scanLatest(
            view,
            Instant.EPOCH,
            Instant.now().plusSeconds(1),
            row -> {
              Object v = row.values()[fi];
              if (v instanceof float[] f) {
                ids.add((Long) row.key().get(0));
                vectors.add(f);
              }
            });
    if (ids.isEmpty()) {
      throw ScorelineException.userError(
          "--feature", "--feature " + feature + ": the offline source has no vectors");
    }
    int dim = vectors.get(0).length;
    IndexBuilder b =
        IndexBuilder.of(kind, dim, sim, JVectorOptions.DEFAULTS)
            .progress(
                new ProgressBar(System.err, "vectors", System.console() != null, System::nanoTime));
    for (int i = 0; i < ids.size(); i++) {
      b.add(ids.get(i), vectors.get(i));
    }
    try (VectorIndex index = b.buildAndSave(p.dir().resolve(out))) {
      return new Summary(index.size(), dim, (System.nanoTime() - t0) / 1e9);
    }
  }
}
