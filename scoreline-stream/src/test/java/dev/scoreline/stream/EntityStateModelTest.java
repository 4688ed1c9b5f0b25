package dev.scoreline.stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.scoreline.core.feature.ValueType;
import dev.scoreline.stream.StreamConfig.Aggregation;
import dev.scoreline.stream.StreamConfig.Aggregation.Kind;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * {@link EntityState}'s kept events (primitive rings, encoded bytes back to back) against a plain
 * reference model: a list of (time, values) entries, what the state kept before it stored events in
 * arrays. Every aggregation, the size, the newest time and the encoded entries must be the same
 * after every apply, undo and restart (encode, decode).
 */
class EntityStateModelTest {
  static final long MIN = 60_000_000L;

  /** The kept events as a list of entries, with the semantics written out plainly. */
  static final class Reference {
    record Entry(long micros, Object[] values) {}

    List<Entry> entries = new ArrayList<>();
    long newest = Long.MIN_VALUE;

    void apply(long micros, Object[] values, long keepWindowMicros, int keepEntries) {
      int at = entries.size(); // after the entries with the same time or earlier
      while (at > 0 && entries.get(at - 1).micros() > micros) {
        at--;
      }
      entries.add(at, new Entry(micros, values.clone()));
      newest = Math.max(newest, micros);
      long cutoff = keepWindowMicros > 0 ? newest - keepWindowMicros : Long.MAX_VALUE;
      int size = entries.size();
      int drop = 0;
      while (drop < size - keepEntries && entries.get(drop).micros() <= cutoff) {
        drop++;
      }
      entries.subList(0, drop).clear();
    }

    Reference copy() {
      Reference r = new Reference();
      r.entries = new ArrayList<>(entries);
      r.newest = newest;
      return r;
    }

    /** What a restart gives: the values as the encoded form keeps them. */
    void restart() {
      List<Entry> out = new ArrayList<>();
      for (Entry e : entries) {
        Object[] v = new Object[e.values().length];
        for (int i = 0; i < v.length; i++) {
          Object o = e.values()[i];
          if (o == null || o instanceof Boolean) {
            v[i] = o;
          } else if (o instanceof Double || o instanceof Float) {
            v[i] = ((Number) o).doubleValue();
          } else if (o instanceof Number n) {
            v[i] = n.longValue();
          } else {
            v[i] = String.valueOf(o);
          }
        }
        out.add(new Entry(e.micros(), v));
      }
      entries = out;
      newest = Long.MIN_VALUE;
      for (Entry e : entries) {
        newest = Math.max(newest, e.micros());
      }
    }

    List<Object> inWindow(Aggregation a) {
      long from = a.windowMicros() > 0 ? newest - a.windowMicros() : Long.MIN_VALUE;
      List<Object> out = new ArrayList<>(); // newest first
      for (int i = entries.size() - 1; i >= 0 && entries.get(i).micros() > from; i--) {
        out.add(a.fieldIndex() < 0 ? "event" : entries.get(i).values()[a.fieldIndex()]);
      }
      return out;
    }

    Object compute(Aggregation a) {
      List<Object> window = inWindow(a);
      switch (a.kind()) {
        case COUNT:
          return typed(a.type(), window.size());
        case SUM:
        case MIN:
        case MAX:
        case AVG:
          {
            double sum = 0;
            double min = Double.POSITIVE_INFINITY;
            double max = Double.NEGATIVE_INFINITY;
            int c = 0;
            for (Object v : window) {
              if (v instanceof Number n) {
                sum += n.doubleValue();
                min = Math.min(min, n.doubleValue());
                max = Math.max(max, n.doubleValue());
                c++;
              }
            }
            if (a.kind() == Kind.SUM) {
              return typed(a.type(), sum);
            }
            if (c == 0) {
              return null;
            }
            return typed(
                a.type(), a.kind() == Kind.MIN ? min : a.kind() == Kind.MAX ? max : sum / c);
          }
        case DISTINCT:
          {
            Set<Object> set = new HashSet<>();
            for (Object v : window) {
              if (v != null) {
                set.add(v instanceof Number n && !(v instanceof Double) ? n.longValue() : v);
              }
            }
            return typed(a.type(), set.size());
          }
        case LAST:
        case LAST_N:
          {
            List<Object> list = new ArrayList<>();
            for (int i = entries.size() - 1; i >= 0; i--) {
              Object v = entries.get(i).values()[a.fieldIndex()];
              if (v != null) {
                list.add(v);
              }
            }
            if (a.kind() == Kind.LAST) {
              return list.isEmpty() ? null : list.get(0);
            }
            return list.subList(0, Math.min(a.n(), list.size()));
          }
        case SECONDS_SINCE_PREVIOUS:
          {
            int n = entries.size();
            return n < 2
                ? null
                : typed(
                    a.type(), (entries.get(n - 1).micros() - entries.get(n - 2).micros()) / 1e6);
          }
        default:
          throw new AssertionError(a.kind());
      }
    }

