package dev.scoreline.core.surface;

import dev.scoreline.core.config.ConfigLoader;
import dev.scoreline.core.error.ErrorCode;
import dev.scoreline.core.error.ScorelineException;
import dev.scoreline.core.feature.FeatureRegistry;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** The compiled surfaces of a project ({@code surfaces/*.yaml}). */
public final class Surfaces {
  private final Map<String, Surface> byName;

  private Surfaces(Map<String, Surface> byName) {
    this.byName = byName;
  }

  /** No surfaces. */
  public static Surfaces empty() {
    return new Surfaces(new TreeMap<>());
  }

  /** Surfaces given directly (tests, embedding applications). */
  public static Surfaces of(Collection<Surface> surfaces) {
    Map<String, Surface> m = new TreeMap<>();
    for (Surface s : surfaces) {
      if (m.put(s.name(), s) != null) {
        throw ScorelineException.userError("name", "surface '" + s.name() + "' is given twice");
      }
    }
    return new Surfaces(m);
  }

  /**
   * Loads and compiles {@code <project>/surfaces/*.yaml}; an absent directory gives none.
   *
   * @throws ScorelineException USER_ERROR naming the file, the field and the fix
   */
  public static Surfaces load(Path projectDir, FeatureRegistry registry) {
    Path dir = projectDir.resolve("surfaces");
    List<Path> files = new ArrayList<>();
    if (Files.isDirectory(dir)) {
      try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, "*.{yaml,yml}")) {
        ds.forEach(files::add);
      } catch (IOException e) {
        throw new ScorelineException(ErrorCode.USER_ERROR, "cannot list " + dir + ": " + e, e);
      }
    }
    files.sort(null);
    Map<String, Surface> m = new TreeMap<>();
    Map<String, String> origin = new TreeMap<>();
    for (Path f : files) {
      String where = projectDir.relativize(f).toString();
      SurfaceSpec spec = ConfigLoader.load(f, SurfaceSpec.class);
      if (m.containsKey(spec.name())) {
        throw ScorelineException.userError(
            "name",
            where
                + ": surface '"
                + spec.name()
                + "' is defined twice (also in "
                + origin.get(spec.name())
                + "); rename one");
      }
      m.put(spec.name(), Surface.compile(spec, registry, where));
      origin.put(spec.name(), where);
    }
    return new Surfaces(m);
  }

  /** The surface, or NOT_FOUND listing the defined ones. */
  public Surface get(String name) {
    Surface s = byName.get(name);
    if (s == null) {
      throw ScorelineException.notFound(
          "unknown surface '"
              + name
              + "'"
              + (byName.isEmpty()
                  ? "; this project defines none (add surfaces/<name>.yaml)"
                  : "; surfaces: " + byName.keySet()));
    }
    return s;
  }

  public Collection<Surface> all() {
    return byName.values();
  }

  public boolean isEmpty() {
    return byName.isEmpty();
  }
}
