package dev.scoreline.server;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.io.InputStream;
import java.util.List;
import java.util.Properties;

/**
 * What server metadata reports, over REST ({@code GET /v2}) and gRPC ({@code ServerMetadata})
 * alike.
 *
 * @param name always {@code scoreline}
 * @param version the Scoreline version
 * @param extensions the Open Inference Protocol extensions this server implements
 */
public record ServerInfo(String name, String version, List<String> extensions) {
  /** The extensions implemented by this build. */
  public static final List<String> EXTENSIONS =
      List.of("binary_tensor_data", "model_repository", "model_configuration", "parameters");

  private static final ServerInfo CURRENT = new ServerInfo("scoreline", readVersion(), EXTENSIONS);

  public ServerInfo {
    requireNonNull(name, "name is null");
    requireNonNull(version, "version is null");
    extensions = List.copyOf(extensions);
  }

  /** This server: name {@code scoreline}, its version and its extensions. */
  public static ServerInfo current() {
    return CURRENT;
  }

  private static String readVersion() {
    String resource = "/META-INF/maven/dev.scoreline/scoreline-server/pom.properties";
    try (InputStream in = ServerInfo.class.getResourceAsStream(resource)) {
      if (in != null) {
        Properties p = new Properties();
        p.load(in);
        String v = p.getProperty("version");
        if (v != null && !v.isBlank()) {
          return v.trim();
        }
      }
    } catch (IOException e) {
      // fall through to the manifest
    }
    String v = ServerInfo.class.getPackage().getImplementationVersion();
    return v != null ? v : "dev";
  }
}
