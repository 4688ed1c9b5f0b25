package dev.scoreline.core.kv;

import static java.util.Objects.requireNonNull;

/** A key and its value. */
public record KvEntry(byte[] key, byte[] value) {
  public KvEntry {
    requireNonNull(key, "key is null");
    requireNonNull(value, "value is null");
  }
}
