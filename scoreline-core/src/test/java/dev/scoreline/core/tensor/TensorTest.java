package dev.scoreline.core.tensor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.scoreline.core.error.ErrorCode;
import dev.scoreline.core.error.ScorelineException;
import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;

class TensorTest {
  @Test
  void ofFloats_storesLittleEndian() {
    Tensor t = Tensor.ofFloats("x", new long[] {2, 2}, 1f, 2f, 3f, 4f);
    assertThat(t.elementCount()).isEqualTo(4);
    assertThat(t.byteSize()).isEqualTo(16);
    ByteBuffer b = t.data();
    assertThat(b.get(0)).isEqualTo((byte) 0x00);
    assertThat(b.get(3)).isEqualTo((byte) 0x3f); // 1.0f = 0x3f800000, little-endian
    assertThat(t.toFloatArray()).containsExactly(1f, 2f, 3f, 4f);
  }

  @Test
  void of_wrongByteCount_isUserErrorNamingTensor() {
    assertThatThrownBy(() -> Tensor.of("x", DataType.FP32, new long[] {3}, Tensor.allocate(8)))
        .isInstanceOfSatisfying(
            ScorelineException.class,
            e -> {
              assertThat(e.code()).isEqualTo(ErrorCode.USER_ERROR);
              assertThat(e.field()).contains("x");
            });
  }

  @Test
  void ofFloats_elementCountMismatch_isUserError() {
    assertThatThrownBy(() -> Tensor.ofFloats("x", new long[] {2, 3}, 1f, 2f))
        .isInstanceOf(ScorelineException.class)
        .hasMessageContaining("6 elements");
  }

  @Test
  void negativeDimension_isUserError() {
    assertThatThrownBy(() -> Tensor.ofFloats("x", new long[] {-1}, 1f))
        .isInstanceOf(ScorelineException.class);
  }

  @Test
  void ofNumbers_everyIntegerType_checksRange() {
    assertThat(
            Tensor.ofNumbers("u8", DataType.UINT8, new long[] {2}, new double[] {0, 255})
                .toLongArray())
        .containsExactly(0, 255);
    assertThat(
            Tensor.ofNumbers("i16", DataType.INT16, new long[] {2}, new double[] {-32768, 32767})
                .toLongArray())
        .containsExactly(-32768, 32767);
    assertThat(
            Tensor.ofNumbers("u32", DataType.UINT32, new long[] {1}, new double[] {4294967295.0})
                .toLongArray())
        .containsExactly(4294967295L);
    assertThatThrownBy(
            () -> Tensor.ofNumbers("u8", DataType.UINT8, new long[] {1}, new double[] {256}))
        .isInstanceOf(ScorelineException.class)
        .hasMessageContaining("UINT8");
    assertThatThrownBy(
            () -> Tensor.ofNumbers("i8", DataType.INT8, new long[] {1}, new double[] {1.5}))
        .isInstanceOf(ScorelineException.class)
        .hasMessageContaining("integer");
    assertThatThrownBy(() -> Tensor.ofNumbers("b", DataType.BOOL, new long[] {1}, new double[] {2}))
        .isInstanceOf(ScorelineException.class);
  }

  @Test
  void ofNumbers_fp16_convertsAndReadsBack() {
    Tensor t =
        Tensor.ofNumbers("h", DataType.FP16, new long[] {3}, new double[] {1.0, -0.5, 65504});
    assertThat(t.byteSize()).isEqualTo(6);
    assertThat(t.toDoubleArray()).containsExactly(1.0, -0.5, 65504.0);
  }

  @Test
  void bytesTensor_keepsElementsAndDecodesUtf8() {
    Tensor t = Tensor.ofStrings("s", new long[] {3}, "a", "", "héllo");
    assertThat(t.type()).isEqualTo(DataType.BYTES);
    assertThat(t.toStrings()).containsExactly("a", "", "héllo");
    assertThat(t.byteSize()).isEqualTo(1 + 0 + 6);
    assertThatThrownBy(() -> Tensor.ofStrings("s", new long[] {2}, "a"))
        .isInstanceOf(ScorelineException.class);
  }

  @Test
  void firstNaN_findsNaNOnlyInFloatingPoint() {
    assertThat(Tensor.ofFloats("x", new long[] {3}, 1f, Float.NaN, 2f).firstNaN()).isEqualTo(1);
    assertThat(Tensor.ofFloats("x", new long[] {1}, 1f).firstNaN()).isEqualTo(-1);
    assertThat(Tensor.ofLongs("x", new long[] {1}, 1L).firstNaN()).isEqualTo(-1);
  }

  @Test
  void firstNaN_fp32_findsEveryNaNEncodingAndNoOtherValue() {
    float[] notNaN = {
      0f,
      -0f,
      1f,
      Float.MIN_VALUE,
      Float.MAX_VALUE,
      -Float.MAX_VALUE,
      Float.POSITIVE_INFINITY,
      Float.NEGATIVE_INFINITY
    };
    assertThat(Tensor.ofFloats("x", new long[] {notNaN.length}, notNaN).firstNaN()).isEqualTo(-1);
    int[] nanBits = {0x7fc00000, 0xffc00000, 0x7f800001, 0xff800001, 0x7fffffff, 0xffffffff};
    for (int bits : nanBits) {
      float[] v = new float[9];
      v[8] = Float.intBitsToFloat(bits);
      assertThat(Tensor.ofFloats("x", new long[] {9}, v).firstNaN())
          .as("NaN bits %08x", bits)
          .isEqualTo(8);
    }
    // the same answers as the generic path through FP64
    assertThat(Tensor.ofDoubles("x", new long[] {2}, 1.0, Double.NaN).firstNaN()).isEqualTo(1);
  }

  @Test
  void int64_keepsFullPrecision() {
    Tensor t = Tensor.ofLongs("x", new long[] {2}, Long.MAX_VALUE, Long.MIN_VALUE);
    assertThat(t.toLongArray()).containsExactly(Long.MAX_VALUE, Long.MIN_VALUE);
  }

  @Test
  void dataType_parse_acceptsAliasesAndRejectsUnknown() {
    assertThat(DataType.parse("d", "FP32")).isEqualTo(DataType.FP32);
    assertThat(DataType.parse("d", "TYPE_FP16")).isEqualTo(DataType.FP16);
    assertThat(DataType.parse("d", "string")).isEqualTo(DataType.BYTES);
    assertThatThrownBy(() -> DataType.parse("inputs[0].datatype", "FP33"))
        .isInstanceOfSatisfying(
            ScorelineException.class, e -> assertThat(e.field()).contains("inputs[0].datatype"));
  }
}
