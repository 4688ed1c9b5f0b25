package dev.scoreline.core.model;

/** The lifecycle state of one model version, as reported by the repository index. */
public enum ModelState {
  LOADING,
  READY,
  UNLOADING,
  UNAVAILABLE
}
