package dev.scoreline.stream;

import static org.assertj.core.api.Assertions.assertThat;

import dev.scoreline.core.feature.ValueType;
import dev.scoreline.stream.StreamConfig.Aggregation;
import dev.scoreline.stream.StreamConfig.Aggregation.Kind;
import java.util.List;
import org.junit.jupiter.api.Test;

class EntityStateTest {
  static final long MIN = 60_000_000L;

  static Aggregation agg(Kind k, ValueType t, int field, long window, int n) {
    return new Aggregation("f", t, k, field < 0 ? null : "x", field, window, n);
  }

  EntityState state() {
    EntityState s = new EntityState();
    // (minute, amount, merchant)
    Object[][] events = {{0, 10.0, "a"}, {3, 5.0, "b"}, {9, 1.5, "a"}, {12, 2.0, "c"}};
    for (int i = 0; i < events.length; i++) {
      long t = ((Integer) events[i][0]) * MIN;
      s.apply(0, i, 100 + i, t, new Object[] {events[i][1], events[i][2]}, 8, 10 * MIN, 3);
    }
    return s;
  }

  @Test
  void windowAggregations_areAsOfTheNewestEvent() {
    EntityState s = state(); // newest at minute 12: the 10-minute window is (2, 12]
    assertThat(s.compute(agg(Kind.COUNT, ValueType.INT64, -1, 10 * MIN, 0))).isEqualTo(3L);
    assertThat(s.compute(agg(Kind.SUM, ValueType.FP64, 0, 10 * MIN, 0))).isEqualTo(8.5);
    assertThat(s.compute(agg(Kind.MAX, ValueType.FP64, 0, 10 * MIN, 0))).isEqualTo(5.0);
    assertThat(s.compute(agg(Kind.MIN, ValueType.FP32, 0, 10 * MIN, 0))).isEqualTo(1.5f);
    assertThat((Double) s.compute(agg(Kind.AVG, ValueType.FP64, 0, 10 * MIN, 0)))
        .isCloseTo(8.5 / 3, org.assertj.core.api.Assertions.within(1e-12));
    assertThat(s.compute(agg(Kind.DISTINCT, ValueType.INT64, 1, 10 * MIN, 0))).isEqualTo(3L);
    assertThat(s.compute(agg(Kind.LAST, ValueType.STRING, 1, 0, 0))).isEqualTo("c");
    assertThat(s.compute(agg(Kind.LAST_N, ValueType.STRING_LIST, 1, 0, 2)))
        .isEqualTo(List.of("c", "a"));
    assertThat(s.compute(agg(Kind.SECONDS_SINCE_PREVIOUS, ValueType.FP64, -1, 0, 0)))
        .isEqualTo(180.0);
    // minute 0 fell out of the window and beyond the 3 newest entries
    assertThat(s.size()).isEqualTo(3);
  }

  @Test
  void distinct_countsWhatASetOfTheWindowsValuesHolds_forShortAndLongWindows() {
    // integral numbers of any type count as one value (1, 1L); 1.0 (a double) is another; nulls
    // are not counted; more than 16 entries in the window take the set path
    Object[] pool = {1, 1L, 1.0, 2L, "a", "b", "a", null, true, 7, 7L, "c", 2.5, null};
    java.util.Random random = new java.util.Random(7);
    for (int events : new int[] {1, 3, 16, 17, 40}) {
      for (int round = 0; round < 20; round++) {
        EntityState s = new EntityState();
        List<Object> values = new java.util.ArrayList<>();
        for (int i = 0; i < events; i++) {
          Object v = pool[random.nextInt(pool.length)];
          values.add(v);
          s.apply(0, i, i, i * MIN, new Object[] {v}, 0, 0, 1_000);
        }
        java.util.Set<Object> set = new java.util.HashSet<>();
        long window = 12 * MIN; // the newest 12 events (times in (newest - 12 min, newest])
        for (int i = Math.max(0, events - 12); i < events; i++) {
          Object v = values.get(i);
          if (v != null) {
            set.add(v instanceof Number num && !(v instanceof Double) ? num.longValue() : v);
          }
        }
        java.util.Set<Object> all = new java.util.HashSet<>();
        for (Object v : values) {
          if (v != null) {
            all.add(v instanceof Number num && !(v instanceof Double) ? num.longValue() : v);
          }
        }

        assertThat(s.compute(agg(Kind.DISTINCT, ValueType.INT64, 0, window, 0)))
            .isEqualTo((long) set.size());
        assertThat(s.compute(agg(Kind.DISTINCT, ValueType.INT64, 0, 1_000 * MIN, 0)))
            .isEqualTo((long) all.size());
      }
    }
  }

