package dev.scoreline.spark;

import dev.scoreline.batch.BatchEntities;
import dev.scoreline.core.surface.Surface;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * The entities a batch run scores, listed on the driver by the same rule as the local engine
 * ({@link BatchEntities}, shared with {@code scoreline batch}).
 */
final class Entities {
  private Entities() {}

  static List<Map<String, Object>> scan(ProjectStores p, Surface s) {
    return BatchEntities.scan(p.registry(), p.offlineStore(), s);
  }

  static List<Map<String, Object>> read(Surface s, Path file) {
    return BatchEntities.read(s, file);
  }
}
