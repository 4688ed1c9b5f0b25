package dev.scoreline.core.surface;

import dev.scoreline.core.feature.online.FeatureVectors;
import java.util.Map;

/**
 * The data of one request of a pipeline run that transforms and rules read: the entity's features
 * (row {@link #entityRow} of a read that may hold the entities of several requests), the candidates
 * with their retrieval scores, the candidates' features (one row per candidate) and the request
 * context.
 */
final class Frame {
  final FeatureVectors entity;
  final int entityRow;
  final long[] ids;
  final float[] retrievalScores;
  final FeatureVectors candidates;
  final Map<String, Object> context;

  Frame(
      FeatureVectors entity,
      int entityRow,
      long[] ids,
      float[] retrievalScores,
      FeatureVectors candidates,
      Map<String, Object> context) {
    this.entity = entity;
    this.entityRow = entityRow;
    this.ids = ids;
    this.retrievalScores = retrievalScores;
    this.candidates = candidates;
    this.context = context;
  }

  int rows() {
    return ids.length;
  }
}
