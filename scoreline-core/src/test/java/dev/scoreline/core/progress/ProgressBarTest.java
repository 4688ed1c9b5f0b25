package dev.scoreline.core.progress;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class ProgressBarTest {
  final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
  final PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);
  final AtomicLong ticker = new AtomicLong(1_000_000_000L);

  String output() {
    return bytes.toString(StandardCharsets.UTF_8);
  }

  void sleep(long millis) {
    ticker.addAndGet(TimeUnit.MILLISECONDS.toNanos(millis));
  }

  @Test
  void interactive_redrawsLineWithCountPercentRateEtaAndElapsed() {
    ProgressBar bar = new ProgressBar(out, "rows", true, ticker::get);
    bar.start("materialize user_stats", 100_000);

    sleep(2_000);
    bar.advance(40_000);

    String last = lastRedraw(output());
    assertThat(last)
        .startsWith("materialize user_stats [########------------]")
        .contains("40,000/100,000")
        .contains("40.0%")
        .contains("20,000 rows/s")
        .contains("ETA 0:03")
        .contains("elapsed 0:02");
    assertThat(output()).doesNotContain("\n");
  }

  @Test
  void interactive_throttledToTenRedrawsPerSecond() {
    ProgressBar bar = new ProgressBar(out, "rows", true, ticker::get);
    bar.start("task", 10_000);
    int before = count(output(), '\r');

    for (int i = 0; i < 1000; i++) {
      sleep(1); // 1000 advances over one second
      bar.advance(1);
    }

    int redraws = count(output(), '\r') - before;
    assertThat(redraws).isBetween(9, 10);
  }

  @Test
  void interactive_finish_replacesLineWithSummary() {
    ProgressBar bar = new ProgressBar(out, "rows", true, ticker::get);
    bar.start("materialize user_stats", 100);
    sleep(200);
    bar.advance(100);
    sleep(1_800);

    bar.finish();

    assertThat(output())
        .endsWith(
            "\rmaterialize user_stats: done, 100 rows in 0:02 (50 rows/s)" + pad(output()) + "\n");
  }

  @Test
  void plain_oneLinePerTenPercentThenSummary() {
    ProgressBar bar = new ProgressBar(out, "rows", false, ticker::get);
    bar.start("index build", 1_000);
    for (int i = 0; i < 100; i++) {
      sleep(10);
      bar.advance(10);
    }
    bar.finish();

    String[] lines = output().split("\n");
    assertThat(lines).hasSize(11);
    assertThat(lines[0])
        .isEqualTo("index build: 10% 100/1,000 rows, 1,000 rows/s, ETA 0:00, elapsed 0:00");
    assertThat(lines[4]).startsWith("index build: 50% 500/1,000 rows, 1,000 rows/s");
    assertThat(lines[9]).startsWith("index build: 100% 1,000/1,000 rows");
    assertThat(lines[10]).isEqualTo("index build: done, 1,000 rows in 0:01 (1,000 rows/s)");
    assertThat(output()).doesNotContain("\r");
  }

  @Test
  void plain_bigJump_printsOnlyTheStepReached() {
    ProgressBar bar = new ProgressBar(out, "vectors", false, ticker::get);
    bar.start("index", 100);
    sleep(1000);

    bar.advance(35);

    assertThat(output())
        .isEqualTo("index: 30% 35/100 vectors, 35 vectors/s, ETA 0:01, elapsed 0:01\n");
  }

  @Test
  void unknownTotal_showsCountRateAndElapsedWithoutPercentOrEta() {
    ProgressBar bar = new ProgressBar(out, "rows", true, ticker::get);
    bar.start("scan", 0);
    sleep(4_000);

    bar.advance(8_000);

    assertThat(lastRedraw(output()))
        .isEqualTo("scan  8,000 rows  2,000 rows/s  elapsed 0:04")
        .doesNotContain("%")
        .doesNotContain("ETA");
  }

  @Test
  void duration_formatsMinutesAndHours() {
    assertThat(ProgressBar.duration(TimeUnit.SECONDS.toNanos(5))).isEqualTo("0:05");
    assertThat(ProgressBar.duration(TimeUnit.SECONDS.toNanos(754))).isEqualTo("12:34");
    assertThat(ProgressBar.duration(TimeUnit.SECONDS.toNanos(3_723))).isEqualTo("1:02:03");
  }

  @Test
  void none_ignoresCalls() {
    ProgressListener.NONE.start("x", 1);
    ProgressListener.NONE.advance(1);
    ProgressListener.NONE.finish();
  }

  private static String lastRedraw(String s) {
    return s.substring(s.lastIndexOf('\r') + 1).stripTrailing();
  }

  private static String pad(String s) {
    String tail = s.substring(s.lastIndexOf('\r') + 1, s.length() - 1);
    return tail.substring(tail.stripTrailing().length());
  }

  private static int count(String s, char c) {
    int n = 0;
    for (int i = 0; i < s.length(); i++) {
      if (s.charAt(i) == c) {
        n++;
      }
    }
    return n;
  }
}
