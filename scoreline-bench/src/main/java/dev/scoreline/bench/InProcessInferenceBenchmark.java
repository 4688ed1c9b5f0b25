package dev.scoreline.bench;

import dev.scoreline.core.model.InferenceMetrics;
import dev.scoreline.core.model.InferenceRequest;
import dev.scoreline.core.model.InferenceResponse;
import dev.scoreline.core.model.ModelManager;
import dev.scoreline.core.model.ModelRepository;
import dev.scoreline.onnx.OnnxRuntime;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * In-process {@link ModelManager#infer} of the {@code mlp_ranker} fixture at batch 1 and 64, one
 * thread: the floor that the server's latency is compared with. Run with {@code java -cp
 * "scoreline-bench/target/scoreline-bench.jar:scoreline-bench/target/lib/*" org.openjdk.jmh.Main
 * InProcessInference}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(
    value = 1,
    jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
public class InProcessInferenceBenchmark {
  @Param({"1", "64"})
  public int batch;

  private Path repository;
  private OnnxRuntime runtime;
  private ModelManager manager;
  private InferenceRequest request;

  @Setup(Level.Trial)
  public void setUp() {
    repository = BenchModel.createRepository();
    runtime = new OnnxRuntime();
    manager =
        new ModelManager(
            new ModelRepository(repository),
            List.of(runtime),
            new InferenceMetrics(new SimpleMeterRegistry()),
            Runnable::run);
    manager.loadAll(List.of(BenchModel.NAME));
    request =
        new InferenceRequest(
            BenchModel.NAME,
            BenchModel.VERSION,
            "",
            Map.of(),
            List.of(BenchModel.input(batch)),
            List.of());
    float[] scores = infer().output(BenchModel.OUTPUT).toFloatArray();
    if (scores.length != batch) {
      throw new IllegalStateException("expected " + batch + " scores, got " + scores.length);
    }
  }

  @Benchmark
  public InferenceResponse infer() {
    return manager.infer(request);
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    manager.close();
    runtime.close();
    BenchModel.deleteRepository(repository);
  }
}
