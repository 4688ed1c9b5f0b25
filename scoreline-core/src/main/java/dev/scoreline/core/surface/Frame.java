package dev.scoreline.core.surface;

import dev.scoreline.core.feature.online.FeatureVectors;
import java.util.Map;

/**
 * The data of one pipeline run that transforms and rules read: the entity's features (one row), the
 * candidates with their retrieval scores, the candidates' features (one row per candidate) and the
 * request context.
 */
final class Frame {
  final FeatureVectors entity;
  final long[] ids;
  final float[] retrievalScores;
  final FeatureVectors candidates;
  final Map<String, Object> context;

  Frame(
      FeatureVectors entity,
      long[] ids,
      float[] retrievalScores,
      FeatureVectors candidates,
      Map<String, Object> context) {
    this.entity = entity;
    this.ids = ids;
    this.retrievalScores = retrievalScores;
    this.candidates = candidates;
    this.context = context;
  }

  int rows() {
    return ids.length;
  }
}
