package dev.scoreline.retrieval;

import static java.util.Objects.requireNonNull;

import dev.scoreline.core.error.ScorelineException;
import dev.scoreline.core.retrieval.VectorIndex;
import dev.scoreline.core.retrieval.VectorIndexes;
import java.nio.file.Path;

/**
 * Opens any index saved by scoreline-retrieval: reads the directory's manifest ({@code
 * index.properties}) and opens an {@link ExactIndex} or a {@link JVectorIndex} accordingly.
 */
public final class DefaultVectorIndexes implements VectorIndexes {
  private final JVectorOptions searchOptions;

  /** Opens jvector indexes with the default search parameters. */
  public DefaultVectorIndexes() {
    this(JVectorOptions.DEFAULTS);
  }

  /**
   * @param searchOptions the search parameters of opened jvector indexes (their build parameters
   *     come from the saved manifest)
   */
  public DefaultVectorIndexes(JVectorOptions searchOptions) {
    this.searchOptions = requireNonNull(searchOptions, "searchOptions is null");
  }

  @Override
  public VectorIndex open(Path dir) {
    requireNonNull(dir, "dir is null");
    IndexFiles.Manifest m = IndexFiles.readManifest(dir);
    switch (m.kind()) {
      case ExactIndex.KIND:
        return ExactIndex.load(dir);
      case JVectorIndex.KIND:
        return JVectorIndex.load(dir, searchOptions);
      default:
        Path file = dir.resolve(IndexFiles.MANIFEST);
        throw ScorelineException.userError(
            file.toString(),
            file
                + ": kind="
                + m.kind()
                + " is unknown; this Scoreline opens "
                + JVectorIndex.KIND
                + " and "
                + ExactIndex.KIND
                + " indexes (rebuild the index, or use the Scoreline that built it)");
    }
  }
}
