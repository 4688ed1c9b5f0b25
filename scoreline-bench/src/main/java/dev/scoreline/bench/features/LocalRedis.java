package dev.scoreline.bench.features;

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
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A {@code redis-server} the benchmark starts for itself: 127.0.0.1, a free port, no persistence
 * ({@code --save '' --appendonly no}). Stopped on {@link #close()} or when the JVM exits.
 */
final class LocalRedis implements AutoCloseable {
  final int port;
  final String version;
  private final Process process;
  private final Thread killer;

  private LocalRedis(Process process, int port, String version) {
    this.process = process;
    this.port = port;
    this.version = version;
    this.killer = new Thread(process::destroyForcibly, "redis-server-killer");
    Runtime.getRuntime().addShutdownHook(killer);
  }

  static LocalRedis start(String binaryOrNull) throws IOException, InterruptedException {
    Path binary = binaryOrNull != null ? Path.of(binaryOrNull) : onPath("redis-server");
    String version = version(binary);
    int port;
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      port = s.getLocalPort();
    }
    Process p =
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
                    "no"))
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.DISCARD)
            .start();
    LocalRedis redis = new LocalRedis(p, port, version);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (System.nanoTime() < deadline && p.isAlive()) {
      if (pong(port)) {
        return redis;
      }
      Thread.sleep(25);
    }
    redis.close();
    throw new IllegalStateException("redis-server did not start on port " + port);
  }

  String uri() {
    return "redis://127.0.0.1:" + port + "/0";
  }

  private static String version(Path binary) {
    try {
      Process p =
          new ProcessBuilder(binary.toString(), "--version").redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
      p.waitFor(5, TimeUnit.SECONDS);
      return out;
    } catch (IOException | InterruptedException e) {
      return "unknown";
    }
  }

  private static boolean pong(int port) {
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 500);
      socket.setSoTimeout(1000);
      OutputStream o = socket.getOutputStream();
      o.write("PING\r\n".getBytes(StandardCharsets.US_ASCII));
      o.flush();
      InputStream in = socket.getInputStream();
      return new String(in.readNBytes(7), StandardCharsets.US_ASCII).equals("+PONG\r\n");
    } catch (IOException e) {
      return false;
    }
  }

  private static Path onPath(String name) {
    String path = System.getenv("PATH");
    if (path != null) {
      for (String d : path.split(File.pathSeparator)) {
        if (!d.isEmpty() && Files.isExecutable(Path.of(d, name))) {
          return Path.of(d, name);
        }
      }
    }
    throw new IllegalStateException(
        name
            + " is not on the PATH; install it (apt-get install redis-server) or pass"
            + " --redis-server /path/to/redis-server");
  }

  @Override
  public void close() {
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
      Runtime.getRuntime().removeShutdownHook(killer);
    } catch (IllegalStateException e) {
      // the JVM is exiting
    }
  }
}
