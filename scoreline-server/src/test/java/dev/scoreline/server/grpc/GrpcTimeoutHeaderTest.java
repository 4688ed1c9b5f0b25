package dev.scoreline.server.grpc;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class GrpcTimeoutHeaderTest {
  @Test
  void grpcTimeoutMicros_parsesEveryUnit() {
    assertThat(GrpcInferenceService.grpcTimeoutMicros("100m")).isEqualTo(100_000);
    assertThat(GrpcInferenceService.grpcTimeoutMicros("5S")).isEqualTo(5_000_000);
    assertThat(GrpcInferenceService.grpcTimeoutMicros("2M")).isEqualTo(120_000_000);
    assertThat(GrpcInferenceService.grpcTimeoutMicros("1H")).isEqualTo(3_600_000_000L);
    assertThat(GrpcInferenceService.grpcTimeoutMicros("250u")).isEqualTo(250);
    assertThat(GrpcInferenceService.grpcTimeoutMicros("10n")).isEqualTo(1);
    assertThat(GrpcInferenceService.grpcTimeoutMicros(null)).isZero();
    assertThat(GrpcInferenceService.grpcTimeoutMicros("x")).isZero();
    assertThat(GrpcInferenceService.grpcTimeoutMicros("12q")).isZero();
  }
}
