package dev.scoreline.core.model;

/** One row of the repository index: a model version, its state and why (for failures). */
public record ModelStatus(String name, String version, ModelState state, String reason) {}
