package dev.scoreline.core.model;

import dev.scoreline.core.error.ErrorCode;
import dev.scoreline.core.error.ScorelineException;
import dev.scoreline.core.tensor.Shapes;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The resolved inputs and outputs of a loaded model version, with concrete datatypes and shapes.
 * When {@code maxBatchSize > 0} the first dimension of every input and output is the batch
 * dimension.
 */
public record ModelSignature(List<TensorSpec> inputs, List<TensorSpec> outputs, int maxBatchSize) {
  public ModelSignature {
    inputs = List.copyOf(inputs);
    outputs = List.copyOf(outputs);
  }

  public TensorSpec input(String name) {
    for (TensorSpec s : inputs) {
      if (s.name().equals(name)) {
        return s;
      }
    }
    return null;
  }

  public TensorSpec output(String name) {
    for (TensorSpec s : outputs) {
      if (s.name().equals(name)) {
        return s;
      }
    }
    return null;
  }

  /**
   * Merges a model's config with what its file declares. Config entries must name tensors the file
   * has, with the same datatype and a compatible shape; where the config says nothing the file's
   * declaration is used.
   */
  public static ModelSignature reconcile(
      String model, ModelConfig config, List<TensorSpec> fileInputs, List<TensorSpec> fileOutputs) {
    List<TensorSpec> in = merge(model, "inputs", config.inputs(), fileInputs);
    List<TensorSpec> out = merge(model, "outputs", config.outputs(), fileOutputs);
    if (config.maxBatchSize() > 0) {
      for (TensorSpec s : concat(in, out)) {
        long[] shape = s.shape();
        if (shape.length == 0 || (shape[0] != -1 && shape[0] < config.maxBatchSize())) {
          throw new ScorelineException(
              ErrorCode.USER_ERROR,
              model
                  + ": max-batch-size is "
                  + config.maxBatchSize()
                  + " but '"
                  + s.name()
                  + "' has shape "
                  + Shapes.format(shape)
                  + " with no variable batch dimension first; set max-batch-size: 0 or export the"
                  + " model with a dynamic first dimension");
        }
      }
    }
    return new ModelSignature(in, out, config.maxBatchSize());
  }

  private static List<TensorSpec> concat(List<TensorSpec> a, List<TensorSpec> b) {
    List<TensorSpec> all = new ArrayList<>(a);
    all.addAll(b);
    return all;
  }

  private static List<TensorSpec> merge(
      String model, String what, List<TensorSpec> configured, List<TensorSpec> declared) {
    if (configured == null || configured.isEmpty()) {
      return declared;
    }
    Map<String, TensorSpec> byName = new LinkedHashMap<>();
    for (TensorSpec d : declared) {
      byName.put(d.name(), d);
    }
    List<TensorSpec> out = new ArrayList<>();
    for (TensorSpec c : configured) {
      TensorSpec d = byName.get(c.name());
      if (d == null) {
        throw new ScorelineException(
            ErrorCode.USER_ERROR,
            model
                + ": config "
                + what
                + " names '"
                + c.name()
                + "' but the model file has "
                + byName.keySet());
      }
      if (c.datatype() != d.datatype()) {
        throw new ScorelineException(
            ErrorCode.USER_ERROR,
            model
                + ": config says '"
                + c.name()
                + "' is "
                + c.datatype()
                + " but the model file says "
                + d.datatype());
      }
      long[] shape = d.shape();
      if (c.shape() != null) {
        shape = compatibleShape(model, c, d);
      }
      out.add(new TensorSpec(c.name(), c.datatype(), shape, c.allowNan()));
    }
    if (what.equals("inputs") && out.size() != declared.size()) {
      List<String> missing = new ArrayList<>(byName.keySet());
      out.forEach(s -> missing.remove(s.name()));
      throw new ScorelineException(
          ErrorCode.USER_ERROR,
          model
              + ": config inputs omit "
              + missing
              + " which the model file requires; list all"
              + " inputs or none");
    }
    return out;
  }

  private static long[] compatibleShape(String model, TensorSpec c, TensorSpec d) {
    long[] cs = c.shape();
    long[] ds = d.shape();
    if (cs.length != ds.length) {
      throw new ScorelineException(
          ErrorCode.USER_ERROR,
          model
              + ": config shape of '"
              + c.name()
              + "' is "
              + Shapes.format(cs)
              + " but the model file declares rank "
              + ds.length
              + " "
              + Shapes.format(ds));
    }
    long[] merged = new long[cs.length];
    for (int i = 0; i < cs.length; i++) {
      if (ds[i] >= 0 && cs[i] >= 0 && ds[i] != cs[i]) {
        throw new ScorelineException(
            ErrorCode.USER_ERROR,
            model
                + ": config shape of '"
                + c.name()
                + "' is "
                + Shapes.format(cs)
                + " but the model file declares "
                + Shapes.format(ds));
      }
      merged[i] = ds[i] >= 0 ? ds[i] : cs[i];
    }
    return merged;
  }
}
