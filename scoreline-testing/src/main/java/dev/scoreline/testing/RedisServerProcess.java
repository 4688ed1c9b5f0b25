package dev.scoreline.testing;

import static java.nio.charset.StandardCharsets.US_ASCII;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real {@code redis-server} child process for tests: no persistence, bound to 127.0.0.1 on a free
 * port. {@link #start()} returns once it answers PING; {@link #close()} (or the JVM exiting) stops
 * it. There is no fallback and no skipping: without {@code redis-server} on the PATH the tests fail
 * and say how to install it.
 */
public final class RedisServerProcess implements AutoCloseable {
  private static final Duration STARTUP = Duration.ofSeconds(20);

  private final Process process;
  private final int port;
  private final Path log;
  private final Thread killOnExit;
  private boolean closed;

  private RedisServerProcess(Process process, int port, Path log) {
    this.process = process;
    this.port = port;
    this.log = log;
    this.killOnExit = new Thread(process::destroyForcibly, "redis-server-" + port + "-killer");
    Runtime.getRuntime().addShutdownHook(killOnExit);
  }

  /** Starts the redis-server on the PATH on a free port and waits until it answers PING. */
  public static RedisServerProcess start() {
    return start(null);
  }

  /** Starts {@code binary} (the one on the PATH when null) on a free port; waits for PING. */
  public static RedisServerProcess start(Path binary) {
    if (binary == null) {
      binary = findOnPath("redis-server");
    }
    IOException last = null;
    for (int attempt = 0; attempt < 3; attempt++) {
      try {
        int port = freePort();
        Path log = Files.createTempFile("scoreline-redis-server-" + port + "-", ".log");
        Process process =
            new ProcessBuilder(
                    List.of(
                        binary.toString(),
                        "--port",
                        Integer.toString(port),
                        "--bind",
                        "127.0.0.1",
                        "--save",
                        "",
                        "--appendonly",
                        "no",
                        "--daemonize",
                        "no"))
                .redirectErrorStream(true)
                .redirectOutput(log.toFile())
                .start();
        RedisServerProcess server = new RedisServerProcess(process, port, log);
        if (server.awaitPong()) {
          return server;
        }
        String output = server.output();
        server.close();
        last = new IOException("redis-server on port " + port + " did not start:\n" + output);
      } catch (IOException e) {
        last = e;
      }
    }
    throw new IllegalStateException("could not start redis-server (3 attempts)", last);
  }

  public int port() {
    return port;
  }

  /** {@code redis://127.0.0.1:<port>/0}. */
  public String uri() {
    return uri(0);
  }

  /** {@code redis://127.0.0.1:<port>/<db>}. */
  public String uri(int db) {
    return "redis://127.0.0.1:" + port + "/" + db;
  }

  /** Empties database {@code db} (plain RESP over a socket of its own). */
  public synchronized void flush(int db) {
    String d = Integer.toString(db);
    String cmd =
        "*2\r\n$6\r\nSELECT\r\n$" + d.length() + "\r\n" + d + "\r\n*1\r\n$7\r\nFLUSHDB\r\n";
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 2000);
      socket.setSoTimeout(10_000);
      OutputStream out = socket.getOutputStream();
      out.write(cmd.getBytes(US_ASCII));
      out.flush();
      byte[] reply = socket.getInputStream().readNBytes(10);
      if (!new String(reply, US_ASCII).equals("+OK\r\n+OK\r\n")) {
        throw new IllegalStateException(
            "FLUSHDB on redis-server " + port + " answered " + new String(reply, US_ASCII));
      }
    } catch (IOException e) {
      throw new java.io.UncheckedIOException("FLUSHDB on redis-server " + port + " failed", e);
    }
  }

  /** What {@code redis-server --version} prints for {@code binary} (the PATH's when null). */
  public static String version(Path binary) {
    try {
      Path b = binary != null ? binary : findOnPath("redis-server");
      Process p = new ProcessBuilder(b.toString(), "--version").redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
      p.waitFor(5, TimeUnit.SECONDS);
      return out;
    } catch (IOException e) {
      return "unknown (" + e.getMessage() + ")";
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "unknown";
    }
  }

  public boolean isAlive() {
    return process.isAlive();
  }

  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    process.destroy();
    try {
      if (!process.waitFor(5, TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor();
      }
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
    }
    try {
      Runtime.getRuntime().removeShutdownHook(killOnExit);
    } catch (IllegalStateException e) {
      // the JVM is exiting: the hook runs anyway
    }
    try {
      Files.deleteIfExists(log);
    } catch (IOException e) {
      // a temp file left behind
    }
  }

  private boolean awaitPong() {
    long deadline = System.nanoTime() + STARTUP.toNanos();
    while (System.nanoTime() < deadline) {
      if (!process.isAlive()) {
        return false;
      }
      try (Socket socket = new Socket()) {
        socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 500);
        socket.setSoTimeout(1000);
        OutputStream out = socket.getOutputStream();
        out.write("PING\r\n".getBytes(US_ASCII));
        out.flush();
        InputStream in = socket.getInputStream();
        byte[] reply = new byte[7];
        int n = in.readNBytes(reply, 0, reply.length);
        if (new String(reply, 0, n, US_ASCII).equals("+PONG\r\n")) {
          return true;
        }
      } catch (IOException e) {
        // not listening yet
      }
      try {
        Thread.sleep(25);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return false;
      }
    }
    return false;
  }

  private String output() {
    try {
      return Files.readString(log, StandardCharsets.UTF_8);
    } catch (IOException e) {
      return "(no output: " + e + ")";
    }
  }

  private static Path findOnPath(String name) {
    String path = System.getenv("PATH");
    if (path != null) {
      for (String dir : path.split(File.pathSeparator)) {
        if (dir.isEmpty()) {
          continue;
        }
        Path candidate = Path.of(dir, name);
        if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) {
          return candidate;
        }
      }
    }
    throw new IllegalStateException(
        name
            + " is not on the PATH ("
            + path
            + "); the Redis store's tests run against a real Redis: install it with"
            + " `apt-get install redis-server` (Debian/Ubuntu) and run the tests again");
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      socket.setReuseAddress(true);
      return socket.getLocalPort();
    }
  }
}
