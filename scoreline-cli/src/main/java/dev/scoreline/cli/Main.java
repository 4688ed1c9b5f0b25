package dev.scoreline.cli;

import dev.scoreline.core.error.ScorelineException;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.util.Properties;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** The {@code scoreline} command. */
@Command(
    name = "scoreline",
    mixinStandardHelpOptions = true,
    versionProvider = Main.Version.class,
    description = {
      "Serve trained models online, on streams and in batch, from one definition.",
      "",
      "Exit codes: 0 success, 1 internal error, 2 usage or invalid input,"
          + " 3 not found, 4 unavailable (e.g. port in use)."
    },
    subcommands = {
      QuickstartCommand.class,
      ServeCommand.class,
      MaterializeCommand.class,
      TrainingSetCommand.class,
      IndexCommand.class,
      CandidatesCommand.class,
      BatchCommand.class,
      StreamCommand.class,
      CommandLine.HelpCommand.class
    })
public final class Main implements Runnable {
  @Spec CommandSpec spec;

  /**
   * jvector logs through java.util.logging: a warning on every start that Java 17 has no Vector API
   * (it then uses its scalar code, which is expected here) and informational lines. Kept referenced
   * so the level sticks (JUL holds loggers weakly).
   */
  private static final java.util.logging.Logger JVECTOR_LOG =
      java.util.logging.Logger.getLogger("io.github.jbellis.jvector");

  public static void main(String[] args) {
    JVECTOR_LOG.setLevel(java.util.logging.Level.SEVERE);
    System.exit(execute(args));
  }

  /** Runs the command line and returns its exit code (for tests and embedding). */
  public static int execute(String... args) {
    CommandLine cl = new CommandLine(new Main());
    cl.setExecutionExceptionHandler(
        (e, commandLine, parseResult) -> {
          PrintWriter err = commandLine.getErr();
          if (e instanceof ScorelineException) {
            ScorelineException se = (ScorelineException) e;
            err.println("scoreline: " + se.getMessage());
            err.flush();
            return ExitCodes.of(se.code());
          }
          err.println("scoreline: internal error: " + e);
          e.printStackTrace(err);
          err.flush();
          return ExitCodes.INTERNAL;
        });
    return cl.execute(args);
  }

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getErr());
    throw new CommandLine.ParameterException(spec.commandLine(), "a command is required");
  }

  /** Reads the version Maven wrote into the jar. */
  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      return new String[] {"scoreline " + version()};
    }
  }

  static String version() {
    Properties p = new Properties();
    try (InputStream in = Main.class.getResourceAsStream("version.properties")) {
      if (in != null) {
        p.load(in);
      }
    } catch (IOException e) {
      // fall through to "unknown"
    }
    return p.getProperty("version", "unknown");
  }
}
