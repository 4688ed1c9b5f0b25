package dev.scoreline.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.scoreline.testing.TestModels;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MainTest {
  private final ByteArrayOutputStream out = new ByteArrayOutputStream();
  private final ByteArrayOutputStream err = new ByteArrayOutputStream();
  private PrintStream oldOut;
  private PrintStream oldErr;

  @BeforeEach
  void capture() {
    oldOut = System.out;
    oldErr = System.err;
    System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
    System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
  }

  @AfterEach
  void restore() {
    System.setOut(oldOut);
    System.setErr(oldErr);
  }

  private String out() {
    return out.toString(StandardCharsets.UTF_8);
  }

  private String err() {
    return err.toString(StandardCharsets.UTF_8);
  }

  @Test
  void help_exitsZeroAndListsCommands() {
    assertThat(Main.execute("--help")).isZero();
    assertThat(out()).contains("serve").contains("Exit codes");
    assertThat(Main.execute("serve", "--help")).isZero();
    assertThat(out()).contains("--port").contains("--max-request-size");
  }

  @Test
  void surfaceCommands_helpAndErrors(@TempDir Path dir) throws Exception {
    assertThat(Main.execute("--help")).isZero();
    assertThat(out()).contains("quickstart").contains("index").contains("candidates");
    assertThat(Main.execute("quickstart", "--help")).isZero();
    assertThat(out()).contains("--no-serve").contains("--small");
    assertThat(Main.execute("index", "build", "--help")).isZero();
    assertThat(out()).contains("--feature").contains("--kind");
    assertThat(Main.execute("index")).isEqualTo(ExitCodes.USAGE);
    // no surfaces in an empty project: NOT_FOUND naming what to add
    assertThat(Main.execute("candidates", "home-feed", dir.toString()))
        .isEqualTo(ExitCodes.NOT_FOUND);
    assertThat(err()).contains("unknown surface 'home-feed'").contains("surfaces/<name>.yaml");
    assertThat(Main.execute("index", "build", dir.toString(), "--feature", "nope", "--out", "x"))
        .isEqualTo(ExitCodes.USAGE);
    assertThat(err()).contains("view:feature");
  }

  @Test
  void version_printsProjectVersion() {
    assertThat(Main.execute("--version")).isZero();
    assertThat(out()).startsWith("scoreline ").doesNotContain("unknown");
  }

  @Test
  void noCommandOrUnknownOption_isUsageError() {
    assertThat(Main.execute()).isEqualTo(ExitCodes.USAGE);
    assertThat(Main.execute("serve", "--no-such-option")).isEqualTo(ExitCodes.USAGE);
    assertThat(err()).contains("--no-such-option");
  }

  @Test
  void serve_missingRepository_isUsageErrorWithHint(@TempDir Path dir) {
    assertThat(Main.execute("serve", dir.toString())).isEqualTo(ExitCodes.USAGE);
    assertThat(err()).contains("no model repository").contains("--models");
  }

  @Test
  void serve_negativeMaxInFlight_isUsageError(@TempDir Path dir) throws Exception {
    TestModels.copyTo(dir.resolve("models"), "mlp_ranker");
    assertThat(Main.execute("serve", "--check", "--max-in-flight", "-1", dir.toString()))
        .isEqualTo(ExitCodes.USAGE);
    assertThat(err()).contains("--max-in-flight");
  }

  @Test
  void serverLauncher_maxInFlight_isTheServersLimit(@TempDir Path dir) throws Exception {
    TestModels.copyTo(dir.resolve("models"), "mlp_ranker");
    try (ServerLauncher derived =
            ServerLauncher.start(
                ServerLauncher.Options.defaults(dir.resolve("models")).withPort(0));
        ServerLauncher set =
            ServerLauncher.start(
                ServerLauncher.Options.defaults(dir.resolve("models"))
                    .withPort(0)
                    .withMaxInFlight(7))) {
      assertThat(maxInFlight(set)).isEqualTo(7);
      assertThat(maxInFlight(derived)).isGreaterThanOrEqualTo(64);
    }
  }

  private static double maxInFlight(ServerLauncher launcher) {
    return launcher.registry().find("scoreline.server.max.in.flight").gauge().value();
  }

  @Test
  void serve_badSize_isUsageError(@TempDir Path dir) throws Exception {
    TestModels.copyTo(dir.resolve("models"), "mlp_ranker");
    assertThat(Main.execute("serve", "--check", "--max-request-size", "lots", dir.toString()))
        .isEqualTo(ExitCodes.USAGE);
    assertThat(err()).contains("--max-request-size");
  }

  @Test
  void serveCheck_quickstartExample_loadsAndPrintsCurl() {
    Path example = Path.of("..", "examples", "quickstart");
    assertThat(Main.execute("serve", "--check", example.toString())).isZero();
    assertThat(out()).contains("mlp_ranker").contains("curl -s -X POST http://127.0.0.1:");
  }

  @Test
  void serveCheck_brokenModel_exitsUsageErrorAndNamesIt(@TempDir Path dir) throws Exception {
    Path v1 = dir.resolve("models/broken/1");
    Files.createDirectories(v1);
    Files.write(v1.resolve("model.onnx"), new byte[] {1, 2, 3});
    assertThat(Main.execute("serve", "--check", dir.toString())).isEqualTo(ExitCodes.USAGE);
    assertThat(out()).contains("broken").contains("FAILED");
  }

  @Test
  void printedCurl_isAValidRequestForTheServer(@TempDir Path dir) throws Exception {
    TestModels.copyTo(dir, "mlp_ranker", "multi_io", "string_identity");
    try (ServerLauncher server =
        ServerLauncher.start(ServerLauncher.Options.defaults(dir).withPort(0))) {
      String base = "http://127.0.0.1:" + server.port();
      HttpClient client = HttpClient.newHttpClient();
      for (String model : new String[] {"mlp_ranker", "multi_io", "string_identity"}) {
        String curl = CurlExample.infer(base, server.manager().metadata(model, null));
        Matcher m = Pattern.compile("POST (\\S+) .* -d '(.*)'$").matcher(curl);
        assertThat(m.find()).as(curl).isTrue();
        HttpResponse<String> r =
            client.send(
                HttpRequest.newBuilder(URI.create(m.group(1)))
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(m.group(2)))
                    .build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        assertThat(r.body()).contains("\"model_name\":\"" + model + "\"");
      }
    }
  }

  @Test
  void serve_projectWithFeatures_servesFeatureEndpointOnTheSamePort(@TempDir Path dir)
      throws Exception {
    TestModels.copyTo(dir.resolve("models"), "mlp_ranker");
    Files.createDirectories(dir.resolve("features"));
    Files.writeString(
        dir.resolve("features/users.yaml"),
        String.join(
            "\n",
            "entities:",
            "  - {name: user, keys: [{name: user_id, type: int64}]}",
            "feature-views:",
            "  - name: user_stats",
            "    entity: user",
            "    source: {path: data/user_stats.parquet}",
            "    timestamp-column: ts",
            "    features: [{name: clicks, type: int64}]",
            ""));
    ServerLauncher.Options o =
        ServerLauncher.Options.defaults(dir.resolve("models")).withPort(0).withProject(dir);
    try (ServerLauncher server = ServerLauncher.start(o)) {
      assertThat(server.servesFeatures()).isTrue();
      String base = "http://127.0.0.1:" + server.port();
      HttpClient client = HttpClient.newHttpClient();
      HttpResponse<String> push =
          client.send(
              HttpRequest.newBuilder(URI.create(base + "/v1/features/push"))
                  .POST(
                      HttpRequest.BodyPublishers.ofString(
                          "{\"feature_view\": \"user_stats\", \"rows\": [{\"user_id\": 7,"
                              + " \"ts\": \"2026-11-28T00:00:00Z\", \"clicks\": 3}]}"))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      assertThat(push.statusCode()).as(push.body()).isEqualTo(200);
      HttpResponse<String> get =
          client.send(
              HttpRequest.newBuilder(URI.create(base + "/v1/features"))
                  .POST(
                      HttpRequest.BodyPublishers.ofString(
                          "{\"features\": [\"user_stats:clicks\"], \"entities\":"
                              + " [{\"user_id\": 7}, {\"user_id\": 8}]}"))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      assertThat(get.statusCode()).as(get.body()).isEqualTo(200);
      assertThat(get.body()).contains("\"PRESENT\"").contains("\"NOT_FOUND\"").contains("3");
    }
  }

  @Test
  void sizes_parseUnits() {
    assertThat(Sizes.parseBytes("x", "64MiB")).isEqualTo(64L << 20);
    assertThat(Sizes.parseBytes("x", "1kb")).isEqualTo(1000);
    assertThat(Sizes.parseBytes("x", "4096")).isEqualTo(4096);
  }
}
