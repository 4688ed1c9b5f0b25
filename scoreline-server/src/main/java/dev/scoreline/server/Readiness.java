package dev.scoreline.server;

import static java.util.Objects.requireNonNull;

import dev.scoreline.core.model.ModelManager;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Whether the server is ready for traffic: the {@link ModelManager} is ready (every model asked for
 * at start-up is loaded and the server is not shutting down) and no start-up step still holds it
 * (the surfaces' warm-up). Answers {@code /v2/health/ready} and the gRPC health service.
 * Thread-safe.
 */
public final class Readiness {
  private final ModelManager manager;
  private final CopyOnWriteArrayList<String> holds = new CopyOnWriteArrayList<>();

  public Readiness(ModelManager manager) {
    this.manager = requireNonNull(manager, "manager is null");
  }

  public boolean isReady() {
    return holds.isEmpty() && manager.isReady();
  }

  /** Keeps the server not ready until {@link #release} of the same step. */
  public void hold(String step) {
    holds.add(requireNonNull(step, "step is null"));
  }

  public void release(String step) {
    holds.remove(step);
  }

  /** The start-up steps still holding readiness, in order. */
  public List<String> waitingFor() {
    return List.copyOf(holds);
  }
}
