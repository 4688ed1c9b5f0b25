package dev.scoreline.stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.scoreline.core.config.ConfigLoader;
import dev.scoreline.core.error.ErrorCode;
import dev.scoreline.core.error.ScorelineException;
import dev.scoreline.core.feature.FeatureRegistry;
import dev.scoreline.core.surface.Surface;
import dev.scoreline.core.surface.SurfaceSpec;
import dev.scoreline.stream.fraud.FraudExample;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StreamConfigTest {
  static final String ORIGIN = "surfaces/fraud-check.yaml";

  @TempDir Path dir;
  FeatureRegistry registry;

  @BeforeEach
  void setUp() throws Exception {
    Files.createDirectories(dir.resolve("features"));
    Files.writeString(dir.resolve("features/fraud.yaml"), FraudExample.FEATURES_YAML);
    registry = FeatureRegistry.load(dir);
  }

  StreamConfig compile(String yaml) {
    SurfaceSpec spec = ConfigLoader.parse(ORIGIN, yaml, SurfaceSpec.class);
    return StreamConfig.compile(Surface.compile(spec, registry, ORIGIN), registry);
  }

  static String example() {
    return FraudExample.surfaceYaml(FraudExample.EMBEDDED_SOURCE, "");
  }

  static void assertUserError(ThrowingCallable c, String field, String... fragments) {
    assertThatThrownBy(c)
        .isInstanceOf(ScorelineException.class)
        .satisfies(
            e -> {
              ScorelineException se = (ScorelineException) e;
              assertThat(se.code()).isEqualTo(ErrorCode.USER_ERROR);
              assertThat(se.field()).contains(field);
              assertThat(se.getMessage()).startsWith(ORIGIN + ": " + field);
              for (String f : fragments) {
                assertThat(se.getMessage()).contains(f);
              }
            });
  }

  @Test
  void theExampleCompiles_withDefaults() {
    StreamConfig c = compile(example());
    assertThat(c.embeddedStream()).isEqualTo("transactions");
    assertThat(c.keyFields()).containsEntry("card_id", "card_id");
    assertThat(c.eventIdField()).isEqualTo("txn_id");
    assertThat(c.updates()).hasSize(1);
    assertThat(c.updates().get(0).aggregations()).hasSize(8);
    assertThat(c.trackedFields()).containsExactly("amount", "device_id", "country", "merchant_id");
    assertThat(c.alerts()).containsExactly(new StreamConfig.Alert("fraud-suspected", 0.9, null));
    assertThat(c.sinks()).extracting(StreamConfig.Section::type).containsExactly("kv", "log");
    assertThat(c.deadLetters().type()).isEqualTo("log");
    assertThat(c.lanes()).isEqualTo(2);
    assertThat(c.commitInterval()).isEqualTo(Duration.ofMillis(50));
    assertThat(c.keepWindowMicros()).isEqualTo(86_400_000_000L);
    assertThat(c.keepEntries()).isEqualTo(5);
  }

  @Test
  void unknownKey_namesFileFieldAndNearestKey() {
    assertUserError(
        () -> compile(example().replace("  lanes: 2", "  lanse: 2")),
        "stream.lanse",
        "did you mean 'lanes'");
    assertUserError(
        () -> compile(example().replace("window: 10m}}", "windw: 10m}}")),
        "stream.updates[0].features.txn_count_10m.count.windw",
        "did you mean 'window'");
  }

  @Test
  void aggregationOfTheWrongType_isRejected() {
    assertUserError(
        () ->
            compile(
                example()
                    .replace(
                        "recent_merchants: {last-n: {field: merchant_id, n: 5}}",
                        "recent_merchants: {sum: {field: amount, window: 1h}}")),
        "stream.updates[0].features.recent_merchants.sum",
        "string_list");
  }

  @Test
  void aViewFeatureWithoutAggregation_isRejected_becausePushesWriteWholeViews() {
    assertUserError(
        () ->
            compile(
                example()
                    .replace(
                        "        recent_merchants: {last-n: {field: merchant_id, n: 5}}\n", "")),
        "stream.updates[0].features",
        "recent_merchants");
  }

  @Test
  void unknownViewFeatureAndKeyColumn_areRejected() {
    assertUserError(
        () -> compile(example().replace("        txn_count_10m:", "        txn_cnt:")),
        "stream.updates[0].features.txn_cnt",
        "has no feature");
    assertUserError(
        () -> compile(example().replace("  key: {card_id: card_id}", "  key: {card: card_id}")),
        "stream.key.card",
        "key columns are [card_id]");
  }

  @Test
  void unknownAggregationAndMissingWindow_areRejected() {
    assertUserError(
        () -> compile(example().replace("{count: {window: 10m}}", "{tally: {window: 10m}}")),
        "stream.updates[0].features.txn_count_10m",
        "seconds-since-previous");
    assertUserError(
        () -> compile(example().replace("{count: {window: 10m}}", "{count: {}}")),
        "stream.updates[0].features.txn_count_10m.count.window",
        "10m");
  }

  @Test
  void alertNeedsAThreshold_andSinksNeedAName() {
    assertUserError(
        () -> compile(example().replace("score-above: 0.9", "label: x")),
        "stream.rules[0].alert.label");
    assertUserError(
        () -> compile(example().replace("{name: fraud-suspected, score-above: 0.9}", "{}")),
        "stream.rules[0].alert",
        "score-above");
  }
}
