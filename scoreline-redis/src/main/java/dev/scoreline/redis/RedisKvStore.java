package dev.scoreline.redis;

import static java.nio.charset.StandardCharsets.UTF_8;
import static java.util.Objects.requireNonNull;

import dev.scoreline.core.error.ErrorCode;
import dev.scoreline.core.error.ScorelineException;
import dev.scoreline.core.kv.FieldWrite;
import dev.scoreline.core.kv.KvEntry;
import dev.scoreline.core.kv.KvStore;
import dev.scoreline.redis.Scripts.Script;
import io.lettuce.core.ClientOptions;
import io.lettuce.core.KeyScanCursor;
import io.lettuce.core.KeyValue;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisCommandExecutionException;
import io.lettuce.core.RedisCommandTimeoutException;
import io.lettuce.core.RedisException;
import io.lettuce.core.RedisFuture;
import io.lettuce.core.RedisNoScriptException;
import io.lettuce.core.RedisURI;
import io.lettuce.core.ScanArgs;
import io.lettuce.core.ScanCursor;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.async.RedisAsyncCommands;
import io.lettuce.core.codec.ByteArrayCodec;
import io.lettuce.core.metrics.CommandLatencyRecorder;
import io.lettuce.core.output.CommandOutput;
import io.lettuce.core.protocol.CommandArgs;
import io.lettuce.core.protocol.CommandType;
import io.lettuce.core.protocol.CompleteableCommand;
import io.lettuce.core.protocol.ProtocolKeyword;
import io.lettuce.core.protocol.RedisCommand;
import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.resource.DefaultClientResources;
import io.netty.buffer.ByteBuf;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;
import java.util.function.BiConsumer;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import redis.clients.jedis.Protocol;
import redis.clients.jedis.exceptions.JedisDataException;

/**
 * {@link KvStore} on Redis, for several servers sharing state. Reads ({@link #multiGet}, {@link
 * #multiGetRecords}) go over pooled blocking connections on the caller's thread ({@link
 * BlockingReads}, docs/decisions/004-redis-blocking-reads.md) where the URI allows it; what follows
 * describes the Lettuce connection (thread-safe, binary-safe {@link ByteArrayCodec}) that carries
 * every other call, and the reads of the other URIs. A call issues all its commands asynchronously,
 * without waiting for replies, then awaits the replies together: a batched call is one pipelined
 * round trip. Lettuce reconnects on its own after a dropped connection; commands issued meanwhile
 * wait in its buffer and go out after the reconnect. A call fails with {@code UNAVAILABLE} when its
 * replies are not in within the URI's timeout (60 s unless {@code ?timeout=} says otherwise); the
 * store enforces that deadline itself, per call, rather than with Lettuce's per-command timers.
 *
 * <p>Auto-flush stays on (Lettuce flushes each command as it is issued). Turning it off to send a
 * batch in one write was tried: a command whose write fails because the connection drops goes back
 * into Lettuce's command buffer and is not sent after the reconnect until someone flushes again, so
 * the call hung until its timeout; and no gain could be measured on a loaded 2-core machine. {@link
 * #multiGetRecords} hands all its commands to Lettuce in one {@code dispatch} of the whole list
 * (one flush at the end of the list, so the reconnect behaviour above is unchanged).
 *
 * <p><b>The Lettuce record read path</b> ({@link #multiGetRecords} where {@link BlockingReads} is
 * not used) is tuned for one call of a few hundred keys: each {@code HGETALL} is a small {@link
 * RedisCommand} of this class, not Lettuce's {@code AsyncCommand} (a {@code CompletableFuture} per
 * key); the replies are decoded straight into the record maps (field names, the feature views,
 * decoded once and reused); the last reply completes one future, so the caller wakes up once per
 * call. The client has its own Lettuce resources with command latency recording off (Lettuce
 * records a histogram entry per command otherwise), closed with the store.
 *
 * <p><b>Key layout</b> (format version 1, specified in the package documentation): {@code
 * sl1:d:<namespace> 0x00 <key>} for plain values (Redis strings) and records (Redis hashes, one
 * field per feature view, value = 16-byte stamp + payload); {@code sl1:s:<name>} for the list of
 * published snapshots of a name, newest first. Namespaces and names are non-empty, well-formed
 * UTF-8 without U+0000; snapshot ids also may not contain {@code @}.
 *
 * <p><b>Commands</b>: {@link #multiGet} is {@code MGET} ({@value #CHUNK} keys a command), {@link
 * #putAll} {@code MSET}, {@link #deleteAll} {@code UNLINK}, {@link #multiGetRecords} one {@code
 * HGETALL} a key, {@link #mergeRecords} one {@code EVALSHA} of a Lua script a record key (all its
 * fields, atomic), the snapshot calls one script each on the snapshot list. {@link #dropNamespace}
 * and the data of dropped snapshots are deleted with {@code SCAN MATCH} + {@code UNLINK}: it walks
 * the whole keyspace of the database, so its cost grows with the database, not the namespace;
 * nothing on the read or write path scans.
 */
