package dev.scoreline.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.scoreline.core.error.ErrorCode;
import dev.scoreline.core.error.ScorelineException;
import dev.scoreline.stream.DeadLetter;
import dev.scoreline.stream.DeadLetters;
import dev.scoreline.stream.EmbeddedStreams;
import dev.scoreline.stream.StreamConfig;
import dev.scoreline.stream.StreamProcessor;
import dev.scoreline.stream.log.EventLog;
import dev.scoreline.stream.log.PositionFile;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code scoreline stream}: run a streaming surface, and look after its events and results. */
@Command(
    name = "stream",
    mixinStandardHelpOptions = true,
    versionProvider = Main.Version.class,
    description = {
      "Run a streaming surface (mode: streaming): score every event seconds after it arrives.",
      "",
      "With an embedded source, events are accepted on POST /v1/events/<stream> (JSON lines) on"
          + " --port and appended to a durable log before the answer; results go to the sinks of"
          + " the surface's stream: section. Stops gracefully on Ctrl-C (in-flight events finish"
          + " and are committed). See docs/streaming.md."
    },
    subcommands = {
      StreamCommand.Dlq.class,
      StreamCommand.Tail.class,
      StreamCommand.Send.class,
      FraudDemoCommand.class
    })
final class StreamCommand implements Callable<Integer> {
  static final ObjectMapper MAPPER = new ObjectMapper();

  @Spec CommandSpec spec;

  // optional for picocli, so that the subcommands (dlq, tail, send, demo) parse without it
  @Parameters(
      index = "0",
      arity = "0..1",
      paramLabel = "SURFACE",
      description = "The streaming surface to run.")
  String surface;

  @Parameters(
      index = "1",
      arity = "0..1",
      paramLabel = "PROJECT",
      description = "Project directory (default: current directory).")
  Path project = Path.of(".");

  @Option(
      names = {"-p", "--port"},
      paramLabel = "PORT",
      description =
          "Port of POST /v1/events, /v1/streams and /metrics (default: ${DEFAULT-VALUE}; 0 picks a"
              + " free port; -1 runs no server, e.g. for a Kafka source).")
  int port = 8080;

  @Option(
      names = "--data",
      paramLabel = "DIR",
      description =
          "Where the event, result and dead-letter logs live (default: PROJECT/.scoreline/stream).")
  Path data;

