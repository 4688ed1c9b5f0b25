package dev.scoreline.retrieval;

import dev.scoreline.core.error.ErrorCode;
import dev.scoreline.core.error.ScorelineException;
import dev.scoreline.core.retrieval.Similarity;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.Reader;
import java.io.Writer;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.zip.CRC32;

/**
 * The on-disk layout of a saved vector index: one directory holding
 *
 * <ul>
 *   <li>{@code index.properties} — the manifest (format, format version, kind, similarity,
 *       dimension, count, CRC-32 of the data files, build parameters), written last, so a directory
 *       without it holds no index;
 *   <li>{@code ids.bin} — the item ids, {@code count} little-endian int64, in ordinal order;
 *   <li>{@code vectors.fvecs} — the vectors in ordinal order, in the common {@code .fvecs} layout
 *       (per vector: little-endian int32 dimension, then that many little-endian float32), so ANN
 *       tools (faiss, hnswlib, the benchmark) read it as is;
 *   <li>{@code graph.jvector} — (kind {@code jvector} only) the graph, in jvector's own on-disk
 *       format ({@code OnDiskGraphIndex}).
 * </ul>
 */
final class IndexFiles {
  static final String MANIFEST = "index.properties";
  static final String IDS = "ids.bin";
  static final String VECTORS = "vectors.fvecs";
  static final String GRAPH = "graph.jvector";

  static final String FORMAT = "scoreline-vector-index";
  static final int FORMAT_VERSION = 1;

  private static final int CHUNK = 1 << 16;

  private IndexFiles() {}

  /** The manifest: the common keys, plus kind-specific keys in {@code params}. */
  record Manifest(
      String kind,
      Similarity similarity,
      int dimension,
      int count,
      long idsCrc32,
      long vectorsCrc32,
      Map<String, String> params) {

    Manifest {
      params = Map.copyOf(params);
    }

    /** A kind-specific parameter; USER_ERROR naming the manifest when it is missing. */
    String param(Path dir, String key) {
      String v = params.get(key);
      if (v == null) {
        throw corrupt(dir.resolve(MANIFEST), "the key '" + key + "' is missing");
      }
      return v;
    }

    int intParam(Path dir, String key) {
      String v = param(dir, key);
      try {
        return Integer.parseInt(v);
      } catch (NumberFormatException e) {
        throw corrupt(dir.resolve(MANIFEST), key + "=" + v + " is not an integer");
      }
    }

    float floatParam(Path dir, String key) {
      String v = param(dir, key);
      try {
        return Float.parseFloat(v);
      } catch (NumberFormatException e) {
        throw corrupt(dir.resolve(MANIFEST), key + "=" + v + " is not a number");
      }
    }
  }

  /** The similarity as written in manifests ({@code dot-product}, {@code cosine}, ...). */
  static String name(Similarity similarity) {
    return similarity.name().toLowerCase(Locale.ROOT).replace('_', '-');
  }

  // ---------------------------------------------------------------- writing

  /** Creates {@code dir} and removes a previous manifest, so a half-written index never opens. */
  static void prepare(Path dir) throws IOException {
    Files.createDirectories(dir);
    Files.deleteIfExists(dir.resolve(MANIFEST));
  }

  /** Writes the manifest atomically (temporary file, then rename); call it after the data files. */
  static void writeManifest(Path dir, Manifest m) throws IOException {
    Map<String, String> keys = new LinkedHashMap<>();
    keys.put("format", FORMAT);
    keys.put("format-version", Integer.toString(FORMAT_VERSION));
    keys.put("kind", m.kind());
    keys.put("similarity", name(m.similarity()));
    keys.put("dimension", Integer.toString(m.dimension()));
    keys.put("count", Integer.toString(m.count()));
    keys.put("ids-crc32", Long.toString(m.idsCrc32()));
    keys.put("vectors-crc32", Long.toString(m.vectorsCrc32()));
    m.params().entrySet().stream()
        .sorted(Map.Entry.comparingByKey())
        .forEach(e -> keys.put(e.getKey(), e.getValue()));

    Path tmp = dir.resolve(MANIFEST + ".tmp");
    try (Writer w = Files.newBufferedWriter(tmp, StandardCharsets.UTF_8)) {
      w.write("# Scoreline vector index, written by scoreline-retrieval; do not edit\n");
      for (Map.Entry<String, String> e : keys.entrySet()) {
        w.write(e.getKey() + "=" + e.getValue() + "\n");
      }
    }
    try {
      Files.move(
          tmp,
          dir.resolve(MANIFEST),
          StandardCopyOption.ATOMIC_MOVE,
          StandardCopyOption.REPLACE_EXISTING);
    } catch (AtomicMoveNotSupportedException e) {
      Files.move(tmp, dir.resolve(MANIFEST), StandardCopyOption.REPLACE_EXISTING);
    }
  }