public final class RedisKvStore implements KvStore {
  private static final Logger log = LoggerFactory.getLogger(RedisKvStore.class);

  /** Keys (or entries, while under {@link #CHUNK_BYTES}) per MGET, MSET or UNLINK command. */
  static final int CHUNK = 512;

  /** Bytes of keys and values per MSET before a new command starts. */
  static final int CHUNK_BYTES = 4 << 20;

  /** Keys per SCAN step ({@code COUNT}). */
  static final int SCAN_COUNT = 2048;

  private final ClientResources resources;
  private final RedisClient client;
  private final StatefulRedisConnection<byte[], byte[]> connection;
  private final RedisAsyncCommands<byte[], byte[]> redis;
  private final String server;
  private final Duration timeout;
  private final AtomicBoolean closed = new AtomicBoolean();
  private final FieldNames fieldNames = new FieldNames();

  /** The read path of {@link #multiGet} and {@link #multiGetRecords}, or null: through Lettuce. */
  private final BlockingReads reads;

  private RedisKvStore(
      ClientResources resources,
      RedisClient client,
      StatefulRedisConnection<byte[], byte[]> connection,
      BlockingReads reads,
      String server,
      Duration timeout) {
    this.resources = requireNonNull(resources, "resources is null");
    this.reads = reads;
    this.client = requireNonNull(client, "client is null");
    this.connection = requireNonNull(connection, "connection is null");
    this.redis = connection.async();
    this.server = requireNonNull(server, "server is null");
    this.timeout = requireNonNull(timeout, "timeout is null");
  }

  /**
   * Connects to Redis at {@code uri}, such as {@code redis://127.0.0.1:6379/0} (Lettuce URI syntax:
   * {@code rediss://} for TLS, {@code redis://:password@host:port/db}, {@code ?timeout=5s}), and
   * loads the Lua scripts.
   *
   * @throws ScorelineException {@code USER_ERROR} for a malformed URI, {@code UNAVAILABLE} when
   *     Redis cannot be reached
   */
  public static RedisKvStore connect(String uri) {
    return connect(uri, true);
  }

  /**
   * {@link #connect(String)}, with reads on pooled blocking connections ({@link BlockingReads})
   * where the URI allows it and {@code blockingReads} is set, else through Lettuce like every other
   * command (tests run the contract both ways).
   */
  static RedisKvStore connect(String uri, boolean blockingReads) {
    requireNonNull(uri, "uri is null");
    RedisURI redisUri;
    try {
      redisUri = RedisURI.create(uri);
    } catch (RuntimeException e) {
      throw new ScorelineException(
          ErrorCode.USER_ERROR,
          "uri",
          "malformed Redis URI (" + e.getMessage() + "); expected redis://host:port/db",
          e);
    }
    String server = describe(redisUri);
    // Lettuce's per-command latency histograms (on by default when HdrHistogram and LatencyUtils
    // are on the class path) cost a wrapper, two clock reads and a histogram update per command;
    // Scoreline does not read them
    ClientResources resources =
        DefaultClientResources.builder()
            .commandLatencyRecorder(CommandLatencyRecorder.disabled())
            .build();
    RedisClient client = RedisClient.create(resources, redisUri);
    client.setOptions(
        ClientOptions.builder()
            .autoReconnect(true)
            // each call enforces its own deadline (Pipeline, RecordBatch); Lettuce's per-command
            // timers (on by default) would schedule and cancel a timer task per command
            .timeoutOptions(TimeoutOptions.builder().timeoutCommands(false).build())
            .useHashIndexQueue(false)
            .build());
    StatefulRedisConnection<byte[], byte[]> connection;
    try {
      connection = client.connect(ByteArrayCodec.INSTANCE);
    } catch (RuntimeException e) {
      client.shutdown();
      resources.shutdown();
      throw new ScorelineException(
          ErrorCode.UNAVAILABLE,
          "cannot connect to Redis at "
              + server
              + " ("
              + e.getMessage()
              + "); check that redis-server runs there and the URI is right",
          e);
    }
    BlockingReads reads =
        blockingReads && BlockingReads.supports(redisUri)
            ? new BlockingReads(redisUri, server)
            : null;
    RedisKvStore store =
        new RedisKvStore(resources, client, connection, reads, server, redisUri.getTimeout());
    try {
      store.loadScripts();
    } catch (RuntimeException e) {
      store.close();
      throw e;
    }
    log.info("connected to Redis at {}", server);
    return store;
  }

  @Override
  public String kind() {
    return "redis";
  }