  @Override
  public Integer call() throws InterruptedException {
    PrintWriter out = spec.commandLine().getOut();
    if (surface == null) {
      throw new picocli.CommandLine.ParameterException(
          spec.commandLine(),
          "Missing required parameter: 'SURFACE' (or a command: dlq, tail, send, demo)");
    }
    StreamLauncher l =
        StreamLauncher.start(
            new StreamLauncher.Options(project, Set.of(surface), port, data, true));
    StreamProcessor p = l.streams().processor(surface);
    StreamConfig c = p.config();
    out.println("Streaming surface '" + surface + "' (" + c.origin() + ")");
    out.println("  source:       " + p.status().source());
    out.println("  sinks:        " + c.sinks().stream().map(StreamConfig.Section::type).toList());
    out.println("  dead letters: " + c.deadLetters().type());
    if (l.port() >= 0) {
      String base = "http://127.0.0.1:" + l.port();
      if (c.embeddedStream() != null) {
        out.println(
            "  send events:  curl -X POST --data-binary @events.jsonl "
                + base
                + "/v1/events/"
                + c.embeddedStream());
      }
      out.println("  status:       " + base + "/v1/streams");
      out.println("  metrics:      " + base + "/metrics");
    }
    out.println("Results: scoreline stream tail " + surface + " " + project + " --follow");
    out.flush();
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  out.println("Stopping: finishing and committing in-flight events...");
                  out.flush();
                  l.close();
                  stopped.countDown();
                },
                "scoreline-stream-shutdown"));
    stopped.await();
    return ExitCodes.OK;
  }

  static Path dataDir(Path project, Path data) {
    return data != null ? data : project.resolve(".scoreline/stream");
  }

  /** The compiled stream config of a surface (for the tools that run without the engine). */
  static StreamConfig config(Path projectDir, String surface) {
    try (Project p = new Project(projectDir)) {
      return StreamConfig.compile(p.surfaces().get(surface), p.registry());
    }
  }

  // ---------------------------------------------------------------- dlq

  @Command(
      name = "dlq",
      mixinStandardHelpOptions = true,
      description = "List and replay a streaming surface's dead letters (poison events and why).",
      subcommands = {Dlq.ListCommand.class, Dlq.Replay.class})
  static final class Dlq implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Override
    public Integer call() {
      spec.commandLine().usage(spec.commandLine().getOut());
      return ExitCodes.OK;
    }

    @Command(
        name = "list",
        mixinStandardHelpOptions = true,
        description =
            "Show dead letters: offset, stage (parse, event, features, model), code, event id,"
                + " reason. Works while the surface runs (reads the log without locking it).")
    static final class ListCommand implements Callable<Integer> {
      @Spec CommandSpec spec;

      @Parameters(index = "0", paramLabel = "SURFACE")
      String surface;

      @Parameters(index = "1", arity = "0..1", paramLabel = "PROJECT")
      Path project = Path.of(".");

      @Option(names = "--data", paramLabel = "DIR")
      Path data;

      @Option(names = "--from", paramLabel = "OFFSET", description = "First dead letter to show.")
      long from;

      @Option(names = "--limit", paramLabel = "N", description = "Default: ${DEFAULT-VALUE}.")
      int limit = 100;

      @Option(names = "--json", description = "One JSON object per line, with the original event.")
      boolean json;

      @Override
      public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        DeadLetters.Location loc = DeadLetters.location(dataDir(project, data), surface);
        if (!Files.isDirectory(loc.log())) {
          out.println("No dead letters for '" + surface + "' (" + loc.log() + " does not exist).");
          return ExitCodes.OK;
        }
        try (EventLog log = EventLog.openReadOnly(loc.log())) {
          DeadLetters dl = new DeadLetters(log, new PositionFile(loc.replayed()));
          List<DeadLetters.Entry> entries = dl.list(from, limit);
          if (json) {
            for (DeadLetters.Entry e : entries) {
              out.println(new String(e.letter().toJson(), StandardCharsets.UTF_8));
            }
          } else {
            out.println(dl.size() + " dead letter(s) for '" + surface + "'");
            for (DeadLetters.Entry e : entries) {
              DeadLetter d = e.letter();
              out.printf(
                  "%6d  %-8s %-16s %-14s %s%s%n",
                  e.offset(),
                  d.stage(),
                  d.code(),
                  d.eventId() == null ? "-" : d.eventId(),
                  d.reason(),
                  e.replayed() ? "  [replayed]" : "");
            }
          }
        }
        out.flush();
        return ExitCodes.OK;
      }
    }

    @Command(
        name = "replay",
        mixinStandardHelpOptions = true,
        description =
            "Append the original events of dead letters [--from, --to) to the surface's stream"
                + " again (after fixing the cause). Each is replayed once unless --force. Against a"
                + " running server, pass --url (it holds the stream's lock).")
    static final class Replay implements Callable<Integer> {
      @Spec CommandSpec spec;

      @Parameters(index = "0", paramLabel = "SURFACE")
      String surface;

      @Parameters(index = "1", arity = "0..1", paramLabel = "PROJECT")
      Path project = Path.of(".");

      @Option(names = "--data", paramLabel = "DIR")
      Path data;

      @Option(names = "--from", paramLabel = "OFFSET")
      long from;

      @Option(names = "--to", paramLabel = "OFFSET", description = "Exclusive; default: all.")
      Long to;

      @Option(names = "--force", description = "Replay entries replayed before too.")
      boolean force;

      @Option(
          names = "--url",
          paramLabel = "URL",
          description = "A running server (scoreline stream / serve), e.g. http://127.0.0.1:8080.")
      String url;

      @Option(
          names = "--admin-token-file",
          paramLabel = "FILE",
          description = "With --url: the server's admin token.")
      Path tokenFile;

      @Override
      public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        int replayed;
        if (url != null) {
          replayed = replayRemote();
        } else {
          StreamConfig c = config(project, surface);
          if (c.embeddedStream() == null) {
            throw new ScorelineException(
                ErrorCode.UNSUPPORTED,
                "surface '"
                    + surface
                    + "' reads "
                    + c.source().type()
                    + "; replay into it with its tools");
          }
          Path dir = dataDir(project, data);
          DeadLetters.Location loc = DeadLetters.location(dir, surface);
          try (EmbeddedStreams streams =
                  EmbeddedStreams.open(dir.resolve("streams"), EventLog.Options.defaults());
              EventLog log = EventLog.open(loc.log())) {
            EventLog in = streams.declare(c.embeddedStream(), Long.MAX_VALUE);
            replayed =
                new DeadLetters(log, new PositionFile(loc.replayed()))
                    .replay(from, to == null ? Long.MAX_VALUE : to, force, in::appendSync);
          }
        }
        out.println("Replayed " + replayed + " event(s) into the stream of '" + surface + "'.");
        out.flush();
        return ExitCodes.OK;
      }

      private int replayRemote() throws IOException, InterruptedException {
        String body =
            "{\"from\": "
                + from
                + (to == null ? "" : ", \"to\": " + to)
                + ", \"force\": "
                + force
                + "}";
        HttpRequest.Builder b =
            HttpRequest.newBuilder(
                    URI.create(stripSlash(url) + "/v1/streams/" + surface + "/dead-letters/replay"))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body));
        if (tokenFile != null) {
          b.header("Authorization", "Bearer " + Files.readString(tokenFile).trim());
        }
        HttpResponse<String> r =
            HttpClient.newHttpClient().send(b.build(), HttpResponse.BodyHandlers.ofString());
        JsonNode n = MAPPER.readTree(r.body());
        if (r.statusCode() != 200) {
          throw new ScorelineException(
              ErrorCode.valueOf(n.path("code").asText("INTERNAL")),
              n.path("error").asText(r.body()));
        }
        return n.get("replayed").asInt();
      }
    }
  }

  // ---------------------------------------------------------------- tail

  @Command(
      name = "tail",
      mixinStandardHelpOptions = true,
      description =
          "Print a streaming surface's results (its result log), one JSON object per line.")
  static final class Tail implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Parameters(index = "0", paramLabel = "SURFACE")
    String surface;

    @Parameters(index = "1", arity = "0..1", paramLabel = "PROJECT")
    Path project = Path.of(".");

    @Option(names = "--data", paramLabel = "DIR")
    Path data;

    @Option(
        names = "--last",
        paramLabel = "N",
        description = "Start N results from the end (default: ${DEFAULT-VALUE}).")
    long last = 10;

    @Option(names = "--alerts", description = "Only results with an alert.")
    boolean alerts;

    @Option(
        names = {"-f", "--follow"},
        description = "Keep printing new results.")
    boolean follow;

    @Override
    public Integer call() throws Exception {
      PrintWriter out = spec.commandLine().getOut();
      Path dir = dataDir(project, data).resolve("surfaces").resolve(surface).resolve("results");
      long next = -1;
      do {
        if (Files.isDirectory(dir)) {
          try (EventLog log = EventLog.openReadOnly(dir)) {
            if (next < 0) {
              next = Math.max(log.startOffset(), log.endOffset() - last);
            }
            try (EventLog.Reader r = log.reader(next)) {
              for (List<EventLog.Entry> es;
                  !(es = r.poll(1000, 0, TimeUnit.MILLISECONDS)).isEmpty(); ) {
                for (EventLog.Entry e : es) {
                  String s = new String(e.payload(), StandardCharsets.UTF_8);
                  if (!alerts || !s.contains("\"alerts\":[]")) {
                    out.println(s);
                  }
                }
              }
              next = r.position();
            }
          }
          out.flush();
        } else if (!follow) {
          out.println("No results for '" + surface + "' yet (" + dir + " does not exist).");
        }
        if (follow) {
          Thread.sleep(500);
        }
      } while (follow);
      return ExitCodes.OK;
    }
  }

  // ---------------------------------------------------------------- send

  @Command(
      name = "send",
      mixinStandardHelpOptions = true,
      description =
          "POST a JSON-lines file of events to a running stream (POST /v1/events/STREAM), in"
              + " batches; waits and retries when the server answers 429 (backpressure).")
  static final class Send implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Parameters(index = "0", paramLabel = "STREAM")
    String stream;

    @Parameters(index = "1", paramLabel = "FILE", description = "JSON lines; - reads stdin.")
    String file;

    @Option(names = "--url", paramLabel = "URL", description = "Default: ${DEFAULT-VALUE}.")
    String url = "http://127.0.0.1:8080";

    @Option(
        names = "--batch",
        paramLabel = "N",
        description = "Events per request (default: ${DEFAULT-VALUE}).")
    int batch = 500;

    @Override
    public Integer call() throws Exception {
      List<String> lines =
          file.equals("-")
              ? new java.io.BufferedReader(
                      new java.io.InputStreamReader(System.in, StandardCharsets.UTF_8))
                  .lines()
                  .toList()
              : Files.readAllLines(Path.of(file), StandardCharsets.UTF_8);
      HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
      URI uri = URI.create(stripSlash(url) + "/v1/events/" + stream);
      int sent = 0;
      List<String> chunk = new ArrayList<>();
      for (int i = 0; i <= lines.size(); i++) {
        if (i < lines.size() && !lines.get(i).isBlank()) {
          chunk.add(lines.get(i));
        }
        if (chunk.size() == batch || (i == lines.size() && !chunk.isEmpty())) {
          post(http, uri, String.join("\n", chunk));
          sent += chunk.size();
          chunk.clear();
        }
      }
      spec.commandLine().getOut().println("Sent " + sent + " event(s) to " + uri);
      return ExitCodes.OK;
    }

    static void post(HttpClient http, URI uri, String body)
        throws IOException, InterruptedException {
      while (true) {
        HttpResponse<String> r =
            http.send(
                HttpRequest.newBuilder(uri)
                    .header("Content-Type", "application/x-ndjson")
                    .POST(HttpRequest.BodyPublishers.ofString(body))
                    .build(),
                HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() == 200) {
          return;
        }
        if (r.statusCode() == 429 || r.statusCode() == 503) {
          long wait = r.headers().firstValue("retry-after").map(Long::parseLong).orElse(1L);
          Thread.sleep(Math.min(wait, 5) * 1000);
          continue;
        }
        JsonNode n = MAPPER.readTree(r.body());
        throw new ScorelineException(
            ErrorCode.valueOf(n.path("code").asText("INTERNAL")), n.path("error").asText(r.body()));
      }
    }
  }

  static String stripSlash(String url) {
    return url.endsWith("/") ? url.substring(0, url.length() - 1) : url;
  }
}
