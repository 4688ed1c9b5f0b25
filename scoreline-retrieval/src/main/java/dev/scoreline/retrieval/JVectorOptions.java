package dev.scoreline.retrieval;

import dev.scoreline.core.error.ScorelineException;

/**
 * Build and search parameters of a {@link JVectorIndex}.
 *
 * <p>Build parameters ({@code maxDegree}, {@code beamWidth}, {@code neighborOverflow}, {@code
 * alpha}) shape the graph; they are recorded in the saved index, and a loaded index reports those
 * recorded values. Search parameters ({@code searchBeamWidth}, {@code overquery}) and {@code
 * buildThreads} apply to the process that uses them, so a loaded index takes them from the options
 * it is opened with.
 *
 * @param maxDegree the most neighbors per graph node (jvector's {@code M}; 32 is HNSW's M=16)
 * @param beamWidth the candidate list size while inserting a node (HNSW's efConstruction)
 * @param neighborOverflow how far a node's neighbor list may overflow before it is pruned (1.2)
 * @param alpha the Vamana diversity factor; above 1 keeps longer edges (1.2)
 * @param searchBeamWidth the smallest candidate list of a search (HNSW's ef); at least k is used
 * @param overquery the candidate list is at least {@code ceil(k * overquery)} (large k, e.g. 200)
 * @param buildThreads threads that insert nodes; 0 means one per available processor
 */
public record JVectorOptions(
    int maxDegree,
    int beamWidth,
    float neighborOverflow,
    float alpha,
    int searchBeamWidth,
    float overquery,
    int buildThreads) {

  /** Degree 32, build beam 100, overflow 1.2, alpha 1.2, search beam 100, overquery 1.5. */
  public static final JVectorOptions DEFAULTS =
      new JVectorOptions(32, 100, 1.2f, 1.2f, 100, 1.5f, 0);

  public JVectorOptions {
    check(maxDegree >= 2 && maxDegree <= 512, "max-degree", maxDegree, "between 2 and 512");
    check(beamWidth >= 1 && beamWidth <= 10_000, "beam-width", beamWidth, "between 1 and 10000");
    check(
        neighborOverflow >= 1f && neighborOverflow <= 4f,
        "neighbor-overflow",
        neighborOverflow,
        "between 1.0 and 4.0");
    check(alpha >= 1f && alpha <= 4f, "alpha", alpha, "between 1.0 and 4.0");
    check(
        searchBeamWidth >= 1 && searchBeamWidth <= 100_000,
        "search-beam-width",
        searchBeamWidth,
        "between 1 and 100000");
    check(overquery >= 1f && overquery <= 100f, "overquery", overquery, "between 1.0 and 100");
    check(buildThreads >= 0, "build-threads", buildThreads, "0 (all processors) or more");
  }

  private static void check(boolean ok, String field, Object value, String range) {
    if (!ok) {
      throw ScorelineException.userError(
          field, field + ": " + value + " is out of range; use a value " + range);
    }
  }

  /** These options with another search beam width. */
  public JVectorOptions withSearchBeamWidth(int searchBeamWidth) {
    return new JVectorOptions(
        maxDegree, beamWidth, neighborOverflow, alpha, searchBeamWidth, overquery, buildThreads);
  }

  /** These options with another number of build threads (0: one per processor). */
  public JVectorOptions withBuildThreads(int buildThreads) {
    return new JVectorOptions(
        maxDegree, beamWidth, neighborOverflow, alpha, searchBeamWidth, overquery, buildThreads);
  }

  /** These options with another graph degree and build beam width. */
  public JVectorOptions withGraph(int maxDegree, int beamWidth) {
    return new JVectorOptions(
        maxDegree, beamWidth, neighborOverflow, alpha, searchBeamWidth, overquery, buildThreads);
  }

  /** The candidate list size of a search for {@code k} results. */
  int searchBeamFor(int k) {
    return Math.max(k, Math.max(searchBeamWidth, (int) Math.ceil(k * (double) overquery)));
  }

  /** The number of build threads to use. */
  int threads() {
    return buildThreads > 0 ? buildThreads : Runtime.getRuntime().availableProcessors();
  }
}