  @Override
  public List<byte[]> multiGet(String namespace, List<byte[]> keys) {
    byte[] prefix = Keys.dataPrefix(namespace);
    requireNonNull(keys, "keys is null");
    if (keys.isEmpty()) {
      return List.of();
    }
    ensureOpen();
    List<byte[][]> chunks = new ArrayList<>(keys.size() / CHUNK + 1);
    for (int from = 0; from < keys.size(); from += CHUNK) {
      int to = Math.min(keys.size(), from + CHUNK);
      byte[][] chunk = new byte[to - from][];
      for (int i = from; i < to; i++) {
        chunk[i - from] = Keys.dataKey(prefix, requireNonNull(keys.get(i), "key is null"));
      }
      chunks.add(chunk);
    }
    byte[][] values = new byte[keys.size()][];
    if (reads != null) {
      List<Object> replies =
          reads.roundTrip(
              "MGET",
              chunks.size(),
              c -> chunks.forEach(chunk -> c.sendCommand(Protocol.Command.MGET, chunk)));
      int i = 0;
      for (Object reply : replies) {
        for (Object value : (List<?>) settled("MGET", reply)) {
          values[i++] = (byte[]) value;
        }
      }
      return Collections.unmodifiableList(Arrays.asList(values));
    }
    Pipeline<List<KeyValue<byte[], byte[]>>> pipeline = new Pipeline<>("MGET");
    chunks.forEach(chunk -> pipeline.add(redis.mget(chunk)));
    int i = 0;
    for (List<KeyValue<byte[], byte[]>> chunk : pipeline.await()) {
      for (KeyValue<byte[], byte[]> kv : chunk) {
        values[i++] = kv.getValueOrElse(null);
      }
    }
    return Collections.unmodifiableList(Arrays.asList(values));
  }

  @Override
  public void putAll(String namespace, List<KvEntry> entries) {
    byte[] prefix = Keys.dataPrefix(namespace);
    requireNonNull(entries, "entries is null");
    if (entries.isEmpty()) {
      return;
    }
    ensureOpen();
    Pipeline<String> pipeline = new Pipeline<>("MSET");
    // identity-keyed (byte[]), insertion-ordered: MSET applies duplicates in order, last wins
    Map<byte[], byte[]> chunk = new LinkedHashMap<>();
    long chunkBytes = 0;
    for (KvEntry entry : entries) {
      requireNonNull(entry, "entry is null");
      chunk.put(Keys.dataKey(prefix, entry.key()), entry.value());
      chunkBytes += prefix.length + entry.key().length + entry.value().length;
      if (chunk.size() == CHUNK || chunkBytes >= CHUNK_BYTES) {
        pipeline.add(redis.mset(chunk));
        chunk = new LinkedHashMap<>();
        chunkBytes = 0;
      }
    }
    if (!chunk.isEmpty()) {
      pipeline.add(redis.mset(chunk));
    }
    pipeline.await();
  }

  @Override
  public void deleteAll(String namespace, List<byte[]> keys) {
    byte[] prefix = Keys.dataPrefix(namespace);
    requireNonNull(keys, "keys is null");
    if (keys.isEmpty()) {
      return;
    }
    ensureOpen();
    Pipeline<Long> pipeline = new Pipeline<>("UNLINK");
    for (int from = 0; from < keys.size(); from += CHUNK) {
      int to = Math.min(keys.size(), from + CHUNK);
      byte[][] chunk = new byte[to - from][];
      for (int i = from; i < to; i++) {
        chunk[i - from] = Keys.dataKey(prefix, requireNonNull(keys.get(i), "key is null"));
      }
      pipeline.add(redis.unlink(chunk));
    }
    pipeline.await();
  }

  @Override
  public void dropNamespace(String namespace) {
    byte[] prefix = Keys.dataPrefix(namespace);
    ensureOpen();
    deleteByPrefix(prefix);
  }

  @Override
  public List<Map<String, byte[]>> multiGetRecords(String namespace, List<byte[]> keys) {
    byte[] prefix = Keys.dataPrefix(namespace);
    requireNonNull(keys, "keys is null");
    if (keys.isEmpty()) {
      return List.of();
    }
    ensureOpen();
    if (reads != null) {
      byte[][] dataKeys = new byte[keys.size()][];
      for (int i = 0; i < dataKeys.length; i++) {
        dataKeys[i] = Keys.dataKey(prefix, requireNonNull(keys.get(i), "key is null"));
      }
      List<Object> replies =
          reads.roundTrip(
              "HGETALL",
              dataKeys.length,
              c -> {
                for (byte[] key : dataKeys) {
                  c.sendCommand(Protocol.Command.HGETALL, key);
                }
              });
      @SuppressWarnings("unchecked")
      Map<String, byte[]>[] records = new Map[dataKeys.length];
      for (int i = 0; i < records.length; i++) {
        records[i] = record((List<?>) settled("HGETALL", replies.get(i)));
      }
      return Collections.unmodifiableList(Arrays.asList(records));
    }
    RecordBatch batch = new RecordBatch(keys.size());
    List<RecordRead> commands = new ArrayList<>(keys.size());
    for (int i = 0; i < keys.size(); i++) {
      byte[] key = Keys.dataKey(prefix, requireNonNull(keys.get(i), "key is null"));
      commands.add(new RecordRead(batch, i, key, fieldNames));
    }
    connection.dispatch(commands);
    batch.await(commands);
    return Collections.unmodifiableList(Arrays.asList(batch.records));
  }

