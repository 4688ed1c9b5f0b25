package dev.scoreline.stream.log;

import static java.util.Objects.requireNonNull;

import dev.scoreline.core.error.ErrorCode;
import dev.scoreline.core.error.ScorelineException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.zip.CRC32C;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A durable, append-only log of records on local disk: the embedded event source of streaming
 * surfaces, and the outbound result and dead-letter logs.
 *
 * <p><b>Format.</b> A directory of segment files {@code <base offset, 20 digits>.log}. A record is
 * a 24-byte header and the payload: {@code int32 payload length, int32 CRC32C (of everything after
 * it), int64 offset, int64 append time (epoch microseconds)}, big-endian, then the payload bytes.
 * Offsets are dense: the n-th record ever appended has offset n.
 *
 * <p><b>Durability.</b> {@link #append} returns a future that completes once the records are
 * written <em>and</em> {@code fsync}ed (group commit: one writer thread writes every batch queued
 * while the previous fsync ran, then fsyncs once for all of them). Readers see a record only once
 * it is durable, so nothing a consumer processed can vanish in a crash.
 *
 * <p><b>Recovery.</b> Opening the log checks every record of the last segment (length, CRC, offset)
 * and truncates the file at the first record that fails: a torn tail from a crash in the middle of
 * a write, which was never acknowledged. Earlier segments were fsynced before the next one was
 * created.
 *
 * <p><b>Retention.</b> {@link #deleteBefore} deletes whole segments whose records are all below an
 * offset (the consumers' committed position); the segment being written is never deleted.
 *
 * <p>Thread-safe. Owns one writer thread; {@link #close} stops it after the queued appends.
 */
public final class EventLog implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(EventLog.class);

  /** Header bytes before each payload. */
  public static final int HEADER_BYTES = 24;

  /** The largest payload accepted. */
  public static final int MAX_RECORD_BYTES = 16 << 20;

  private static final String SUFFIX = ".log";

  /**
   * Options.
   *
   * @param segmentBytes a segment is rolled once it is at least this large
   * @param fsync whether appends are fsynced before they are acknowledged (false only for tests and
   *     benchmarks of the rest of the pipeline)
   */
  public record Options(long segmentBytes, boolean fsync) {
    public Options {
      if (segmentBytes < 1024) {
        throw new IllegalArgumentException("segmentBytes must be at least 1024");
      }
    }

    public static Options defaults() {
      return new Options(64L << 20, true);
    }
  }

  private final Path dir;
  private final String name;
  private final Options options;
  private final ConcurrentSkipListMap<Long, Path> segments = new ConcurrentSkipListMap<>();
  private final LinkedBlockingQueue<Pending> queue = new LinkedBlockingQueue<>();
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition appended = lock.newCondition();
  private final Thread writer;

  // writer state (writer thread only, after construction)
  private FileChannel current;
  private long currentBase;
  private long currentSize;
  private long nextOffset;
  private ByteBuffer scratch = ByteBuffer.allocateDirect(1 << 20);
  private final CRC32C crc = new CRC32C();

  /** Offset after the last durable record: readers may read every offset below it. */
  private volatile long durableEnd;

  private volatile boolean closed;

  /** Set when a disk write failed: the log refuses appends until it is reopened (recovered). */
  private volatile ScorelineException failure;

  private record Pending(List<byte[]> payloads, long micros, CompletableFuture<Long> done) {}

  private static final Pending STOP = new Pending(List.of(), 0, null);

  private final boolean readOnly;

  private EventLog(Path dir, Options options, boolean readOnly) throws IOException {
    this.dir = dir;
    this.name = dir.getFileName() == null ? dir.toString() : dir.getFileName().toString();
    this.options = options;
    this.readOnly = readOnly;
    if (readOnly) {
      if (!Files.isDirectory(dir)) {
        throw new java.nio.file.NoSuchFileException(dir.toString());
      }
    } else {
      Files.createDirectories(dir);
    }
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, "*" + SUFFIX)) {
      for (Path p : ds) {
        String n = p.getFileName().toString();
        try {
          segments.put(Long.parseLong(n.substring(0, n.length() - SUFFIX.length())), p);
        } catch (NumberFormatException e) {
          log.warn("event log {}: ignoring {}", dir, n);
        }
      }
    }
    if (readOnly) {
      nextOffset =
          segments.isEmpty() ? 0 : recover(segments.lastKey(), segments.lastEntry().getValue());
      if (segments.isEmpty()) {
        segments.put(0L, dir.resolve(String.format("%020d%s", 0, SUFFIX)));
      }
      durableEnd = nextOffset;
      writer = null;
      return;
    }
    if (segments.isEmpty()) {
      openSegment(0);
    } else {
      Map.Entry<Long, Path> last = segments.lastEntry();
      long end = recover(last.getKey(), last.getValue());
      currentBase = last.getKey();
      current = FileChannel.open(last.getValue(), StandardOpenOption.WRITE);
      currentSize = current.size();
      current.position(currentSize);
      nextOffset = end;
    }
    durableEnd = nextOffset;
    writer = new Thread(this::writeLoop, "scoreline-log-" + name);
    writer.setDaemon(true);
    writer.start();
  }

  /**
   * Opens (creating it when absent) the log in {@code dir}, recovering a torn tail.
   *
   * @throws ScorelineException UNAVAILABLE when the directory cannot be read or written
   */
  public static EventLog open(Path dir, Options options) {
    requireNonNull(dir, "dir is null");
    requireNonNull(options, "options is null");
    try {
      return new EventLog(dir, options, false);
    } catch (IOException e) {
      throw new ScorelineException(
          ErrorCode.UNAVAILABLE, "cannot open the event log in " + dir + ": " + e, e);
    }
  }

  public static EventLog open(Path dir) {
    return open(dir, Options.defaults());
  }

  /**
   * Opens a log for reading only, while another process may be writing it: nothing is truncated,
   * appends fail, and readers see the records that were complete when it was opened.
   *
   * @throws ScorelineException NOT_FOUND when the directory does not exist
   */
  public static EventLog openReadOnly(Path dir) {
    try {
      return new EventLog(dir, Options.defaults(), true);
    } catch (java.nio.file.NoSuchFileException e) {
      throw ScorelineException.notFound("no event log in " + dir);
    } catch (IOException e) {
      throw new ScorelineException(
          ErrorCode.UNAVAILABLE, "cannot open the event log in " + dir + ": " + e, e);
    }
  }

  public Path directory() {
    return dir;
  }

  /** The offset after the last durable record (the number of records ever appended). */
  public long endOffset() {
    return durableEnd;
  }

  /** The first offset still on disk. */
  public long startOffset() {
    return segments.firstKey();
  }

  /**
   * Appends records; the future completes with the offset of the first one once all are durable, or
   * fails with UNAVAILABLE when the log is closed or the disk write fails.
   */
  public CompletableFuture<Long> append(List<byte[]> payloads) {
    requireNonNull(payloads, "payloads is null");
    for (byte[] p : payloads) {
      if (p.length > MAX_RECORD_BYTES) {
        return CompletableFuture.failedFuture(
            new ScorelineException(
                ErrorCode.TOO_LARGE,
                "a record of "
                    + p.length
                    + " bytes is larger than the log's limit of "
                    + MAX_RECORD_BYTES));
      }
    }
    CompletableFuture<Long> f = new CompletableFuture<>();
    if (readOnly) {
      f.completeExceptionally(
          new ScorelineException(
              ErrorCode.UNSUPPORTED, "the event log " + name + " is open read-only"));
      return f;
    }
    ScorelineException broken = failure;
    if (broken != null) {
      f.completeExceptionally(broken);
      return f;
    }
    synchronized (queue) {
      if (closed) {
        f.completeExceptionally(closedError());
        return f;
      }
      if (payloads.isEmpty()) {
        f.complete(durableEnd);
        return f;
      }
      queue.add(new Pending(List.copyOf(payloads), nowMicros(), f));
    }
    return f;
  }

  /** {@link #append} and wait. */
  public long appendSync(List<byte[]> payloads) {
    try {
      return append(payloads).join();
    } catch (java.util.concurrent.CompletionException e) {
      if (e.getCause() instanceof ScorelineException se) {
        throw se;
      }
      throw new ScorelineException(ErrorCode.INTERNAL, "append failed: " + e.getCause(), e);
    }
  }

  /** Opens a reader positioned at {@code offset} (clamped to the retained range). */
  public Reader reader(long offset) {
    return new Reader(Math.max(offset, startOffset()));
  }

  /**
   * Deletes the segments whose records all lie below {@code offset}; never the last segment.
   *
   * @return how many segments were deleted
   */
  public int deleteBefore(long offset) {
    if (readOnly) {
      return 0;
    }
    int deleted = 0;
    while (segments.size() > 1) {
      Map.Entry<Long, Path> first = segments.firstEntry();
      Long nextBase = segments.higherKey(first.getKey());
      if (nextBase == null || nextBase > offset) {
        break;
      }
      segments.remove(first.getKey());
      try {
        Files.deleteIfExists(first.getValue());
        deleted++;
      } catch (IOException e) {
        log.warn("event log {}: cannot delete {}: {}", dir, first.getValue(), e.toString());
      }
    }
    return deleted;
  }

  /** Stops accepting appends, writes and fsyncs the queued ones, and closes the files. */
  @Override
  public void close() {
    if (readOnly) {
      closed = true;
      return;
    }
    synchronized (queue) {
      if (closed) {
        return;
      }
      closed = true;
      queue.add(STOP);
    }
    try {
      writer.join(TimeUnit.SECONDS.toMillis(30));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    lock.lock();
    try {
      appended.signalAll();
    } finally {
      lock.unlock();
    }
  }

  public boolean isClosed() {
    return closed;
  }

  // ---------------------------------------------------------------- writing

  private void writeLoop() {
    List<Pending> batch = new ArrayList<>();
    boolean stop = false;
    while (!stop) {
      try {
        batch.add(queue.take());
      } catch (InterruptedException e) {
        break;
      }
      queue.drainTo(batch);
      List<Pending> work = new ArrayList<>(batch.size());
      for (Pending p : batch) {
        if (p == STOP) {
          stop = true;
        } else {
          work.add(p);
        }
      }
      batch.clear();
      if (!work.isEmpty()) {
        writeBatch(work);
      }
    }
    // fail whatever raced in after STOP
    for (Pending p; (p = queue.poll()) != null; ) {
      if (p.done != null) {
        p.done.completeExceptionally(closedError());
      }
    }
    try {
      if (current != null) {
        current.close();
      }
    } catch (IOException e) {
      log.warn("event log {}: close failed: {}", dir, e.toString());
    }
  }

  private void writeBatch(List<Pending> work) {
    if (failure != null) {
      for (Pending p : work) {
        p.done.completeExceptionally(failure);
      }
      return;
    }
    long[] starts = new long[work.size()];
    try {
      if (currentSize >= options.segmentBytes()) {
        roll();
      }
      for (int i = 0; i < work.size(); i++) {
        Pending p = work.get(i);
        starts[i] = nextOffset;
        for (byte[] payload : p.payloads) {
          writeRecord(payload, p.micros);
        }
      }
      flushScratch();
      if (options.fsync()) {
        current.force(false);
      }
    } catch (IOException | RuntimeException e) {
      // nothing of this batch is acknowledged; the bytes after the durable end are a torn tail
      // that reopening the log cuts off. Until then every append fails.
      log.error(
          "event log {}: write failed, refusing appends until reopened: {}", dir, e.toString());
      ScorelineException err =
          new ScorelineException(
              ErrorCode.UNAVAILABLE, "event log " + name + ": a disk write failed: " + e, e);
      failure = err;
      for (Pending p : work) {
        p.done.completeExceptionally(err);
      }
      for (Pending p; (p = queue.poll()) != null; ) {
        if (p.done != null) {
          p.done.completeExceptionally(err);
        } else {
          queue.add(p);
          break;
        }
      }
      return;
    }
    lock.lock();
    try {
      durableEnd = nextOffset;
      appended.signalAll();
    } finally {
      lock.unlock();
    }
    for (int i = 0; i < work.size(); i++) {
      work.get(i).done.complete(starts[i]);
    }
  }

  private void writeRecord(byte[] payload, long micros) throws IOException {
    int size = HEADER_BYTES + payload.length;
    if (scratch.remaining() < size) {
      flushScratch();
      if (scratch.capacity() < size) {
        scratch = ByteBuffer.allocateDirect(Integer.highestOneBit(size) << 1);
      }
    }
    ByteBuffer b = scratch;
    int start = b.position();
    b.putInt(payload.length);
    b.putInt(0); // crc placeholder
    b.putLong(nextOffset);
    b.putLong(micros);
    b.put(payload);
    crc.reset();
    ByteBuffer view = b.duplicate();
    view.position(start + 8).limit(start + size);
    crc.update(view);
    b.putInt(start + 4, (int) crc.getValue());
    nextOffset++;
  }

  private void flushScratch() throws IOException {
    scratch.flip();
    while (scratch.hasRemaining()) {
      currentSize += current.write(scratch);
    }
    scratch.clear();
  }

  private void roll() throws IOException {
    flushScratch();
    current.force(false);
    current.close();
    openSegment(nextOffset);
  }

  private void openSegment(long base) throws IOException {
    Path p = dir.resolve(String.format("%020d%s", base, SUFFIX));
    current =
        FileChannel.open(
            p, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.READ);
    current.truncate(0);
    currentBase = base;
    currentSize = 0;
    nextOffset = base;
    segments.put(base, p);
    fsyncDirectory(dir);
  }

  static void fsyncDirectory(Path dir) {
    try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
      ch.force(true);
    } catch (IOException e) {
      // some file systems refuse to open directories; the data files are fsynced anyway
      log.debug("cannot fsync directory {}: {}", dir, e.toString());
    }
  }

  // ---------------------------------------------------------------- recovery

  /** Validates a segment, truncating a torn tail; returns the offset after its last record. */
  private long recover(long base, Path file) throws IOException {
    long expected = base;
    long pos = 0;
    try (FileChannel ch =
        readOnly
            ? FileChannel.open(file, StandardOpenOption.READ)
            : FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      long size = ch.size();
      ByteBuffer header = ByteBuffer.allocate(HEADER_BYTES).order(ByteOrder.BIG_ENDIAN);
      ByteBuffer body = ByteBuffer.allocate(64 << 10);
      CRC32C c = new CRC32C();
      String problem = null;
      while (pos < size) {
        header.clear();
        if (size - pos < HEADER_BYTES || readFully(ch, header, pos) < HEADER_BYTES) {
          problem = "incomplete header";
          break;
        }
        header.flip();
        int len = header.getInt(0);
        int sum = header.getInt(4);
        long off = header.getLong(8);
        if (len < 0 || len > MAX_RECORD_BYTES || pos + HEADER_BYTES + len > size) {
          problem = "incomplete record";
          break;
        }
        if (off != expected) {
          problem = "offset " + off + " where " + expected + " was expected";
          break;
        }
        if (body.capacity() < len) {
          body = ByteBuffer.allocate(Integer.highestOneBit(len) << 1);
        }
        body.clear().limit(len);
        readFully(ch, body, pos + HEADER_BYTES);
        body.flip();
        c.reset();
        header.position(8);
        c.update(header);
        c.update(body);
        if ((int) c.getValue() != sum) {
          problem = "checksum mismatch";
          break;
        }
        pos += HEADER_BYTES + len;
        expected++;
      }
      if (problem != null && !readOnly) {
        log.warn(
            "event log {}: truncating {} at byte {} of {} ({}, offset {}): an unacknowledged"
                + " torn write",
            dir,
            file.getFileName(),
            pos,
            size,
            problem,
            expected);
        ch.truncate(pos);
        ch.force(true);
      }
    }
    return expected;
  }

  private static int readFully(FileChannel ch, ByteBuffer b, long pos) throws IOException {
    int total = 0;
    while (b.hasRemaining()) {
      int n = ch.read(b, pos + total);
      if (n < 0) {
        break;
      }
      total += n;
    }
    return total;
  }

  private ScorelineException closedError() {
    return new ScorelineException(ErrorCode.UNAVAILABLE, "the event log " + name + " is closed");
  }

  private static long nowMicros() {
    java.time.Instant t = java.time.Instant.now();
    return t.getEpochSecond() * 1_000_000L + t.getNano() / 1000;
  }

  // ---------------------------------------------------------------- reading

  /** One record as read back. */
  public record Entry(long offset, long appendMicros, byte[] payload) {}

  /**
   * A sequential reader of durable records. Not thread-safe: one reader per consumer thread.
   * Readers survive retention: a deleted segment that is open stays readable.
   */
  public final class Reader implements AutoCloseable {
    private long next;
    private long segmentBase = -1;
    private FileChannel ch;
    private long filePos;
    private final ByteBuffer buf = ByteBuffer.allocate(256 << 10);

    private Reader(long offset) {
      this.next = offset;
    }

    /** The offset of the next record to read. */
    public long position() {
      return next;
    }

    /**
     * Reads up to {@code max} durable records, waiting up to {@code timeout} for the first.
     *
     * @return the records, possibly none
     */
    public List<Entry> poll(int max, long timeout, TimeUnit unit) throws InterruptedException {
      if (next >= durableEnd && timeout > 0) {
        long deadline = System.nanoTime() + unit.toNanos(timeout);
        lock.lock();
        try {
          while (next >= durableEnd && !closed) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
              break;
            }
            appended.awaitNanos(left);
          }
        } finally {
          lock.unlock();
        }
      }
      long end = durableEnd;
      List<Entry> out = new ArrayList<>(Math.min(max, 1024));
      try {
        while (out.size() < max && next < end) {
          Entry e = readOne();
          if (e == null) {
            break;
          }
          out.add(e);
        }
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      return out;
    }

    private Entry readOne() throws IOException {
      Map.Entry<Long, Path> seg = segments.floorEntry(next);
      if (seg == null) {
        // retention passed us: skip to the first retained record
        next = startOffset();
        seg = segments.floorEntry(next);
      }
      if (seg.getKey() != segmentBase) {
        openAt(seg.getKey(), seg.getValue());
      }
      if (buf.remaining() < HEADER_BYTES) {
        fill();
      }
      if (buf.remaining() < HEADER_BYTES) {
        return null;
      }
      int len = buf.getInt(buf.position());
      if (buf.remaining() < HEADER_BYTES + len) {
        fill();
        if (buf.remaining() < HEADER_BYTES + len) {
          if (buf.capacity() < HEADER_BYTES + len) {
            // a record larger than the buffer: read it directly
            ByteBuffer big = ByteBuffer.allocate(HEADER_BYTES + len);
            big.put(buf);
            filePos += readFully(ch, big, filePos);
            big.flip();
            buf.clear().flip();
            return parse(big);
          }
          return null;
        }
      }
      return parse(buf);
    }

    private Entry parse(ByteBuffer b) {
      int len = b.getInt();
      b.getInt(); // crc: checked at recovery; durable records were written by this process
      long offset = b.getLong();
      long micros = b.getLong();
      byte[] payload = new byte[len];
      b.get(payload);
      if (offset != next) {
        throw new IllegalStateException(
            "event log " + name + ": read offset " + offset + " where " + next + " was expected");
      }
      next++;
      return new Entry(offset, micros, payload);
    }

    private void fill() throws IOException {
      buf.compact();
      int n = ch.read(buf, filePos);
      if (n > 0) {
        filePos += n;
      }
      buf.flip();
    }

    private void openAt(long base, Path p) throws IOException {
      if (ch != null) {
        ch.close();
      }
      ch = FileChannel.open(p, StandardOpenOption.READ);
      segmentBase = base;
      filePos = 0;
      buf.clear().flip();
      // skip to `next`
      long o = base;
      while (o < next) {
        if (buf.remaining() < HEADER_BYTES) {
          fill();
        }
        if (buf.remaining() < HEADER_BYTES) {
          throw new IllegalStateException(
              "event log " + name + ": offset " + next + " is beyond segment " + base);
        }
        int len = buf.getInt(buf.position());
        if (buf.remaining() < HEADER_BYTES + len) {
          // skip over a large record without buffering it
          long skip = HEADER_BYTES + len - buf.remaining();
          filePos += skip;
          buf.clear().flip();
        } else {
          buf.position(buf.position() + HEADER_BYTES + len);
        }
        o++;
      }
    }

    @Override
    public void close() {
      try {
        if (ch != null) {
          ch.close();
        }
      } catch (IOException e) {
        log.debug("event log {}: reader close: {}", dir, e.toString());
      }
    }
  }
}
