package dev.scoreline.core.feature.online;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.scoreline.core.error.ErrorCode;
import dev.scoreline.core.error.ScorelineException;
import dev.scoreline.core.feature.Definitions.Feature;
import dev.scoreline.core.feature.Definitions.FeatureView;
import dev.scoreline.core.feature.ValueType;
import dev.scoreline.core.kv.Stamps;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class ViewCodecTest {
  static FeatureView view(Feature... features) {
    return new FeatureView("v", "user", null, List.of(features), null, null, null, true);
  }

  static final FeatureView ALL =
      view(
          new Feature("i64", ValueType.INT64),
          new Feature("f64", ValueType.FP64),
          new Feature("f32", ValueType.FP32),
          new Feature("s", ValueType.STRING),
          new Feature("b", ValueType.BOOL),
          new Feature("raw", ValueType.BYTES),
          new Feature("vec", ValueType.FP32_LIST),
          new Feature("ids", ValueType.INT64_LIST),
          new Feature("tags", ValueType.STRING_LIST));

  @Test
  void roundTrip_everyValueType_decodesEqualValues() {
    Object[] values = {
      -42L,
      Math.PI,
      1.5f,
      "grüße ✓",
      true,
      new byte[] {0, 1, (byte) 0xff},
      new float[] {0.25f, -1f, Float.NaN},
      new long[] {Long.MIN_VALUE, 0, Long.MAX_VALUE},
      List.of("a", "", "ü")
    };
    byte[] bytes = ViewCodec.encode(ALL, 1_000_000L, 2_000_000L, values);

    ViewCodec.Decoded d = ViewCodec.decode(ALL, bytes);

    assertThat(d.eventMicros()).isEqualTo(1_000_000L);
    assertThat(d.createdMicros()).isEqualTo(2_000_000L);
    assertThat(d.statuses()).containsOnly(FeatureStatus.PRESENT);
    assertThat(d.values()[0]).isEqualTo(-42L);
    assertThat(d.values()[1]).isEqualTo(Math.PI);
    assertThat(d.values()[2]).isEqualTo(1.5f);
    assertThat(d.values()[3]).isEqualTo("grüße ✓");
    assertThat(d.values()[4]).isEqualTo(true);
    assertThat((byte[]) d.values()[5]).containsExactly(0, 1, 0xff);
    assertThat((float[]) d.values()[6]).containsExactly(0.25f, -1f, Float.NaN);
    assertThat((long[]) d.values()[7]).containsExactly(Long.MIN_VALUE, 0, Long.MAX_VALUE);
    assertThat(d.values()[8]).isEqualTo(List.of("a", "", "ü"));
  }

  @Test
  void roundTrip_nullsAndEmptyLists_keepNullAndEmpty() {
    Object[] values = {
      null, null, null, "", false, new byte[0], new float[0], new long[0], List.of()
    };
    ViewCodec.Decoded d = ViewCodec.decode(ALL, ViewCodec.encode(ALL, 5, 5, values));

    assertThat(Arrays.copyOf(d.statuses(), 3)).containsOnly(FeatureStatus.NULL);
    assertThat(Arrays.copyOf(d.values(), 3)).containsOnlyNulls();
    assertThat(d.values()[3]).isEqualTo("");
    assertThat(d.values()[4]).isEqualTo(false);
    assertThat((byte[]) d.values()[5]).isEmpty();
    assertThat((float[]) d.values()[6]).isEmpty();
    assertThat((long[]) d.values()[7]).isEmpty();
    assertThat((List<?>) d.values()[8]).isEmpty();
    assertThat(Arrays.copyOfRange(d.statuses(), 3, 9)).containsOnly(FeatureStatus.PRESENT);
  }

  @Test
  void encode_documentedExample_producesDocumentedBytes() {
    FeatureView v =
        view(new Feature("clicks", ValueType.INT64), new Feature("name", ValueType.STRING));

    byte[] bytes = ViewCodec.encode(v, 1, 2, new Object[] {7L, "a"});

    assertThat(hex(bytes))
        .isEqualTo(
            "80 00 00 00 00 00 00 01 80 00 00 00 00 00 00 02 01 02 01 00 00 00 00 00 00 00 07"
                + " 04 01 61");
  }

  @Test
  void encode_header_isStampThenVersionByteThenCount() {
    byte[] bytes = ViewCodec.encode(ALL, -5, 9, new Object[9]);

    assertThat(Arrays.copyOf(bytes, 16)).isEqualTo(Stamps.stamp(-5, 9));
    assertThat(bytes[16]).isEqualTo(ViewCodec.FORMAT_VERSION).isEqualTo((byte) 0x01);
    assertThat(ViewCodec.formatVersion(bytes)).isEqualTo(1);
    assertThat(ViewCodec.featureCount(bytes)).isEqualTo(9);
    assertThat(bytes).hasSize(16 + 1 + 1 + 9); // every feature NULL: one tag byte each
    assertThat(ViewCodec.eventMicros(bytes)).isEqualTo(-5);
    assertThat(ViewCodec.createdMicros(bytes)).isEqualTo(9);
  }

  @Test
  void roundTrip_longString_usesMultiByteVarint() {
    FeatureView v = view(new Feature("s", ValueType.STRING), new Feature("n", ValueType.INT64));
    String s = "x".repeat(300);

    byte[] bytes = ViewCodec.encode(v, 0, 0, new Object[] {s, 3L});

    assertThat(bytes[19] & 0xff).isEqualTo(0xac); // 300 = 0xac 0x02 in LEB128
    assertThat(bytes[20]).isEqualTo((byte) 0x02);
    assertThat(ViewCodec.decode(v, bytes).values()).containsExactly(s, 3L);
  }

  @Test
  void decode_featureAppendedAfterWrite_isNotFound() {
    FeatureView before = view(new Feature("a", ValueType.INT64));
    FeatureView after = view(new Feature("a", ValueType.INT64), new Feature("b", ValueType.FP64));

    ViewCodec.Decoded d =
        ViewCodec.decode(after, ViewCodec.encode(before, 0, 0, new Object[] {1L}));

    assertThat(d.statuses()).containsExactly(FeatureStatus.PRESENT, FeatureStatus.NOT_FOUND);
    assertThat(d.values()).containsExactly(1L, null);
  }

  @Test
  void decode_featureRemovedFromEnd_ignoresExtraStoredFeatures() {
    FeatureView before =
        view(new Feature("a", ValueType.INT64), new Feature("b", ValueType.STRING));
    FeatureView after = view(new Feature("a", ValueType.INT64));

    ViewCodec.Decoded d =
        ViewCodec.decode(after, ViewCodec.encode(before, 0, 0, new Object[] {1L, "x"}));

    assertThat(d.values()).containsExactly(1L);
  }

  @Test
  void decode_typeChanged_isNotFound() {
    FeatureView before = view(new Feature("a", ValueType.INT64), new Feature("b", ValueType.BOOL));
    FeatureView after = view(new Feature("a", ValueType.FP64), new Feature("b", ValueType.BOOL));

    ViewCodec.Decoded d =
        ViewCodec.decode(after, ViewCodec.encode(before, 0, 0, new Object[] {1L, true}));

    assertThat(d.statuses()).containsExactly(FeatureStatus.NOT_FOUND, FeatureStatus.PRESENT);
    assertThat(d.values()).containsExactly(null, true);
  }

  @Test
  void decode_otherFormatVersion_throwsUnsupported() {
    byte[] bytes = ViewCodec.encode(ALL, 0, 0, new Object[9]);
    bytes[16] = 2;

    assertThatThrownBy(() -> ViewCodec.decode(ALL, bytes))
        .isInstanceOfSatisfying(
            ScorelineException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.UNSUPPORTED));
  }

  @Test
  void decode_truncated_throwsIllegalArgument() {
    byte[] bytes =
        ViewCodec.encode(
            ALL, 0, 0, new Object[] {1L, null, null, "abc", null, null, null, null, null});

    assertThatThrownBy(() -> ViewCodec.decode(ALL, Arrays.copyOf(bytes, bytes.length - 8)))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void encode_wrongJavaType_userErrorNamingFeature() {
    Object[] values = new Object[9];
    values[2] = 1.5d; // fp32 takes a Float

    assertThatThrownBy(() -> ViewCodec.encode(ALL, 0, 0, values))
        .isInstanceOfSatisfying(
            ScorelineException.class,
            e -> {
              assertThat(e.code()).isEqualTo(ErrorCode.USER_ERROR);
              assertThat(e.field()).contains("values.f32");
              assertThat(e.getMessage()).contains("f32").contains("fp32");
            });
  }

  @Test
  void encode_stringListWithNull_userError() {
    Object[] values = new Object[9];
    List<String> tags = new ArrayList<>();
    tags.add(null);
    values[8] = tags;

    assertThatThrownBy(() -> ViewCodec.encode(ALL, 0, 0, values))
        .isInstanceOfSatisfying(
            ScorelineException.class, e -> assertThat(e.field()).contains("values.tags"));
  }

  @Test
  void encode_wrongValueCount_userError() {
    assertThatThrownBy(() -> ViewCodec.encode(ALL, 0, 0, new Object[2]))
        .isInstanceOfSatisfying(
            ScorelineException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.USER_ERROR));
  }

  static String hex(byte[] b) {
    StringBuilder sb = new StringBuilder();
    for (byte x : b) {
      if (sb.length() > 0) {
        sb.append(' ');
      }
      sb.append(String.format("%02x", x));
    }
    return sb.toString();
  }
}