  @Test
  void appliedOffsetsAndIds_surviveEncoding() {
    EntityState s = state();
    EntityState d = EntityState.decode(s.encode(2), 2);
    assertThat(d.applied(0, 3)).isTrue();
    assertThat(d.applied(0, 4)).isFalse();
    assertThat(d.applied(1, 0)).isFalse();
    assertThat(d.seen(103)).isTrue();
    assertThat(d.seen(999)).isFalse();
    assertThat(d.compute(agg(Kind.SUM, ValueType.FP64, 0, 10 * MIN, 0))).isEqualTo(8.5);
    assertThat(d.compute(agg(Kind.LAST_N, ValueType.STRING_LIST, 1, 0, 3)))
        .isEqualTo(List.of("c", "a", "b"));
    // a state written for another set of fields keeps its offsets and drops its entries
    EntityState other = EntityState.decode(s.encode(2), 3);
    assertThat(other.applied(0, 3)).isTrue();
    assertThat(other.size()).isZero();
  }

  @Test
  void encoding_isTheVersion2Format_andStableAcrossDecodeAndNewEvents() {
    EntityState s = new EntityState();
    s.apply(0, 5, 77, 1_000_000L, new Object[] {"é€", 2.5, 3L, null, true}, 1, 0, 1);
    java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(256);
    b.put((byte) 2).putInt(1).putInt(0).putLong(5); // version, partitions: 0 at offset 5
    b.putInt(1).putLong(77).putInt(0).putLong(5); // ids: 77 applied at 0/5
    b.putInt(5).putInt(1).putLong(1_000_000L); // 5 fields, 1 entry at 1 s
    byte[] text = "é€".getBytes(java.nio.charset.StandardCharsets.UTF_8);
    b.put((byte) 3).putInt(text.length).put(text);
    b.put((byte) 2).putDouble(2.5).put((byte) 1).putLong(3).put((byte) 0).put((byte) 4);
    byte[] encoded = s.encode(5);
    assertThat(encoded).isEqualTo(java.util.Arrays.copyOf(b.array(), b.position()));

    EntityState d = EntityState.decode(encoded, 5);
    assertThat(d.encode(5)).isEqualTo(encoded);
    Object[] next = {"x", 1.0, 9L, false, null};
    s.apply(0, 6, 78, 2_000_000L, next, 1, 0, 2);
    d.apply(0, 6, 78, 2_000_000L, next, 1, 0, 2);
    assertThat(d.encode(5)).isEqualTo(s.encode(5));
    assertThat(EntityState.decode(d.encode(5), 5).encode(5)).isEqualTo(s.encode(5));
  }

  @Test
  void classify_tellsRedeliveriesFromResentCopies_evenAfterLaterEvents() {
    EntityState s = new EntityState();
    s.apply(0, 10, 111, MIN, new Object[0], 8, 0, 1);
    // a resent copy of event 111 at offset 12 was skipped; event 222 at offset 14 applied
    assertThat(s.classify(0, 12, 111)).isEqualTo(EntityState.Disposition.DUPLICATE);
    s.apply(0, 14, 222, 2 * MIN, new Object[0], 8, 0, 1);
    EntityState d = EntityState.decode(s.encode(0), 0);
    // after a crash, all three are delivered again
    assertThat(d.classify(0, 10, 111)).isEqualTo(EntityState.Disposition.REPLAY);
    assertThat(d.classify(0, 12, 111)).isEqualTo(EntityState.Disposition.DUPLICATE);
    assertThat(d.classify(0, 14, 222)).isEqualTo(EntityState.Disposition.REPLAY);
    assertThat(d.classify(0, 16, 333)).isEqualTo(EntityState.Disposition.NEW);
    // a dead-lettered event below the applied offset, whose id was never applied: redelivered
    assertThat(d.classify(0, 13, 444)).isEqualTo(EntityState.Disposition.REPLAY);
  }

