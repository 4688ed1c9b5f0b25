package dev.scoreline.core.model;

import dev.scoreline.core.tensor.Tensor;
import java.util.List;
import java.util.Map;

/** The answer to an {@link InferenceRequest}: outputs in the order requested. */
public record InferenceResponse(
    String model, String version, String id, Map<String, Object> parameters, List<Tensor> outputs) {
  public InferenceResponse {
    parameters = parameters == null ? Map.of() : parameters;
    outputs = List.copyOf(outputs);
  }

  /** The output named {@code name}, or null. */
  public Tensor output(String name) {
    for (Tensor t : outputs) {
      if (t.name().equals(name)) {
        return t;
      }
    }
    return null;
  }
}