    /** The kept entries as the version-2 format writes them (the tail of a state's encoding). */
    byte[] encodedEntries() {
      java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
      java.io.DataOutputStream out = new java.io.DataOutputStream(bytes); // big-endian
      try {
        for (Entry e : entries) {
          out.writeLong(e.micros());
          for (Object v : e.values()) {
            if (v == null) {
              out.writeByte(0);
            } else if (v instanceof Double || v instanceof Float) {
              out.writeByte(2);
              out.writeDouble(((Number) v).doubleValue());
            } else if (v instanceof Number n) {
              out.writeByte(1);
              out.writeLong(n.longValue());
            } else if (v instanceof Boolean bool) {
              out.writeByte(bool ? 4 : 5);
            } else {
              byte[] s = String.valueOf(v).getBytes(StandardCharsets.UTF_8);
              out.writeByte(3);
              out.writeInt(s.length);
              out.write(s);
            }
          }
        }
      } catch (java.io.IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
      return bytes.toByteArray();
    }

    private static Object typed(ValueType t, double v) {
      switch (t) {
        case INT64:
          return Math.round(v);
        case FP32:
          return (float) v;
        default:
          return v;
      }
    }
  }

  static Aggregation agg(Kind k, ValueType t, int field, long window, int n) {
    return new Aggregation("f", t, k, field < 0 ? null : "x", field, window, n);
  }

  /** Every kind of aggregation over every field, short and long windows. */
  static List<Aggregation> aggregations(int fields) {
    List<Aggregation> out = new ArrayList<>();
    for (long w : new long[] {0, 3 * MIN, 10 * MIN, 1_000 * MIN}) {
      if (w > 0) {
        out.add(agg(Kind.COUNT, ValueType.INT64, -1, w, 0));
      }
      for (int f = 0; f < fields; f++) {
        out.add(agg(Kind.SUM, ValueType.FP64, f, w, 0));
        out.add(agg(Kind.SUM, ValueType.INT64, f, w, 0));
        out.add(agg(Kind.MIN, ValueType.FP32, f, w, 0));
        out.add(agg(Kind.MAX, ValueType.FP64, f, w, 0));
        out.add(agg(Kind.AVG, ValueType.FP64, f, w, 0));
        out.add(agg(Kind.DISTINCT, ValueType.INT64, f, w, 0));
      }
    }
    for (int f = 0; f < fields; f++) {
      out.add(agg(Kind.LAST, ValueType.STRING, f, 0, 0));
      out.add(agg(Kind.LAST_N, ValueType.STRING_LIST, f, 0, 3));
      out.add(agg(Kind.LAST_N, ValueType.STRING_LIST, f, 0, 40));
    }
    out.add(agg(Kind.SECONDS_SINCE_PREVIOUS, ValueType.FP64, -1, 0, 0));
    return out;
  }

  static void assertSame(
      EntityState s, Reference r, List<Aggregation> aggs, int fields, String at) {
    assertThat(s.size()).as(at).isEqualTo(r.entries.size());
    assertThat(s.newestMicros()).as(at).isEqualTo(r.newest);
    Map<String, Object> got = new LinkedHashMap<>();
    Map<String, Object> expected = new LinkedHashMap<>();
    for (Aggregation a : aggs) {
      String name =
          a.kind() + " " + a.type() + " field " + a.fieldIndex() + " window " + a.windowMicros();
      got.put(name + " n " + a.n(), s.compute(a));
      expected.put(name + " n " + a.n(), r.compute(a));
    }
    assertThat(got).as(at).isEqualTo(expected);
    byte[] encoded = s.encode(fields);
    byte[] entries = r.encodedEntries();
    assertThat(Arrays.copyOfRange(encoded, encoded.length - entries.length, encoded.length))
        .as(at)
        .isEqualTo(entries);
    ByteBuffer count = ByteBuffer.wrap(encoded, encoded.length - entries.length - 8, 8);
    assertThat(count.getInt()).as(at).isEqualTo(fields);
    assertThat(count.getInt()).as(at).isEqualTo(r.entries.size());
  }

  static final Object[] POOL = {
    null,
    null,
    1L,
    2L,
    -7L,
    Long.MAX_VALUE,
    1.0,
    2.5,
    -0.0,
    0.0,
    Double.NaN,
    1e300,
    "a",
    "b",
    "a",
    "dev-42",
    "",
    "é€",
    "日本",
    true,
    false,
    1,
    7,
    2.5f,
    BigInteger.TEN.pow(30),
    'c'
  };

