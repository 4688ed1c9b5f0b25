package dev.scoreline.onnx;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import dev.scoreline.core.error.ErrorCode;
import dev.scoreline.core.error.ScorelineException;
import dev.scoreline.core.model.ModelConfig;
import dev.scoreline.core.model.spi.LoadedModel;
import dev.scoreline.core.model.spi.ModelSource;
import dev.scoreline.core.tensor.DataType;
import dev.scoreline.core.tensor.Fp16;
import dev.scoreline.core.tensor.Tensor;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Running the fixture models: numerics against numpy references, datatypes, concurrency. */
class OnnxRunTest {
  private static final OnnxRuntime RUNTIME = new OnnxRuntime();

  @TempDir static Path dir;

  private static LoadedModel multiIo;

  @BeforeAll
  static void loadShared() {
    multiIo = RUNTIME.load(Fixtures.source(dir, "multi_io", 1));
  }

  @AfterAll
  static void closeShared() {
    multiIo.close();
  }

  @ParameterizedTest
  @ValueSource(ints = {1, 2})
  void run_mlpRanker_matchesNumpyReference(int version) {
    JsonNode expected = Fixtures.expected("mlp_ranker");
    JsonNode input = expected.get("input");
    try (LoadedModel model = RUNTIME.load(Fixtures.source(dir, "mlp_ranker", version))) {
      Tensor features = Tensor.ofFloats("features", Fixtures.shape(input), Fixtures.floats(input));

      List<Tensor> out = model.run(Map.of("features", features), List.of("score"));

      assertThat(out).hasSize(1);
      Tensor score = out.get(0);
      assertThat(score.name()).isEqualTo("score");
      assertThat(score.type()).isEqualTo(DataType.FP32);
      assertThat(score.shape()).containsExactly(2, 1);
      assertCloseTo(score.toFloatArray(), Fixtures.floats(expected.get("v" + version)), 1e-5f);
    }
  }

  @Test
  void run_mlpRankerLarge_weightsFoldedAtLoad_matchNumpyReference() {
    // the benchmark MLP computes its 3.2 M weights in-graph; ONNX Runtime folds them when the
    // session is created, and the result must equal numpy's twin of the same integer arithmetic
    JsonNode expected = Fixtures.expected("mlp_ranker_large");
    JsonNode input = expected.get("input");
    try (LoadedModel model = RUNTIME.load(Fixtures.source(dir, "mlp_ranker_large", 1))) {
      assertThat(model.signature().input("features").shape()).containsExactly(-1, 256);
      Tensor features = Tensor.ofFloats("features", Fixtures.shape(input), Fixtures.floats(input));

      Tensor score = model.run(Map.of("features", features), List.of("score")).get(0);

      assertThat(score.shape()).containsExactly(2, 1);
      // four layers of float32 sums in another order than numpy's: 1e-5 relative is too tight
      assertCloseTo(score.toFloatArray(), Fixtures.floats(expected.get("v1")), 1e-4f);
    }
  }

