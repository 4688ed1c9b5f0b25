package dev.scoreline.core.feature.materialize;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.scoreline.core.error.ErrorCode;
import dev.scoreline.core.error.ScorelineException;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.DateTimeException;
import java.time.Instant;
import java.util.Optional;

/**
 * The materialization state file {@code <stateDir>/materialize.json}: per view, the end of the last
 * successful run. Written atomically (temp file, fsync, atomic rename) under a file lock, so a
 * crash leaves the previous state and concurrent materializers do not lose each other's updates.
 *
 * <pre>
 * {"format": 1, "views": {"user_stats": {"last-end": "2024-05-02T00:00:00Z",
 *   "last-start": "2024-05-01T00:00:00Z", "last-rows": 1234, "updated-at": "..."}}}
 * </pre>
 */
final class MaterializationState {
  static final String FILE = "materialize.json";
  private static final ObjectMapper JSON =
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
  private static final Object JVM_LOCK = new Object();

  private final Path dir;
  private final Path file;

  MaterializationState(Path dir) {
    this.dir = dir;
    this.file = dir.resolve(FILE);
  }

  Path file() {
    return file;
  }

  /** The end of the last successful materialization of {@code view}. */
  Optional<Instant> lastEnd(String view) {
    JsonNode end = read().path("views").path(view).path("last-end");
    if (end.isMissingNode() || end.isNull()) {
      return Optional.empty();
    }
    try {
      return Optional.of(Instant.parse(end.asText()));
    } catch (DateTimeException e) {
      throw corrupt("views." + view + ".last-end is not an ISO-8601 instant: " + end.asText());
    }
  }

  /** Records a completed run; the recorded end never moves backwards. */
  void recordSuccess(String view, Instant start, Instant end, long rows, Instant at) {
    synchronized (JVM_LOCK) {
      try {
        Files.createDirectories(dir);
        try (FileChannel lockChannel =
            FileChannel.open(
                dir.resolve(FILE + ".lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
          lockChannel.lock(); // released when the channel closes
          ObjectNode root = read();
          root.put("format", 1);
          ObjectNode views =
              root.get("views") instanceof ObjectNode
                  ? (ObjectNode) root.get("views")
                  : root.putObject("views");
          ObjectNode v =
              views.get(view) instanceof ObjectNode
                  ? (ObjectNode) views.get(view)
                  : views.putObject(view);
          Instant previous = null;
          if (v.hasNonNull("last-end")) {
            try {
              previous = Instant.parse(v.get("last-end").asText());
            } catch (DateTimeException e) {
              previous = null;
            }
          }
          if (previous == null || !end.isBefore(previous)) {
            v.put("last-end", end.toString());
          }
          v.put("last-start", start.toString());
          v.put("last-rows", rows);
          v.put("updated-at", at.toString());
          writeAtomically(JSON.writeValueAsBytes(root));
        }
      } catch (IOException e) {
        throw new ScorelineException(
            ErrorCode.INTERNAL,
            "cannot write the materialization state "
                + file
                + ": "
                + e
                + "; the view was materialized, but the next incremental run will repeat it",
            e);
      }
    }
  }

  private void writeAtomically(byte[] bytes) throws IOException {
    Path tmp = Files.createTempFile(dir, FILE, ".tmp");
    try {
      try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
        java.nio.ByteBuffer buf = java.nio.ByteBuffer.wrap(bytes);
        while (buf.hasRemaining()) {
          ch.write(buf);
        }
        ch.force(true);
      }
      try {
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
      }
    } finally {
      Files.deleteIfExists(tmp);
    }
  }

  private ObjectNode read() {
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(file);
    } catch (NoSuchFileException e) {
      return JSON.createObjectNode();
    } catch (IOException e) {
      throw new ScorelineException(
          ErrorCode.INTERNAL, "cannot read the materialization state " + file + ": " + e, e);
    }
    try {
      JsonNode n = JSON.readTree(bytes);
      if (n instanceof ObjectNode) {
        return (ObjectNode) n;
      }
      if (n == null || n.isMissingNode()) {
        return JSON.createObjectNode();
      }
      throw corrupt("the file is not a JSON object");
    } catch (IOException e) {
      throw corrupt("invalid JSON: " + e.getMessage());
    }
  }

  private ScorelineException corrupt(String detail) {
    return new ScorelineException(
        ErrorCode.USER_ERROR,
        file
            + ": "
            + detail
            + "; fix or delete the file (incremental materialization then starts from end - ttl)");
  }
}