  /** A reply of {@link BlockingReads#roundTrip}, or the error Redis answered thrown. */
  private Object settled(String op, Object reply) {
    if (reply instanceof JedisDataException e) {
      throw failure(op, e);
    }
    return reply;
  }

  /** An {@code HGETALL} reply (field, value, field, value, ...) as a record; empty when absent. */
  private Map<String, byte[]> record(List<?> reply) {
    if (reply.isEmpty()) {
      return Map.of();
    }
    Map<String, byte[]> record = new HashMap<>(reply.size());
    for (int j = 0; j + 1 < reply.size(); j += 2) {
      record.put(fieldNames.name((byte[]) reply.get(j)), (byte[]) reply.get(j + 1));
    }
    return Collections.unmodifiableMap(record);
  }

  /**
   * The {@code HGETALL}s of one {@link #multiGetRecords} call: a count of outstanding replies and
   * one future that completes when the last one is in, so the caller parks and wakes up once per
   * call.
   */
  private final class RecordBatch {
    final Map<String, byte[]>[] records;
    final AtomicInteger pending;
    final CompletableFuture<Void> done = new CompletableFuture<>();
    volatile Throwable failure;

    @SuppressWarnings("unchecked")
    RecordBatch(int size) {
      records = new Map[size];
      pending = new AtomicInteger(size);
    }

    /** Called once per command, by whichever thread completes, fails or cancels it. */
    void settled(int index, Map<String, byte[]> record, Throwable t) {
      if (t != null) {
        if (failure == null) {
          failure = t;
        }
      } else {
        records[index] = record;
      }
      if (pending.decrementAndGet() == 0) {
        done.complete(null);
      }
    }

    void await(List<RecordRead> commands) {
      try {
        done.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
      } catch (TimeoutException e) {
        cancel(commands);
        throw new ScorelineException(
            ErrorCode.UNAVAILABLE,
            "HGETALL on Redis at " + server + " got no reply within " + timeout + "; is it up?",
            e);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        cancel(commands);
        throw new ScorelineException(
            ErrorCode.UNAVAILABLE, "HGETALL on Redis at " + server + " was interrupted", e);
      } catch (ExecutionException e) {
        throw failure("HGETALL", e.getCause()); // never completed exceptionally; defensive
      }
      Throwable t = failure;
      if (t != null) {
        throw failure("HGETALL", t);
      }
    }

    private void cancel(List<RecordRead> commands) {
      for (RecordRead command : commands) {
        command.cancel();
      }
    }
  }