  @Test
  void run_directBufferInput_matchesHeapInput() {
    JsonNode input = Fixtures.expected("mlp_ranker").get("input");
    float[] values = Fixtures.floats(input);
    ByteBuffer direct = ByteBuffer.allocateDirect(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    direct.asFloatBuffer().put(values);
    try (LoadedModel model = RUNTIME.load(Fixtures.source(dir, "mlp_ranker", 1))) {
      Tensor heap = Tensor.ofFloats("features", Fixtures.shape(input), values);
      Tensor offHeap = Tensor.of("features", DataType.FP32, Fixtures.shape(input), direct);

      float[] fromHeap =
          model.run(Map.of("features", heap), List.of("score")).get(0).toFloatArray();
      float[] fromDirect =
          model.run(Map.of("features", offHeap), List.of("score")).get(0).toFloatArray();

      assertThat(fromDirect).containsExactly(fromHeap);
    }
  }

  @Test
  void run_batchLargerThanScratch_matchesRowByRow() {
    int rows = InputStaging.REUSE_LIMIT / (64 * 4) + 100;
    float[] values = new float[rows * 64];
    for (int i = 0; i < values.length; i++) {
      values[i] = (float) Math.sin(i * 0.001);
    }
    try (LoadedModel model = RUNTIME.load(Fixtures.source(dir, "mlp_ranker", 1))) {
      Tensor batch = Tensor.ofFloats("features", new long[] {rows, 64}, values);

      float[] scores = model.run(Map.of("features", batch), List.of("score")).get(0).toFloatArray();

      assertThat(scores).hasSize(rows);
      for (int r : new int[] {0, 1, rows / 2, rows - 1}) {
        float[] row = Arrays.copyOfRange(values, r * 64, r * 64 + 64);
        Tensor one = Tensor.ofFloats("features", new long[] {1, 64}, row);
        float single =
            model.run(Map.of("features", one), List.of("score")).get(0).toFloatArray()[0];
        assertThat(scores[r]).as("row %d", r).isCloseTo(single, within(1e-6f));
      }
    }
  }

  @Test
  void run_multiIo_allOutputsMatchReference() {
    JsonNode expected = Fixtures.expected("multi_io");

    List<Tensor> out =
        multiIo.run(multiIoInputs(expected.get("inputs")), List.of("sum", "prod", "label"));

    JsonNode want = expected.get("outputs");
    assertThat(out).extracting(Tensor::name).containsExactly("sum", "prod", "label");
    assertThat(out.get(0).type()).isEqualTo(DataType.FP32);
    assertThat(out.get(0).shape()).containsExactly(3, 4);
    assertCloseTo(out.get(0).toFloatArray(), Fixtures.floats(want.get("sum")), 1e-5f);
    assertThat(out.get(1).type()).isEqualTo(DataType.INT64);
    assertThat(out.get(1).toLongArray()).containsExactly(Fixtures.longs(want.get("prod")));
    assertThat(out.get(2).shape()).containsExactly(3);
    assertThat(out.get(2).toLongArray()).containsExactly(Fixtures.longs(want.get("label")));
  }

  @Test
  void run_requestedSubset_returnsOnlyThoseInRequestedOrder() {
    JsonNode expected = Fixtures.expected("multi_io");

    List<Tensor> out = multiIo.run(multiIoInputs(expected.get("inputs")), List.of("label", "sum"));

    assertThat(out).extracting(Tensor::name).containsExactly("label", "sum");
    JsonNode want = expected.get("outputs");
    assertThat(out.get(0).toLongArray()).containsExactly(Fixtures.longs(want.get("label")));
    assertCloseTo(out.get(1).toFloatArray(), Fixtures.floats(want.get("sum")), 1e-5f);
  }

  @Test
  void run_fp16Mlp_matchesReference() {
    JsonNode expected = Fixtures.expected("fp16_mlp");
    JsonNode x = expected.get("inputs").get("x");
    float[] xs = Fixtures.floats(x);
    ByteBuffer half = Tensor.allocate(xs.length * 2);
    for (float v : xs) {
      half.putShort(Fp16.fromFloat(v));
    }
    half.flip();
    try (LoadedModel model = RUNTIME.load(Fixtures.source(dir, "fp16_mlp", 1))) {
      Tensor input = Tensor.of("x", DataType.FP16, Fixtures.shape(x), half);

      Tensor y = model.run(Map.of("x", input), List.of("y")).get(0);

      assertThat(y.type()).isEqualTo(DataType.FP16);
      assertThat(y.shape()).containsExactly(2, 2);
      float[] want = Fixtures.floats(expected.get("outputs").get("y"));
      ByteBuffer data = y.data();
      for (int i = 0; i < want.length; i++) {
        // Every value is exact in fp16: the result does not depend on summation order.
        assertThat(Fp16.toFloat(data.getShort(i * 2))).isEqualTo(want[i]);
      }
    }
  }

  @Test
  void run_stringIdentity_roundTripsUtf8() {
    String[] values = {
      "hello", "", "grüße, 日本語, ñandú", "emoji 🙂 and 𝄞", "  spaces  ", "tab\tnewline\n"
    };
    try (LoadedModel model = RUNTIME.load(Fixtures.source(dir, "string_identity", 1))) {
      Tensor text = Tensor.ofStrings("text", new long[] {values.length}, values);

      Tensor out = model.run(Map.of("text", text), List.of("text_out")).get(0);

      assertThat(out.type()).isEqualTo(DataType.BYTES);
      assertThat(out.shape()).containsExactly(values.length);
      assertThat(out.toStrings()).containsExactly(values);
      assertThat(out.bytesData()).isDeepEqualTo(text.bytesData());
    }
  }

  @Test
  void run_allTypes_roundTripsEdgeValuesBitForBit() {
    Map<String, Tensor> inputs = new LinkedHashMap<>();
    long[] shape = {2, 3};
    inputs.put("x_bool", raw("x_bool", DataType.BOOL, shape, b -> bytes(b, 1, 0, 1, 0, 0, 1)));
    inputs.put(
        "x_uint8", raw("x_uint8", DataType.UINT8, shape, b -> bytes(b, 0, 255, 128, 1, 127, 254)));
    inputs.put(
        "x_int8", raw("x_int8", DataType.INT8, shape, b -> bytes(b, -128, 127, 0, -1, 1, 42)));
    inputs.put(
        "x_uint16",
        raw("x_uint16", DataType.UINT16, shape, b -> shorts(b, 0, 65535, 32768, 1, 32767, 12345)));
    inputs.put(
        "x_int16",
        raw("x_int16", DataType.INT16, shape, b -> shorts(b, -32768, 32767, 0, -1, 1, 42)));
    inputs.put(
        "x_int32",
        raw(
            "x_int32",
            DataType.INT32,
            shape,
            b -> ints(b, Integer.MIN_VALUE, Integer.MAX_VALUE, 0, -1, 1, 42)));
    inputs.put(
        "x_int64",
        raw(
            "x_int64",
            DataType.INT64,
            shape,
            b -> longs(b, Long.MIN_VALUE, Long.MAX_VALUE, 0, -1, 1, 1L << 53 | 1)));
    inputs.put(
        "x_fp16",
        raw(
            "x_fp16",
            DataType.FP16,
            shape,
            // NaN, -0, +inf, -inf, max finite (65504), smallest subnormal
            b -> shorts(b, 0x7e00, 0x8000, 0x7c00, 0xfc00, 0x7bff, 0x0001)));
    inputs.put(
        "x_fp32",
        raw(
            "x_fp32",
            DataType.FP32,
            shape,
            b -> {
              for (float v :
                  new float[] {
                    Float.NaN,
                    -0.0f,
                    Float.POSITIVE_INFINITY,
                    Float.MIN_VALUE,
                    Float.MAX_VALUE,
                    -1.5f
                  }) {
                b.putFloat(v);
              }
            }));
    inputs.put(
        "x_fp64",
        raw(
            "x_fp64",
            DataType.FP64,
            shape,
            b -> {
              for (double v :
                  new double[] {
                    Double.NaN,
                    -0.0,
                    Double.NEGATIVE_INFINITY,
                    Double.MIN_VALUE,
                    Double.MAX_VALUE,
                    Math.PI
                  }) {
                b.putDouble(v);
              }
            }));
    inputs.put(
        "x_uint32",
        raw(
            "x_uint32",
            DataType.UINT32,
            shape,
            // 0, 2^32-1, 2^31, 1, 2^31-1, 123456789
            b -> ints(b, 0, -1, Integer.MIN_VALUE, 1, Integer.MAX_VALUE, 123456789)));
    inputs.put(
        "x_uint64",
        raw(
            "x_uint64",
            DataType.UINT64,
            shape,
            // 0, 2^64-1, 2^63, 1, 2^63-1, 2^53+1
            b -> longs(b, 0, -1L, Long.MIN_VALUE, 1, Long.MAX_VALUE, (1L << 53) + 1)));
    List<String> outputs = new ArrayList<>();
    for (String name : inputs.keySet()) {
      outputs.add("y_" + name.substring(2));
    }
    try (LoadedModel model = RUNTIME.load(Fixtures.source(dir, "all_types", 1))) {

      List<Tensor> out = model.run(inputs, outputs);

      assertThat(out).hasSize(12);
      for (Tensor y : out) {
        Tensor x = inputs.get("x_" + y.name().substring(2));
        assertThat(y.type()).as(y.name()).isEqualTo(x.type());
        assertThat(y.shape()).as(y.name()).containsExactly(2, 3);
        assertThat(bytesOf(y)).as(y.name()).containsExactly(bytesOf(x));
      }
      Tensor uint64 = out.get(outputs.indexOf("y_uint64"));
      assertThat(Long.toUnsignedString(uint64.toLongArray()[1])).isEqualTo("18446744073709551615");
      Tensor uint32 = out.get(outputs.indexOf("y_uint32"));
      assertThat(uint32.toLongArray()[1]).isEqualTo(4294967295L);
      Tensor uint16 = out.get(outputs.indexOf("y_uint16"));
      assertThat(uint16.toLongArray()[1]).isEqualTo(65535L);
      Tensor fp32 = out.get(outputs.indexOf("y_fp32"));
      assertThat(Float.isNaN(fp32.toFloatArray()[0])).isTrue();
      assertThat(Float.floatToRawIntBits(fp32.toFloatArray()[1])).isEqualTo(0x80000000);
    }
  }

  @Test
  void run_bf16Identity_roundTripsBitForBit() throws IOException {
    // No fixture has BF16; build y = Identity(x) with x, y BFLOAT16 (ONNX element type 16).
    OnnxProto bf16 = OnnxProto.tensorType(16);
    Path file = dir.resolve("bf16_identity/1/model.onnx");
    Files.createDirectories(file.getParent());
    Files.write(
        file,
        OnnxProto.model(
            "bf16_identity",
            OnnxProto.node("Identity", "x", "y"),
            OnnxProto.valueInfo("x", bf16),
            OnnxProto.valueInfo("y", bf16)));
    float[] values = {1.5f, -0.0f, Float.NaN, Float.NEGATIVE_INFINITY, 3.0e38f, 1.0e-40f};
    ByteBuffer data = Tensor.allocate(values.length * 2);
    for (float v : values) {
      data.putShort(Fp16.floatToBf16(v));
    }
    data.flip();
    try (LoadedModel model =
        RUNTIME.load(new ModelSource("bf16_identity", 1, file, ModelConfig.DEFAULT))) {
      assertThat(model.signature().input("x").datatype()).isEqualTo(DataType.BF16);
      Tensor x = Tensor.of("x", DataType.BF16, new long[] {2, 3}, data);

      Tensor y = model.run(Map.of("x", x), List.of("y")).get(0);

      assertThat(y.type()).isEqualTo(DataType.BF16);
      assertThat(y.shape()).containsExactly(2, 3);
      assertThat(bytesOf(y)).containsExactly(bytesOf(x));
      assertThat(y.toFloatArray()[0]).isEqualTo(1.5f);
    }
  }

  @Test
  void run_emptyBatch_returnsEmptyOutputs() {
    try (LoadedModel model = RUNTIME.load(Fixtures.source(dir, "string_identity", 1))) {
      Tensor text = Tensor.ofStrings("text", new long[] {0});

      Tensor out = model.run(Map.of("text", text), List.of("text_out")).get(0);

      assertThat(out.shape()).containsExactly(0);
      assertThat(out.bytesData()).isEmpty();
    }
    Tensor a = Tensor.ofFloats("a", new long[] {0, 4});
    Tensor b = Tensor.ofLongs("b", new long[] {0, 4});

    List<Tensor> out = multiIo.run(Map.of("a", a, "b", b), List.of("sum", "prod"));

    assertThat(out.get(0).shape()).containsExactly(0, 4);
    assertThat(out.get(1).shape()).containsExactly(0, 4);
  }

  @Test
  void run_shapeTheGraphRejects_isUserError() {
    try (LoadedModel model = RUNTIME.load(Fixtures.source(dir, "mlp_ranker", 1))) {
      Tensor features = Tensor.ofFloats("features", new long[] {1, 5}, new float[5]);

      assertThatThrownBy(() -> model.run(Map.of("features", features), List.of("score")))
          .isInstanceOfSatisfying(
              ScorelineException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.USER_ERROR));
    }
  }

