package dev.scoreline.core.feature;

import dev.scoreline.core.feature.Definitions.FeatureView;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * A hand-written {@link dev.scoreline.core.feature.spi.OfflineStore} over lists of rows per view:
 * {@code scanLatest} keeps the newest row per key in {@code [start, end)} (ties: greater created
 * time, then the later row). Records the intervals scanned; can fail after a number of delivered
 * rows to simulate an interrupted run.
 */
public final class ListOfflineStore implements dev.scoreline.core.feature.spi.OfflineStore {
  private final Map<String, List<FeatureRow>> rows = new HashMap<>();

  /** {@code view [start, end)} per scan, in call order. */
  public final List<String> scans = new ArrayList<>();

  /** When >= 0, scanLatest throws after delivering this many rows (once). */
  public int failAfter = -1;

  public ListOfflineStore add(String view, FeatureRow row) {
    rows.computeIfAbsent(view, x -> new ArrayList<>()).add(row);
    return this;
  }

  private List<FeatureRow> inInterval(FeatureView view, Instant start, Instant end) {
    List<FeatureRow> out = new ArrayList<>();
    for (FeatureRow r : rows.getOrDefault(view.name(), List.of())) {
      if (!r.eventTime().isBefore(start) && r.eventTime().isBefore(end)) {
        out.add(r);
      }
    }
    return out;
  }

  @Override
  public long count(FeatureView view, Instant start, Instant end) {
    return inInterval(view, start, end).size();
  }

  @Override
  public long scanLatest(FeatureView view, Instant start, Instant end, Consumer<FeatureRow> sink) {
    scans.add(view.name() + " [" + start + ", " + end + ")");
    Comparator<FeatureRow> order =
        Comparator.comparing(FeatureRow::eventTime)
            .thenComparing(r -> r.createdTime() == null ? Instant.MIN : r.createdTime());
    Map<List<Object>, FeatureRow> latest = new LinkedHashMap<>();
    for (FeatureRow r : inInterval(view, start, end)) {
      FeatureRow old = latest.get(r.key());
      if (old == null || order.compare(r, old) >= 0) {
        latest.put(r.key(), r);
      }
    }
    long n = 0;
    for (FeatureRow r : latest.values()) {
      if (failAfter >= 0 && n == failAfter) {
        failAfter = -1;
        throw new IllegalStateException("simulated failure after " + n + " rows");
      }
      sink.accept(r);
      n++;
    }
    return n;
  }

  @Override
  public long pointInTimeJoin(
      Path spine,
      String timestampColumn,
      List<FeatureRef> features,
      FeatureRegistry registry,
      Path output) {
    throw new UnsupportedOperationException("not used by core tests");
  }

  @Override
  public void close() {}
}
