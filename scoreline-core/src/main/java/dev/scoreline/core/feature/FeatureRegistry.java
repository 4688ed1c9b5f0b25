package dev.scoreline.core.feature;

import dev.scoreline.core.config.ConfigLoader;
import dev.scoreline.core.error.ErrorCode;
import dev.scoreline.core.error.ScorelineException;
import dev.scoreline.core.feature.Definitions.Entity;
import dev.scoreline.core.feature.Definitions.FeatureService;
import dev.scoreline.core.feature.Definitions.FeatureView;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The feature definitions of a project ({@code features/*.yaml}), validated across files at load
 * and compiled once: feature services are resolved to feature references here, never per request.
 */
public final class FeatureRegistry {
  private final Path projectDir;
  private final Map<String, Entity> entities = new LinkedHashMap<>();
  private final Map<String, FeatureView> views = new LinkedHashMap<>();
  private final Map<String, List<FeatureRef>> services = new LinkedHashMap<>();
  private final Map<String, String> origin = new LinkedHashMap<>();

  private FeatureRegistry(Path projectDir) {
    this.projectDir = projectDir.toAbsolutePath().normalize();
  }

  /** Loads {@code <project>/features/*.yaml}; an absent directory gives an empty registry. */
  public static FeatureRegistry load(Path projectDir) {
    FeatureRegistry r = new FeatureRegistry(projectDir);
    Path dir = projectDir.resolve("features");
    List<Path> files = new ArrayList<>();
    if (Files.isDirectory(dir)) {
      try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, "*.{yaml,yml}")) {
        ds.forEach(files::add);
      } catch (IOException e) {
        throw new ScorelineException(ErrorCode.USER_ERROR, "cannot list " + dir + ": " + e, e);
      }
    }
    files.sort(null);
    List<Definitions> defs = new ArrayList<>();
    for (Path f : files) {
      Definitions d = ConfigLoader.load(f, Definitions.class);
      defs.add(d);
      String where = projectDir.relativize(f).toString();
      for (Entity e : d.entities()) {
        r.add(r.entities, "entity", e.name(), e, where);
      }
      for (FeatureView v : d.featureViews()) {
        r.add(r.views, "feature view", v.name(), v, where);
      }
    }
    for (int i = 0; i < defs.size(); i++) {
      String where = projectDir.relativize(files.get(i)).toString();
      for (FeatureView v : defs.get(i).featureViews()) {
        r.validateView(v, where);
      }
      for (FeatureService s : defs.get(i).featureServices()) {
        if (r.services.containsKey(s.name())) {
          throw r.error(
              where,
              "feature-services." + s.name(),
              "feature service '"
                  + s.name()
                  + "' is defined twice (also in "
                  + r.origin.get("feature service:" + s.name())
                  + ")");
        }
        r.origin.put("feature service:" + s.name(), where);
        r.services.put(s.name(), r.resolve(where, "feature-services." + s.name(), s.features()));
      }
    }
    return r;
  }

  private <T> void add(Map<String, T> map, String kind, String name, T value, String where) {
    if (map.containsKey(name)) {
      throw error(
          where,
          name,
          kind
              + " '"
              + name
              + "' is defined twice (also in "
              + origin.get(kind + ":" + name)
              + "); rename one");
    }
    map.put(name, value);
    origin.put(kind + ":" + name, where);
  }

  private void validateView(FeatureView v, String where) {
    if (!entities.containsKey(v.entity())) {
      throw error(
          where,
          "feature-views." + v.name() + ".entity",
          "feature view '"
              + v.name()
              + "' names entity '"
              + v.entity()
              + "' which is not defined;"
              + " entities: "
              + entities.keySet());
    }
    Set<String> seen = new HashSet<>();
    for (Definitions.Feature f : v.features()) {
      if (!seen.add(f.name())) {
        throw error(
            where,
            "feature-views." + v.name() + ".features",
            "feature '" + f.name() + "' appears twice in view '" + v.name() + "'");
      }
    }
  }

  private List<FeatureRef> resolve(String where, String field, List<String> names) {
    List<FeatureRef> out = new ArrayList<>();
    for (String n : names) {
      FeatureRef ref = FeatureRef.parse(field, n);
      FeatureView v = views.get(ref.view());
      if (v == null) {
        throw error(
            where,
            field,
            "'"
                + n
                + "' names feature view '"
                + ref.view()
                + "' which is not defined; views: "
                + views.keySet());
      }
      if (ref.feature().equals("*")) {
        for (Definitions.Feature f : v.features()) {
          out.add(new FeatureRef(v.name(), f.name()));
        }
      } else if (v.indexOf(ref.feature()) < 0) {
        throw error(
            where,
            field,
            "view '"
                + v.name()
                + "' has no feature '"
                + ref.feature()
                + "'; it has "
                + v.features().stream().map(Definitions.Feature::name).toList());
      } else {
        out.add(ref);
      }
    }
    return List.copyOf(out);
  }

  private ScorelineException error(String where, String field, String message) {
    return new ScorelineException(ErrorCode.USER_ERROR, field, where + ": " + message, null);
  }

  public Path projectDir() {
    return projectDir;
  }

  public Map<String, Entity> entities() {
    return Map.copyOf(entities);
  }

  public List<FeatureView> views() {
    return List.copyOf(views.values());
  }

  public Entity entity(String name) {
    Entity e = entities.get(name);
    if (e == null) {
      throw ScorelineException.notFound(
          "unknown entity '" + name + "'; entities: " + entities.keySet());
    }
    return e;
  }

  public FeatureView view(String name) {
    FeatureView v = views.get(name);
    if (v == null) {
      throw ScorelineException.notFound(
          "unknown feature view '" + name + "'; views: " + views.keySet());
    }
    return v;
  }

  /** The features of a service, resolved at load. */
  public List<FeatureRef> service(String name) {
    List<FeatureRef> s = services.get(name);
    if (s == null) {
      throw ScorelineException.notFound(
          "unknown feature service '" + name + "'; services: " + services.keySet());
    }
    return s;
  }

  public Set<String> serviceNames() {
    return Set.copyOf(services.keySet());
  }

  /** Resolves {@code view:feature} names (a request's feature list); {@code view:*} expands. */
  public List<FeatureRef> resolve(String field, List<String> names) {
    try {
      return resolve("request", field, names);
    } catch (ScorelineException e) {
      throw new ScorelineException(
          e.getMessage().contains("not defined") ? ErrorCode.NOT_FOUND : ErrorCode.USER_ERROR,
          field,
          e.getMessage().substring("request: ".length()),
          null);
    }
  }

  /** The source path of a view, resolved against the project directory. */
  public Path sourcePath(FeatureView v) {
    return projectDir.resolve(v.source().path()).normalize();
  }
}
