package dev.scoreline.redis;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static java.nio.charset.StandardCharsets.UTF_8;

import dev.scoreline.core.error.ScorelineException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;

/**
 * The Redis key layout, format version 1 (see the package documentation). Every key Scoreline
 * writes starts with {@code sl1:}; the next two bytes say what the key holds:
 *
 * <ul>
 *   <li>{@code sl1:d:<namespace> 0x00 <key>} a plain value (a Redis string) or a record (a Redis
 *       hash) of a namespace;
 *   <li>{@code sl1:s:<name>} the published snapshots of a name (a Redis list, newest first).
 * </ul>
 *
 * Namespaces and snapshot names are non-empty UTF-8 without U+0000, so the first zero byte after
 * {@code sl1:d:} ends the namespace: no two (namespace, key) pairs share a Redis key, and the keys
 * of one namespace are exactly those that start with its prefix.
 */
final class Keys {
  static final byte[] DATA = "sl1:d:".getBytes(US_ASCII);
  static final byte[] SNAPSHOTS = "sl1:s:".getBytes(US_ASCII);
  static final byte NAMESPACE_END = 0x00;

  private Keys() {}

  /** {@code sl1:d:<namespace> 0x00}: the prefix of every key of a namespace. */
  static byte[] dataPrefix(String namespace) {
    byte[] ns = name("namespace", namespace);
    byte[] prefix = new byte[DATA.length + ns.length + 1];
    System.arraycopy(DATA, 0, prefix, 0, DATA.length);
    System.arraycopy(ns, 0, prefix, DATA.length, ns.length);
    prefix[prefix.length - 1] = NAMESPACE_END;
    return prefix;
  }

  /** {@code prefix + key}. */
  static byte[] dataKey(byte[] prefix, byte[] key) {
    byte[] k = new byte[prefix.length + key.length];
    System.arraycopy(prefix, 0, k, 0, prefix.length);
    System.arraycopy(key, 0, k, prefix.length, key.length);
    return k;
  }

  /** {@code sl1:s:<name>}: the list of published snapshot ids of a name. */
  static byte[] snapshotList(String name) {
    byte[] n = name("name", name);
    byte[] k = new byte[SNAPSHOTS.length + n.length];
    System.arraycopy(SNAPSHOTS, 0, k, 0, SNAPSHOTS.length);
    System.arraycopy(n, 0, k, SNAPSHOTS.length, n.length);
    return k;
  }

  /**
   * A snapshot id as UTF-8. Ids may not contain {@code @}: the namespace {@code name@id} then
   * splits only one way, so two (name, id) pairs never share data.
   */
  static byte[] snapshotId(String id) {
    byte[] b = name("snapshotId", id);
    if (id.indexOf('@') >= 0) {
      throw ScorelineException.userError(
          "snapshotId",
          "snapshot id '" + id + "' contains '@'; use letters, digits, '-', '_', '.' or ':'");
    }
    return b;
  }

  /** A namespace or name: non-empty, no U+0000, well-formed UTF-16 (so its UTF-8 is unique). */
  static byte[] name(String what, String s) {
    if (s == null) {
      throw ScorelineException.userError(what, what + " is null");
    }
    if (s.isEmpty()) {
      throw ScorelineException.userError(what, what + " is empty; give it a name");
    }
    if (s.indexOf('\0') >= 0) {
      throw ScorelineException.userError(
          what, what + " contains U+0000, which the Redis key layout reserves; remove it");
    }
    return utf8(what, s);
  }

  /**
   * {@code s} as UTF-8; fails on an unpaired surrogate, which {@link String#getBytes} would turn
   * into '?', so that two different strings would share bytes.
   */
  static byte[] utf8(String what, String s) {
    for (int i = 0; i < s.length(); i++) {
      if (Character.isSurrogate(s.charAt(i))) {
        return strictUtf8(what, s);
      }
    }
    return s.getBytes(UTF_8);
  }

  private static byte[] strictUtf8(String what, String s) {
    try {
      ByteBuffer b =
          UTF_8
              .newEncoder()
              .onMalformedInput(CodingErrorAction.REPORT)
              .onUnmappableCharacter(CodingErrorAction.REPORT)
              .encode(CharBuffer.wrap(s));
      byte[] out = new byte[b.remaining()];
      b.get(out);
      return out;
    } catch (CharacterCodingException e) {
      throw ScorelineException.userError(
          what, what + " is not valid Unicode (an unpaired surrogate); fix the string");
    }
  }

  /**
   * A Redis glob that matches exactly the keys starting with {@code prefix}: {@code * ? [ ] \}
   * escaped with a backslash, then {@code *}. Multi-byte UTF-8 never contains these ASCII bytes,
   * and Redis globs are binary-safe, so the zero byte needs no escape.
   */
  static byte[] globPrefix(byte[] prefix) {
    byte[] out = new byte[prefix.length * 2 + 1];
    int n = 0;
    for (byte b : prefix) {
      if (b == '*' || b == '?' || b == '[' || b == ']' || b == '\\') {
        out[n++] = '\\';
      }
      out[n++] = b;
    }
    out[n++] = '*';
    byte[] glob = new byte[n];
    System.arraycopy(out, 0, glob, 0, n);
    return glob;
  }
}
