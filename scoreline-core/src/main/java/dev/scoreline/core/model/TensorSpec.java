package dev.scoreline.core.model;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.annotation.JsonAlias;
import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import dev.scoreline.core.tensor.DataType;
import dev.scoreline.core.tensor.Shapes;
import java.util.Arrays;

/**
 * A model input or output: name, datatype and full shape (batch dimension included when the model
 * batches; -1 marks a variable dimension). {@code allowNan} says whether NaN may be sent (inputs).
 */
public record TensorSpec(String name, DataType datatype, long[] shape, boolean allowNan) {
  public TensorSpec {
    requireNonNull(name, "name is null");
    if (name.isBlank()) {
      throw new IllegalArgumentException("name must not be empty");
    }
    requireNonNull(datatype, "datatype of '" + name + "' is missing (e.g. FP32, INT64, BYTES)");
    shape = shape == null ? null : shape.clone();
    if (shape != null) {
      for (long d : shape) {
        if (d < -1) {
          throw new IllegalArgumentException(
              "shape of '" + name + "' has dimension " + d + "; use -1 for a variable dimension");
        }
      }
    }
  }

  @JsonCreator
  static TensorSpec fromConfig(
      @JsonProperty("name") String name,
      @JsonProperty("datatype") @JsonAlias({"data-type", "type"}) String datatype,
      @JsonProperty("shape") @JsonAlias("dims") long[] shape,
      @JsonProperty("allow-nan") Boolean allowNan) {
    if (name == null) {
      throw new IllegalArgumentException("'name' is missing");
    }
    return new TensorSpec(
        name,
        datatype == null ? null : DataType.parse(name + ".datatype", datatype),
        shape,
        allowNan != null && allowNan);
  }

  public TensorSpec(String name, DataType datatype, long[] shape) {
    this(name, datatype, shape, false);
  }

  /** The shape, or null when the config left it to the model file. */
  @Override
  public long[] shape() {
    return shape == null ? null : shape.clone();
  }

  public String shapeString() {
    return shape == null ? "(from model)" : Shapes.format(shape);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof TensorSpec
        && ((TensorSpec) o).name.equals(name)
        && ((TensorSpec) o).datatype == datatype
        && Arrays.equals(((TensorSpec) o).shape, shape)
        && ((TensorSpec) o).allowNan == allowNan;
  }

  @Override
  public int hashCode() {
    return name.hashCode() * 31 + Arrays.hashCode(shape);
  }

  @Override
  public String toString() {
    return name + ":" + datatype + shapeString();
  }
}
