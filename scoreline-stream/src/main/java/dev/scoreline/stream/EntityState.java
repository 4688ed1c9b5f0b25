package dev.scoreline.stream;

import dev.scoreline.core.feature.ValueType;
import dev.scoreline.stream.StreamConfig.Aggregation;
import dev.scoreline.stream.StreamConfig.ViewUpdate;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What a stream keeps per entity: its recent events (time and the tracked fields), the highest
 * source offset applied per partition (so a replay after a crash does not count an event twice),
 * and the ids of its latest events (so a client's resent event is recognised).
 *
 * <p>Aggregations are computed as of the entity's newest event time: {@code count} over {@code 10m}
 * counts the events with time in {@code (newest - 10m, newest]}. Entries older than the longest
 * window are dropped, except the newest few that {@code last-n} and {@code seconds-since-previous}
 * need.
 *
 * <p>The kept events are stored in primitive arrays owned by the state and reused in place: a ring
 * of slots, each with the event's time and per tracked field a tag and the number's bits or the
 * string's reference. Keeping an event allocates nothing that outlives it except when the ring has
 * to grow, so a young collection finds no per-event garbage of the state to copy (an object per
 * kept event did: its boxed values and encoded bytes lived as long as its window, beyond a young
 * collection's interval). The arrays are small, since they live long and a young collection copies
 * them until they are old: {@link #encode} writes the kept events from the ring, with no encoded
 * copy kept. Numbers are kept as {@code long}s and {@code double}s and given back boxed as {@link
 * Long} and {@link Double}; values of other types (not what JSON parsing gives: {@code Integer},
 * {@code BigInteger}, ...) are kept by reference, as they were given.
 *
 * <p>Not thread-safe: a lane owns the entities that hash to it.
 */
final class EntityState {
  private static final byte VERSION = 2;

  // value tags; 0-5 are also the tags of the encoded form
  private static final byte NULL = 0;
  private static final byte LONG = 1;
  private static final byte DOUBLE = 2;
  private static final byte STRING = 3;
  private static final byte TRUE = 4;
  private static final byte FALSE = 5;

  /** A value of another type, kept by reference (encoded as its number or its string). */
  private static final byte OTHER = 6;

  // how distinct compares values (distinctValue below): kinds, then the bits or equals
  private static final int K_NONE = -1;
  private static final int K_LONG = 0; // integral numbers, as longs
  private static final int K_DOUBLE = 1;
  private static final int K_BOOLEAN = 2;
  private static final int K_STRING = 3;
  private static final int K_OBJECT = 4;

  private static final VarHandle BIG_ENDIAN_LONG =
      MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.BIG_ENDIAN);
  private static final VarHandle BIG_ENDIAN_INT =
      MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.BIG_ENDIAN);

  private int[] partitions = new int[0];
  private long[] offsets = new long[0];
  // ring of the latest ids with where each was applied; oldest first when full
  private long[] ids = new long[0];
  private int[] idPartitions = new int[0];
  private long[] idOffsets = new long[0];
  private int idCount;
  private int idNext;
  private long newest = Long.MIN_VALUE;

  // The kept events, by time ascending: `count` of the ring's times.length slots (a power of two,
  // or 0 before the first event), the oldest at `head`; event i (0 = oldest) is in slot(i).
  private int fields; // tracked values per event
  private int head;
  private int count;
  private long[] times = new long[0];
  private byte[] tags = new byte[0]; // [slot * fields + field]
  private long[] bits = new long[0]; // LONG: the value; DOUBLE: its raw bits
  private Object[] refs = new Object[0]; // STRING and OTHER: the value; null otherwise

  /** True when the event at this position was already applied (a replay). */
  boolean applied(int partition, long offset) {
    for (int i = 0; i < partitions.length; i++) {
      if (partitions[i] == partition) {
        return offset <= offsets[i];
      }
    }
    return false;
  }

  /** True when an event with this id hash is among the entity's latest events. */
  boolean seen(long idHash) {
    return find(idHash) >= 0;
  }

  private int find(long idHash) {
    for (int i = 0; i < idCount; i++) {
      if (ids[i] == idHash) {
        return i;
      }
    }
    return -1;
  }

  /** What to do with an event. */
  enum Disposition {
    /** Not applied before: apply and score it. */
    NEW,
    /** This very record was applied before (a redelivery after a crash): score it again. */
    REPLAY,
    /** Another record with the same id was applied (a resent event): skip it. */
    DUPLICATE
  }

  /** Classifies a record by its position and id against what this state applied. */
  Disposition classify(int partition, long offset, long idHash) {
    int i = find(idHash);
    if (i >= 0) {
      return idPartitions[i] == partition && idOffsets[i] == offset
          ? Disposition.REPLAY
          : Disposition.DUPLICATE;
    }
    // applied long ago (its id left the ring), or dead-lettered while later events were applied
    return applied(partition, offset) ? Disposition.REPLAY : Disposition.NEW;
  }

  /**
   * What one {@link #apply} changed, so that a lane can put the state back when the event fails
   * (its features could not be pushed, or it was dead-lettered) instead of copying every state
   * before applying an event to it. Only the latest apply of a state can be undone.
   */
  final class Undo {
    private final long newestBefore;
    private final int[] partitionsBefore; // non-null when apply added a partition
    private final long[] offsetsBefore;
    private final int partitionIndex;
    private final long offsetBefore;
    private long[] idsBefore; // non-null when apply resized the id ring
    private int[] idPartitionsBefore;
    private long[] idOffsetsBefore;
    private int idSlot = -1;
    private long idBefore;
    private int idPartitionBefore;
    private long idOffsetBefore;
    private int idCountBefore;
    private int idNextBefore;
    private int insertedAt; // where the event went among the kept events (0 = oldest)
    private int dropped; // how many of the oldest apply dropped after inserting it

    private Undo(int partitionIndex, int[] partitionsBefore, long[] offsetsBefore) {
      this.newestBefore = newest;
      this.partitionIndex = partitionIndex;
      this.partitionsBefore = partitionsBefore;
      this.offsetsBefore = offsetsBefore;
      this.offsetBefore = partitionsBefore == null ? offsets[partitionIndex] : 0;
      this.idCountBefore = idCount;
      this.idNextBefore = idNext;
    }

    /** Puts the state back as it was before the apply that returned this. */
    void rollback() {
      // dropping only moved the head: the dropped events are still in their slots and bytes
      head = (head - dropped) & (times.length - 1);
      count += dropped;
      remove(insertedAt);
      newest = newestBefore;
      if (partitionsBefore != null) {
        partitions = partitionsBefore;
        offsets = offsetsBefore;
      } else {
        offsets[partitionIndex] = offsetBefore;
      }
      if (idsBefore != null) {
        ids = idsBefore;
        idPartitions = idPartitionsBefore;
        idOffsets = idOffsetsBefore;
      } else if (idSlot >= 0) {
        ids[idSlot] = idBefore;
        idPartitions[idSlot] = idPartitionBefore;
        idOffsets[idSlot] = idOffsetBefore;
      }
      idCount = idCountBefore;
      idNext = idNextBefore;
    }
  }

  /**
   * Applies an event and trims what no aggregation needs any more.
   *
   * @return what to call to undo this apply
   */
  Undo apply(
      int partition,
      long offset,
      long idHash,
      long micros,
      Object[] values,
      int dedupIds,
      long keepWindowMicros,
      int keepEntries) {
    if (values.length != fields && count > 0) {
      throw new IllegalArgumentException(
          "an entity state keeps events of "
              + fields
              + " tracked fields, got "
              + values.length
              + " values");
    }
    int p = -1;
    for (int i = 0; i < partitions.length; i++) {
      if (partitions[i] == partition) {
        p = i;
      }
    }
    Undo undo;
    if (p < 0) {
      undo = new Undo(-1, partitions, offsets);
      partitions = Arrays.copyOf(partitions, partitions.length + 1);
      offsets = Arrays.copyOf(offsets, offsets.length + 1);
      p = partitions.length - 1;
      partitions[p] = partition;
    } else {
      undo = new Undo(p, null, null);
    }
    offsets[p] = offset;
    if (dedupIds > 0) {
      if (ids.length != dedupIds) {
        undo.idsBefore = ids;
        undo.idPartitionsBefore = idPartitions;
        undo.idOffsetsBefore = idOffsets;
        long[] n = new long[dedupIds];
        int[] np = new int[dedupIds];
        long[] no = new long[dedupIds];
        int keep = Math.min(idCount, dedupIds);
        for (int i = 0; i < keep; i++) {
          int from = Math.floorMod(idNext - keep + i, Math.max(1, ids.length));
          n[i] = ids[from];
          np[i] = idPartitions[from];
          no[i] = idOffsets[from];
        }
        ids = n;
        idPartitions = np;
        idOffsets = no;
        idCount = keep;
        idNext = keep % dedupIds;
      }
      if (undo.idsBefore == null) {
        undo.idSlot = idNext;
        undo.idBefore = ids[idNext];
        undo.idPartitionBefore = idPartitions[idNext];
        undo.idOffsetBefore = idOffsets[idNext];
      }
      ids[idNext] = idHash;
      idPartitions[idNext] = partition;
      idOffsets[idNext] = offset;
      idNext = (idNext + 1) % dedupIds;
      idCount = Math.min(idCount + 1, dedupIds);
    }
    undo.insertedAt = insert(micros, values, keepEntries);
    newest = Math.max(newest, micros);
    // trim: keep the newest keepEntries, and everything inside the longest window; dropping moves
    // the head only, so that an undo finds the dropped events where they were
    long cutoff = keepWindowMicros > 0 ? newest - keepWindowMicros : Long.MAX_VALUE;
    int drop = 0;
    while (drop < count - keepEntries && times[slot(drop)] <= cutoff) {
      drop++;
    }
    if (drop > 0) {
      head = (head + drop) & (times.length - 1);
      count -= drop;
      undo.dropped = drop;
    }
    return undo;
  }

  /** The newest event time, or Long.MIN_VALUE when there is none. */
  long newestMicros() {
    return newest;
  }

  int size() {
    return count;
  }

  /** The ring slot of kept event {@code i} (0 = the oldest). */
  private int slot(int i) {
    return (head + i) & (times.length - 1);
  }

  /** Where kept event {@code i}'s value of {@code field} is in tags, bits and refs. */
  private int at(int i, int field) {
    return slot(i) * fields + field;
  }

  // ---------------------------------------------------------------- kept events

  /**
   * Inserts an event by time after the kept events with the same time or earlier (events mostly
   * arrive in order: searched from the newest).
   *
   * @return its index among the kept events (0 = oldest)
   */
  private int insert(long micros, Object[] values, int keepEntries) {
    fields = values.length; // apply checked it against the kept events' width
    if (count == times.length || tags.length != times.length * fields) {
      int initial = Integer.highestOneBit(Math.min(Math.max(keepEntries + 1, 4), 64) * 2 - 1);
      grow(times.length == 0 ? initial : count == times.length ? times.length * 2 : times.length);
    }
    int at = count;
    while (at > 0 && times[slot(at - 1)] > micros) {
      at--;
    }
    // the slots from `at` on move one place toward the tail (a free slot: the ring is not full)
    for (int i = count; i > at; i--) {
      move(slot(i - 1), slot(i));
    }
    int s = slot(at);
    times[s] = micros;
    int base = s * fields;
    for (int f = 0; f < fields; f++) {
      Object v = values[f];
      byte tag;
      long b = 0;
      Object ref = null;
      if (v == null) {
        tag = NULL;
      } else if (v instanceof Long l) {
        tag = LONG;
        b = l;
      } else if (v instanceof Double d) {
        tag = DOUBLE;
        b = Double.doubleToRawLongBits(d);
      } else if (v instanceof String) {
        tag = STRING;
        ref = v;
      } else if (v instanceof Boolean bool) {
        tag = bool ? TRUE : FALSE;
      } else {
        tag = OTHER;
        ref = v;
      }
      tags[base + f] = tag;
      bits[base + f] = b;
      refs[base + f] = ref;
    }
    count++;
    return at;
  }

  /** Removes kept event {@code at} (what {@link #insert} returned), as if never inserted. */
  private void remove(int at) {
    for (int i = at; i < count - 1; i++) {
      move(slot(i + 1), slot(i));
    }
    count--;
    Arrays.fill(refs, slot(count) * fields, slot(count) * fields + fields, null);
  }

  private void move(int from, int to) {
    times[to] = times[from];
    int f0 = from * fields;
    int t0 = to * fields;
    for (int f = 0; f < fields; f++) {
      tags[t0 + f] = tags[f0 + f];
      bits[t0 + f] = bits[f0 + f];
      refs[t0 + f] = refs[f0 + f];
    }
  }

  /** Reallocates the ring with {@code capacity} slots, the kept events from slot 0. */
  private void grow(int capacity) {
    long[] t = new long[capacity];
    byte[] tg = new byte[capacity * fields];
    long[] bt = new long[capacity * fields];
    Object[] rf = new Object[capacity * fields];
    boolean sameWidth = tags.length == times.length * fields;
    for (int i = 0; i < count; i++) {
      int s = slot(i);
      t[i] = times[s];
      if (sameWidth) {
        System.arraycopy(tags, s * fields, tg, i * fields, fields);
        System.arraycopy(bits, s * fields, bt, i * fields, fields);
        System.arraycopy(refs, s * fields, rf, i * fields, fields);
      }
    }
    times = t;
    tags = tg;
    bits = bt;
    refs = rf;
    head = 0;
  }

  /** The value of tags/bits/refs index {@code x}, as given to apply (numbers boxed again). */
  private Object value(int x) {
    switch (tags[x]) {
      case NULL:
        return null;
      case LONG:
        return bits[x];
      case DOUBLE:
        return Double.longBitsToDouble(bits[x]);
      case TRUE:
        return Boolean.TRUE;
      case FALSE:
        return Boolean.FALSE;
      default:
        return refs[x];
    }
  }

  // ---------------------------------------------------------------- aggregations

  /** The feature values of {@code u} as of the newest event, as JSON-like values for a push. */
  Map<String, Object> features(ViewUpdate u) {
    Map<String, Object> out = new LinkedHashMap<>();
    for (Aggregation a : u.aggregations()) {
      out.put(a.feature(), compute(a));
    }
    return out;
  }

  Object compute(Aggregation a) {
    long from = a.windowMicros() > 0 ? newest - a.windowMicros() : Long.MIN_VALUE;
    int n = count;
    int f = a.fieldIndex();
    switch (a.kind()) {
      case COUNT:
        {
          long c = 0;
          for (int i = n - 1; i >= 0 && times[slot(i)] > from; i--) {
            c++;
          }
          return typed(a.type(), c);
        }
      case SUM:
      case MIN:
      case MAX:
      case AVG:
        {
          double sum = 0;
          double min = Double.POSITIVE_INFINITY;
          double max = Double.NEGATIVE_INFINITY;
          long c = 0;
          for (int i = n - 1; i >= 0 && times[slot(i)] > from; i--) {
            int x = at(i, f);
            double d;
            byte tag = tags[x];
            if (tag == LONG) {
              d = bits[x];
            } else if (tag == DOUBLE) {
              d = Double.longBitsToDouble(bits[x]);
            } else if (tag == OTHER && refs[x] instanceof Number num) {
              d = num.doubleValue();
            } else {
              continue;
            }
            sum += d;
            min = Math.min(min, d);
            max = Math.max(max, d);
            c++;
          }
          switch (a.kind()) {
            case SUM:
              return typed(a.type(), sum);
            case MIN:
              return c == 0 ? null : typed(a.type(), min);
            case MAX:
              return c == 0 ? null : typed(a.type(), max);
            default:
              return c == 0 ? null : typed(a.type(), sum / c);
          }
        }
      case DISTINCT:
        {
          int inWindow = 0;
          while (inWindow < n && times[slot(n - 1 - inWindow)] > from) {
            inWindow++;
          }
          return typed(
              a.type(),
              inWindow > 16 ? distinctHashed(f, n, inWindow) : distinctScan(f, n, inWindow));
        }
      case LAST:
        for (int i = n - 1; i >= 0; i--) {
          int x = at(i, f);
          if (tags[x] != NULL) {
            return value(x);
          }
        }
        return null;
      case LAST_N:
        {
          List<Object> list = new ArrayList<>(a.n());
          for (int i = n - 1; i >= 0 && list.size() < a.n(); i--) {
            int x = at(i, f);
            if (tags[x] != NULL) {
              list.add(value(x));
            }
          }
          return list;
        }
      case SECONDS_SINCE_PREVIOUS:
        if (n < 2) {
          return null;
        }
        return typed(a.type(), (times[slot(n - 1)] - times[slot(n - 2)]) / 1e6);
      default:
        throw new AssertionError(a.kind());
    }
  }

  /**
   * Distinct values among the newest {@code inWindow} of {@code n} events: each against the newer.
   */
  private int distinctScan(int f, int n, int inWindow) {
    int distinct = 0;
    for (int i = n - 1; i >= n - inWindow; i--) {
      int x = at(i, f);
      if (tags[x] == NULL) {
        continue;
      }
      boolean before = false;
      for (int j = n - 1; j > i && !before; j--) {
        before = sameDistinct(at(j, f), x);
      }
      if (!before) {
        distinct++;
      }
    }
    return distinct;
  }

  /** The same count for long windows: an open-addressing table of the values' indexes. */
  private int distinctHashed(int f, int n, int inWindow) {
    int[] table = new int[Integer.highestOneBit(inWindow) * 4]; // index + 1; 0 = empty
    int mask = table.length - 1;
    int distinct = 0;
    for (int i = n - 1; i >= n - inWindow; i--) {
      int x = at(i, f);
      int kind = distinctKind(x);
      if (kind == K_NONE) {
        continue;
      }
      int h;
      if (kind == K_STRING || kind == K_OBJECT) {
        h = refs[x].hashCode();
      } else {
        h = Long.hashCode(distinctBits(x, kind)) * 31 + kind;
      }
      h *= 0x9E3779B9;
      int p = (h ^ (h >>> 16)) & mask;
      boolean found = false;
      while (table[p] != 0) {
        if (sameDistinct(table[p] - 1, x)) {
          found = true;
          break;
        }
        p = (p + 1) & mask;
      }
      if (!found) {
        table[p] = x + 1;
        distinct++;
      }
    }
    return distinct;
  }

  /**
   * How {@code distinct} compares values: integral numbers as longs (so 1 and 1L are one value),
   * doubles as {@link Double#equals} does, the rest with equals.
   */
  private int distinctKind(int x) {
    switch (tags[x]) {
      case NULL:
        return K_NONE;
      case LONG:
        return K_LONG;
      case DOUBLE:
        return K_DOUBLE;
      case TRUE:
      case FALSE:
        return K_BOOLEAN;
      case STRING:
        return K_STRING;
      default:
        return refs[x] instanceof Number ? K_LONG : K_OBJECT; // a Double is never OTHER
    }
  }

  private long distinctBits(int x, int kind) {
    switch (kind) {
      case K_DOUBLE:
        return Double.doubleToLongBits(Double.longBitsToDouble(bits[x])); // one NaN, as equals
      case K_BOOLEAN:
        return tags[x] == TRUE ? 1 : 0;
      default:
        return tags[x] == LONG ? bits[x] : ((Number) refs[x]).longValue();
    }
  }

  /** Whether the values at {@code y} and {@code x} are one value for distinct. */
  private boolean sameDistinct(int y, int x) {
    int kind = distinctKind(x);
    if (distinctKind(y) != kind) {
      return false;
    }
    if (kind == K_STRING || kind == K_OBJECT) {
      return refs[y] == refs[x] || refs[y].equals(refs[x]);
    }
    return distinctBits(y, kind) == distinctBits(x, kind);
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

  // ---------------------------------------------------------------- encoding

  byte[] encode(int fields) {
    // the kept events as the version-2 format writes them: the time, then per value a tag and
    // the value (a number's 8 bytes; a string's length and UTF-8 bytes; null and booleans none)
    int entries = 0;
    for (int i = 0; i < count; i++) {
      entries += 8;
      int base = slot(i) * this.fields;
      for (int f = 0; f < this.fields; f++) {
        int x = base + f;
        switch (tags[x]) {
          case LONG:
          case DOUBLE:
            entries += 9;
            break;
          case STRING:
            entries += 5 + utf8Length((String) refs[x]);
            break;
          case OTHER:
            entries += refs[x] instanceof Number ? 9 : 5 + utf8Length(String.valueOf(refs[x]));
            break;
          default:
            entries += 1;
        }
      }
    }
    int size = 1 + 4 + partitions.length * 12 + 4 + 20 * idCount + 4 + 4 + entries;
    byte[] out = new byte[size];
    ByteBuffer b = ByteBuffer.wrap(out);
    b.put(VERSION);
    b.putInt(partitions.length);
    for (int i = 0; i < partitions.length; i++) {
      b.putInt(partitions[i]);
      b.putLong(offsets[i]);
    }
    b.putInt(idCount);
    for (int i = 0; i < idCount; i++) {
      // oldest first
      int at = idCount < ids.length ? i : (idNext + i) % ids.length;
      b.putLong(ids[at]);
      b.putInt(idPartitions[at]);
      b.putLong(idOffsets[at]);
    }
    b.putInt(fields);
    b.putInt(count);
    int pos = b.position();
    for (int i = 0; i < count; i++) {
      int s = slot(i);
      BIG_ENDIAN_LONG.set(out, pos, times[s]);
      pos += 8;
      int base = s * this.fields;
      for (int f = 0; f < this.fields; f++) {
        int x = base + f;
        byte tag = tags[x];
        switch (tag) {
          case LONG:
          case DOUBLE:
            out[pos] = tag;
            BIG_ENDIAN_LONG.set(out, pos + 1, bits[x]);
            pos += 9;
            break;
          case STRING:
            pos = writeString(out, pos, (String) refs[x]);
            break;
          case OTHER:
            {
              Object v = refs[x];
              if (v instanceof Float num) {
                out[pos] = DOUBLE;
                BIG_ENDIAN_LONG.set(out, pos + 1, Double.doubleToRawLongBits(num.doubleValue()));
                pos += 9;
              } else if (v instanceof Number num) {
                out[pos] = LONG;
                BIG_ENDIAN_LONG.set(out, pos + 1, num.longValue());
                pos += 9;
              } else {
                pos = writeString(out, pos, String.valueOf(v));
              }
              break;
            }
          default:
            out[pos++] = tag; // NULL, TRUE, FALSE: the tag alone
        }
      }
    }
    return out;
  }

  /** The length of {@code s} when it is all ASCII (its UTF-8 bytes are its chars), else -1. */
  private static int asciiLength(String s) {
    int n = s.length();
    for (int i = 0; i < n; i++) {
      if (s.charAt(i) >= 0x80) {
        return -1;
      }
    }
    return n;
  }

  private static int utf8Length(String s) {
    int n = asciiLength(s);
    return n >= 0 ? n : s.getBytes(StandardCharsets.UTF_8).length;
  }

  /** Writes a string value (tag, length, UTF-8 bytes); returns the position after it. */
  private static int writeString(byte[] out, int pos, String s) {
    out[pos] = STRING;
    int n = asciiLength(s);
    if (n >= 0) {
      BIG_ENDIAN_INT.set(out, pos + 1, n);
      pos += 5;
      for (int c = 0; c < n; c++) {
        out[pos + c] = (byte) s.charAt(c);
      }
      return pos + n;
    }
    byte[] utf8 = s.getBytes(StandardCharsets.UTF_8);
    BIG_ENDIAN_INT.set(out, pos + 1, utf8.length);
    System.arraycopy(utf8, 0, out, pos + 5, utf8.length);
    return pos + 5 + utf8.length;
  }

  /** Decodes a stored state; a state written for other fields (the config changed) is dropped. */
  static EntityState decode(byte[] bytes, int fields) {
    EntityState s = new EntityState();
    if (bytes == null) {
      return s;
    }
    ByteBuffer b = ByteBuffer.wrap(bytes);
    if (b.get() != VERSION) {
      return s;
    }
    int np = b.getInt();
    s.partitions = new int[np];
    s.offsets = new long[np];
    for (int i = 0; i < np; i++) {
      s.partitions[i] = b.getInt();
      s.offsets[i] = b.getLong();
    }
    int ni = b.getInt();
    s.ids = new long[ni];
    s.idPartitions = new int[ni];
    s.idOffsets = new long[ni];
    for (int i = 0; i < ni; i++) {
      s.ids[i] = b.getLong();
      s.idPartitions[i] = b.getInt();
      s.idOffsets[i] = b.getLong();
    }
    s.idCount = ni;
    s.idNext = 0; // full ring (or sized exactly): the next id replaces the oldest
    int storedFields = b.getInt();
    int ne = b.getInt();
    if (storedFields != fields) {
      return s; // keep the offsets and ids, drop entries of another shape
    }
    s.fields = fields;
    s.grow(Integer.highestOneBit(Math.max(ne, 2) * 2 - 1));
    for (int i = 0; i < ne; i++) {
      long micros = b.getLong();
      s.times[i] = micros;
      int base = i * fields;
      for (int f = 0; f < fields; f++) {
        byte tag = b.get();
        switch (tag) {
          case NULL:
          case TRUE:
          case FALSE:
            break;
          case LONG:
          case DOUBLE:
            s.bits[base + f] = b.getLong(); // a double as its raw bits, as getDouble reads them
            break;
          case STRING:
            {
              byte[] str = new byte[b.getInt()];
              b.get(str);
              s.refs[base + f] = new String(str, StandardCharsets.UTF_8);
              break;
            }
          default:
            throw new IllegalStateException("corrupt stream state: tag " + tag);
        }
        s.tags[base + f] = tag;
      }
      s.newest = Math.max(s.newest, micros);
    }
    s.count = ne;
    return s;
  }
}
