package dev.scoreline.core.feature.online;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.scoreline.core.config.ConfigLoader;
import dev.scoreline.core.error.ErrorCode;
import dev.scoreline.core.error.ScorelineException;
import dev.scoreline.core.feature.Definitions.Entity;
import dev.scoreline.core.feature.Definitions.Feature;
import dev.scoreline.core.feature.Definitions.FeatureView;
import dev.scoreline.core.feature.Definitions.KeyColumn;
import dev.scoreline.core.feature.FeatureRef;
import dev.scoreline.core.feature.FeatureRegistry;
import dev.scoreline.core.feature.FeatureRow;
import dev.scoreline.core.feature.ValueType;
import dev.scoreline.core.kv.FieldWrite;
import dev.scoreline.core.kv.KeyHash;
import dev.scoreline.core.kv.KvStore;
import dev.scoreline.core.kv.Stamps;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The online feature store: latest feature values per entity key, over any {@link KvStore}.
 *
 * <p><b>Data model.</b> One record per entity key ({@link EntityKeys}) in namespace {@code
 * features/<entity>}; one record field per feature view, named by the view, holding the view's
 * values and their stamp ({@link ViewCodec}). Writes merge fields last-write-wins by (event time,
 * created time): an older event never overwrites a newer one; for equal event times the greater
 * created time wins, and for equal stamps the later write wins. A row without a created time gets
 * its arrival time (the clock when {@link #write} is called) as created time.
 *
 * <p><b>Reads.</b> {@link #get} reads, for each entity involved, all needed views of all keys with
 * one {@link KvStore#multiGetRecords} call (duplicate keys are read and decoded once). Feature
 * lists are compiled once into a plan and cached (by value). TTL is enforced on read: when {@code
 * now - event_ts > ttl} the status is {@link FeatureStatus#EXPIRED} and the value is null (unlike
 * Feast's Java server, which returns the value flagged OUTSIDE_MAX_AGE: a model should not consume
 * a stale value by accident; the event timestamp is still returned). A value exactly {@code ttl}
 * old is PRESENT.
 *
 * <p>Thread-safe.
 */
public final class OnlineFeatureStore {
  /** Default {@link Options#maxEntitiesPerRequest()}. */
  public static final int DEFAULT_MAX_ENTITIES_PER_REQUEST = 1000;

  private static final int MAX_CACHED_PLANS = 1024;
  private static final ObjectMapper JSON = new ObjectMapper();

  /**
   * Options.
   *
   * @param maxEntitiesPerRequest the most entity rows one {@link #get} accepts
   * @param appendPushesToOfflineLog when true, {@link #pushRows} also appends the rows, as JSON
   *     lines, to {@code <project>/data/pushed/<view>/<yyyy-MM-dd>.jsonl} (UTC date of arrival)
   */
  public record Options(int maxEntitiesPerRequest, boolean appendPushesToOfflineLog) {
    public Options {
      if (maxEntitiesPerRequest < 1) {
        throw new IllegalArgumentException("maxEntitiesPerRequest must be at least 1");
      }
    }

    public static Options defaults() {
      return new Options(DEFAULT_MAX_ENTITIES_PER_REQUEST, false);
    }
  }

  private final KvStore store;
  private final FeatureRegistry registry;
  private final Clock clock;
  private final Options options;
  private final ConcurrentHashMap<List<FeatureRef>, ReadPlan> plans = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, Map<String, Integer>> pushColumns =
      new ConcurrentHashMap<>();
  private final Object pushLogLock = new Object();

  public OnlineFeatureStore(KvStore store, FeatureRegistry registry, Clock clock) {
    this(store, registry, clock, Options.defaults());
  }

  public OnlineFeatureStore(KvStore store, FeatureRegistry registry, Clock clock, Options options) {
    this.store = requireNonNull(store, "store is null");
    this.registry = requireNonNull(registry, "registry is null");
    this.clock = requireNonNull(clock, "clock is null");
    this.options = requireNonNull(options, "options is null");
  }

  /** The KV namespace of an entity's records: {@code features/<entity>}. */
  public static String namespace(String entity) {
    return "features/" + entity;
  }

  public FeatureRegistry registry() {
    return registry;
  }

  public Options options() {
    return options;
  }

  // ================================================================ read

  /**
   * Reads the latest values of {@code features} for {@code entityRows}.
   *
   * @param features {@code view:feature} references (resolve names and services with {@link
   *     FeatureRegistry#resolve} / {@link FeatureRegistry#service}); {@code view:*} expands
   * @param entityRows per row, key column name to value (JSON types; see {@link
   *     EntityKeys#fromJson}); a row carries the key columns of every entity involved and may carry
   *     more
   * @throws ScorelineException NOT_FOUND for an unknown view or feature; USER_ERROR for a view with
   *     {@code online: false}, a missing or mistyped key column (naming the row index and column),
   *     or more rows than {@link Options#maxEntitiesPerRequest()}
   */
  public FeatureVectors get(List<FeatureRef> features, List<Map<String, Object>> entityRows) {
    requireNonNull(features, "features is null");
    requireNonNull(entityRows, "entityRows is null");
    int n = entityRows.size();
    checkEntityCount(n);
    ReadPlan plan = plan(features);
    FeatureVectors out = new FeatureVectors(plan, n);
    if (n == 0) {
      return out;
    }
    long now = Times.micros(clock.instant());
    Bytes.Reader reader = new Bytes.Reader();
    Bytes.Writer keyWriter = new Bytes.Writer(32);
    for (ReadPlan.EntityRead er : plan.entities) {
      readEntity(er, entityRows, out, now, reader, keyWriter);
    }
    return out;
  }

  /** Refuses a read of more entities than {@link Options#maxEntitiesPerRequest()}. */
  private void checkEntityCount(int n) {
    if (n > options.maxEntitiesPerRequest()) {
      throw ScorelineException.userError(
          "entityRows",
          "entityRows: "
              + n
              + " rows exceed the limit of "
              + options.maxEntitiesPerRequest()
              + " entities per request; split the request");
    }
  }

  /**
   * {@link #get(List, List)} for entity rows that each hold one key column, {@code keyColumn} =
   * {@code ids[i]} (a {@code Long}): the same result and the same errors as reading the rows {@code
   * Map.of(keyColumn, ids[i])}, without building them. The candidates of a surface are read this
   * way.
   *
   * @throws ScorelineException as {@link #get(List, List)}
   */
  public FeatureVectors get(List<FeatureRef> features, String keyColumn, long[] ids) {
    requireNonNull(features, "features is null");
    requireNonNull(keyColumn, "keyColumn is null");
    requireNonNull(ids, "ids is null");
    int n = ids.length;
    checkEntityCount(n);
    ReadPlan plan = plan(features);
    FeatureVectors out = new FeatureVectors(plan, n);
    if (n == 0) {
      return out;
    }
    long now = Times.micros(clock.instant());
    Bytes.Reader reader = new Bytes.Reader();
    Bytes.Writer keyWriter = new Bytes.Writer(32);
    List<Map<String, Object>> rows = null;
    for (ReadPlan.EntityRead er : plan.entities) {
      if (er.keyNames.length == 1
          && er.keyNames[0].equals(keyColumn)
          && er.keyTypes[0] == ValueType.INT64) {
        // the key is the id itself: encode it without a row map or a boxed id
        Keys keys = new Keys(n);
        for (int i = 0; i < n; i++) {
          keyWriter.reset();
          keyWriter.writeByte(EntityKeys.FORMAT_VERSION);
          keyWriter.writeByte(TypeTags.INT64);
          keyWriter.writeLong(ids[i]);
          keys.add(i, keyWriter.toByteArray());
        }
        readKeys(er, keys, out, now, reader);
      } else {
        // another key layout: the rows as maps, with their errors
        if (rows == null) {
          rows = new ArrayList<>(n);
          for (long id : ids) {
            rows.add(Map.of(keyColumn, id));
          }
        }
        readEntity(er, rows, out, now, reader, keyWriter);
      }
    }
    return out;
  }

  /** The distinct keys of a read, and the slot (index into the keys) of every entity row. */
  private static final class Keys {
    final List<byte[]> keys;
    final int[] slotOfRow;
    private final int[] table;
    private final int mask;

    Keys(int rows) {
      keys = new ArrayList<>(rows);
      slotOfRow = new int[rows];
      table = new int[tableSize(rows)];
      mask = table.length - 1;
    }

    /** Row {@code row} has key {@code key}: a new slot, or the slot of an equal key. */
    void add(int row, byte[] key) {
      // open addressing over indexes into keys (stored + 1; 0 = empty)
      int h = KeyHash.of(key) & mask;
      while (true) {
        int e = table[h];
        if (e == 0) {
          keys.add(key);
          table[h] = keys.size();
          slotOfRow[row] = keys.size() - 1;
          return;
        }
        if (Arrays.equals(keys.get(e - 1), key)) {
          slotOfRow[row] = e - 1;
          return;
        }
        h = (h + 1) & mask;
      }
    }
  }

  private void readEntity(
      ReadPlan.EntityRead er,
      List<Map<String, Object>> rows,
      FeatureVectors out,
      long now,
      Bytes.Reader reader,
      Bytes.Writer w) {
    int n = rows.size();
    Keys keys = new Keys(n);
    for (int i = 0; i < n; i++) {
      Map<String, Object> row = rows.get(i);
      if (row == null) {
        throw ScorelineException.userError(
            "entityRows[" + i + "]",
            "entityRows[" + i + "] is null; send an object of key columns");
      }
      w.reset();
      w.writeByte(EntityKeys.FORMAT_VERSION);
      for (int c = 0; c < er.keyNames.length; c++) {
        Object raw = row.get(er.keyNames[c]);
        Object v = raw == null ? null : EntityKeys.convert(er.keyTypes[c], raw);
        if (v == null) {
          throw keyError(er, c, i, row, raw);
        }
        EntityKeys.writeColumn(w, er.keyTypes[c], v);
      }
      keys.add(i, w.toByteArray());
    }
    readKeys(er, keys, out, now, reader);
  }

  /**
   * Reads the views of {@code er} for the distinct keys with one {@link KvStore#readRecordFields}
   * call, decoding each value in place into the first row of its key; then gives the views not
   * found NOT_FOUND and copies each key's results to its other rows.
   */
  private void readKeys(
      ReadPlan.EntityRead er, Keys k, FeatureVectors out, long now, Bytes.Reader reader) {
    int n = k.slotOfRow.length;
    int[] slotOfRow = k.slotOfRow;
    List<byte[]> keys = k.keys;
    int[] firstRow = new int[keys.size()];
    Arrays.fill(firstRow, -1);
    for (int i = 0; i < n; i++) {
      if (firstRow[slotOfRow[i]] < 0) {
        firstRow[slotOfRow[i]] = i;
      }
    }
    ReadPlan.ViewRead[] views = er.views;
    int nViews = views.length;
    boolean[] found = new boolean[keys.size() * nViews];
    store.readRecordFields(
        er.namespace,
        keys,
        er.viewNames,
        (key, view, bytes, offset, length) -> {
          decodeView(
              er,
              views[view],
              bytes,
              offset,
              length,
              keys.get(key),
              out,
              firstRow[key],
              now,
              reader);
          found[key * nViews + view] = true;
        });
    for (int i = 0; i < n; i++) {
      int s = slotOfRow[i];
      int first = firstRow[s];
      if (first != i) {
        copyRow(er, out, first, i);
        continue;
      }
      for (int v = 0; v < nViews; v++) {
        if (!found[s * nViews + v]) {
          out.eventMicros[views[v].slot][i] = FeatureVectors.NO_TIME;
          setAll(views[v], out, i, FeatureStatus.NOT_FOUND);
        }
      }
    }
  }

  private static void decodeView(
      ReadPlan.EntityRead er,
      ReadPlan.ViewRead vr,
      byte[] bytes,
      int offset,
      int length,
      byte[] key,
      FeatureVectors out,
      int row,
      long now,
      Bytes.Reader reader) {
    try {
      ViewCodec.checkHeader(bytes, offset, length);
      long event = Stamps.read(bytes, offset);
      out.eventMicros[vr.slot][row] = event;
      if (vr.ttlMicros >= 0 && expired(event, now, vr.ttlMicros)) {
        setAll(vr, out, row, FeatureStatus.EXPIRED);
        return;
      }
      ViewCodec.decodeInto(bytes, offset, length, vr, out, row, reader);
    } catch (Bytes.CorruptException e) {
      throw new ScorelineException(
          ErrorCode.INTERNAL,
          "corrupt value of view '"
              + vr.view
              + "' for key "
              + describeKey(key)
              + " in "
              + er.namespace
              + ": "
              + e.getMessage()
              + "; re-materialize the view",
          e);
    } catch (ScorelineException e) {
      throw new ScorelineException(
          e.code(), "view '" + vr.view + "' in " + er.namespace + ": " + e.getMessage(), e);
    }
  }

  /** {@code now - event > ttl}, without overflow. */
  static boolean expired(long event, long now, long ttl) {
    long cutoff;
    try {
      cutoff = Math.subtractExact(now, ttl);
    } catch (ArithmeticException e) {
      return false;
    }
    return event < cutoff;
  }

  private static void setAll(
      ReadPlan.ViewRead vr, FeatureVectors out, int row, FeatureStatus status) {
    byte code = status.code();
    for (int[] cols : vr.columns) {
      for (int c : cols) {
        out.statuses[c][row] = code;
      }
    }
  }

  private static void copyRow(ReadPlan.EntityRead er, FeatureVectors out, int from, int to) {
    for (int c : er.columns) {
      out.statuses[c][to] = out.statuses[c][from];
      if (out.prims[c] != null) {
        out.prims[c][to] = out.prims[c][from];
      } else {
        out.objects[c][to] = out.objects[c][from];
      }
    }
    for (ReadPlan.ViewRead vr : er.views) {
      out.eventMicros[vr.slot][to] = out.eventMicros[vr.slot][from];
    }
  }

  private static int tableSize(int n) {
    int size = Integer.highestOneBit(Math.max(4, n * 2 - 1)) << 1;
    return size;
  }

  private static ScorelineException keyError(
      ReadPlan.EntityRead er, int c, int row, Map<String, Object> rowMap, Object raw) {
    String col = er.keyNames[c];
    String field = "entityRows[" + row + "]." + col;
    if (raw == null) {
      return ScorelineException.userError(
          field,
          "entityRows["
              + row
              + "] "
              + (rowMap.containsKey(col) ? "has a null '" + col + "'" : "has no '" + col + "'")
              + ": feature "
              + er.exampleFeature
              + " is of entity '"
              + er.entity
              + "', keyed by "
              + Arrays.toString(er.keyNames)
              + "; add '"
              + col
              + "' to every entity row");
    }
    return EntityKeys.keyTypeError(er.entity, er.keyColumns[c], raw, field);
  }

  private static String describeKey(byte[] key) {
    try {
      return EntityKeys.decode(key).toString();
    } catch (IllegalArgumentException e) {
      return Arrays.toString(key);
    }
  }

  // ================================================================ plans

  /** The compiled plan of a feature list; cached by value. */
  ReadPlan plan(List<FeatureRef> features) {
    ReadPlan p = plans.get(features);
    if (p != null) {
      return p;
    }
    p = compile(features);
    if (plans.size() >= MAX_CACHED_PLANS) {
      plans.clear(); // callers with unbounded distinct lists: keep memory bounded
    }
    plans.putIfAbsent(List.copyOf(features), p);
    return p;
  }

  int cachedPlans() {
    return plans.size();
  }

  private ReadPlan compile(List<FeatureRef> requested) {
    // 1. resolve and expand view:*
    List<FeatureRef> refs = new ArrayList<>();
    List<FeatureView> viewOf = new ArrayList<>();
    List<Integer> posOf = new ArrayList<>();
    for (int i = 0; i < requested.size(); i++) {
      FeatureRef ref = requested.get(i);
      String field = "features[" + i + "]";
      if (ref == null) {
        throw ScorelineException.userError(field, field + " is null");
      }
      FeatureView v;
      try {
        v = registry.view(ref.view());
      } catch (ScorelineException e) {
        throw new ScorelineException(
            e.code(), field, field + " '" + ref + "': " + e.getMessage(), null);
      }
      if (!v.online()) {
        throw ScorelineException.userError(
            field,
            field
                + " '"
                + ref
                + "': feature view '"
                + v.name()
                + "' is offline only (online: false); set online: true and materialize it");
      }
      if (ref.feature().equals("*")) {
        for (int p = 0; p < v.features().size(); p++) {
          refs.add(new FeatureRef(v.name(), v.features().get(p).name()));
          viewOf.add(v);
          posOf.add(p);
        }
        continue;
      }
      int p = v.indexOf(ref.feature());
      if (p < 0) {
        List<String> names = new ArrayList<>();
        for (Feature f : v.features()) {
          names.add(f.name());
        }
        throw new ScorelineException(
            ErrorCode.NOT_FOUND,
            field,
            field
                + ": feature view '"
                + v.name()
                + "' has no feature '"
                + ref.feature()
                + "'; it has "
                + names,
            null);
      }
      refs.add(ref);
      viewOf.add(v);
      posOf.add(p);
    }

    // 2. group: entity -> view -> position -> columns
    int n = refs.size();
    ValueType[] types = new ValueType[n];
    String[] names = new String[n];
    int[] viewSlotOfFeature = new int[n];
    Map<String, Map<String, TreeMap<Integer, List<Integer>>>> byEntity = new LinkedHashMap<>();
    Map<String, Integer> viewSlots = new HashMap<>();
    Map<String, List<Integer>> columnsOfEntity = new HashMap<>();
    Map<String, String> exampleOfEntity = new HashMap<>();
    for (int f = 0; f < n; f++) {
      FeatureView v = viewOf.get(f);
      int pos = posOf.get(f);
      types[f] = v.features().get(pos).type();
      names[f] = refs.get(f).toString();
      Integer slot = viewSlots.get(v.name());
      if (slot == null) {
        slot = viewSlots.size();
        viewSlots.put(v.name(), slot);
      }
      viewSlotOfFeature[f] = slot;
      byEntity
          .computeIfAbsent(v.entity(), e -> new LinkedHashMap<>())
          .computeIfAbsent(v.name(), x -> new TreeMap<>())
          .computeIfAbsent(pos, x -> new ArrayList<>())
          .add(f);
      columnsOfEntity.computeIfAbsent(v.entity(), e -> new ArrayList<>()).add(f);
      exampleOfEntity.putIfAbsent(v.entity(), names[f]);
    }

    ReadPlan.EntityRead[] entities = new ReadPlan.EntityRead[byEntity.size()];
    int ei = 0;
    for (Map.Entry<String, Map<String, TreeMap<Integer, List<Integer>>>> e : byEntity.entrySet()) {
      Entity entity = registry.entity(e.getKey());
      ReadPlan.ViewRead[] views = new ReadPlan.ViewRead[e.getValue().size()];
      int vi = 0;
      for (Map.Entry<String, TreeMap<Integer, List<Integer>>> ve : e.getValue().entrySet()) {
        FeatureView v = registry.view(ve.getKey());
        TreeMap<Integer, List<Integer>> positions = ve.getValue();
        int[] pos = new int[positions.size()];
        byte[] tags = new byte[positions.size()];
        int[][] cols = new int[positions.size()][];
        int k = 0;
        for (Map.Entry<Integer, List<Integer>> pe : positions.entrySet()) {
          pos[k] = pe.getKey();
          tags[k] = TypeTags.of(v.features().get(pe.getKey()).type());
          cols[k] = toArray(pe.getValue());
          k++;
        }
        long ttl = v.ttl() == null ? -1 : ttlMicros(v);
        views[vi++] =
            new ReadPlan.ViewRead(v.name(), viewSlots.get(v.name()), ttl, pos, tags, cols);
      }
      entities[ei++] =
          new ReadPlan.EntityRead(
              entity.name(),
              namespace(entity.name()),
              entity.keys().toArray(new KeyColumn[0]),
              views,
              toArray(columnsOfEntity.get(e.getKey())),
              exampleOfEntity.get(e.getKey()));
    }
    return new ReadPlan(
        List.copyOf(refs), List.of(names), types, viewSlotOfFeature, viewSlots.size(), entities);
  }

  private static long ttlMicros(FeatureView v) {
    try {
      return Math.multiplyExact(v.ttl().getSeconds(), 1_000_000L) + v.ttl().getNano() / 1000;
    } catch (ArithmeticException e) {
      return Long.MAX_VALUE;
    }
  }

  private static int[] toArray(List<Integer> list) {
    int[] a = new int[list.size()];
    for (int i = 0; i < a.length; i++) {
      a[i] = list.get(i);
    }
    return a;
  }

  // ================================================================ write

  /**
   * Writes rows of a view (the in-process push API, also used by materialization): each row's key
   * values are Java values in key-column order ({@code Long} / {@code String}), its values are in
   * the view's feature order with the Java types of {@link ValueType} (null = missing). Rows are
   * merged last-write-wins with stamp (event time, created time or else arrival time).
   *
   * @return how many rows were applied (the others were older than what is stored)
   * @throws ScorelineException NOT_FOUND for an unknown view; USER_ERROR naming the row index and
   *     column for an invalid row (nothing is written then)
   */
  public int write(String view, List<FeatureRow> rows) {
    return write(prepare(view, rows));
  }

  /**
   * Rows of one view validated and encoded for the store by {@link #prepare}, written by {@link
   * #write(PreparedWrite)}: so a caller can encode the next batch on its own thread while another
   * thread writes the previous one (materialization does).
   */
  public static final class PreparedWrite {
    private final String namespace;
    private final List<FieldWrite> writes;

    private PreparedWrite(String namespace, List<FieldWrite> writes) {
      this.namespace = namespace;
      this.writes = writes;
    }

    /** How many rows it holds. */
    public int size() {
      return writes.size();
    }
  }

  /**
   * The first half of {@link #write(String, List)}: validates and encodes the rows, stamping those
   * without a created time with the arrival time (the clock now); writes nothing.
   *
   * @throws ScorelineException as {@link #write(String, List)}
   */
  public PreparedWrite prepare(String view, List<FeatureRow> rows) {
    requireNonNull(view, "view is null");
    requireNonNull(rows, "rows is null");
    FeatureView v = onlineView(view);
    return encodeRows(v, rows, Times.micros(clock.instant()));
  }

  /**
   * The second half of {@link #write(String, List)}: merges prepared rows last-write-wins.
   *
   * @return how many rows were applied (the others were older than what is stored)
   */
  public int write(PreparedWrite prepared) {
    requireNonNull(prepared, "prepared is null");
    if (prepared.writes.isEmpty()) {
      return 0;
    }
    return store.mergeRecords(prepared.namespace, prepared.writes);
  }

  private int writeRows(FeatureView v, List<FeatureRow> rows, long arrivalMicros) {
    return write(encodeRows(v, rows, arrivalMicros));
  }

  private PreparedWrite encodeRows(FeatureView v, List<FeatureRow> rows, long arrivalMicros) {
    Entity entity = registry.entity(v.entity());
    String namespace = namespace(entity.name());
    if (rows.isEmpty()) {
      return new PreparedWrite(namespace, List.of());
    }
    List<FieldWrite> writes = new ArrayList<>(rows.size());
    Bytes.Writer w = new Bytes.Writer(256);
    for (int i = 0; i < rows.size(); i++) {
      FeatureRow row = rows.get(i);
      String field = "rows[" + i + "]";
      if (row == null) {
        throw ScorelineException.userError(field, field + " is null");
      }
      byte[] key = EntityKeys.encode(entity, row.key(), field);
      if (row.eventTime() == null) {
        throw ScorelineException.userError(
            field + "." + v.timestampColumn(),
            field
                + " has no event time (column '"
                + v.timestampColumn()
                + "' of view '"
                + v.name()
                + "'); every row needs one");
      }
      long event = micros(row.eventTime(), field + "." + v.timestampColumn());
      long created =
          row.createdTime() == null
              ? arrivalMicros
              : micros(row.createdTime(), field + "." + createdName(v));
      ViewCodec.encode(w, v, event, created, row.values(), field);
      writes.add(new FieldWrite(key, v.name(), w.toByteArray()));
    }
    return new PreparedWrite(namespace, writes);
  }

  private static String createdName(FeatureView v) {
    return v.createdTimestampColumn() == null ? "createdTime" : v.createdTimestampColumn();
  }

  private static long micros(Instant t, String field) {
    try {
      return Times.micros(t);
    } catch (ArithmeticException e) {
      throw ScorelineException.userError(
          field, field + ": " + t + " is out of the supported range of microsecond timestamps");
    }
  }

  private FeatureView onlineView(String name) {
    FeatureView v = registry.view(name);
    if (!v.online()) {
      throw ScorelineException.userError(
          "view",
          "feature view '"
              + name
              + "' is offline only (online: false); set online: true to write it online");
    }
    return v;
  }

  // ================================================================ push

  /**
   * Writes rows given as JSON-like maps (the push API): the entity's key columns, the view's
   * timestamp column (ISO-8601 string, or integer epoch milliseconds), optionally its created
   * timestamp column, and features by name (a missing feature is written as null). Values are
   * converted from JSON types to the feature types; see {@link JsonValues}.
   *
   * <p>With {@link Options#appendPushesToOfflineLog()}, the rows are then appended to {@code
   * <project>/data/pushed/<view>/<yyyy-MM-dd>.jsonl}: one JSON object per row with the key columns,
   * the timestamp column (ISO-8601), the created column when the view has one (the created or
   * arrival time used online, so a later materialization of the log reproduces the stamp) and the
   * features (bytes as base64). The online write comes first; the two are not atomic, and a retried
   * push is harmless (last-write-wins).
   *
   * @return how many rows were applied online
   * @throws ScorelineException NOT_FOUND for an unknown view; USER_ERROR naming the row index and
   *     column for an unknown column (listing the valid ones), a missing key or timestamp, or a
   *     value that does not convert
   */
  public int pushRows(String view, List<Map<String, Object>> rows) {
    return pushRows(view, rows, options.appendPushesToOfflineLog());
  }

  /**
   * {@link #pushRows(String, List)}, choosing per call whether the rows are also appended to the
   * offline log (a push API's {@code "to": "online_and_offline"}), whatever {@link
   * Options#appendPushesToOfflineLog()} says.
   */
  public int pushRows(String view, List<Map<String, Object>> rows, boolean appendToOfflineLog) {
    requireNonNull(view, "view is null");
    requireNonNull(rows, "rows is null");
    FeatureView v = onlineView(view);
    Entity entity = registry.entity(v.entity());
    Map<String, Integer> columns = pushColumns.computeIfAbsent(v.name(), x -> pushColumnsOf(v));
    int nKeys = entity.keys().size();
    int nFeatures = v.features().size();
    long arrival = Times.micros(clock.instant());
    List<FeatureRow> converted = new ArrayList<>(rows.size());
    for (int i = 0; i < rows.size(); i++) {
      Map<String, Object> row = rows.get(i);
      String prefix = "rows[" + i + "]";
      if (row == null) {
        throw ScorelineException.userError(prefix, prefix + " is null; send an object");
      }
      Object[] key = new Object[nKeys];
      Object[] values = new Object[nFeatures];
      Instant event = null;
      Instant created = null;
      for (Map.Entry<String, Object> e : row.entrySet()) {
        String name = e.getKey();
        Integer idx = columns.get(name);
        String field = prefix + "." + name;
        if (idx == null) {
          throw unknownColumn(v, columns, field, name);
        }
        Object raw = e.getValue();
        if (idx >= 0) {
          values[idx] =
              JsonValues.convert(
                  v.features().get(idx).type(),
                  raw,
                  field,
                  "feature '" + name + "' of view '" + v.name() + "'");
        } else if (idx == TIMESTAMP_COLUMN) {
          event =
              JsonValues.toInstant(
                  raw, field, "timestamp column '" + name + "' of view " + v.name());
        } else if (idx == CREATED_COLUMN) {
          created =
              JsonValues.toInstant(
                  raw, field, "created timestamp column '" + name + "' of view " + v.name());
        } else {
          int k = FIRST_KEY_COLUMN - idx;
          KeyColumn col = entity.keys().get(k);
          if (raw == null) {
            throw missingKey(prefix, entity, col, true);
          }
          key[k] = EntityKeys.fromJson(entity.name(), col, raw, field);
        }
      }
      for (int k = 0; k < nKeys; k++) {
        if (key[k] == null) {
          throw missingKey(prefix, entity, entity.keys().get(k), false);
        }
      }
      if (event == null) {
        throw ScorelineException.userError(
            prefix + "." + v.timestampColumn(),
            prefix
                + " has no '"
                + v.timestampColumn()
                + "' (the timestamp column of view '"
                + v.name()
                + "'); send an ISO-8601 string such as \"2024-05-01T12:00:00Z\" or epoch"
                + " milliseconds");
      }
      converted.add(new FeatureRow(Arrays.asList(key), event, created, values));
    }
    int applied = writeRows(v, converted, arrival);
    if (appendToOfflineLog) {
      appendPushLog(v, entity, converted, arrival);
    }
    return applied;
  }

  private static final int TIMESTAMP_COLUMN = -1;
  private static final int CREATED_COLUMN = -2;
  private static final int FIRST_KEY_COLUMN = -3;

  /**
   * Column name to: feature index (>= 0), {@link #TIMESTAMP_COLUMN}, {@link #CREATED_COLUMN}, or
   * {@code FIRST_KEY_COLUMN - k} for key column k.
   */
  private Map<String, Integer> pushColumnsOf(FeatureView v) {
    Map<String, Integer> m = new LinkedHashMap<>();
    Entity entity = registry.entity(v.entity());
    for (int k = 0; k < entity.keys().size(); k++) {
      m.put(entity.keys().get(k).name(), FIRST_KEY_COLUMN - k);
    }
    m.putIfAbsent(v.timestampColumn(), TIMESTAMP_COLUMN);
    if (v.createdTimestampColumn() != null) {
      m.putIfAbsent(v.createdTimestampColumn(), CREATED_COLUMN);
    }
    for (int f = 0; f < v.features().size(); f++) {
      m.putIfAbsent(v.features().get(f).name(), f);
    }
    return Map.copyOf(m);
  }

  private ScorelineException unknownColumn(
      FeatureView v, Map<String, Integer> columns, String field, String name) {
    List<String> valid = new ArrayList<>(columns.keySet());
    valid.sort(null);
    String near = ConfigLoader.nearest(name, valid);
    return ScorelineException.userError(
        field,
        field
            + ": view '"
            + v.name()
            + "' has no column '"
            + name
            + "'"
            + (near == null ? "" : "; did you mean '" + near + "'?")
            + " Valid columns: "
            + valid);
  }

  private static ScorelineException missingKey(
      String prefix, Entity entity, KeyColumn col, boolean isNull) {
    return ScorelineException.userError(
        prefix + "." + col.name(),
        prefix
            + (isNull ? " has a null '" : " has no '")
            + col.name()
            + "', a key column of entity '"
            + entity.name()
            + "'; every row needs all key columns "
            + keyNames(entity));
  }

  private static List<String> keyNames(Entity e) {
    List<String> out = new ArrayList<>();
    for (KeyColumn k : e.keys()) {
      out.add(k.name());
    }
    return out;
  }

  private void appendPushLog(
      FeatureView v, Entity entity, List<FeatureRow> rows, long arrivalMicros) {
    StringBuilder sb = new StringBuilder(rows.size() * 128);
    try {
      for (FeatureRow r : rows) {
        Map<String, Object> line = new LinkedHashMap<>();
        for (int k = 0; k < entity.keys().size(); k++) {
          line.put(entity.keys().get(k).name(), r.key().get(k));
        }
        line.put(v.timestampColumn(), r.eventTime().toString());
        if (v.createdTimestampColumn() != null) {
          Instant created =
              r.createdTime() != null ? r.createdTime() : Times.instant(arrivalMicros);
          line.put(v.createdTimestampColumn(), created.toString());
        }
        for (int f = 0; f < v.features().size(); f++) {
          line.put(v.features().get(f).name(), r.values()[f]);
        }
        sb.append(JSON.writeValueAsString(line)).append('\n');
      }
    } catch (IOException e) {
      throw new ScorelineException(
          ErrorCode.INTERNAL, "cannot serialize pushed rows of view '" + v.name() + "': " + e, e);
    }
    Path file = pushLogFile(v.name(), arrivalMicros);
    synchronized (pushLogLock) {
      try {
        Files.createDirectories(file.getParent());
        Files.write(
            file,
            sb.toString().getBytes(StandardCharsets.UTF_8),
            StandardOpenOption.CREATE,
            StandardOpenOption.APPEND,
            StandardOpenOption.WRITE);
      } catch (IOException e) {
        throw new ScorelineException(
            ErrorCode.INTERNAL,
            "pushed rows of view '"
                + v.name()
                + "' were written online but could not be appended to "
                + file
                + ": "
                + e
                + "; fix the directory and retry the push (it is idempotent)",
            e);
      }
    }
  }

  /** The offline log file of pushes to {@code view} arriving at {@code micros}. */
  Path pushLogFile(String view, long micros) {
    String day = Times.instant(micros).atZone(ZoneOffset.UTC).toLocalDate().toString();
    return registry
        .projectDir()
        .resolve("data")
        .resolve("pushed")
        .resolve(view)
        .resolve(day + ".jsonl");
  }
}
