package dev.scoreline.core.model;

import static java.util.Objects.requireNonNull;

import dev.scoreline.core.tensor.Tensor;
import java.util.List;
import java.util.Map;

/**
 * An inference call, independent of protocol.
 *
 * @param model the model name
 * @param version a version number, or null for the model's default (newest ready) version
 * @param id the caller's request id, echoed in the response (may be empty)
 * @param parameters request parameters (strings, numbers, booleans), never null
 * @param inputs the input tensors
 * @param outputs the output names wanted, in order; empty means all outputs in model order
 */
public record InferenceRequest(
    String model,
    String version,
    String id,
    Map<String, Object> parameters,
    List<Tensor> inputs,
    List<String> outputs) {
  public InferenceRequest {
    requireNonNull(model, "model is null");
    id = id == null ? "" : id;
    parameters = parameters == null ? Map.of() : parameters;
    inputs = List.copyOf(inputs);
    outputs = outputs == null ? List.of() : List.copyOf(outputs);
  }

  /** A request for the default version with no id, parameters or output selection. */
  public static InferenceRequest of(String model, List<Tensor> inputs) {
    return new InferenceRequest(model, null, "", Map.of(), inputs, List.of());
  }
}
