package dev.scoreline.core.model;

import dev.scoreline.core.error.ScorelineException;
import dev.scoreline.core.tensor.Shapes;
import dev.scoreline.core.tensor.Tensor;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Checks a request against a model's signature before it reaches a runtime, so that every mistake
 * comes back as a USER_ERROR naming the field ({@code inputs[i].shape}) and what was expected.
 */
public final class RequestValidator {
  private RequestValidator() {}

  /** Returns the inputs keyed by name, in request order. */
  public static Map<String, Tensor> validateInputs(
      ModelSignature sig, String model, List<Tensor> inputs) {
    Map<String, Tensor> byName = new LinkedHashMap<>();
    long batch = -1;
    String batchFrom = null;
    for (int i = 0; i < inputs.size(); i++) {
      Tensor t = inputs.get(i);
      String field = "inputs[" + i + "]";
      TensorSpec spec = sig.input(t.name());
      if (spec == null) {
        throw ScorelineException.userError(
            field + ".name",
            "model '"
                + model
                + "' has no input '"
                + t.name()
                + "'; its inputs are "
                + names(sig.inputs()));
      }
      if (byName.put(t.name(), t) != null) {
        throw ScorelineException.userError(
            field + ".name", "input '" + t.name() + "' is sent twice; send each input once");
      }
      if (t.type() != spec.datatype()) {
        throw ScorelineException.userError(
            field + ".datatype",
            "input '"
                + t.name()
                + "' must be "
                + spec.datatype()
                + " but the request says "
                + t.type());
      }
      long[] shape = t.shape();
      long[] expected = spec.shape();
      if (!Shapes.matches(expected, shape)) {
        throw ScorelineException.userError(
            field + ".shape",
            "input '"
                + t.name()
                + "' must have shape "
                + Shapes.format(expected)
                + " (-1 = any size) but the request says "
                + Shapes.format(shape));
      }
      if (sig.maxBatchSize() > 0) {
        long b = shape[0];
        if (b > sig.maxBatchSize()) {
          throw ScorelineException.userError(
              field + ".shape",
              "input '"
                  + t.name()
                  + "' has batch size "
                  + b
                  + " but model '"
                  + model
                  + "' accepts at most "
                  + sig.maxBatchSize()
                  + " (max-batch-size); split the request");
        }
        if (batch >= 0 && b != batch) {
          throw ScorelineException.userError(
              field + ".shape",
              "input '"
                  + t.name()
                  + "' has batch size "
                  + b
                  + " but input '"
                  + batchFrom
                  + "' has "
                  + batch
                  + "; all inputs must have the same first dimension");
        }
        batch = b;
        batchFrom = t.name();
      }
      if (!spec.allowNan()) {
        int nan = t.firstNaN();
        if (nan >= 0) {
          throw ScorelineException.userError(
              field + ".data",
              "input '"
                  + t.name()
                  + "' has NaN at element "
                  + nan
                  + "; send a number, or set allow-nan: true for this input in config.yaml");
        }
      }
    }
    if (byName.size() != sig.inputs().size()) {
      List<String> missing = new ArrayList<>();
      for (TensorSpec s : sig.inputs()) {
        if (!byName.containsKey(s.name())) {
          missing.add(s.name());
        }
      }
      throw ScorelineException.userError(
          "inputs",
          "model '" + model + "' needs inputs " + missing + " which the request does not send");
    }
    return byName;
  }

  /** The output names to compute, in order: those requested, or all outputs. */
  public static List<String> validateOutputs(
      ModelSignature sig, String model, List<String> requested) {
    if (requested.isEmpty()) {
      List<String> all = new ArrayList<>(sig.outputs().size());
      for (TensorSpec s : sig.outputs()) {
        all.add(s.name());
      }
      return all;
    }
    Map<String, Integer> seen = new HashMap<>();
    for (int i = 0; i < requested.size(); i++) {
      String name = requested.get(i);
      if (sig.output(name) == null) {
        throw ScorelineException.userError(
            "outputs[" + i + "].name",
            "model '"
                + model
                + "' has no output '"
                + name
                + "'; its outputs are "
                + names(sig.outputs()));
      }
      if (seen.put(name, i) != null) {
        throw ScorelineException.userError(
            "outputs[" + i + "].name", "output '" + name + "' is requested twice");
      }
    }
    return requested;
  }

  private static List<String> names(List<TensorSpec> specs) {
    List<String> n = new ArrayList<>(specs.size());
    for (TensorSpec s : specs) {
      n.add(s.name());
    }
    return n;
  }
}
