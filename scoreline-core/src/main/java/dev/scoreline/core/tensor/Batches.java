package dev.scoreline.core.tensor;

import dev.scoreline.core.error.ErrorCode;
import dev.scoreline.core.error.ScorelineException;
import java.nio.ByteBuffer;
import java.util.List;

/** Concatenation and row slicing along the first (batch) dimension. */
public final class Batches {
  private Batches() {}

  /**
   * Concatenates tensors of the same name, datatype and trailing dimensions along dimension 0. One
   * copy into a direct buffer, which the runtime then reads without another copy.
   */
  public static Tensor concat(List<Tensor> parts) {
    Tensor first = parts.get(0);
    if (parts.size() == 1) {
      return first;
    }
    long rows = 0;
    for (Tensor t : parts) {
      rows += t.dim(0);
    }
    long[] shape = first.shape();
    shape[0] = rows;
    if (first.type() == DataType.BYTES) {
      byte[][] all = new byte[Math.toIntExact(Shapes.elementCount(first.name(), shape))][];
      int at = 0;
      for (Tensor t : parts) {
        byte[][] b = t.bytesData();
        System.arraycopy(b, 0, all, at, b.length);
        at += b.length;
      }
      return Tensor.ofBytes(first.name(), shape, all);
    }
    long bytes = 0;
    for (Tensor t : parts) {
      bytes += t.byteSize();
    }
    ByteBuffer out = ByteBuffer.allocateDirect(Math.toIntExact(bytes));
    for (Tensor t : parts) {
      out.put(t.data());
    }
    out.flip();
    return Tensor.of(first.name(), first.type(), shape, out);
  }

  /**
   * Rows {@code [from, to)} of {@code t} along dimension 0; fixed-size data is a view, not a copy.
   */
  public static Tensor rows(Tensor t, long from, long to) {
    long total = t.dim(0);
    if (from == 0 && to == total) {
      return t;
    }
    long[] shape = t.shape();
    shape[0] = to - from;
    int perRow = total == 0 ? 0 : (int) (t.elementCount() / total);
    if (t.type() == DataType.BYTES) {
      byte[][] b = new byte[(int) ((to - from) * perRow)][];
      System.arraycopy(t.bytesData(), (int) from * perRow, b, 0, b.length);
      return Tensor.ofBytes(t.name(), shape, b);
    }
    int size = t.type().byteSize() * perRow;
    ByteBuffer d = t.data();
    ByteBuffer slice = d.slice((int) from * size, (int) (to - from) * size);
    return Tensor.of(t.name(), t.type(), shape, slice);
  }

  /** Checks that an output has one row per input row, as batching needs. */
  public static void checkRows(String model, Tensor output, long rows) {
    if (output.rank() == 0 || output.dim(0) != rows) {
      throw new ScorelineException(
          ErrorCode.INTERNAL,
          "model '"
              + model
              + "' returned output '"
              + output.name()
              + "' with shape "
              + Shapes.format(output.shape())
              + " for a batch of "
              + rows
              + " rows; dynamic batching needs outputs batched along dimension 0 (disable"
              + " dynamic-batching for this model)");
    }
  }
}
