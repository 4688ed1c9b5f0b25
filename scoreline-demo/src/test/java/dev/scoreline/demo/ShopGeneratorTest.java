package dev.scoreline.demo;

import static org.assertj.core.api.Assertions.assertThat;

import dev.scoreline.core.progress.ProgressListener;
import java.util.Arrays;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class ShopGeneratorTest {
  private static ExecutorService executor;

  @BeforeAll
  static void start() {
    executor = Executors.newFixedThreadPool(2);
  }

  @AfterAll
  static void stop() {
    executor.shutdownNow();
  }

  private static Shop generate(long seed, ExecutorService ex) {
    return new ShopGenerator(2_000, 500, 40_000, seed).generate(ex, ProgressListener.NONE);
  }

  @Test
  void generate_sameSeed_identicalShopForAnyThreadCount() {
    ExecutorService single = Executors.newSingleThreadExecutor();
    try {
      Shop a = generate(7, executor);
      Shop b = generate(7, single);
      assertThat(b.interactionItem).isEqualTo(a.interactionItem);
      assertThat(b.interactionTs).isEqualTo(a.interactionTs);
      assertThat(b.userStart).isEqualTo(a.userStart);
      assertThat(b.itemCategory).isEqualTo(a.itemCategory);
      assertThat(b.itemPrice).isEqualTo(a.itemPrice);
      assertThat(b.itemInStock).isEqualTo(a.itemInStock);
    } finally {
      single.shutdownNow();
    }
  }

  @Test
  void generate_otherSeed_otherShop() {
    assertThat(generate(8, executor).interactionItem)
        .isNotEqualTo(generate(7, executor).interactionItem);
  }

  @Test
  void generate_sizesAndInvariants() {
    Shop shop = generate(7, executor);
    assertThat(shop.users).isEqualTo(2_000);
    assertThat(shop.items).isEqualTo(500);
    assertThat(shop.interactions()).isEqualTo(40_000);
    for (int u = 0; u < shop.users; u++) {
      int from = shop.userStart[u];
      int to = shop.userStart[u + 1];
      assertThat(to - from).isGreaterThanOrEqualTo(3);
      long[] items = new long[to - from];
      for (int p = from; p < to; p++) {
        items[p - from] = shop.interactionItem[p];
        if (p > from) {
          assertThat(shop.interactionTs[p]).isGreaterThan(shop.interactionTs[p - 1]);
        }
        assertThat(shop.interactionTs[p])
            .isBetween(shop.start.toEpochMilli(), shop.end.toEpochMilli());
      }
      assertThat(Arrays.stream(items).distinct().count()).as("no repeats").isEqualTo(to - from);
    }
    assertThat(Arrays.stream(shop.itemCategory).allMatch(c -> c >= 0 && c < Shop.CATEGORIES))
        .isTrue();
    assertThat(Arrays.stream(shop.itemCategory).distinct().count()).isEqualTo(Shop.CATEGORIES);
    int inStock = 0;
    for (boolean b : shop.itemInStock) {
      inStock += b ? 1 : 0;
    }
    assertThat(inStock / (double) shop.items).isBetween(0.90, 0.99);
    assertThat(Arrays.stream(shop.itemPrice).min().orElseThrow()).isGreaterThanOrEqualTo(0.99);
  }

  @Test
  void generate_popularityIsSkewed() {
    Shop shop = generate(7, executor);
    int[] counts = new int[shop.items];
    for (int i : shop.interactionItem) {
      counts[i]++;
    }
    Arrays.sort(counts);
    long top = 0;
    for (int i = counts.length - counts.length / 10; i < counts.length; i++) {
      top += counts[i];
    }
    // (at the demo's size the top 1% of items get 20% of the interactions, the top 5% 40%)
    assertThat(top / (double) shop.interactions()).as("share of the top 10%").isGreaterThan(0.22);
    assertThat(counts[counts.length - 1]).isGreaterThan(5 * counts[counts.length / 2]);
  }

  @Test
  void generate_nextInteractionTendsToStayInCategory() {
    Shop shop = generate(7, executor);
    int same = 0;
    int pairs = 0;
    double[] share = new double[Shop.CATEGORIES];
    for (int i : shop.interactionItem) {
      share[shop.itemCategory[i]] += 1.0 / shop.interactions();
    }
    double chance = 0;
    for (double s : share) {
      chance += s * s;
    }
    for (int u = 0; u < shop.users; u++) {
      for (int p = shop.userStart[u] + 1; p < shop.userStart[u + 1]; p++) {
        pairs++;
        if (shop.itemCategory[shop.interactionItem[p]]
            == shop.itemCategory[shop.interactionItem[p - 1]]) {
          same++;
        }
      }
    }
    assertThat(same / (double) pairs).isGreaterThan(0.5).isGreaterThan(3 * chance);
  }
}
