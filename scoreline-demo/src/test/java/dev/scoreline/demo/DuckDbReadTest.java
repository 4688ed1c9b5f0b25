package dev.scoreline.demo;

import static org.assertj.core.api.Assertions.assertThat;

import dev.scoreline.core.feature.Definitions.FeatureView;
import dev.scoreline.core.feature.FeatureRegistry;
import dev.scoreline.core.feature.FeatureRow;
import dev.scoreline.duckdb.DuckDbOfflineStore;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The CSV sources the demo writes are read by the DuckDB offline store (what materialization scans)
 * with every value exact, and the ranker's columns computed from those values, the way the
 * surface's declared transforms compute them, equal the training columns bit for bit.
 */
class DuckDbReadTest {
  private static DemoData demo;
  private static FeatureRegistry registry;
  private static final Map<Long, Object[]> users = new HashMap<>();
  private static final Map<Long, Object[]> items = new HashMap<>();
  private static final Map<Long, Object[]> recent = new HashMap<>();
  private static final Map<Long, Instant> recentTime = new HashMap<>();

  @BeforeAll
  static void scan() {
    demo = SmallDemo.get();
    registry = FeatureRegistry.load(demo.projectDir());
    Instant start = demo.dataStart();
    Instant end = demo.featureTime().plusSeconds(1);
    try (DuckDbOfflineStore store = new DuckDbOfflineStore(registry)) {
      read(store, "user_profile", start, end, users, null);
      read(store, "item_profile", start, end, items, null);
      read(store, "user_recent", start, end, recent, recentTime);
    }
  }

  @AfterAll
  static void clear() {
    users.clear();
    items.clear();
    recent.clear();
    recentTime.clear();
  }

  private static void read(
      DuckDbOfflineStore store,
      String view,
      Instant start,
      Instant end,
      Map<Long, Object[]> into,
      Map<Long, Instant> times) {
    FeatureView v = registry.view(view);
    store.scanLatest(
        v,
        start,
        end,
        (FeatureRow row) -> {
          long key = (Long) row.key().get(0);
          into.put(key, row.values());
          if (times != null) {
            times.put(key, row.eventTime());
          }
        });
  }

  @Test
  void everyRowIsRead() {
    assertThat(users).hasSize(demo.users());
    assertThat(recent).hasSize(demo.users());
    assertThat(items).hasSize(demo.items());
  }

  @Test
  void userProfile_exactValues() {
    RankerFeatures f = demo.features();
    for (int u = 0; u < demo.users(); u++) {
      Object[] v = users.get(Shop.userId(u));
      float[] embedding = (float[]) v[0];
      for (int d = 0; d < RankerFeatures.DIM; d++) {
        assertThat(embedding[d]).isEqualTo(f.userEmbedding[u * RankerFeatures.DIM + d]);
      }
      assertThat(v[1]).isEqualTo((long) f.userActivity[u]);
      float[] affinity = (float[]) v[2];
      assertThat(affinity).hasSize(Shop.CATEGORIES);
      for (int c = 0; c < Shop.CATEGORIES; c++) {
        assertThat(affinity[c]).isEqualTo(f.userAffinity[u * Shop.CATEGORIES + c]);
      }
    }
  }

  @Test
  void itemProfile_exactValues() {
    RankerFeatures f = demo.features();
    Shop shop = demo.shop();
    for (int i = 0; i < demo.items(); i++) {
      Object[] v = items.get(Shop.itemId(i));
      float[] embedding = (float[]) v[0];
      for (int d = 0; d < RankerFeatures.DIM; d++) {
        assertThat(embedding[d]).isEqualTo(f.itemEmbedding[i * RankerFeatures.DIM + d]);
      }
      assertThat(v[1]).isEqualTo((long) shop.itemCategory[i]);
      assertThat(v[2]).isEqualTo(shop.itemPrice[i]);
      assertThat(v[3]).isEqualTo((long) f.itemPopularity[i]);
      assertThat(v[4]).isEqualTo(shop.itemInStock[i]);
    }
  }

  @Test
  void userRecent_lastItemsNewestFirst_atTheirTime() {
    Shop shop = demo.shop();
    for (int u = 0; u < demo.users(); u++) {
      long[] list = (long[]) recent.get(Shop.userId(u))[0];
      int last = shop.rankPosition(u);
      assertThat(list.length)
          .isEqualTo(Math.min(ProjectWriter.RECENT, last - shop.trainStart(u) + 1));
      for (int k = 0; k < list.length; k++) {
        assertThat(list[k]).isEqualTo(Shop.itemId(shop.interactionItem[last - k]));
      }
      assertThat(recentTime.get(Shop.userId(u)).toEpochMilli()).isEqualTo(shop.interactionTs[last]);
    }
  }

  /** The columns as the surface's transforms compute them from online values. */
  @Test
  void columnsFromStoredValues_equalTrainingColumns() {
    double mean = demo.features().priceMean;
    double std = demo.features().priceStd;
    float[] expected = new float[RankerFeatures.WIDTH];
    for (long user : new long[] {1, 17, 999, demo.users()}) {
      Object[] up = users.get(user);
      long context = demo.contextCategory(user);
      for (long item : demo.candidates(user).ids()) {
        Object[] ip = items.get(item);
        float[] ue = (float[]) up[0];
        float[] ie = (float[]) ip[0];
        long category = (Long) ip[1];
        float[] row = new float[RankerFeatures.WIDTH];
        int c = 0;
        float dot = 0f;
        for (int d = 0; d < ue.length; d++) {
          dot += ue[d] * ie[d];
        }
        row[c++] = dot; // dot
        row[c++] = (float) Math.log1p((Long) ip[3]); // log1p
        row[c++] = (float) (((Double) ip[2] - mean) / std); // standardize
        for (int k = 0; k < Shop.CATEGORIES; k++) {
          row[c++] = k == category ? 1f : 0f; // one-hot
        }
        row[c++] = ((float[]) up[2])[(int) category]; // pick
        row[c++] = (float) Math.log1p((Long) up[1]); // log1p
        row[c++] = category == context ? 1f : 0f; // equals
        for (float e : ue) {
          row[c++] = e; // value
        }
        for (float e : ie) {
          row[c++] = e; // value
        }
        assertThat(c).isEqualTo(RankerFeatures.WIDTH);
        demo.features()
            .fill(Shop.userIndex(user), Shop.itemIndex(item), (int) context, expected, 0);
        assertThat(row).as("user %d item %d", user, item).containsExactly(expected);
      }
    }
  }
}
