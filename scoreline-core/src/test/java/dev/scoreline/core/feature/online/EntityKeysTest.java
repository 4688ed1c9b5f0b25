package dev.scoreline.core.feature.online;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.scoreline.core.error.ErrorCode;
import dev.scoreline.core.error.ScorelineException;
import dev.scoreline.core.feature.Definitions.Entity;
import dev.scoreline.core.feature.Definitions.KeyColumn;
import dev.scoreline.core.feature.ValueType;
import java.math.BigInteger;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class EntityKeysTest {
  static final KeyColumn USER_ID = new KeyColumn("user_id", ValueType.INT64);
  static final KeyColumn COUNTRY = new KeyColumn("country", ValueType.STRING);
  static final Entity USER = new Entity("user", List.of(USER_ID), null);
  static final Entity USER_COUNTRY = new Entity("uc", List.of(USER_ID, COUNTRY), null);

  @Test
  void encode_int64Key_matchesDocumentedLayout() {
    assertThat(ViewCodecTest.hex(EntityKeys.encode(USER, List.of(42L))))
        .isEqualTo("01 01 00 00 00 00 00 00 00 2a");
  }

  @Test
  void encode_compositeKey_matchesDocumentedLayout() {
    assertThat(ViewCodecTest.hex(EntityKeys.encode(USER_COUNTRY, List.of(42L, "de"))))
        .isEqualTo("01 01 00 00 00 00 00 00 00 2a 04 02 64 65");
  }

  @Test
  void roundTrip_int64AndString_decodesSameValues() {
    for (List<Object> key :
        List.<List<Object>>of(
            List.of(Long.MIN_VALUE, ""),
            List.of(-1L, "ü✓"),
            List.of(Long.MAX_VALUE, "x".repeat(200)))) {
      assertThat(EntityKeys.decode(EntityKeys.encode(USER_COUNTRY, key))).isEqualTo(key);
    }
  }

  @Test
  void encode_stringForInt64Key_userErrorNamingColumnAndType() {
    assertThatThrownBy(() -> EntityKeys.encode(USER, List.of("42")))
        .isInstanceOfSatisfying(
            ScorelineException.class,
            e -> {
              assertThat(e.code()).isEqualTo(ErrorCode.USER_ERROR);
              assertThat(e.field()).contains("key.user_id");
              assertThat(e.getMessage()).contains("user_id").contains("int64");
            });
  }

  @Test
  void encode_longForStringKey_userError() {
    assertThatThrownBy(() -> EntityKeys.encode(USER_COUNTRY, List.of(1L, 2L)))
        .isInstanceOfSatisfying(
            ScorelineException.class, e -> assertThat(e.field()).contains("key.country"));
  }

  @Test
  void encode_wrongArity_userError() {
    assertThatThrownBy(() -> EntityKeys.encode(USER_COUNTRY, List.of(1L)))
        .isInstanceOfSatisfying(
            ScorelineException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.USER_ERROR));
  }

  @Test
  void fromJson_integerTypesAndCanonicalDigits_convertToLong() {
    assertThat(EntityKeys.fromJson("user", USER_ID, 42, "f")).isEqualTo(42L);
    assertThat(EntityKeys.fromJson("user", USER_ID, 42L, "f")).isEqualTo(42L);
    assertThat(EntityKeys.fromJson("user", USER_ID, (short) 42, "f")).isEqualTo(42L);
    assertThat(EntityKeys.fromJson("user", USER_ID, BigInteger.valueOf(42), "f")).isEqualTo(42L);
    assertThat(EntityKeys.fromJson("user", USER_ID, "42", "f")).isEqualTo(42L);
    assertThat(EntityKeys.fromJson("user", USER_ID, "-7", "f")).isEqualTo(-7L);
    assertThat(EntityKeys.fromJson("user", USER_ID, "0", "f")).isEqualTo(0L);
    assertThat(EntityKeys.fromJson("user", USER_ID, "9223372036854775807", "f"))
        .isEqualTo(Long.MAX_VALUE);
  }

  @ParameterizedTest
  @ValueSource(
      strings = {"042", "+42", " 42", "4.2e1", "42.0", "-0", "", "-", "9223372036854775808"})
  void fromJson_nonCanonicalDigitString_userErrorNamingField(String text) {
    assertThatThrownBy(() -> EntityKeys.fromJson("user", USER_ID, text, "entityRows[3].user_id"))
        .isInstanceOfSatisfying(
            ScorelineException.class,
            e -> {
              assertThat(e.code()).isEqualTo(ErrorCode.USER_ERROR);
              assertThat(e.field()).contains("entityRows[3].user_id");
              assertThat(e.getMessage()).contains("int64");
            });
  }

  @Test
  void fromJson_fractionalOrBooleanForInt64_userError() {
    for (Object v : new Object[] {4.0d, 4.5d, true, BigInteger.ONE.shiftLeft(64)}) {
      assertThatThrownBy(() -> EntityKeys.fromJson("user", USER_ID, v, "f"))
          .isInstanceOf(ScorelineException.class);
    }
  }

  @Test
  void fromJson_numberForStringKey_userError() {
    assertThatThrownBy(() -> EntityKeys.fromJson("uc", COUNTRY, 7, "entityRows[0].country"))
        .isInstanceOfSatisfying(
            ScorelineException.class,
            e -> {
              assertThat(e.code()).isEqualTo(ErrorCode.USER_ERROR);
              assertThat(e.getMessage()).contains("country").contains("string");
            });
  }

  @Test
  void decode_otherVersionOrCorrupt_throwsIllegalArgument() {
    byte[] key = EntityKeys.encode(USER, List.of(1L));
    key[0] = 2;
    assertThatThrownBy(() -> EntityKeys.decode(key)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> EntityKeys.decode(new byte[] {1, 1, 0}))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
