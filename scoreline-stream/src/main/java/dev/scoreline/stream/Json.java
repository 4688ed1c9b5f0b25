package dev.scoreline.stream;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Instant;

/** JSON helpers of the streaming engine. */
final class Json {
  static final ObjectMapper MAPPER =
      new ObjectMapper().enable(DeserializationFeature.USE_LONG_FOR_INTS);
  static final JsonFactory FACTORY = MAPPER.getFactory();

  private Json() {}

  @FunctionalInterface
  interface Writer {
    void write(JsonGenerator g) throws IOException;
  }

  /** Per thread, the buffer {@link #bytes} writes into (results are written on the hot path). */
  private static final ThreadLocal<ByteArrayOutputStream> BUFFERS =
      ThreadLocal.withInitial(() -> new ByteArrayOutputStream(1024));

  static byte[] bytes(Writer w) {
    ByteArrayOutputStream out = BUFFERS.get();
    out.reset();
    try (JsonGenerator g = FACTORY.createGenerator(out)) {
      w.write(g);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    byte[] b = out.toByteArray();
    if (b.length > 64 * 1024) {
      BUFFERS.remove(); // do not keep a large buffer per thread
    }
    return b;
  }

  /**
   * ISO-8601 UTC with microseconds, {@code 2025-05-01T12:00:00.123456Z} (what {@link
   * Instant#toString} gives for whole microseconds, without its formatter: this is on the hot
   * path).
   */
  static String iso(long micros) {
    char[] c = new char[ISO_CHARS];
    int n = iso(micros, c);
    return n < 0 ? isoOutOfRange(micros) : new String(c, 0, n);
  }

  /** The most characters {@link #iso(long, char[])} writes. */
  static final int ISO_CHARS = 27;

  /**
   * Writes {@link #iso(long)} into {@code c} (at least {@link #ISO_CHARS} long) without allocating.
   *
   * @return the number of characters, or -1 for a year outside 0..9999 (use {@link #iso(long)})
   */
  static int iso(long micros, char[] c) {
    long secs = Math.floorDiv(micros, 1_000_000L);
    int frac = (int) Math.floorMod(micros, 1_000_000L);
    long days = Math.floorDiv(secs, 86_400L);
    int sod = (int) Math.floorMod(secs, 86_400L);
    java.time.LocalDate d = java.time.LocalDate.ofEpochDay(days);
    int year = d.getYear();
    if (year < 0 || year > 9999) {
      return -1;
    }
    int n = frac == 0 ? 20 : (frac % 1000 == 0 ? 24 : 27);
    put(c, 0, year, 4);
    c[4] = '-';
    put(c, 5, d.getMonthValue(), 2);
    c[7] = '-';
    put(c, 8, d.getDayOfMonth(), 2);
    c[10] = 'T';
    put(c, 11, sod / 3600, 2);
    c[13] = ':';
    put(c, 14, sod / 60 % 60, 2);
    c[16] = ':';
    put(c, 17, sod % 60, 2);
    if (frac == 0) {
      c[19] = 'Z';
    } else if (frac % 1000 == 0) {
      c[19] = '.';
      put(c, 20, frac / 1000, 3);
      c[23] = 'Z';
    } else {
      c[19] = '.';
      put(c, 20, frac, 6);
      c[26] = 'Z';
    }
    return n;
  }

  private static String isoOutOfRange(long micros) {
    return Instant.ofEpochSecond(
            Math.floorDiv(micros, 1_000_000L), Math.floorMod(micros, 1_000_000L) * 1000L)
        .toString();
  }

  /** Writes the field {@code name} with the value {@link #iso(long)}, through {@code buffer}. */
  static void writeIsoField(JsonGenerator g, String name, long micros, char[] buffer)
      throws IOException {
    g.writeFieldName(name);
    int n = iso(micros, buffer);
    if (n < 0) {
      g.writeString(isoOutOfRange(micros));
    } else {
      g.writeString(buffer, 0, n);
    }
  }

  private static void put(char[] c, int at, int v, int width) {
    for (int i = at + width - 1; i >= at; i--) {
      c[i] = (char) ('0' + v % 10);
      v /= 10;
    }
  }

  /**
   * Parses {@code yyyy-MM-ddTHH:mm:ss[.fraction]Z} quickly; {@link Long#MIN_VALUE} for anything
   * else (the caller falls back to the full parser).
   */
  static long parseIsoMicros(String s) {
    int n = s.length();
    if (n < 20
        || s.charAt(n - 1) != 'Z'
        || s.charAt(4) != '-'
        || s.charAt(7) != '-'
        || s.charAt(10) != 'T'
        || s.charAt(13) != ':'
        || s.charAt(16) != ':') {
      return Long.MIN_VALUE;
    }
    int year = digits(s, 0, 4);
    int month = digits(s, 5, 2);
    int day = digits(s, 8, 2);
    int hour = digits(s, 11, 2);
    int minute = digits(s, 14, 2);
    int second = digits(s, 17, 2);
    if (year < 0
        || month < 1
        || month > 12
        || day < 1
        || day > 31
        || hour > 23
        || minute > 59
        || second > 59) {
      return Long.MIN_VALUE;
    }
    long micros = 0;
    if (n > 20) {
      if (s.charAt(19) != '.' || n - 21 > 9 || n - 21 < 1) {
        return Long.MIN_VALUE;
      }
      int f = digits(s, 20, n - 21);
      if (f < 0) {
        return Long.MIN_VALUE;
      }
      long nanos = f;
      for (int i = n - 21; i < 9; i++) {
        nanos *= 10;
      }
      micros = nanos / 1000;
    } else if (s.charAt(19) != 'Z') {
      return Long.MIN_VALUE;
    }
    long epochDay;
    try {
      epochDay = java.time.LocalDate.of(year, month, day).toEpochDay();
    } catch (java.time.DateTimeException e) {
      return Long.MIN_VALUE;
    }
    return ((epochDay * 86_400L + hour * 3600L + minute * 60L + second) * 1_000_000L) + micros;
  }

  private static int digits(String s, int at, int len) {
    int v = 0;
    for (int i = at; i < at + len; i++) {
      char ch = s.charAt(i);
      if (ch < '0' || ch > '9') {
        return -1;
      }
      v = v * 10 + (ch - '0');
    }
    return v;
  }

  static long nowMicros() {
    Instant t = Instant.now();
    return t.getEpochSecond() * 1_000_000L + t.getNano() / 1000;
  }
}
