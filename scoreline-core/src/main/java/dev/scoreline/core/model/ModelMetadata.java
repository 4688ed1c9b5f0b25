package dev.scoreline.core.model;

import java.util.List;

/** What model metadata endpoints report. */
public record ModelMetadata(
    String name,
    List<String> versions,
    String platform,
    List<TensorSpec> inputs,
    List<TensorSpec> outputs,
    int maxBatchSize) {}
