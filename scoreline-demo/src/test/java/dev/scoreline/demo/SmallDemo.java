package dev.scoreline.demo;

import dev.scoreline.core.progress.ProgressListener;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/** One small demo built once per test JVM (3,000 users, 800 items, 60,000 interactions). */
final class SmallDemo {
  static final Quickstart.Options OPTIONS = Quickstart.Options.small();
  private static DemoData data;
  private static String log;

  private SmallDemo() {}

  static synchronized DemoData get() {
    if (data == null) {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      data = build(Path.of("target", "demo-small"), OPTIONS, out);
      log = out.toString(StandardCharsets.UTF_8);
    }
    return data;
  }

  static synchronized String log() {
    get();
    return log;
  }

  static DemoData build(Path dir, Quickstart.Options options, ByteArrayOutputStream log) {
    delete(dir);
    try (PrintStream ps = new PrintStream(log, true, StandardCharsets.UTF_8)) {
      return Quickstart.build(dir, options, ProgressListener.NONE, ps);
    }
  }

  static void delete(Path dir) {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> files = Files.walk(dir)) {
      for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
