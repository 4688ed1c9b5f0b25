package dev.scoreline.core.kv;

import static java.util.Objects.requireNonNull;

/** One record field to merge: the value starts with a {@link KvStore#STAMP_BYTES}-byte stamp. */
public record FieldWrite(byte[] key, String field, byte[] value) {
  public FieldWrite {
    requireNonNull(key, "key is null");
    requireNonNull(field, "field is null");
    requireNonNull(value, "value is null");
    if (value.length < KvStore.STAMP_BYTES) {
      throw new IllegalArgumentException(
          "record field values start with a " + KvStore.STAMP_BYTES + "-byte stamp");
    }
  }
}
