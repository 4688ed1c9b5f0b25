package dev.scoreline.core.surface;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class RuleTest {
  /** An operand over fixed values per row (row 0's for an entity value). */
  static final class Values extends Operand {
    final Object[] values;

    Values(Object... values) {
      super("values");
      this.values = values;
    }

    @Override
    Object value(Frame f, int row) {
      return values[row];
    }

    @Override
    boolean perEntity() {
      return false;
    }
  }

  private static Frame frame(int rows, Map<String, Object> context) {
    long[] ids = new long[rows];
    for (int i = 0; i < rows; i++) {
      ids[i] = 100 + i;
    }
    return new Frame(null, 0, ids, new float[rows], null, context);
  }

  private static List<Rule.Entry> entries(Frame f) {
    List<Rule.Entry> out = new ArrayList<>();
    for (int i = 0; i < f.rows(); i++) {
      out.add(new Rule.Entry(i, f.ids[i], 1f - i / 1000f));
    }
    return out;
  }

  private static long[] ids(List<Rule.Entry> ranked) {
    return ranked.stream().mapToLong(e -> e.id).toArray();
  }

  /** The diversity rule as it was written with a map of boxed keys: the reference order. */
  private static List<Rule.Entry> boxedDiversity(
      Operand feature, int maxPerValue, Frame f, List<Rule.Entry> ranked) {
    Map<Object, Integer> counts = new HashMap<>();
    List<Rule.Entry> head = new ArrayList<>();
    List<Rule.Entry> tail = new ArrayList<>();
    for (Rule.Entry e : ranked) {
      Object v = e.row < 0 ? null : feature.value(f, e.row);
      Object k = v instanceof Number n ? (Object) n.doubleValue() : v;
      int c = k == null || e.pinned ? 0 : counts.merge(k, 1, Integer::sum);
      (c > maxPerValue ? tail : head).add(e);
    }
    head.addAll(tail);
    return head;
  }

  @Test
  void diversity_numbersByValueNaNTogetherSignedZerosApart_othersByEquals() {
    Values category =
        new Values(3L, 3.0, 3.0f, Double.NaN, Float.NaN, -0.0, 0.0, 0L, "a", "a", null, null, 3L);
    Frame f = frame(category.values.length, Map.of());
    List<Rule.Entry> ranked = entries(f);

    new Rule.Diversity(category, 1).order(f, ranked);

    // kept in order: 3L, NaN, -0.0, 0.0, "a", null, null; then 3.0, 3.0f, Float.NaN, 0L, "a", 3L
    assertThat(ids(ranked))
        .containsExactly(100, 103, 105, 106, 108, 110, 111, 101, 102, 104, 107, 109, 112);
  }

  @Test
  void diversity_manyValuesPinnedAndInsertedEntries_sameOrderAsBoxedCounting() {
    SplittableRandom rnd = new SplittableRandom(7);
    Object[] pool = {
      1L, 2L, 2.0, 7.5f, 7.5, Double.NaN, -0.0, 0.0, "x", "y", true, false, null, List.of(1L)
    };
    for (int round = 0; round < 200; round++) {
      int n = 1 + rnd.nextInt(300);
      Object[] values = new Object[n];
      for (int i = 0; i < n; i++) {
        // many distinct numbers too, so the primitive table grows
        values[i] = rnd.nextInt(3) == 0 ? (Object) (long) rnd.nextInt(1000) : pool[rnd.nextInt(14)];
      }
      Values feature = new Values(values);
      Frame f = frame(n, Map.of());
      List<Rule.Entry> ranked = entries(f);
      for (int i = 0; i < n; i += 1 + rnd.nextInt(20)) {
        ranked.get(i).pinned = true;
      }
      ranked.add(rnd.nextInt(n), new Rule.Entry(-1, 99, 0f));
      int max = 1 + rnd.nextInt(4);
      long[] want = ids(boxedDiversity(feature, max, f, new ArrayList<>(ranked)));

      new Rule.Diversity(feature, max).order(f, ranked);

      assertThat(ids(ranked)).as("round " + round).containsExactly(want);
    }
  }

  @Test
  void exclude_dropsTheItemsTheFeatureListAndTheContextList() {
    Frame f = frame(12, Map.of("seen", List.of(107, "108", "not-an-id")));
    Values recent = new Values(new Object[] {new long[] {105, 106, 105}});
    Rule.Exclude rule =
        new Rule.Exclude(
            "filter-seen", recent, new Operand.Context("seen"), List.of(101, "102", "x", 103.7));
    boolean[] keep = new boolean[12];
    Arrays.fill(keep, true);
    keep[0] = false;

    rule.filter(f, keep);

    List<Long> kept = new ArrayList<>();
    for (int i = 0; i < keep.length; i++) {
      if (keep[i]) {
        kept.add(f.ids[i]);
      }
    }
    assertThat(kept).containsExactly(104L, 109L, 110L, 111L);
  }

  @Test
  void exclude_nothingToDrop_keepsEveryRow() {
    Frame f = frame(3, Map.of());
    Rule.Exclude rule = new Rule.Exclude("block", new Values(new Object[] {null}), null, List.of());
    boolean[] keep = {true, false, true};

    rule.filter(f, keep);

    assertThat(keep).containsExactly(true, false, true);
  }
}
