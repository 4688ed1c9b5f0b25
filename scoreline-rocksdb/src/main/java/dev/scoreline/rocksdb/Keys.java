package dev.scoreline.rocksdb;

import static java.nio.charset.StandardCharsets.UTF_8;

import dev.scoreline.core.error.ScorelineException;

/**
 * The physical key layout of {@link RocksDbKvStore} (all in the default column family):
 *
 * <pre>
 * user data    UTF-8(namespace) 0x00 key          namespace non-empty, without U+0000
 * meta         0xff "meta" 0x00 ...                 never a user key: UTF-8 has no 0xff byte
 *   layout     0xff "meta" 0x00 "layout"            value: [layout version 1]
 *   snapshots  0xff "meta" 0x00 "snapshots" 0x00 UTF-8(name)
 * </pre>
 *
 * <p>A namespace is the key range {@code [UTF-8(ns) 0x00, UTF-8(ns) 0x01)}: no other namespace
 * shares it (namespaces hold no 0x00, so {@code "user"} and {@code "user2"} differ before the
 * separator), and it is dropped with one {@code deleteRange}.
 */
final class Keys {
  static final byte SEPARATOR = 0x00;
  private static final byte[] META = {(byte) 0xff, 'm', 'e', 't', 'a', SEPARATOR};
  static final byte[] LAYOUT_KEY = concat(META, "layout".getBytes(UTF_8));
  private static final byte[] SNAPSHOTS_PREFIX = concat(META, "snapshots\0".getBytes(UTF_8));

  private Keys() {}

  /** {@code UTF-8(namespace) 0x00}, after validating the namespace. */
  static byte[] prefix(String namespace) {
    validate(namespace, "namespace");
    byte[] ns = namespace.getBytes(UTF_8);
    byte[] p = new byte[ns.length + 1];
    System.arraycopy(ns, 0, p, 0, ns.length);
    p[ns.length] = SEPARATOR;
    return p;
  }

  /** {@code prefix key}. */
  static byte[] key(byte[] prefix, byte[] key) {
    byte[] k = new byte[prefix.length + key.length];
    System.arraycopy(prefix, 0, k, 0, prefix.length);
    System.arraycopy(key, 0, k, prefix.length, key.length);
    return k;
  }

  /** The exclusive end of a namespace's range: the prefix with its separator byte raised to 1. */
  static byte[] rangeEnd(byte[] prefix) {
    byte[] end = prefix.clone();
    end[end.length - 1] = SEPARATOR + 1;
    return end;
  }

  /** The meta key holding the published snapshot list of {@code name}. */
  static byte[] snapshotsKey(String name) {
    return concat(SNAPSHOTS_PREFIX, name.getBytes(UTF_8));
  }

  /** Rejects null, empty and U+0000-bearing names (the separator of the key layout). */
  static void validate(String name, String what) {
    if (name == null || name.isEmpty()) {
      throw ScorelineException.userError(what, "a " + what + " must be a non-empty string");
    }
    if (name.indexOf('\0') >= 0) {
      throw ScorelineException.userError(
          what,
          "the "
              + what
              + " '"
              + name.replace("\0", "\\0")
              + "' contains a U+0000 (0x00) character, which the RocksDB store uses as its"
              + " namespace separator; remove it from the name");
    }
  }

  private static byte[] concat(byte[] a, byte[] b) {
    byte[] c = new byte[a.length + b.length];
    System.arraycopy(a, 0, c, 0, a.length);
    System.arraycopy(b, 0, c, a.length, b.length);
    return c;
  }
}
