package dev.scoreline.rocksdb;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.scoreline.core.error.ErrorCode;
import dev.scoreline.core.error.ScorelineException;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class CodecTest {
  @Test
  void record_roundTrips_inOrder_withLongValues() {
    LinkedHashMap<String, byte[]> fields = new LinkedHashMap<>();
    fields.put("b", new byte[] {1, 2});
    fields.put("é视", new byte[300]);
    fields.put("", new byte[0]);

    Map<String, byte[]> decoded = Codec.decodeRecord(Codec.encodeRecord(fields));

    assertThat(decoded.keySet()).containsExactly("b", "é视", "");
    assertThat(decoded.get("b")).isEqualTo(new byte[] {1, 2});
    assertThat(decoded.get("é视")).hasSize(300);
  }

  @Test
  void singleFieldRecord_isTheBytesOfAOneEntryRecord() {
    String longName = "n".repeat(200); // a 2-byte length varint
    for (String name : List.of("", "view", "é视", longName)) {
      for (int size : new int[] {16, 127, 128, 20_000}) {
        byte[] value = new byte[size];
        Arrays.fill(value, (byte) size);
        LinkedHashMap<String, byte[]> one = new LinkedHashMap<>();
        one.put(name, value);

        assertThat(Codec.encodeSingleFieldRecord(name, value)).isEqualTo(Codec.encodeRecord(one));
      }
    }
  }

  @Test
  void replaceField_givesTheBytesOfDecodingPuttingAndEncoding() {
    // value lengths on both sides of the one/two-byte varint boundary, the field first, in the
    // middle and last
    for (int oldSize : new int[] {16, 127, 128, 300}) {
      for (int newSize : new int[] {16, 127, 128, 20_000}) {
        for (String target : List.of("a", "view", "z")) {
          LinkedHashMap<String, byte[]> fields = new LinkedHashMap<>();
          fields.put("a", filled(oldSize, 1));
          fields.put("view", filled(oldSize + 3, 2));
          fields.put("z", filled(5, 3));
          byte[] stored = Codec.encodeRecord(fields);
          byte[] value = filled(newSize, 9);

          long at = Codec.locateField(stored, target.getBytes(UTF_8));
          byte[] spliced = Codec.replaceField(stored, (int) (at >>> 32), (int) at, value);

          LinkedHashMap<String, byte[]> expected = Codec.decodeRecord(stored);
          assertThat((int) at).isEqualTo(expected.get(target).length);
          expected.put(target, value);
          assertThat(spliced).isEqualTo(Codec.encodeRecord(expected));
        }
      }
    }
  }

  @Test
  void locateField_isNegative_forAMissingOrRepeatedFieldAndMalformedRecords() {
    LinkedHashMap<String, byte[]> fields = new LinkedHashMap<>();
    fields.put("a", new byte[20]);
    byte[] stored = Codec.encodeRecord(fields);
    // format, 2 fields, "a" = {7}, "a" = {8}; the value of the only "a" starts at 5
    byte[] twice = {1, 2, 1, 'a', 1, 7, 1, 'a', 1, 8};
    byte[] trailing = Arrays.copyOf(stored, stored.length + 1);
    byte[] truncated = Arrays.copyOf(stored, stored.length - 1);
    byte[] otherFormat = stored.clone();
    otherFormat[0] = 2;

    assertThat(Codec.locateField(stored, "a".getBytes(UTF_8))).isEqualTo((5L << 32) | 20);
    assertThat(Codec.locateField(stored, "b".getBytes(UTF_8))).isEqualTo(-1);
    assertThat(Codec.locateField(stored, "ab".getBytes(UTF_8))).isEqualTo(-1);
    assertThat(Codec.locateField(twice, "a".getBytes(UTF_8))).isEqualTo(-1);
    assertThat(Codec.locateField(trailing, "a".getBytes(UTF_8))).isEqualTo(-1);
    assertThat(Codec.locateField(truncated, "a".getBytes(UTF_8))).isEqualTo(-1);
    assertThat(Codec.locateField(otherFormat, "a".getBytes(UTF_8))).isEqualTo(-1);
    assertThat(Codec.locateField(new byte[0], "a".getBytes(UTF_8))).isEqualTo(-1);
  }

  private static byte[] filled(int size, int b) {
    byte[] v = new byte[size];
    Arrays.fill(v, (byte) b);
    return v;
  }

  @Test
  void locateFields_findsTheValuesDecodeRecordGives_lastOfARepeatedName() {
    LinkedHashMap<String, byte[]> fields = new LinkedHashMap<>();
    fields.put("a", new byte[] {1});
    fields.put("bb", new byte[200]); // a 2-byte length varint
    fields.put("", new byte[0]);
    fields.get("bb")[199] = 9;
    byte[] data = Codec.encodeRecord(fields);
    // the same record with "a" stored twice (Codec never writes one; decodeRecord keeps the last)
    byte[] twice = Arrays.copyOf(data, data.length + 4);
    twice[1] = 4;
    System.arraycopy(new byte[] {1, 'a', 1, 5}, 0, twice, data.length, 4);
    byte[][] names = {"bb".getBytes(UTF_8), "a".getBytes(UTF_8), "zz".getBytes(UTF_8), new byte[0]};

    for (byte[] record : List.of(data, twice)) {
      long[] found = new long[names.length];
      assertThat(Codec.locateFields(record, names, found)).isTrue();
      Map<String, byte[]> decoded = Codec.decodeRecord(record);
      for (int f = 0; f < names.length; f++) {
        byte[] want = decoded.get(new String(names[f], UTF_8));
        if (want == null) {
          assertThat(found[f]).isEqualTo(-1L);
        } else {
          int start = (int) (found[f] >>> 32);
          assertThat(Arrays.copyOfRange(record, start, start + (int) found[f])).isEqualTo(want);
        }
      }
    }
  }

  @Test
  void locateFields_isFalse_forMalformedRecords() {
    byte[] data = Codec.encodeRecord(new LinkedHashMap<>(Map.of("f", new byte[20])));
    byte[][] names = {"f".getBytes(UTF_8)};
    long[] found = new long[1];

    assertThat(Codec.locateFields(Arrays.copyOf(data, data.length - 1), names, found)).isFalse();
    assertThat(Codec.locateFields(Arrays.copyOf(data, data.length + 1), names, found)).isFalse();
    assertThat(Codec.locateFields(new byte[] {2, 0}, names, found)).isFalse();
    assertThat(Codec.locateFields(new byte[0], names, found)).isFalse();
    assertThat(Codec.locateFields(new byte[] {1, (byte) 0x80}, names, found)).isFalse();
  }

  @Test
  void record_null_decodesEmpty() {
    assertThat(Codec.decodeRecord(null)).isEmpty();
    assertThat(Codec.readRecord(null)).isEmpty();
  }

  @Test
  void record_truncated_isNotARecord() {
    byte[] data = Codec.encodeRecord(new LinkedHashMap<>(Map.of("f", new byte[20])));

    assertThatThrownBy(() -> Codec.decodeRecord(Arrays.copyOf(data, data.length - 1)))
        .isInstanceOfSatisfying(
            ScorelineException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.USER_ERROR));
    assertThatThrownBy(() -> Codec.decodeRecord(new byte[] {2}))
        .isInstanceOfSatisfying(
            ScorelineException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.USER_ERROR));
  }

  @Test
  void snapshotList_roundTrips() {
    List<String> ids = List.of("2026-01-02", "2026-01-01", "x".repeat(200));

    assertThat(Codec.decodeSnapshotList(Codec.encodeSnapshotList(ids))).isEqualTo(ids);
    assertThat(Codec.decodeSnapshotList(null)).isEmpty();
  }

  @Test
  void varint_sizesAndBytes() {
    byte[] out = new byte[5];
    assertThat(Codec.writeVarint(out, 0, 300)).isEqualTo(2);
    assertThat(out[0] & 0xff).isEqualTo(0xac);
    assertThat(out[1]).isEqualTo((byte) 0x02);
    assertThat(Codec.varintSize(127)).isEqualTo(1);
    assertThat(Codec.varintSize(128)).isEqualTo(2);
    assertThat(Codec.varintSize(Integer.MAX_VALUE)).isEqualTo(5);
  }

  @Test
  void keys_namespaceRangeCoversOnlyThatNamespace() {
    byte[] prefix = Keys.prefix("user");
    byte[] end = Keys.rangeEnd(prefix);

    assertThat(prefix).isEqualTo("user\0".getBytes(UTF_8));
    assertThat(end).isEqualTo("user\1".getBytes(UTF_8));
    assertThat(Arrays.compareUnsigned(Keys.prefix("user2"), end)).isPositive();
    assertThat(Arrays.compareUnsigned(Keys.key(prefix, new byte[] {(byte) 0xff}), end))
        .isNegative();
  }

  @Test
  void readRecord_ofOneField_holdsWhatDecodeRecordHolds_andIsUnmodifiable() {
    String longName = "n".repeat(200);
    for (String name : List.of("", "item_profile", "é视", longName)) {
      for (int size : new int[] {0, 16, 128, 20_000}) {
        byte[] value = new byte[size];
        Arrays.fill(value, (byte) (size + 1));
        byte[] data = Codec.encodeSingleFieldRecord(name, value);

        Map<String, byte[]> read = Codec.readRecord(data);

        assertThat(read.keySet()).containsExactly(name);
        assertThat(read.get(name)).isEqualTo(Codec.decodeRecord(data).get(name)).isEqualTo(value);
        assertThatThrownBy(() -> read.put("x", new byte[0]))
            .isInstanceOf(UnsupportedOperationException.class);
      }
    }
  }

  @Test
  void readRecord_ofSeveralFields_keepsTheStoredOrder() {
    LinkedHashMap<String, byte[]> fields = new LinkedHashMap<>();
    fields.put("z", new byte[] {1});
    fields.put("a", new byte[] {2});
    fields.put("m", new byte[] {3});

    Map<String, byte[]> read = Codec.readRecord(Codec.encodeRecord(fields));

    assertThat(read.keySet()).containsExactly("z", "a", "m");
    assertThat(read.get("a")).isEqualTo(new byte[] {2});
  }

  @Test
  void readRecord_ofOneField_truncatedOrWithTrailingBytes_isNotARecord() {
    byte[] data = Codec.encodeSingleFieldRecord("f", new byte[20]);
    byte[] longer = Arrays.copyOf(data, data.length + 1);

    for (byte[] bad : List.of(Arrays.copyOf(data, data.length - 1), longer)) {
      assertThatThrownBy(() -> Codec.readRecord(bad))
          .isInstanceOfSatisfying(
              ScorelineException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.USER_ERROR));
    }
  }
}
