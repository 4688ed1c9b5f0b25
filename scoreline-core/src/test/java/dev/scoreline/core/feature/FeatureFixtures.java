package dev.scoreline.core.feature;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;

/** Feature definitions and a settable clock shared by the feature tests. */
public final class FeatureFixtures {
  private FeatureFixtures() {}

  /**
   * Entities user (user_id int64) and item (item_id string); views user_stats (ttl 1h, with a
   * created column), user_profile (no ttl), item_stats (ttl 1d), all_types (one feature of every
   * type), archive (online: false).
   */
  public static final String FEATURES_YAML =
      String.join(
          "\n",
          "entities:",
          "  - name: user",
          "    keys: [{name: user_id, type: int64}]",
          "  - name: item",
          "    keys: [{name: item_id, type: string}]",
          "feature-views:",
          "  - name: user_stats",
          "    entity: user",
          "    source: {path: data/user_stats.parquet}",
          "    timestamp-column: event_ts",
          "    created-timestamp-column: created_ts",
          "    ttl: 1h",
          "    features:",
          "      - {name: clicks, type: int64}",
          "      - {name: ctr, type: fp64}",
          "  - name: user_profile",
          "    entity: user",
          "    source: {path: data/user_profile.parquet}",
          "    features:",
          "      - {name: country, type: string}",
          "      - {name: embedding, type: fp32_list}",
          "  - name: item_stats",
          "    entity: item",
          "    source: {path: data/item_stats.parquet}",
          "    ttl: 24h",
          "    features:",
          "      - {name: price, type: fp32}",
          "      - {name: in_stock, type: bool}",
          "  - name: all_types",
          "    entity: user",
          "    source: {path: data/all_types.parquet}",
          "    features:",
          "      - {name: i64, type: int64}",
          "      - {name: f64, type: fp64}",
          "      - {name: f32, type: fp32}",
          "      - {name: s, type: string}",
          "      - {name: b, type: bool}",
          "      - {name: raw, type: bytes}",
          "      - {name: vec, type: fp32_list}",
          "      - {name: ids, type: int64_list}",
          "      - {name: tags, type: string_list}",
          "  - name: archive",
          "    entity: user",
          "    online: false",
          "    source: {path: data/archive.parquet}",
          "    features:",
          "      - {name: old, type: int64}",
          "");

  /** Writes {@code yaml} as {@code <dir>/features/features.yaml} and loads the registry. */
  public static FeatureRegistry registry(Path dir, String yaml) {
    try {
      Files.createDirectories(dir.resolve("features"));
      Files.writeString(dir.resolve("features/features.yaml"), yaml);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return FeatureRegistry.load(dir);
  }

  public static FeatureRegistry registry(Path dir) {
    return registry(dir, FEATURES_YAML);
  }

  /** A clock that stays where it is set. */
  public static final class MutableClock extends Clock {
    private volatile Instant now;

    public MutableClock(Instant now) {
      this.now = now;
    }

    public void set(Instant t) {
      now = t;
    }

    public void advance(Duration d) {
      now = now.plus(d);
    }

    @Override
    public Instant instant() {
      return now;
    }

    @Override
    public ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
      return this;
    }
  }
}
