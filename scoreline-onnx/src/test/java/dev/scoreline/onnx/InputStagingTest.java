package dev.scoreline.onnx;

import static org.assertj.core.api.Assertions.assertThat;

import dev.scoreline.core.tensor.DataType;
import dev.scoreline.core.tensor.Tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import org.junit.jupiter.api.Test;

class InputStagingTest {

  @Test
  void direct_directInput_isUsedInPlace() {
    ByteBuffer bytes = ByteBuffer.allocateDirect(16).order(ByteOrder.LITTLE_ENDIAN);
    Tensor t = Tensor.of("x", DataType.FP32, new long[] {4}, bytes);
    ByteBuffer data = t.data();

    ByteBuffer staged = InputStaging.forInputs(List.of(t)).direct(data);

    assertThat(staged).isSameAs(data);
  }

  @Test
  void direct_heapInputs_getSeparateDirectCopies() {
    Tensor a = Tensor.ofFloats("a", new long[] {3}, 1f, 2f, 3f);
    Tensor b = Tensor.ofLongs("b", new long[] {2}, Long.MIN_VALUE, -1L);
    InputStaging staging = InputStaging.forInputs(List.of(a, b));

    ByteBuffer stagedA = staging.direct(a.data());
    ByteBuffer stagedB = staging.direct(b.data());

    assertThat(stagedA.isDirect()).isTrue();
    assertThat(stagedB.isDirect()).isTrue();
    assertThat(stagedA).isEqualTo(a.data());
    assertThat(stagedB).isEqualTo(b.data());
  }

  @Test
  void direct_sameThreadNextCall_reusesScratch() {
    Tensor a = Tensor.ofFloats("a", new long[] {3}, 1f, 2f, 3f);
    ByteBuffer first = InputStaging.forInputs(List.of(a)).direct(a.data());
    Tensor b = Tensor.ofFloats("b", new long[] {3}, 4f, 5f, 6f);

    ByteBuffer second = InputStaging.forInputs(List.of(b)).direct(b.data());

    assertThat(second).isEqualTo(b.data());
    assertThat(first).isEqualTo(b.data()); // the same memory, overwritten by the next call
  }

  @Test
  void direct_overReuseLimit_getsFreshBuffer() {
    int floats = InputStaging.REUSE_LIMIT / 4 + 1;
    Tensor big = Tensor.ofFloats("big", new long[] {floats}, new float[floats]);
    Tensor small = Tensor.ofFloats("small", new long[] {1}, 7f);
    ByteBuffer kept = InputStaging.forInputs(List.of(small)).direct(small.data());

    ByteBuffer staged = InputStaging.forInputs(List.of(big)).direct(big.data());

    assertThat(staged.isDirect()).isTrue();
    assertThat(staged.remaining()).isEqualTo(floats * 4);
    assertThat(kept).isEqualTo(small.data()); // scratch untouched
  }
}