  /**
   * One {@code HGETALL} of a {@link RecordBatch}: a plain {@link RedisCommand} rather than
   * Lettuce's {@code AsyncCommand} (a {@code CompletableFuture} per key, completed and awaited one
   * by one), encoded straight into Lettuce's buffer. Lettuce completes, fails or cancels it exactly
   * as any command (also when it re-sends it after a reconnect); the first of these settles it.
   */
  private static final class RecordRead
      implements RedisCommand<byte[], byte[], Map<String, byte[]>>,
          CompleteableCommand<Map<String, byte[]>> {
    private static final byte[] HEAD = "*2\r\n$7\r\nHGETALL\r\n$".getBytes(UTF_8);
    private static final byte[] CRLF = {'\r', '\n'};
    private static final int PENDING = 0;
    private static final int COMPLETED = 1;
    private static final int FAILED = 2;
    private static final int CANCELLED = 3;
    private static final AtomicIntegerFieldUpdater<RecordRead> STATE =
        AtomicIntegerFieldUpdater.newUpdater(RecordRead.class, "state");

    private final RecordBatch batch;
    private final int index;
    private final byte[] key;
    private CommandOutput<byte[], byte[], Map<String, byte[]>> output;
    private volatile int state;
    private List<BiConsumer<? super Map<String, byte[]>, Throwable>> callbacks; // guarded by this

    RecordRead(RecordBatch batch, int index, byte[] key, FieldNames names) {
      this.batch = batch;
      this.index = index;
      this.key = key;
      this.output = new RecordOutput(names);
    }

    @Override
    public CommandOutput<byte[], byte[], Map<String, byte[]>> getOutput() {
      return output;
    }

    @Override
    public void setOutput(CommandOutput<byte[], byte[], Map<String, byte[]>> output) {
      this.output = output;
    }

    @Override
    public void complete() {
      if (!STATE.compareAndSet(this, PENDING, COMPLETED)) {
        return;
      }
      CommandOutput<byte[], byte[], Map<String, byte[]>> out = output;
      if (out.hasError()) {
        settle(null, new RedisCommandExecutionException(out.getError()));
      } else {
        settle(out.get(), null);
      }
    }

    @Override
    public boolean completeExceptionally(Throwable throwable) {
      if (!STATE.compareAndSet(this, PENDING, FAILED)) {
        return false;
      }
      settle(null, throwable);
      return true;
    }

    @Override
    public void cancel() {
      if (STATE.compareAndSet(this, PENDING, CANCELLED)) {
        settle(null, new CancellationException("HGETALL cancelled"));
      }
    }

    private void settle(Map<String, byte[]> record, Throwable t) {
      batch.settled(index, record, t);
      List<BiConsumer<? super Map<String, byte[]>, Throwable>> toRun;
      synchronized (this) {
        toRun = callbacks;
        callbacks = null;
      }
      if (toRun != null) {
        for (BiConsumer<? super Map<String, byte[]>, Throwable> callback : toRun) {
          callback.accept(record, t);
        }
      }
    }

    @Override
    public void onComplete(Consumer<? super Map<String, byte[]>> action) {
      onComplete(
          (record, t) -> {
            if (t == null) {
              action.accept(record);
            }
          });
    }

    /** Runs {@code action} when the command settles (now, if it has); Lettuce's hook. */
    @Override
    public void onComplete(BiConsumer<? super Map<String, byte[]>, Throwable> action) {
      synchronized (this) {
        if (state == PENDING) {
          if (callbacks == null) {
            callbacks = new ArrayList<>(2);
          }
          callbacks.add(action);
          return;
        }
      }
      Throwable t = state == COMPLETED && !output.hasError() ? null : new CancellationException();
      action.accept(t == null ? output.get() : null, t);
    }

    @Override
    public boolean isCancelled() {
      return state == CANCELLED;
    }

    @Override
    public boolean isDone() {
      return state != PENDING;
    }

    @Override
    public CommandArgs<byte[], byte[]> getArgs() {
      return new CommandArgs<>(ByteArrayCodec.INSTANCE).addKey(key);
    }

    @Override
    public ProtocolKeyword getType() {
      return CommandType.HGETALL;
    }

    @Override
    public void encode(ByteBuf buf) {
      buf.writeBytes(HEAD);
      buf.writeCharSequence(Integer.toString(key.length), StandardCharsets.US_ASCII);
      buf.writeBytes(CRLF);
      buf.writeBytes(key);
      buf.writeBytes(CRLF);
    }

    @Override
    public String toString() {
      return "RecordRead[HGETALL, state=" + state + "]";
    }
  }

  /**
   * Record field names (feature view names) decoded from UTF-8 once and then reused: the read path
   * sees the same few names in every record. Copy-on-write, so replies decoded on any thread share
   * it safely; bounded, names beyond {@link #MAX} are decoded each time.
   */
  static final class FieldNames {
    static final int MAX = 64;
    private volatile byte[][] bytes = new byte[0][];
    private volatile String[] names = new String[0];

    String name(byte[] field) {
      byte[][] b = bytes;
      String[] n = names;
      for (int i = 0; i < b.length && i < n.length; i++) {
        if (Arrays.equals(b[i], field)) {
          return n[i];
        }
      }
      String name = new String(field, UTF_8);
      add(field.clone(), name);
      return name;
    }

    String name(ByteBuffer buffer) {
      byte[][] b = bytes;
      String[] n = names;
      int length = buffer.remaining();
      int at = buffer.position();
      for (int i = 0; i < b.length && i < n.length; i++) {
        byte[] candidate = b[i];
        if (candidate.length == length && equalsAt(buffer, at, candidate)) {
          return n[i];
        }
      }
      byte[] copy = new byte[length];
      buffer.get(at, copy);
      String name = new String(copy, UTF_8);
      add(copy, name);
      return name;
    }

    private static boolean equalsAt(ByteBuffer buffer, int at, byte[] candidate) {
      for (int j = 0; j < candidate.length; j++) {
        if (buffer.get(at + j) != candidate[j]) {
          return false;
        }
      }
      return true;
    }

    private synchronized void add(byte[] b, String name) {
      byte[][] oldBytes = bytes;
      if (oldBytes.length >= MAX) {
        return;
      }
      for (byte[] existing : oldBytes) {
        if (Arrays.equals(existing, b)) {
          return;
        }
      }
      byte[][] newBytes = Arrays.copyOf(oldBytes, oldBytes.length + 1);
      String[] newNames = Arrays.copyOf(names, oldBytes.length + 1);
      newBytes[oldBytes.length] = b;
      newNames[oldBytes.length] = name;
      names = newNames; // names first: a reader that sees the new bytes sees the new names
      bytes = newBytes;
    }
  }