  @Test
  void run_concurrentCallers_eachGetTheirOwnResult() throws Exception {
    int threads = 8;
    int runsPerThread = 200;
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    CountDownLatch start = new CountDownLatch(1);
    try {
      List<Future<Integer>> futures = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        int thread = t;
        Callable<Integer> caller =
            () -> {
              start.await();
              int checked = 0;
              for (int i = 0; i < runsPerThread; i++) {
                checked += runAndCheckMultiIo(thread, i);
              }
              return checked;
            };
        futures.add(pool.submit(caller));
      }
      start.countDown();
      int checked = 0;
      for (Future<Integer> f : futures) {
        checked += f.get(2, TimeUnit.MINUTES);
      }
      assertThat(checked).isEqualTo(threads * runsPerThread);
    } finally {
      pool.shutdownNow();
    }
  }

  /** Runs multi_io on inputs unique to (thread, iteration) and checks all three outputs. */
  private static int runAndCheckMultiIo(int thread, int iteration) {
    int rows = 1 + (thread + iteration) % 4;
    float[] a = new float[rows * 4];
    long[] b = new long[rows * 4];
    for (int r = 0; r < rows; r++) {
      int hot = (thread + iteration + r) % 4;
      for (int c = 0; c < 4; c++) {
        a[r * 4 + c] = c == hot ? 1000f + thread : (float) (c - iteration % 7);
        b[r * 4 + c] = thread * 1_000_000L + iteration * 100L + r * 10L + c;
      }
    }
    List<Tensor> out =
        multiIo.run(
            Map.of(
                "a", Tensor.ofFloats("a", new long[] {rows, 4}, a),
                "b", Tensor.ofLongs("b", new long[] {rows, 4}, b)),
            List.of("sum", "prod", "label"));
    float[] sum = out.get(0).toFloatArray();
    long[] prod = out.get(1).toLongArray();
    long[] label = out.get(2).toLongArray();
    assertThat(label).hasSize(rows);
    for (int r = 0; r < rows; r++) {
      assertThat(label[r]).isEqualTo((thread + iteration + r) % 4);
      for (int c = 0; c < 4; c++) {
        int i = r * 4 + c;
        assertThat(prod[i]).isEqualTo(b[i] * 2);
        assertThat(sum[i]).isEqualTo(a[i] + (float) b[i]);
      }
    }
    return 1;
  }

  private static Map<String, Tensor> multiIoInputs(JsonNode inputs) {
    JsonNode a = inputs.get("a");
    JsonNode b = inputs.get("b");
    return Map.of(
        "a", Tensor.ofFloats("a", Fixtures.shape(a), Fixtures.floats(a)),
        "b", Tensor.ofLongs("b", Fixtures.shape(b), Fixtures.longs(b)));
  }

  private static void assertCloseTo(float[] actual, float[] expected, float tolerance) {
    assertThat(actual).hasSameSizeAs(expected);
    for (int i = 0; i < expected.length; i++) {
      assertThat(actual[i]).as("element %d", i).isCloseTo(expected[i], within(tolerance));
    }
  }

  private interface Filler {
    void fill(ByteBuffer b);
  }

  private static Tensor raw(String name, DataType type, long[] shape, Filler filler) {
    ByteBuffer b = Tensor.allocate(6 * type.byteSize());
    filler.fill(b);
    b.flip();
    return Tensor.of(name, type, shape, b);
  }

  private static void bytes(ByteBuffer b, int... values) {
    for (int v : values) {
      b.put((byte) v);
    }
  }

  private static void shorts(ByteBuffer b, int... values) {
    for (int v : values) {
      b.putShort((short) v);
    }
  }

  private static void ints(ByteBuffer b, int... values) {
    for (int v : values) {
      b.putInt(v);
    }
  }

  private static void longs(ByteBuffer b, long... values) {
    for (long v : values) {
      b.putLong(v);
    }
  }

  private static byte[] bytesOf(Tensor t) {
    ByteBuffer data = t.data();
    byte[] out = new byte[data.remaining()];
    data.get(out);
    return out;
  }
}
