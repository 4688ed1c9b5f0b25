package dev.scoreline.stream.log;

import dev.scoreline.core.error.ErrorCode;
import dev.scoreline.core.error.ScorelineException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import java.util.TreeMap;

/**
 * A small durable map of named positions ({@code name=value} lines), replaced atomically: written
 * to a temporary file, fsynced, renamed over the old one, and the directory fsynced. A reader sees
 * the old map or the new one, never a mix, even across a crash.
 */
public final class PositionFile {
  private final Path file;

  public PositionFile(Path file) {
    this.file = file;
  }

  public Path path() {
    return file;
  }

  /** The stored positions; empty when the file does not exist yet. */
  public Map<String, Long> read() {
    Map<String, Long> out = new TreeMap<>();
    String text;
    try {
      text = Files.readString(file, StandardCharsets.UTF_8);
    } catch (NoSuchFileException e) {
      return out;
    } catch (IOException e) {
      throw new ScorelineException(ErrorCode.UNAVAILABLE, "cannot read " + file + ": " + e, e);
    }
    for (String line : text.split("\n")) {
      line = line.trim();
      if (line.isEmpty() || line.startsWith("#")) {
        continue;
      }
      int eq = line.indexOf('=');
      if (eq <= 0) {
        throw new ScorelineException(
            ErrorCode.INTERNAL, file + ": malformed line '" + line + "'; expected name=number");
      }
      out.put(line.substring(0, eq), Long.parseLong(line.substring(eq + 1).trim()));
    }
    return out;
  }

  /** Replaces the stored positions atomically and durably. */
  public void write(Map<String, Long> positions) {
    StringBuilder sb = new StringBuilder();
    for (Map.Entry<String, Long> e : new TreeMap<>(positions).entrySet()) {
      sb.append(e.getKey()).append('=').append(e.getValue()).append('\n');
    }
    Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
    try {
      Files.createDirectories(file.getParent());
      try (FileChannel ch =
          FileChannel.open(
              tmp,
              StandardOpenOption.CREATE,
              StandardOpenOption.WRITE,
              StandardOpenOption.TRUNCATE_EXISTING)) {
        ByteBuffer b = ByteBuffer.wrap(sb.toString().getBytes(StandardCharsets.UTF_8));
        while (b.hasRemaining()) {
          ch.write(b);
        }
        ch.force(true);
      }
      Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      EventLog.fsyncDirectory(file.getParent());
    } catch (IOException e) {
      throw new ScorelineException(ErrorCode.UNAVAILABLE, "cannot write " + file + ": " + e, e);
    }
  }
}