  /**
   * An {@code HGETALL} reply decoded into an unmodifiable-by-contract map of field name (UTF-8) to
   * value bytes; an absent key gives an empty map.
   */
  static final class RecordOutput extends CommandOutput<byte[], byte[], Map<String, byte[]>> {
    private final FieldNames names;
    private String field;

    RecordOutput(FieldNames names) {
      super(ByteArrayCodec.INSTANCE, Map.of());
      this.names = names;
    }

    @Override
    public void set(ByteBuffer bytes) {
      if (field == null) {
        field = bytes == null ? "" : names.name(bytes);
        return;
      }
      byte[] value = null;
      if (bytes != null) {
        value = new byte[bytes.remaining()];
        bytes.get(value);
      }
      if (output.isEmpty()) {
        output = new HashMap<>(8);
      }
      output.put(field, value);
      field = null;
    }

    @Override
    public Map<String, byte[]> get() {
      return output.isEmpty() ? Map.of() : Collections.unmodifiableMap(output);
    }
  }

  @Override
  public int mergeRecords(String namespace, List<FieldWrite> writes) {
    byte[] prefix = Keys.dataPrefix(namespace);
    requireNonNull(writes, "writes is null");
    if (writes.isEmpty()) {
      return 0;
    }
    ensureOpen();
    // group by record key, keeping the writes of each key in list order
    Map<ByteBuffer, List<FieldWrite>> byKey = new LinkedHashMap<>();
    for (FieldWrite write : writes) {
      requireNonNull(write, "write is null");
      byKey.computeIfAbsent(ByteBuffer.wrap(write.key()), k -> new ArrayList<>(2)).add(write);
    }
    List<byte[][]> keys = new ArrayList<>(byKey.size());
    List<byte[][]> args = new ArrayList<>(byKey.size());
    for (List<FieldWrite> fieldWrites : byKey.values()) {
      byte[][] argv = new byte[fieldWrites.size() * 2][];
      for (int i = 0; i < fieldWrites.size(); i++) {
        FieldWrite w = fieldWrites.get(i);
        argv[2 * i] = Keys.utf8("field", w.field());
        argv[2 * i + 1] = w.value();
      }
      keys.add(new byte[][] {Keys.dataKey(prefix, fieldWrites.get(0).key())});
      args.add(argv);
    }
    long applied = 0;
    for (Object n : evalAll(Scripts.MERGE_FIELDS, ScriptOutputType.INTEGER, keys, args)) {
      applied += (Long) n;
    }
    return Math.toIntExact(applied);
  }

  @Override
  public void publish(String name, String snapshotId, int keep) {
    byte[] list = Keys.snapshotList(name);
    byte[] id = Keys.snapshotId(snapshotId);
    if (keep < 1) {
      throw ScorelineException.userError(
          "keep", "keep is " + keep + "; keep at least 1 (the snapshot being published)");
    }
    ensureOpen();
    List<?> dropped =
        (List<?>)
            eval1(
                Scripts.PUBLISH,
                ScriptOutputType.MULTI,
                list,
                id,
                Integer.toString(keep).getBytes(UTF_8));
    for (Object old : dropped) {
      String oldId = new String((byte[]) old, UTF_8);
      deleteByPrefix(Keys.dataPrefix(KvStore.snapshotNamespace(name, oldId)));
      log.debug("dropped snapshot {} of {} beyond keep={}", oldId, name, keep);
    }
  }

  @Override
  public Optional<String> currentSnapshot(String name) {
    byte[] list = Keys.snapshotList(name);
    ensureOpen();
    Pipeline<byte[]> pipeline = new Pipeline<>("LINDEX");
    pipeline.add(redis.lindex(list, 0));
    byte[] head = pipeline.await().get(0);
    return head == null ? Optional.empty() : Optional.of(new String(head, UTF_8));
  }

  @Override
  public List<String> snapshots(String name) {
    byte[] list = Keys.snapshotList(name);
    ensureOpen();
    Pipeline<List<byte[]>> pipeline = new Pipeline<>("LRANGE");
    pipeline.add(redis.lrange(list, 0, -1));
    List<byte[]> ids = pipeline.await().get(0);
    List<String> out = new ArrayList<>(ids.size());
    for (byte[] id : ids) {
      out.add(new String(id, UTF_8));
    }
    return List.copyOf(out);
  }

  @Override
  public String rollback(String name) {
    byte[] list = Keys.snapshotList(name);
    ensureOpen();
    List<?> result = (List<?>) eval1(Scripts.ROLLBACK, ScriptOutputType.MULTI, list);
    if (result.isEmpty()) {
      throw ScorelineException.userError(
          "name",
          "'"
              + name
              + "' has no previous snapshot to roll back to; publish with keep >= 2 to allow"
              + " rollback");
    }
    String gone = new String((byte[]) result.get(0), UTF_8);
    String current = new String((byte[]) result.get(1), UTF_8);
    deleteByPrefix(Keys.dataPrefix(KvStore.snapshotNamespace(name, gone)));
    log.info("rolled back {} from snapshot {} to {}", name, gone, current);
    return current;
  }

