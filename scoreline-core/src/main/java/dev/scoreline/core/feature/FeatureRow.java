package dev.scoreline.core.feature;

import java.time.Instant;
import java.util.List;

/**
 * One row of a feature view: the entity key (values in key-column order), event time, optional
 * created time, and the feature values in the view's feature order (null = missing).
 */
public record FeatureRow(
    List<Object> key, Instant eventTime, Instant createdTime, Object[] values) {}
