package dev.scoreline.core.feature.materialize;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.scoreline.core.error.ErrorCode;
import dev.scoreline.core.error.ScorelineException;
import dev.scoreline.core.feature.FeatureFixtures;
import dev.scoreline.core.feature.FeatureFixtures.MutableClock;
import dev.scoreline.core.feature.FeatureRef;
import dev.scoreline.core.feature.FeatureRegistry;
import dev.scoreline.core.feature.FeatureRow;
import dev.scoreline.core.feature.InMemoryKvStore;
import dev.scoreline.core.feature.ListOfflineStore;
import dev.scoreline.core.feature.online.FeatureStatus;
import dev.scoreline.core.feature.online.FeatureVectors;
import dev.scoreline.core.feature.online.OnlineFeatureStore;
import dev.scoreline.core.progress.ProgressListener;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MaterializerTest {
  static final Instant END = Instant.parse("2024-05-02T00:00:00Z");
  static final FeatureRef CLICKS = new FeatureRef("user_stats", "clicks");
  static final FeatureRef COUNTRY = new FeatureRef("user_profile", "country");

  @TempDir Path dir;
  FeatureRegistry registry;
  MutableClock clock;
  ListOfflineStore offline;

  @BeforeEach
  void setUp() {
    registry = FeatureFixtures.registry(dir);
    clock = new MutableClock(END);
    offline = new ListOfflineStore();
  }

  static FeatureRow stats(long user, Instant event, long clicks) {
    return new FeatureRow(List.of(user), event, null, new Object[] {clicks, null});
  }

  static FeatureRow profile(long user, Instant event, String country) {
    return new FeatureRow(List.of(user), event, null, new Object[] {country, null});
  }

  /** Recorded progress calls. */
  static final class RecordingProgress implements ProgressListener {
    final List<String> calls = new ArrayList<>();

    @Override
    public void start(String task, long total) {
      calls.add("start " + task + " " + total);
    }

    @Override
    public void advance(long n) {
      calls.add("advance " + n);
    }

    @Override
    public void finish() {
      calls.add("finish");
    }
  }

  Materializer materializer(InMemoryKvStore kv, ProgressListener progress, int batchSize) {
    OnlineFeatureStore online = new OnlineFeatureStore(kv, registry, clock);
    return new Materializer(offline, online, dir.resolve(".scoreline"), clock, progress, batchSize);
  }

  Materializer materializer(InMemoryKvStore kv) {
    return materializer(kv, ProgressListener.NONE, Materializer.DEFAULT_BATCH_SIZE);
  }

  static Map<String, Object> user(long id) {
    return Map.of("user_id", id);
  }

  @Test
  void materialize_rowsInInterval_latestPerKeyOnline() {
    offline
        .add("user_stats", stats(1, END.minusSeconds(300), 1))
        .add("user_stats", stats(1, END.minusSeconds(200), 2))
        .add("user_stats", stats(2, END.minusSeconds(100), 20))
        .add("user_stats", stats(3, END.minus(Duration.ofDays(2)), 30)) // before start
        .add("user_stats", stats(4, END, 40)); // end is exclusive
    InMemoryKvStore kv = new InMemoryKvStore();

    Materializer.Summary s =
        materializer(kv).materialize(List.of("user_stats"), END.minus(Duration.ofDays(1)), END);

    FeatureVectors v =
        new OnlineFeatureStore(kv, registry, clock)
            .get(List.of(CLICKS), List.of(user(1), user(2), user(3), user(4)));
    assertThat(v.value(0, 0)).isEqualTo(2L);
    assertThat(v.eventTime(0, 0)).isEqualTo(END.minusSeconds(200));
    assertThat(v.value(0, 1)).isEqualTo(20L);
    assertThat(v.status(0, 2)).isEqualTo(FeatureStatus.NOT_FOUND);
    assertThat(v.status(0, 3)).isEqualTo(FeatureStatus.NOT_FOUND);
    assertThat(s.views()).hasSize(1);
    assertThat(s.rowsRead()).isEqualTo(2);
    assertThat(s.rowsWritten()).isEqualTo(2);
    assertThat(s.rowsApplied()).isEqualTo(2);
    assertThat(s.views().get(0).view()).isEqualTo("user_stats");
  }

  @Test
  void materialize_rerun_sameStoreContents() {
    for (int i = 0; i < 25; i++) {
      offline.add("user_stats", stats(i % 10, END.minusSeconds(1000 - i), i));
    }
    InMemoryKvStore kv = new InMemoryKvStore();
    Materializer m = materializer(kv, ProgressListener.NONE, 4);
    m.materialize(List.of("user_stats"), END.minus(Duration.ofDays(1)), END);
    Map<List<Byte>, Map<String, List<Byte>>> first = kv.dump("features/user");

    Materializer.Summary again =
        m.materialize(List.of("user_stats"), END.minus(Duration.ofDays(1)), END);

    assertThat(kv.dump("features/user")).isEqualTo(first).hasSize(10);
    assertThat(again.rowsApplied()).isEqualTo(10); // equal stamps are rewritten, same bytes
  }

  @Test
  void materialize_interruptedThenRerun_sameValuesAsCleanRun() {
    for (int i = 0; i < 30; i++) {
      offline.add("user_stats", stats(i, END.minusSeconds(100 + i), i * 10L));
    }
    InMemoryKvStore clean = new InMemoryKvStore();
    new Materializer(
            offline,
            new OnlineFeatureStore(clean, registry, clock),
            dir.resolve("clean-state"),
            clock,
            ProgressListener.NONE)
        .materialize(List.of("user_stats"), END.minus(Duration.ofDays(1)), END);

    InMemoryKvStore kv = new InMemoryKvStore();
    Materializer m = materializer(kv, ProgressListener.NONE, 7);
    offline.failAfter = 17;
    assertThatThrownBy(() -> m.materializeIncremental(List.of("user_stats"), END))
        .hasMessageContaining("simulated failure");
    assertThat(m.lastEnd("user_stats")).isEmpty(); // state not advanced
    assertThat(kv.dump("features/user")).hasSize(14); // two full batches of 7 were written
    clock.advance(Duration.ofMinutes(5)); // re-run later: arrival (created) time differs

    m.materializeIncremental(List.of("user_stats"), END);

    List<Map<String, Object>> users = new ArrayList<>();
    for (int i = 0; i < 30; i++) {
      users.add(user(i));
    }
    FeatureVectors expected =
        new OnlineFeatureStore(clean, registry, clock).get(List.of(CLICKS), users);
    FeatureVectors actual = new OnlineFeatureStore(kv, registry, clock).get(List.of(CLICKS), users);
    for (int i = 0; i < 30; i++) {
      assertThat(actual.value(0, i)).isEqualTo(expected.value(0, i)).isEqualTo(i * 10L);
      assertThat(actual.eventTime(0, i)).isEqualTo(expected.eventTime(0, i));
    }
    assertThat(m.lastEnd("user_stats")).contains(END);
  }

  @Test
  void materialize_batchSize_oneMergeRecordsCallPerBatch() {
    for (int i = 0; i < 5; i++) {
      offline.add("user_stats", stats(i, END.minusSeconds(10), i));
    }
    InMemoryKvStore kv = new InMemoryKvStore();
    RecordingProgress progress = new RecordingProgress();

    materializer(kv, progress, 2).materialize(List.of("user_stats"), END.minusSeconds(60), END);

    assertThat(kv.mergeRecordsCalls.get()).isEqualTo(3);
    assertThat(progress.calls)
        .containsExactly(
            "start materialize user_stats 5", "advance 2", "advance 2", "advance 1", "finish");
  }

  @Test
  void materializeIncremental_firstRun_startsAtEndMinusTtl() {
    materializer(new InMemoryKvStore()).materializeIncremental(List.of("user_stats"), END);

    // user_stats has ttl 1h
    assertThat(offline.scans).containsExactly("user_stats [2024-05-01T23:00:00Z, " + END + ")");
  }

  @Test
  void materializeIncremental_firstRunWithoutTtl_startsOneYearBeforeEnd() {
    materializer(new InMemoryKvStore()).materializeIncremental(List.of("user_profile"), END);

    assertThat(offline.scans)
        .containsExactly("user_profile [" + END.minus(Duration.ofDays(365)) + ", " + END + ")");
  }

  @Test
  void materializeIncremental_secondRun_startsAtLastEndFromStateFile() {
    Instant firstEnd = END.minusSeconds(600);
    materializer(new InMemoryKvStore()).materializeIncremental(List.of("user_stats"), firstEnd);

    // a new Materializer (a new process) reads the state file
    Materializer.Summary s =
        materializer(new InMemoryKvStore()).materializeIncremental(List.of("user_stats"), END);

    assertThat(offline.scans).last().isEqualTo("user_stats [" + firstEnd + ", " + END + ")");
    assertThat(s.views().get(0).start()).isEqualTo(firstEnd);
    assertThat(dir.resolve(".scoreline/materialize.json")).exists();
  }

  @Test
  void materializeIncremental_upToDate_scansNothing() {
    Materializer m = materializer(new InMemoryKvStore());
    m.materializeIncremental(List.of("user_stats"), END);

    Materializer.Summary s = m.materializeIncremental(List.of("user_stats"), END);

    assertThat(offline.scans).hasSize(1);
    assertThat(s.rowsRead()).isZero();
  }

  @Test
  void materialize_olderExplicitRange_doesNotMoveLastEndBackwards() {
    Materializer m = materializer(new InMemoryKvStore());
    m.materializeIncremental(List.of("user_stats"), END);

    m.materialize(
        List.of("user_stats"), END.minus(Duration.ofDays(10)), END.minus(Duration.ofDays(9)));

    assertThat(m.lastEnd("user_stats")).contains(END);
  }

  @Test
  void materialize_stateWrite_leavesNoTempFiles() throws Exception {
    Materializer m = materializer(new InMemoryKvStore());
    m.materializeIncremental(List.of(), END);

    try (Stream<Path> files = Files.list(dir.resolve(".scoreline"))) {
      assertThat(files.map(p -> p.getFileName().toString()))
          .containsExactlyInAnyOrder("materialize.json", "materialize.json.lock");
    }
    assertThat(Files.readString(dir.resolve(".scoreline/materialize.json")))
        .contains("\"last-end\" : \"" + END + "\"");
  }

  @Test
  void materialize_corruptStateFile_userErrorNamingFile() throws Exception {
    Files.createDirectories(dir.resolve(".scoreline"));
    Files.writeString(dir.resolve(".scoreline/materialize.json"), "{not json");

    assertThatThrownBy(
            () ->
                materializer(new InMemoryKvStore())
                    .materializeIncremental(List.of("user_stats"), END))
        .isInstanceOfSatisfying(
            ScorelineException.class,
            e -> {
              assertThat(e.code()).isEqualTo(ErrorCode.USER_ERROR);
              assertThat(e.getMessage()).contains("materialize.json");
            });
  }

  @Test
  void materialize_noViewsNamed_everyOnlineView() {
    offline
        .add("user_stats", stats(1, END.minusSeconds(10), 5))
        .add("user_profile", profile(1, END.minusSeconds(10), "de"));
    InMemoryKvStore kv = new InMemoryKvStore();

    Materializer.Summary s = materializer(kv).materialize(List.of(), END.minusSeconds(60), END);

    assertThat(s.views())
        .extracting(Materializer.ViewResult::view)
        .containsExactly("user_stats", "user_profile", "item_stats", "all_types");
    FeatureVectors v =
        new OnlineFeatureStore(kv, registry, clock).get(List.of(CLICKS, COUNTRY), List.of(user(1)));
    assertThat(v.value(0, 0)).isEqualTo(5L);
    assertThat(v.value(1, 0)).isEqualTo("de");
  }

  @Test
  void materialize_unknownOrOfflineOnlyView_errors() {
    Materializer m = materializer(new InMemoryKvStore());

    assertThatThrownBy(() -> m.materialize(List.of("nope"), END.minusSeconds(1), END))
        .isInstanceOfSatisfying(
            ScorelineException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.NOT_FOUND));
    assertThatThrownBy(() -> m.materialize(List.of("archive"), END.minusSeconds(1), END))
        .isInstanceOfSatisfying(
            ScorelineException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.USER_ERROR));
    assertThatThrownBy(() -> m.materialize(List.of(), END, END))
        .isInstanceOfSatisfying(
            ScorelineException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.USER_ERROR));
  }

  @Test
  void materialize_invalidOfflineRow_userErrorNamingViewAndStateNotAdvanced() {
    offline.add(
        "user_stats",
        new FeatureRow(List.of(1L), END.minusSeconds(5), null, new Object[] {1, null}));
    Materializer m = materializer(new InMemoryKvStore());

    assertThatThrownBy(() -> m.materializeIncremental(List.of("user_stats"), END))
        .isInstanceOfSatisfying(
            ScorelineException.class,
            e -> {
              assertThat(e.code()).isEqualTo(ErrorCode.USER_ERROR);
              assertThat(e.getMessage()).contains("user_stats").contains("clicks");
            });
    assertThat(m.lastEnd("user_stats")).isEmpty();
  }

  @Test
  void summary_durationAndRate_fromClock() {
    for (int i = 0; i < 100; i++) {
      offline.add("user_stats", stats(i, END.minusSeconds(10), i));
    }
    InMemoryKvStore kv = new InMemoryKvStore();
    ProgressListener ticking =
        new ProgressListener() {
          @Override
          public void start(String task, long total) {}

          @Override
          public void advance(long n) {
            clock.advance(Duration.ofSeconds(1));
          }

          @Override
          public void finish() {}
        };

    Materializer.Summary s =
        materializer(kv, ticking, 50).materialize(List.of("user_stats"), END.minusSeconds(60), END);

    assertThat(s.duration()).isEqualTo(Duration.ofSeconds(2));
    assertThat(s.rowsPerSecond()).isEqualTo(50.0);
    assertThat(s.views().get(0).rowsPerSecond()).isEqualTo(50.0);
  }
}