  @Test
  void randomAppliesUndosAndRestarts_giveWhatTheReferenceModelGives() {
    Random random = new Random(20261129);
    for (int trial = 0; trial < 300; trial++) {
      int fields = random.nextInt(4); // 0-3 tracked fields
      long keepWindow = new long[] {0, 2 * MIN, 10 * MIN, 60 * MIN}[random.nextInt(4)];
      int keepEntries = 1 + random.nextInt(random.nextBoolean() ? 3 : 40);
      List<Aggregation> aggs = aggregations(fields);
      EntityState s = new EntityState();
      Reference r = new Reference();
      long t = random.nextInt(1_000) * MIN;
      int events = 1 + random.nextInt(120);
      for (int i = 0; i < events; i++) {
        String at = "trial " + trial + ", event " + i;
        // mostly in order, some at the same time, some late (inserted before newer ones)
        int kind = random.nextInt(10);
        long micros =
            kind < 6
                ? (t += random.nextInt(5) * MIN / 2)
                : kind < 8 ? t : t - random.nextInt(30) * MIN / 3;
        Object[] values = new Object[fields];
        for (int f = 0; f < fields; f++) {
          values[f] = POOL[random.nextInt(POOL.length)];
        }
        int op = random.nextInt(10);
        if (op < 2) {
          // applied, then undone: as if it never came
          Reference before = r.copy();
          EntityState.Undo undo = s.apply(0, i, i, micros, values, 4, keepWindow, keepEntries);
          r.apply(micros, values, keepWindow, keepEntries);
          assertSame(s, r, aggs, fields, at + " (applied)");
          undo.rollback();
          r = before;
          assertSame(s, r, aggs, fields, at + " (undone)");
        } else {
          s.apply(0, i, i, micros, values, 4, keepWindow, keepEntries);
          r.apply(micros, values, keepWindow, keepEntries);
          assertSame(s, r, aggs, fields, at);
        }
        if (random.nextInt(12) == 0) {
          s = EntityState.decode(s.encode(fields), fields);
          r.restart();
          assertSame(s, r, aggs, fields, at + " (restarted)");
        }
      }
    }
  }

  @Test
  void theRingWrapsAround_withEveryHeadPosition_forLateEventsAndUndos() {
    // 3 kept events in a ring of 4 slots: the head goes round, and a late event inserted or undone
    // at each head position moves events across the end of the ring
    int keep = 3;
    List<Aggregation> aggs = aggregations(1);
    EntityState s = new EntityState();
    Reference r = new Reference();
    for (int i = 0; i < 16; i++) {
      Object[] v = {"v" + i};
      s.apply(0, i, i, i * MIN, v, 0, 0, keep);
      r.apply(i * MIN, v, 0, keep);
      assertSame(s, r, aggs, 1, "event " + i);
      assertThat(s.compute(agg(Kind.LAST_N, ValueType.STRING_LIST, 0, 0, 5)))
          .as("event " + i)
          .isEqualTo(
              i == 0
                  ? List.of("v0")
                  : i == 1 ? List.of("v1", "v0") : List.of("v" + i, "v" + (i - 1), "v" + (i - 2)));
      // a late event between the two newest: inserted in the middle, then undone
      Object[] late = {"late" + i};
      long lateMicros = i * MIN - MIN / 2;
      Reference before = r.copy();
      EntityState.Undo undo = s.apply(0, 100 + i, 100 + i, lateMicros, late, 0, 0, keep);
      r.apply(lateMicros, late, 0, keep);
      assertSame(s, r, aggs, 1, "late event after " + i);
      undo.rollback();
      r = before;
      assertSame(s, r, aggs, 1, "late event after " + i + " undone");
    }
  }

  @Test
  void aStateGrows_pastItsFirstRingAndBuffer_keepingEveryEvent() {
    EntityState s = new EntityState();
    Reference r = new Reference();
    List<Aggregation> aggs = aggregations(2);
    for (int i = 0; i < 300; i++) {
      // long strings: the encoded buffer grows too
      Object[] v = {"merchant-" + "x".repeat(i % 50) + i, (double) i};
      s.apply(0, i, i, i * MIN, v, 8, 0, 1_000);
      r.apply(i * MIN, v, 0, 1_000);
    }
    assertSame(s, r, aggs, 2, "after 300 events");
    assertThat(s.size()).isEqualTo(300);
  }

  @Test
  void eventsOfAnotherWidth_areRefusedWhileEventsAreKept_beforeAnythingIsApplied() {
    EntityState s = new EntityState();
    s.apply(0, 0, 0, MIN, new Object[] {1L, "a"}, 4, 0, 1);
    byte[] before = s.encode(2);
    assertThatThrownBy(() -> s.apply(1, 1, 1, 2 * MIN, new Object[] {1L}, 4, 0, 1))
        .isInstanceOf(IllegalArgumentException.class);
    assertThat(s.encode(2)).isEqualTo(before); // nothing applied: no partition, id or event
    assertThat(s.classify(1, 1, 1)).isEqualTo(EntityState.Disposition.NEW);
  }
}
