package dev.scoreline.core.tensor;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class Fp16Test {
  @Test
  void toFloat_knownValues() {
    assertThat(Fp16.toFloat((short) 0x3c00)).isEqualTo(1.0f);
    assertThat(Fp16.toFloat((short) 0xc000)).isEqualTo(-2.0f);
    assertThat(Fp16.toFloat((short) 0x7bff)).isEqualTo(65504f);
    assertThat(Fp16.toFloat((short) 0x0001)).isEqualTo(0x1p-24f);
    assertThat(Fp16.toFloat((short) 0x7c00)).isEqualTo(Float.POSITIVE_INFINITY);
    assertThat(Fp16.toFloat((short) 0x7e00)).isNaN();
    assertThat(Float.floatToRawIntBits(Fp16.toFloat((short) 0x8000)))
        .isEqualTo(Float.floatToRawIntBits(-0.0f));
  }

  @Test
  void roundTrip_everyHalfValue_isExact() {
    for (int bits = 0; bits < 0x10000; bits++) {
      short h = (short) bits;
      float f = Fp16.toFloat(h);
      if (Float.isNaN(f)) {
        assertThat(Fp16.toFloat(Fp16.fromFloat(f))).isNaN();
      } else {
        assertThat(Fp16.fromFloat(f)).as("bits %04x", bits).isEqualTo(h);
      }
    }
  }

  @Test
  void fromFloat_roundsToNearestEven_andOverflowsToInfinity() {
    // 1 + 2^-11 is exactly between 1 and the next half (1 + 2^-10): ties to even -> 1.0
    assertThat(Fp16.fromFloat(1f + 0x1p-11f)).isEqualTo((short) 0x3c00);
    // slightly above the tie rounds up
    assertThat(Fp16.fromFloat(1f + 0x1p-11f + 0x1p-20f)).isEqualTo((short) 0x3c01);
    assertThat(Fp16.fromFloat(1e6f)).isEqualTo((short) 0x7c00);
    assertThat(Fp16.fromFloat(1e-9f)).isEqualTo((short) 0);
  }

  @Test
  void bf16_roundTrip() {
    assertThat(Fp16.bf16ToFloat(Fp16.floatToBf16(1.5f))).isEqualTo(1.5f);
    assertThat(Fp16.bf16ToFloat(Fp16.floatToBf16(-3.0f))).isEqualTo(-3.0f);
    assertThat(Fp16.bf16ToFloat(Fp16.floatToBf16(Float.NaN))).isNaN();
  }
}
