package dev.scoreline.batch;

import dev.scoreline.core.error.ScorelineException;
import dev.scoreline.core.feature.Definitions.FeatureView;
import dev.scoreline.core.feature.FeatureRef;
import dev.scoreline.core.feature.FeatureRegistry;
import dev.scoreline.core.feature.spi.OfflineStore;
import dev.scoreline.core.surface.Surface;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The entities a batch run scores, listed on the driver by the same rule as the local engine
 * ({@code scoreline batch}): every entity with a row in the view named by the surface's {@code
 * batch.entities} (else the view of its first entity feature) in the offline store, sorted; or the
 * lines of a CSV file whose header names the entity's key columns.
 */
public final class BatchEntities {
  private BatchEntities() {}

  /** Every entity with a row in the surface's entity view (offline store), in a stable order. */
  public static List<Map<String, Object>> scan(
      FeatureRegistry registry, OfflineStore offline, Surface s) {
    Object named = s.spec().batch().get("entities");
    FeatureView view;
    if (named != null) {
      view = registry.view(String.valueOf(named));
    } else if (!s.entityFeatures().isEmpty()) {
      FeatureRef first = s.entityFeatures().get(0);
      view = registry.view(first.view());
    } else {
      throw ScorelineException.userError(
          "batch.entities",
          s.origin()
              + ": name the feature view whose entities to score in batch.entities, or pass"
              + " --entities FILE");
    }
    if (!view.entity().equals(s.entity().name())) {
      throw ScorelineException.userError(
          "batch.entities",
          s.origin()
              + ": view "
              + view.name()
              + " is of entity "
              + view.entity()
              + ", not "
              + s.entity().name());
    }
    List<Map<String, Object>> out = new ArrayList<>();
    var cols = s.entity().keys();
    offline.scanLatest(
        view,
        Instant.EPOCH,
        Instant.now().plusSeconds(1),
        row -> {
          Map<String, Object> key = new LinkedHashMap<>();
          for (int i = 0; i < cols.size(); i++) {
            key.put(cols.get(i).name(), row.key().get(i));
          }
          out.add(key);
        });
    out.sort((a, b) -> String.valueOf(a.values()).compareTo(String.valueOf(b.values())));
    return out;
  }

  /** Entities from a CSV file whose header names the key columns. */
  public static List<Map<String, Object>> read(Surface s, Path file) {
    List<String> lines;
    try {
      lines = Files.readAllLines(file);
    } catch (IOException e) {
      throw ScorelineException.userError(
          "--entities", "cannot read " + file + ": " + e.getMessage());
    }
    if (lines.isEmpty()) {
      throw ScorelineException.userError("--entities", file + " is empty; it needs a header");
    }
    String[] header = lines.get(0).trim().split(",");
    for (var c : s.entity().keys()) {
      if (!List.of(header).contains(c.name())) {
        throw ScorelineException.userError(
            "--entities",
            file
                + ": the header must name the key column '"
                + c.name()
                + "'; it has "
                + List.of(header));
      }
    }
    List<Map<String, Object>> out = new ArrayList<>();
    for (int i = 1; i < lines.size(); i++) {
      String line = lines.get(i).trim();
      if (line.isEmpty()) {
        continue;
      }
      String[] v = line.split(",", -1);
      Map<String, Object> key = new LinkedHashMap<>();
      for (int c = 0; c < header.length && c < v.length; c++) {
        key.put(header[c], v[c]);
      }
      out.add(key);
    }
    return out;
  }
}