  @Test
  void idRing_keepsTheLatestIds() {
    EntityState s = new EntityState();
    for (int i = 0; i < 10; i++) {
      s.apply(0, i, 1000 + i, i * MIN, new Object[0], 4, 0, 1);
    }
    assertThat(s.seen(1009)).isTrue();
    assertThat(s.seen(1006)).isTrue();
    assertThat(s.seen(1005)).isFalse();
    EntityState d = EntityState.decode(s.encode(0), 0);
    d.apply(0, 10, 2000, 10 * MIN, new Object[0], 4, 0, 1);
    assertThat(d.seen(2000)).isTrue();
    assertThat(d.seen(1007)).isTrue();
    assertThat(d.seen(1006)).isFalse();
  }

  /** Everything a state stores, plus its classification of a few records, as one comparable. */
  static List<Object> snapshot(EntityState s) {
    return List.of(
        java.util.Arrays.toString(s.encode(2)),
        s.newestMicros(),
        s.classify(0, 3, 103),
        s.classify(0, 4, 104),
        s.classify(1, 0, 500),
        s.classify(2, 7, 999));
  }

  @Test
  void rollback_ofAnApplyThatTrimmedEntries_restoresTheStateExactly() {
    EntityState s = state();
    List<Object> before = snapshot(s);
    // minute 30: the window (20, 30] drops minutes 3 and 9 down to the 3 kept entries
    EntityState.Undo undo = s.apply(0, 4, 104, 30 * MIN, new Object[] {7.0, "d"}, 8, 10 * MIN, 1);
    assertThat(s.size()).isLessThan(4);
    assertThat(snapshot(s)).isNotEqualTo(before);
    undo.rollback();
    assertThat(snapshot(s)).isEqualTo(before);
    assertThat(s.compute(agg(Kind.SUM, ValueType.FP64, 0, 10 * MIN, 0))).isEqualTo(8.5);
  }

  @Test
  void rollback_ofALateEventOnANewPartition_restoresTheStateExactly() {
    EntityState s = state();
    List<Object> before = snapshot(s);
    // older than everything kept and on a partition the state never saw: inserted first, then
    // trimmed away again (outside the window and beyond the kept entries)
    EntityState.Undo undo = s.apply(2, 7, 999, -60 * MIN, new Object[] {1.0, "z"}, 8, 10 * MIN, 3);
    assertThat(s.classify(2, 7, 999)).isEqualTo(EntityState.Disposition.REPLAY);
    undo.rollback();
    assertThat(snapshot(s)).isEqualTo(before);
    assertThat(s.classify(2, 7, 999)).isEqualTo(EntityState.Disposition.NEW);
  }

  @Test
  void rollback_ofAnApplyThatResizedTheIdRing_restoresTheStateExactly() {
    EntityState s = state(); // ring of 8 ids
    List<Object> before = snapshot(s);
    EntityState.Undo undo = s.apply(0, 4, 104, 13 * MIN, new Object[] {1.0, "e"}, 2, 10 * MIN, 3);
    assertThat(s.seen(101)).isFalse(); // the ring shrank to the 2 newest ids
    undo.rollback();
    assertThat(snapshot(s)).isEqualTo(before);
    assertThat(s.seen(101)).isTrue();
  }

  @Test
  void rollback_whenTheRingIsFull_restoresTheOverwrittenId() {
    EntityState s = new EntityState();
    for (int i = 0; i < 3; i++) {
      s.apply(0, i, 100 + i, i * MIN, new Object[] {1.0, "a"}, 3, 0, 10);
    }
    List<Object> before = snapshot(s);
    EntityState.Undo undo = s.apply(0, 3, 103, 3 * MIN, new Object[] {1.0, "a"}, 3, 0, 10);
    assertThat(s.seen(100)).isFalse(); // overwritten in the full ring
    undo.rollback();
    assertThat(snapshot(s)).isEqualTo(before);
    assertThat(s.seen(100)).isTrue();
    // and the state goes on as if the undone event never came
    s.apply(0, 3, 103, 3 * MIN, new Object[] {1.0, "a"}, 3, 0, 10);
    assertThat(s.seen(100)).isFalse();
    assertThat(s.seen(103)).isTrue();
  }
}
