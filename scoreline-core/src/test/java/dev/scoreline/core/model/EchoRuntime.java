package dev.scoreline.core.model;

import dev.scoreline.core.error.ScorelineException;
import dev.scoreline.core.model.spi.LoadedModel;
import dev.scoreline.core.model.spi.ModelRuntime;
import dev.scoreline.core.model.spi.ModelSource;
import dev.scoreline.core.tensor.DataType;
import dev.scoreline.core.tensor.Tensor;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A hand-written fake runtime for ModelManager tests: the "model file" holds a multiplier; the
 * model maps x FP32 [-1,2] to y = x * multiplier. A file containing "broken" fails to load. Real
 * ONNX models are tested in scoreline-onnx and scoreline-server.
 */
final class EchoRuntime implements ModelRuntime {
  volatile CountDownLatch gate;
  final AtomicInteger closed = new AtomicInteger();
  final AtomicInteger runs = new AtomicInteger();

  /** Calls that reached run(), counted before waiting at the gate. */
  final AtomicInteger entered = new AtomicInteger();

  /** The thread of every run, in run order. */
  final List<String> runThreads =
      java.util.Collections.synchronizedList(new java.util.ArrayList<>());

  /** Extra time every run takes (busy-waiting, as compute would), nanoseconds. */
  volatile long delayNanos;

  /** The first element of every batch run, in run order. */
  final List<Float> firstValues =
      java.util.Collections.synchronizedList(new java.util.ArrayList<>());

  @Override
  public String platform() {
    return "echo";
  }

  @Override
  public String metadataPlatform() {
    return "echo_test";
  }

  @Override
  public LoadedModel load(ModelSource source) {
    String text;
    try {
      text = Files.readString(source.file()).trim();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    if (text.equals("broken")) {
      throw ScorelineException.userError(null, source.file() + ": not a model");
    }
    boolean explode = text.equals("explode");
    float multiplier = explode ? 0 : Float.parseFloat(text);
    ModelSignature sig =
        ModelSignature.reconcile(
            source.name(),
            source.config(),
            List.of(new TensorSpec("x", DataType.FP32, new long[] {-1, 2})),
            List.of(new TensorSpec("y", DataType.FP32, new long[] {-1, 2})));
    return new LoadedModel() {
      @Override
      public ModelSignature signature() {
        return sig;
      }

      @Override
      public List<Tensor> run(Map<String, Tensor> inputs, List<String> outputs) {
        entered.incrementAndGet();
        runThreads.add(Thread.currentThread().getName());
        long until = System.nanoTime() + delayNanos;
        while (delayNanos > 0 && System.nanoTime() - until < 0) {
          Thread.onSpinWait();
        }
        CountDownLatch g = gate;
        if (g != null) {
          try {
            g.await();
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
        }
        if (explode) {
          throw new IllegalStateException("kernel crashed");
        }
        Tensor x = inputs.get("x");
        float[] v = x.toFloatArray();
        runs.incrementAndGet();
        firstValues.add(v.length > 0 ? v[0] : Float.NaN);
        for (int i = 0; i < v.length; i++) {
          v[i] *= multiplier;
        }
        return List.of(Tensor.ofFloats("y", x.shape(), v));
      }

      @Override
      public String device() {
        return "cpu";
      }

      @Override
      public void close() {
        closed.incrementAndGet();
      }
    };
  }
}
