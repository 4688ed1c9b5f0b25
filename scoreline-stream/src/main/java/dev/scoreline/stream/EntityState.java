package dev.scoreline.stream;

import dev.scoreline.core.feature.ValueType;
import dev.scoreline.stream.StreamConfig.Aggregation;
import dev.scoreline.stream.StreamConfig.ViewUpdate;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

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
 * <p>Not thread-safe: a lane owns the entities that hash to it.
 */
final class EntityState {
  private static final byte VERSION = 2;

  /**
   * One event as kept, with its encoded form (time and values as {@link #encode} writes them):
   * computed once when the event is applied, so that saving the state after each event copies the
   * bytes of the entries it keeps instead of encoding them again.
   */
  record Entry(long micros, Object[] values, byte[] encoded) {
    Entry(long micros, Object[] values) {
      this(micros, values, encodeEntry(micros, values));
    }
  }

  private int[] partitions = new int[0];
  private long[] offsets = new long[0];
  // ring of the latest ids with where each was applied; oldest first when full
  private long[] ids = new long[0];
  private int[] idPartitions = new int[0];
  private long[] idOffsets = new long[0];
  private int idCount;
  private int idNext;
  private final ArrayList<Entry> entries = new ArrayList<>(); // by time, ascending
  private long newest = Long.MIN_VALUE;

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
    private Entry inserted;
    private List<Entry> dropped = List.of();

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
      // the list before = (dropped prefix ++ what remains) without the inserted entry
      entries.remove(inserted); // by identity: Entry holds arrays, so equals is identity here
      if (!dropped.isEmpty()) {
        List<Entry> prefix = new ArrayList<>(dropped);
        prefix.remove(inserted);
        entries.addAll(0, prefix);
      }
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
    // insert by time (events mostly arrive in order: search from the end)
    int at = entries.size();
    while (at > 0 && entries.get(at - 1).micros() > micros) {
      at--;
    }
    Entry entry = new Entry(micros, values);
    entries.add(at, entry);
    undo.inserted = entry;
    newest = Math.max(newest, micros);
    // trim: keep the newest keepEntries, and everything inside the longest window
    long cutoff = keepWindowMicros > 0 ? newest - keepWindowMicros : Long.MAX_VALUE;
    int drop = 0;
    while (drop < entries.size() - keepEntries && entries.get(drop).micros() <= cutoff) {
      drop++;
    }
    if (drop > 0) {
      List<Entry> head = entries.subList(0, drop);
      undo.dropped = List.copyOf(head);
      head.clear();
    }
    return undo;
  }

  /** The newest event time, or Long.MIN_VALUE when there is none. */
  long newestMicros() {
    return newest;
  }

  int size() {
    return entries.size();
  }

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
    int n = entries.size();
    switch (a.kind()) {
      case COUNT:
        {
          long c = 0;
          for (int i = n - 1; i >= 0 && entries.get(i).micros() > from; i--) {
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
          for (int i = n - 1; i >= 0 && entries.get(i).micros() > from; i--) {
            Object v = entries.get(i).values()[a.fieldIndex()];
            if (v instanceof Number num) {
              double d = num.doubleValue();
              sum += d;
              min = Math.min(min, d);
              max = Math.max(max, d);
              c++;
            }
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
          // a state keeps a few entries: a linear scan with equals counts what a HashSet would,
          // without the set and its boxed keys; a set only for long windows
          int inWindow = 0;
          while (inWindow < n && entries.get(n - 1 - inWindow).micros() > from) {
            inWindow++;
          }
          if (inWindow > 16) {
            Set<Object> seen = new HashSet<>();
            for (int i = n - 1; i >= n - inWindow; i--) {
              Object v = entries.get(i).values()[a.fieldIndex()];
              if (v != null) {
                seen.add(distinctValue(v));
              }
            }
            return typed(a.type(), seen.size());
          }
          int distinct = 0;
          for (int i = n - 1; i >= n - inWindow; i--) {
            Object v = entries.get(i).values()[a.fieldIndex()];
            if (v == null) {
              continue;
            }
            Object d = distinctValue(v);
            boolean before = false;
            for (int j = n - 1; j > i && !before; j--) {
              Object w = entries.get(j).values()[a.fieldIndex()];
              before = w != null && distinctValue(w).equals(d);
            }
            if (!before) {
              distinct++;
            }
          }
          return typed(a.type(), distinct);
        }
      case LAST:
        for (int i = n - 1; i >= 0; i--) {
          Object v = entries.get(i).values()[a.fieldIndex()];
          if (v != null) {
            return v;
          }
        }
        return null;
      case LAST_N:
        {
          List<Object> list = new ArrayList<>(a.n());
          for (int i = n - 1; i >= 0 && list.size() < a.n(); i--) {
            Object v = entries.get(i).values()[a.fieldIndex()];
            if (v != null) {
              list.add(v);
            }
          }
          return list;
        }
      case SECONDS_SINCE_PREVIOUS:
        if (n < 2) {
          return null;
        }
        return typed(a.type(), (entries.get(n - 1).micros() - entries.get(n - 2).micros()) / 1e6);
      default:
        throw new AssertionError(a.kind());
    }
  }

  /** How {@code distinct} compares values: integral numbers as longs, the rest as they are. */
  private static Object distinctValue(Object v) {
    return v instanceof Number num && !(v instanceof Double) ? num.longValue() : v;
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
    int size = 1 + 4 + partitions.length * 12 + 4 + 20 * idCount + 4 + 4;
    for (Entry e : entries) {
      size += e.encoded().length;
    }
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
    b.putInt(entries.size());
    for (Entry e : entries) {
      b.put(e.encoded());
    }
    return out;
  }

  /** One entry as the state stores it: its time, then per value a tag and the value. */
  static byte[] encodeEntry(long micros, Object[] values) {
    int size = 8;
    byte[][] strings = null;
    for (int i = 0; i < values.length; i++) {
      Object v = values[i];
      if (v == null || v instanceof Boolean) {
        size += 1;
      } else if (v instanceof Number) {
        size += 9;
      } else {
        if (strings == null) {
          strings = new byte[values.length][];
        }
        strings[i] = String.valueOf(v).getBytes(StandardCharsets.UTF_8);
        size += 5 + strings[i].length;
      }
    }
    byte[] out = new byte[size];
    ByteBuffer b = ByteBuffer.wrap(out);
    b.putLong(micros);
    for (int i = 0; i < values.length; i++) {
      Object v = values[i];
      if (v == null) {
        b.put((byte) 0);
      } else if (v instanceof Double || v instanceof Float) {
        b.put((byte) 2).putDouble(((Number) v).doubleValue());
      } else if (v instanceof Number num) {
        b.put((byte) 1).putLong(num.longValue());
      } else if (v instanceof Boolean bool) {
        b.put((byte) (bool ? 4 : 5));
      } else {
        b.put((byte) 3).putInt(strings[i].length).put(strings[i]);
      }
    }
    return out;
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
    for (int i = 0; i < ne; i++) {
      int from = b.position();
      long micros = b.getLong();
      Object[] values = new Object[fields];
      for (int f = 0; f < fields; f++) {
        byte tag = b.get();
        switch (tag) {
          case 0:
            break;
          case 1:
            values[f] = b.getLong();
            break;
          case 2:
            values[f] = b.getDouble();
            break;
          case 3:
            {
              byte[] str = new byte[b.getInt()];
              b.get(str);
              values[f] = new String(str, StandardCharsets.UTF_8);
              break;
            }
          case 4:
            values[f] = Boolean.TRUE;
            break;
          case 5:
            values[f] = Boolean.FALSE;
            break;
          default:
            throw new IllegalStateException("corrupt stream state: tag " + tag);
        }
      }
      s.entries.add(new Entry(micros, values, Arrays.copyOfRange(bytes, from, b.position())));
      s.newest = Math.max(s.newest, micros);
    }
    return s;
  }
}