  @Override
  public void dropSnapshot(String name, String snapshotId) {
    byte[] list = Keys.snapshotList(name);
    byte[] id = Keys.snapshotId(snapshotId);
    ensureOpen();
    long removed = (Long) eval1(Scripts.UNLIST, ScriptOutputType.INTEGER, list, id);
    if (removed < 0) {
      throw ScorelineException.userError(
          "snapshotId",
          "snapshot '"
              + snapshotId
              + "' is the current snapshot of '"
              + name
              + "'; roll back or publish another one before dropping it");
    }
    deleteByPrefix(Keys.dataPrefix(KvStore.snapshotNamespace(name, snapshotId)));
  }

  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    try {
      if (reads != null) {
        reads.close();
      }
      connection.close();
    } finally {
      try {
        client.shutdown();
      } finally {
        resources.shutdown();
      }
    }
  }

  @Override
  public String toString() {
    return "RedisKvStore[" + server + "]";
  }

  // ---------------------------------------------------------------- internals

  private void ensureOpen() {
    if (closed.get()) {
      throw new ScorelineException(
          ErrorCode.UNAVAILABLE, "the Redis store " + server + " is closed");
    }
  }

  private void loadScripts() {
    Pipeline<String> pipeline = new Pipeline<>("SCRIPT LOAD");
    for (Script script : Scripts.ALL) {
      pipeline.add(redis.scriptLoad(script.source()));
    }
    List<String> shas = pipeline.await();
    for (int i = 0; i < Scripts.ALL.length; i++) {
      if (!Scripts.ALL[i].sha().equalsIgnoreCase(shas.get(i))) {
        throw new ScorelineException(
            ErrorCode.INTERNAL,
            "Redis named script " + Scripts.ALL[i].name() + " " + shas.get(i) + ", not SHA-1");
      }
    }
  }

  /** Deletes every key that starts with {@code prefix}: SCAN MATCH, UNLINK each page. */
  private void deleteByPrefix(byte[] prefix) {
    ScanArgs args = ScanArgs.Builder.matches(Keys.globPrefix(prefix)).limit(SCAN_COUNT);
    Pipeline<Long> unlinks = new Pipeline<>("UNLINK");
    ScanCursor cursor = ScanCursor.INITIAL;
    do {
      Pipeline<KeyScanCursor<byte[]>> scan = new Pipeline<>("SCAN");
      scan.add(redis.scan(cursor, args));
      KeyScanCursor<byte[]> page = scan.await().get(0);
      if (!page.getKeys().isEmpty()) {
        unlinks.add(redis.unlink(page.getKeys().toArray(new byte[0][])));
      }
      cursor = page;
    } while (!cursor.isFinished());
    unlinks.await();
  }

  /** Runs one script on one key. */
  private Object eval1(Script script, ScriptOutputType type, byte[] key, byte[]... args) {
    List<byte[][]> keys = Collections.singletonList(new byte[][] {key});
    return evalAll(script, type, keys, Collections.singletonList(args)).get(0);
  }

  /**
   * Runs {@code script} once per element of {@code keys} (with the same element of {@code args}),
   * pipelined, by EVALSHA; the calls the server answers NOSCRIPT (it did not run them) are sent
   * again as EVAL, which also caches the script there.
   */
  private List<Object> evalAll(
      Script script, ScriptOutputType type, List<byte[][]> keys, List<byte[][]> args) {
    String op = "script " + script.name();
    Pipeline<Object> pipeline = new Pipeline<>(op);
    for (int i = 0; i < keys.size(); i++) {
      pipeline.add(redis.<Object>evalsha(script.sha(), type, keys.get(i), args.get(i)));
    }
    pipeline.settle();
    List<RedisFuture<Object>> futures = pipeline.futures;
    List<Object> results = new ArrayList<>(futures.size());
    Pipeline<Object> retry = null;
    List<Integer> retried = null;
    for (int i = 0; i < futures.size(); i++) {
      RedisFuture<Object> future = futures.get(i);
      if (isNoScript(future)) {
        if (retry == null) {
          retry = new Pipeline<>(op);
          retried = new ArrayList<>();
          log.debug("Redis at {} lost script {}; sending it again", server, script.name());
        }
        retry.add(redis.<Object>eval(script.source(), type, keys.get(i), args.get(i)));
        retried.add(i);
        results.add(null);
      } else {
        results.add(pipeline.result(future));
      }
    }
    if (retry != null) {
      List<Object> again = retry.await();
      for (int j = 0; j < retried.size(); j++) {
        results.set(retried.get(j), again.get(j));
      }
    }
    return results;
  }

  private static boolean isNoScript(RedisFuture<?> future) {
    try {
      future.get(0, TimeUnit.NANOSECONDS);
      return false;
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      return cause instanceof RedisNoScriptException
          || (cause instanceof RedisCommandExecutionException
              && cause.getMessage() != null
              && cause.getMessage().startsWith("NOSCRIPT"));
    } catch (InterruptedException | TimeoutException | RuntimeException e) {
      return false;
    }
  }

  private static String describe(RedisURI uri) {
    if (uri.getSocket() != null) {
      return uri.getSocket() + "/" + uri.getDatabase();
    }
    if (uri.getSentinelMasterId() != null) {
      return "sentinel master " + uri.getSentinelMasterId() + "/" + uri.getDatabase();
    }
    return uri.getHost() + ":" + uri.getPort() + "/" + uri.getDatabase();
  }

  private ScorelineException failure(String op, Throwable t) {
    if (t instanceof ScorelineException e) {
      return e;
    }
    String at = op + " on Redis at " + server;
    if (t instanceof RedisCommandTimeoutException) {
      return new ScorelineException(
          ErrorCode.UNAVAILABLE, at + " timed out after " + timeout + "; is Redis overloaded?", t);
    }
    if (t instanceof RedisCommandExecutionException || t instanceof JedisDataException) {
      String message = String.valueOf(t.getMessage());
      if (message.startsWith("WRONGTYPE")) {
        return new ScorelineException(
            ErrorCode.USER_ERROR,
            at
                + " hit a key of the other kind (a plain value where a record is expected or"
                + " the reverse); keep plain values and records under different keys",
            t);
      }
      if (message.startsWith("OOM")) {
        return new ScorelineException(
            ErrorCode.RESOURCE_EXHAUSTED,
            at + " failed: Redis is out of memory (maxmemory); free space or raise maxmemory",
            t);
      }
      if (message.startsWith("LOADING")
          || message.startsWith("BUSY")
          || message.startsWith("READONLY")
          || message.startsWith("MASTERDOWN")
          || message.startsWith("TRYAGAIN")) {
        return new ScorelineException(
            ErrorCode.UNAVAILABLE, at + " failed: " + message + "; retry later", t);
      }
      return new ScorelineException(ErrorCode.INTERNAL, at + " failed: " + message, t);
    }
    if (t instanceof RedisException) {
      return new ScorelineException(
          ErrorCode.UNAVAILABLE, at + " failed: " + t.getMessage() + "; is Redis reachable?", t);
    }
    return new ScorelineException(ErrorCode.INTERNAL, at + " failed: " + t, t);
  }

  /**
   * The commands of one call: {@link #add} collects the futures of issued commands, {@link #await}
   * waits for every reply within the timeout, then returns the results in order or throws the first
   * failure.
   */
  private final class Pipeline<T> {
    private final String op;
    private final List<RedisFuture<T>> futures = new ArrayList<>();

    Pipeline(String op) {
      this.op = op;
    }

    void add(RedisFuture<T> future) {
      futures.add(future);
    }

    List<T> await() {
      settle();
      return results();
    }

    /**
     * Waits until every reply is in (or fails the call on timeout). One connection answers in
     * order, so the last future is awaited first: the caller wakes up once for the whole batch, not
     * once per reply that Lettuce completes while the caller is parked.
     */
    void settle() {
      long deadline = System.nanoTime() + timeout.toNanos();
      if (futures.size() > 1) {
        await(futures.get(futures.size() - 1), deadline);
      }
      for (RedisFuture<T> future : futures) {
        await(future, deadline);
      }
    }

    private void await(RedisFuture<T> future, long deadline) {
      if (future.isDone()) {
        return;
      }
      try {
        future.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
      } catch (ExecutionException e) {
        // inspected by results()
      } catch (TimeoutException e) {
        cancelAll();
        throw new ScorelineException(
            ErrorCode.UNAVAILABLE,
            op + " on Redis at " + server + " got no reply within " + timeout + "; is it up?",
            e);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        cancelAll();
        throw new ScorelineException(
            ErrorCode.UNAVAILABLE, op + " on Redis at " + server + " was interrupted", e);
      }
    }

    /** The results of settled futures in order; throws the first failure. */
    List<T> results() {
      List<T> out = new ArrayList<>(futures.size());
      for (RedisFuture<T> future : futures) {
        out.add(result(future));
      }
      return out;
    }

    /** The result of a settled future, or its failure thrown. */
    T result(RedisFuture<T> future) {
      try {
        return future.get(0, TimeUnit.NANOSECONDS);
      } catch (ExecutionException e) {
        throw failure(op, e.getCause());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw failure(op, e);
      } catch (TimeoutException e) {
        throw failure(op, e);
      }
    }

    private void cancelAll() {
      for (RedisFuture<T> future : futures) {
        future.cancel(false);
      }
    }
  }
}
