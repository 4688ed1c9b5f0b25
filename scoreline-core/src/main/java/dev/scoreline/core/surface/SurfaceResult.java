package dev.scoreline.core.surface;

import java.util.List;
import java.util.Map;

/**
 * The answer of a surface.
 *
 * @param surface the surface name
 * @param key the entity key as requested
 * @param items the ranked items, best first (empty for a scoring surface without candidates)
 * @param score the model's score for a surface without candidates, else null
 * @param model the model name
 * @param modelVersion the version that answered, or null (fallback)
 * @param fallback whether the answer came from the fallback
 * @param fallbackReason why (deadline, model-error, feature-store-error, no-candidates, ...), or
 *     null
 * @param timingsMicros per-stage wall time in microseconds: candidates, features, rules, transform,
 *     inference, total
 * @param debug details when the request asked for {@code debug}, else null
 * @param snapshot the KV snapshot the answer was read from (a batch surface's results, or the
 *     precomputed candidates), or null
 * @param snapshotAgeSeconds how long ago that snapshot was written (from its id), or null
 */
public record SurfaceResult(
    String surface,
    Map<String, Object> key,
    List<Item> items,
    Float score,
    String model,
    String modelVersion,
    boolean fallback,
    String fallbackReason,
    Map<String, Long> timingsMicros,
    Debug debug,
    String snapshot,
    Long snapshotAgeSeconds) {

  /**
   * One result item.
   *
   * @param id the candidate's key
   * @param score the final score (after boosts); for fallback answers the list's own score
   * @param retrievalScore the candidate source's score (ANN similarity, precomputed score)
   * @param pinned whether a pin rule placed it
   */
  public record Item(long id, float score, float retrievalScore, boolean pinned) {}

  /**
   * Debug details.
   *
   * @param candidates how many candidates the source gave
   * @param ranked how many were ranked after the filters
   * @param removedBy candidates removed per filter rule
   * @param columns the model input column labels
   * @param inputs per returned item (same order), its model input row; null for pinned items that
   *     were not candidates
   * @param snapshot the candidate snapshot read, or null
   */
  public record Debug(
      int candidates,
      int ranked,
      Map<String, Integer> removedBy,
      List<String> columns,
      List<float[]> inputs,
      String snapshot) {}
}
