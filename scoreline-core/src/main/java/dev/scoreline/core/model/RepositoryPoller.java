package dev.scoreline.core.model;

import static java.util.Objects.requireNonNull;

import dev.scoreline.core.error.ScorelineException;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Model control mode {@code poll}: watches the repository and applies what changed: new models and
 * versions are loaded (after warmup), removed ones drained and unloaded, a changed config.yaml or
 * model file reloads the model. A failed load leaves the serving versions as they are.
 */
public final class RepositoryPoller implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(RepositoryPoller.class);

  private final ModelManager manager;
  private final Set<String> only;
  private final ScheduledExecutorService timer;
  private final Map<String, Map<String, FileStamp>> seen = new HashMap<>();

  /**
   * @param only models to watch; empty watches every model in the repository
   */
  public RepositoryPoller(ModelManager manager, List<String> only, Duration interval) {
    this.manager = requireNonNull(manager, "manager is null");
    this.only = Set.copyOf(only);
    for (String name : watched()) {
      seen.put(name, fingerprint(name));
    }
    this.timer =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "scoreline-repository-poll");
              t.setDaemon(true);
              return t;
            });
    long ms = Math.max(1, interval.toMillis());
    timer.scheduleWithFixedDelay(this::pollQuietly, ms, ms, TimeUnit.MILLISECONDS);
  }

  private void pollQuietly() {
    try {
      poll();
    } catch (RuntimeException e) {
      log.warn("repository poll failed: {}", e.toString());
    }
  }

  /** One pass over the repository; public so tests and admin calls can force it. */
  public synchronized void poll() {
    Set<String> now = watched();
    for (String name : now) {
      Map<String, FileStamp> fp = fingerprint(name);
      if (fp.equals(seen.get(name))) {
        continue;
      }
      seen.put(name, fp);
      try {
        manager.load(name);
        log.info("repository change: model '{}' reloaded", name);
      } catch (ScorelineException e) {
        log.warn("repository change: model '{}' failed to load: {}", name, e.getMessage());
      }
    }
    for (String name : new HashSet<>(seen.keySet())) {
      if (!now.contains(name)) {
        seen.remove(name);
        try {
          manager.unload(name);
          log.info("repository change: model '{}' removed, unloaded", name);
        } catch (ScorelineException e) {
          log.debug("model '{}' was not loaded: {}", name, e.getMessage());
        }
      }
    }
  }

  private Set<String> watched() {
    Set<String> names = new HashSet<>(manager.repository().modelNames());
    if (!only.isEmpty()) {
      names.retainAll(only);
    }
    return names;
  }

  /** Every file under the model's directory (config and version files) with size and mtime. */
  private Map<String, FileStamp> fingerprint(String name) {
    Map<String, FileStamp> out = new TreeMap<>();
    walk(manager.repository().root().resolve(name), "", out, 0);
    return out;
  }

  private static void walk(Path dir, String prefix, Map<String, FileStamp> out, int depth) {
    if (depth > 3) {
      return;
    }
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
      for (Path p : ds) {
        String key = prefix + p.getFileName();
        if (Files.isDirectory(p)) {
          out.put(key + "/", new FileStamp(0, 0));
          walk(p, key + "/", out, depth + 1);
        } else {
          out.put(key, FileStamp.of(p));
        }
      }
    } catch (IOException e) {
      out.put(prefix + "!", new FileStamp(-1, -1));
    }
  }

  @Override
  public void close() {
    timer.shutdownNow();
  }
}
