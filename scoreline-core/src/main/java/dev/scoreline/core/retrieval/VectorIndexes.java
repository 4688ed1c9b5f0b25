package dev.scoreline.core.retrieval;

import java.nio.file.Path;

/**
 * Opens saved vector indexes; the composition root supplies the implementation
 * (scoreline-retrieval) to the surfaces that search them.
 */
public interface VectorIndexes {
  /**
   * Opens the index saved in {@code dir} (as written by scoreline-retrieval's index builder).
   *
   * @throws dev.scoreline.core.error.ScorelineException NOT_FOUND when there is no index there,
   *     USER_ERROR when the files are not a valid index
   */
  VectorIndex open(Path dir);
}