  /** Writes {@code ids} to {@code ids.bin}; returns its CRC-32. */
  static long writeIds(Path dir, long[] ids, int count) throws IOException {
    CRC32 crc = new CRC32();
    ByteBuffer buf = ByteBuffer.allocate(CHUNK).order(ByteOrder.LITTLE_ENDIAN);
    try (OutputStream out = Files.newOutputStream(dir.resolve(IDS))) {
      for (int i = 0; i < count; i++) {
        if (buf.remaining() < Long.BYTES) {
          flush(buf, out, crc);
        }
        buf.putLong(ids[i]);
      }
      flush(buf, out, crc);
    }
    return crc.getValue();
  }

  /**
   * The vectors to write: row {@code ord} is {@code dim} floats of {@code array(ord)} at offset.
   */
  interface Rows {
    float[] array(int ord);

    int offset(int ord);
  }

  /**
   * Writes {@code count} vectors of {@code dim} floats to {@code vectors.fvecs}; returns CRC-32.
   */
  static long writeVectors(Path dir, int count, int dim, Rows rows) throws IOException {
    CRC32 crc = new CRC32();
    int record = Integer.BYTES + dim * Float.BYTES;
    ByteBuffer buf = ByteBuffer.allocate(Math.max(CHUNK, record)).order(ByteOrder.LITTLE_ENDIAN);
    try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(dir.resolve(VECTORS)))) {
      for (int i = 0; i < count; i++) {
        if (buf.remaining() < record) {
          flush(buf, out, crc);
        }
        buf.putInt(dim);
        float[] a = rows.array(i);
        int off = rows.offset(i);
        for (int j = 0; j < dim; j++) {
          buf.putFloat(a[off + j]);
        }
      }
      flush(buf, out, crc);
    }
    return crc.getValue();
  }

  private static void flush(ByteBuffer buf, OutputStream out, CRC32 crc) throws IOException {
    crc.update(buf.array(), 0, buf.position());
    out.write(buf.array(), 0, buf.position());
    buf.clear();
  }

  // ---------------------------------------------------------------- reading

  /**
   * Reads and checks the manifest of the index in {@code dir}.
   *
   * @throws ScorelineException NOT_FOUND when {@code dir} holds no index; USER_ERROR naming the
   *     file when the manifest is invalid or of another format version
   */
  static Manifest readManifest(Path dir) {
    Path file = dir.resolve(MANIFEST);
    if (!Files.isDirectory(dir)) {
      throw ScorelineException.notFound(
          "no vector index at "
              + dir
              + ": the directory does not exist; build one with `scoreline index build`");
    }
    if (!Files.isRegularFile(file)) {
      throw ScorelineException.notFound(
          "no vector index at "
              + dir
              + ": "
              + MANIFEST
              + " is missing (an interrupted build leaves none); build the index again");
    }
    Properties p = new Properties();
    try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      p.load(r);
    } catch (IOException | IllegalArgumentException e) {
      throw corrupt(file, "it cannot be read (" + e.getMessage() + ")");
    }
    String format = p.getProperty("format");
    if (!FORMAT.equals(format)) {
      throw corrupt(file, "format=" + format + " is not " + FORMAT);
    }
    int version = intKey(file, p, "format-version");
    if (version != FORMAT_VERSION) {
      throw ScorelineException.userError(
          file.toString(),
          file
              + ": format-version "
              + version
              + " is not supported by this Scoreline (it reads version "
              + FORMAT_VERSION
              + "); rebuild the index with this version, or use the Scoreline that built it");
    }
    String kind = key(file, p, "kind");
    Similarity similarity;
    try {
      similarity = Similarity.parse(key(file, p, "similarity"));
    } catch (ScorelineException e) {
      throw corrupt(file, e.getMessage());
    }
    int dimension = intKey(file, p, "dimension");
    int count = intKey(file, p, "count");
    if (dimension <= 0 || count < 0) {
      throw corrupt(file, "dimension=" + dimension + ", count=" + count + " are out of range");
    }
    long idsCrc = longKey(file, p, "ids-crc32");
    long vectorsCrc = longKey(file, p, "vectors-crc32");
    Map<String, String> params = new LinkedHashMap<>();
    for (String name : p.stringPropertyNames()) {
      params.put(name, p.getProperty(name));
    }
    return new Manifest(kind, similarity, dimension, count, idsCrc, vectorsCrc, params);
  }

  /** Reads {@code ids.bin}, checking its size and CRC-32 against the manifest. */
  static long[] readIds(Path dir, Manifest m) {
    Path file = dir.resolve(IDS);
    long expected = (long) m.count() * Long.BYTES;
    checkSize(file, expected, "count=" + m.count() + " ids of 8 bytes");
    long[] ids = new long[m.count()];
    CRC32 crc = new CRC32();
    try (InputStream in = Files.newInputStream(file)) {
      ByteBuffer buf = ByteBuffer.allocate(CHUNK).order(ByteOrder.LITTLE_ENDIAN);
      int i = 0;
      while (i < ids.length) {
        int n = Math.min(CHUNK / Long.BYTES, ids.length - i);
        fill(in, buf, n * Long.BYTES, crc, file);
        for (int j = 0; j < n; j++) {
          ids[i++] = buf.getLong();
        }
      }
    } catch (IOException e) {
      throw readFailed(file, e);
    }
    if (crc.getValue() != m.idsCrc32()) {
      throw corrupt(
          file, "its CRC-32 does not match the manifest (the file was modified or damaged)");
    }
    return ids;
  }

  /**
   * Reads {@code vectors.fvecs} into {@code sink}, row by row, checking the size, every record's
   * dimension and the CRC-32.
   */
  static void readVectors(Path dir, Manifest m, VectorSink sink) {
    Path file = dir.resolve(VECTORS);
    int dim = m.dimension();
    int record = Integer.BYTES + dim * Float.BYTES;
    checkSize(
        file, (long) m.count() * record, "count=" + m.count() + " vectors of dimension " + dim);
    CRC32 crc = new CRC32();
    float[] row = new float[dim];
    try (InputStream in = new BufferedInputStream(Files.newInputStream(file), CHUNK)) {
      ByteBuffer buf = ByteBuffer.allocate(record).order(ByteOrder.LITTLE_ENDIAN);
      for (int i = 0; i < m.count(); i++) {
        fill(in, buf, record, crc, file);
        int d = buf.getInt();
        if (d != dim) {
          throw corrupt(file, "vector " + i + " has dimension " + d + ", the manifest says " + dim);
        }
        for (int j = 0; j < dim; j++) {
          row[j] = buf.getFloat();
        }
        sink.accept(i, row);
      }
    } catch (IOException e) {
      throw readFailed(file, e);
    }
    if (crc.getValue() != m.vectorsCrc32()) {
      throw corrupt(
          file, "its CRC-32 does not match the manifest (the file was modified or damaged)");
    }
  }

  /** Receives vectors read from disk; {@code row} is reused, copy it. */
  interface VectorSink {
    void accept(int ord, float[] row);
  }

  /** Reads exactly {@code n} bytes into {@code buf} (cleared, then flipped for reading). */
  private static void fill(InputStream in, ByteBuffer buf, int n, CRC32 crc, Path file)
      throws IOException {
    buf.clear();
    int read = in.readNBytes(buf.array(), 0, n);
    if (read < n) {
      throw new EOFException(file + " ended early");
    }
    crc.update(buf.array(), 0, n);
    buf.limit(n);
  }

  /** The CRC-32 of a whole file. */
  static long crc32(Path file) throws IOException {
    CRC32 crc = new CRC32();
    byte[] buf = new byte[CHUNK];
    try (InputStream in = Files.newInputStream(file)) {
      int n;
      while ((n = in.read(buf)) > 0) {
        crc.update(buf, 0, n);
      }
    }
    return crc.getValue();
  }

  private static void checkSize(Path file, long expected, String what) {
    long size;
    try {
      size = Files.size(file);
    } catch (NoSuchFileException e) {
      throw corrupt(file, "the file is missing; the index is incomplete, build it again");
    } catch (IOException e) {
      throw readFailed(file, e);
    }
    if (size != expected) {
      throw corrupt(
          file,
          "it has " + size + " bytes, but the manifest's " + what + " need " + expected + " bytes");
    }
  }

  private static String key(Path file, Properties p, String key) {
    String v = p.getProperty(key);
    if (v == null || v.isBlank()) {
      throw corrupt(file, "the key '" + key + "' is missing");
    }
    return v.trim();
  }

  private static int intKey(Path file, Properties p, String key) {
    String v = key(file, p, key);
    try {
      return Integer.parseInt(v);
    } catch (NumberFormatException e) {
      throw corrupt(file, key + "=" + v + " is not an integer");
    }
  }

  private static long longKey(Path file, Properties p, String key) {
    String v = key(file, p, key);
    try {
      return Long.parseLong(v);
    } catch (NumberFormatException e) {
      throw corrupt(file, key + "=" + v + " is not an integer");
    }
  }

  /** USER_ERROR: {@code file} is not part of a valid index. */
  static ScorelineException corrupt(Path file, String why) {
    return ScorelineException.userError(
        file.toString(), file + " is not a valid Scoreline vector index file: " + why);
  }

  private static ScorelineException readFailed(Path file, IOException e) {
    if (e instanceof NoSuchFileException) {
      return corrupt(file, "the file is missing; the index is incomplete, build it again");
    }
    return new ScorelineException(
        ErrorCode.USER_ERROR,
        file.toString(),
        file + " could not be read as a Scoreline vector index file: " + e.getMessage(),
        e);
  }

  /** USER_ERROR: the index could not be written (permissions, disk space). */
  static ScorelineException saveFailed(Path dir, IOException e) {
    return new ScorelineException(
        ErrorCode.USER_ERROR,
        dir.toString(),
        "could not save the vector index to "
            + dir
            + ": "
            + e
            + "; check that the directory is writable and the disk has space",
        e);
  }
}
