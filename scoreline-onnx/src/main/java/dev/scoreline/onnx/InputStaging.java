package dev.scoreline.onnx;

import dev.scoreline.core.tensor.Tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Collection;

/**
 * Gives ONNX Runtime the bytes of one call's inputs in direct memory. A direct input buffer is used
 * as it is (ORT reads it in place); heap buffers are copied once into a per-thread direct scratch
 * buffer that is reused from call to call, so steady traffic allocates no direct memory (which is
 * only freed by GC and, allocated at a high rate, makes the JVM stall in {@code System.gc()}).
 * Calls whose heap inputs exceed {@link #REUSE_LIMIT} bytes get a fresh buffer instead.
 *
 * <p>ORT 1.23's own fallback for heap buffers cannot be used: for a {@code ByteBuffer} carrying
 * FLOAT, FLOAT16, INT32 ... it casts the buffer to {@code FloatBuffer}, {@code ShortBuffer} ... and
 * throws ClassCastException.
 *
 * <p>The scratch is safe to reuse because every tensor built over it is closed before {@code run}
 * returns, and a thread runs one call at a time.
 */
final class InputStaging {
  /** The most scratch bytes a thread keeps between calls. */
  static final int REUSE_LIMIT = 1 << 20;

  private static final int ALIGNMENT = 64;
  private static final ThreadLocal<ByteBuffer> SCRATCH = new ThreadLocal<>();

  private final ByteBuffer scratch;
  private int offset;

  private InputStaging(ByteBuffer scratch) {
    this.scratch = scratch;
  }

  /** Staging for one call over {@code inputs}. */
  static InputStaging forInputs(Collection<Tensor> inputs) {
    long heapBytes = 0;
    for (Tensor t : inputs) {
      if (t.type().isFixedSize() && !t.data().isDirect()) {
        heapBytes += aligned(t.byteSize());
      }
    }
    if (heapBytes == 0 || heapBytes > REUSE_LIMIT) {
      return new InputStaging(null);
    }
    ByteBuffer scratch = SCRATCH.get();
    if (scratch == null || scratch.capacity() < heapBytes) {
      int capacity = (int) Math.max(heapBytes, scratch == null ? 0 : scratch.capacity() * 2L);
      scratch = allocateAligned(Math.min(capacity, REUSE_LIMIT));
      SCRATCH.set(scratch);
    }
    return new InputStaging(scratch);
  }

  /** {@code data} itself when direct, else a direct copy of it (native = little-endian order). */
  ByteBuffer direct(ByteBuffer data) {
    if (data.isDirect()) {
      return data;
    }
    int n = data.remaining();
    ByteBuffer target;
    if (scratch != null && offset + n <= scratch.capacity()) {
      ByteBuffer view = scratch.duplicate();
      view.limit(offset + n).position(offset);
      target = view.slice();
      offset = (int) aligned(offset + n);
    } else {
      target = ByteBuffer.allocateDirect(n);
    }
    target.order(ByteOrder.nativeOrder());
    target.put(data);
    target.flip();
    return target;
  }

  private static long aligned(long bytes) {
    return (bytes + ALIGNMENT - 1) & -ALIGNMENT;
  }

  private static ByteBuffer allocateAligned(int capacity) {
    return ByteBuffer.allocateDirect(capacity + ALIGNMENT).alignedSlice(ALIGNMENT);
  }
}
