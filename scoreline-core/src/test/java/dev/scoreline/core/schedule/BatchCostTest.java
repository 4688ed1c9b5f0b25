package dev.scoreline.core.schedule;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

class BatchCostTest {
  @Test
  void nothingObserved_predictsNothing() {
    BatchCost cost = new BatchCost();

    assertThat(cost.known()).isFalse();
    assertThat(cost.estimateNanos(64)).isZero();
  }

  @Test
  void batchesOfOneSize_predictTheirAverageForEverySize() {
    BatchCost cost = new BatchCost();
    for (int i = 0; i < 20; i++) {
      cost.observe(8, i % 2 == 0 ? 900_000 : 1_100_000);
    }

    assertThat(cost.known()).isTrue();
    assertThat((double) cost.estimateNanos(8)).isCloseTo(1_000_000, within(60_000.0));
    // no slope can be fitted from one size: the average, not a proportional guess (64/8 x)
    assertThat((double) cost.estimateNanos(64)).isCloseTo(1_000_000, within(60_000.0));
  }

  @Test
  void mixedSizes_fitFixedPlusPerRowCost() {
    // a weight-bound model: 1 ms to read the weights once per batch, 0.1 ms per row on top
    BatchCost cost = new BatchCost();
    int[] sizes = {1, 64, 7, 30, 2, 50, 16};
    for (int i = 0; i < 200; i++) {
      int rows = sizes[i % sizes.length];
      cost.observe(rows, 1_000_000L + 100_000L * rows);
    }

    assertThat((double) cost.estimateNanos(1)).isCloseTo(1_100_000, within(1_000.0));
    assertThat((double) cost.estimateNanos(64)).isCloseTo(7_400_000, within(1_000.0));
    // one average batch time (about 3.4 ms here) would be 3x too long for a lone row
    assertThat(cost.estimateNanos(1)).isLessThan(cost.estimateNanos(32) / 2);
  }

  @Test
  void aModelThatGetsFaster_isFollowedWithinTensOfBatches() {
    BatchCost cost = new BatchCost();
    for (int i = 0; i < 50; i++) {
      cost.observe(1 + i % 4, 20_000_000);
    }
    for (int i = 0; i < 60; i++) {
      cost.observe(1 + i % 4, 1_000_000);
    }

    assertThat(cost.estimateNanos(2)).isLessThan(1_200_000);
  }
}
