package org.dtmspark.cli;

import java.io.PrintWriter;
import org.dtmspark.core.config.ConfigError;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code bin/dtm} command line; also the main class for {@code spark-submit --class
 * org.dtmspark.cli.DtmCli <jar> <subcommand> ...}.
 */
@Command(
    name = "dtm",
    mixinStandardHelpOptions = true,
    versionProvider = DtmCli.Version.class,
    description = "Masked image modeling via Dynamic Token Morphing, on Spark.",
    subcommands = {
      DemoCommand.class,
      PretrainCommand.class,
      FinetuneCommand.class,
      ProbeCommand.class,
      MorphCommand.class,
    })
public final class DtmCli implements Runnable {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  public static void main(String[] args) {
    System.exit(execute(args));
  }

  /** Runs the command line and returns the exit code (tests call this). */
  public static int execute(String... args) {
    CommandLine cli = new CommandLine(new DtmCli());
    cli.setExecutionExceptionHandler(
        (e, commandLine, parseResult) -> {
          PrintWriter err = commandLine.getErr();
          if (e instanceof ConfigError
              || e instanceof IllegalArgumentException
              || e instanceof java.nio.file.NoSuchFileException
              || e instanceof java.io.UncheckedIOException) {
            err.println("dtm " + commandLine.getCommandName() + ": " + e.getMessage());
            return 2;
          }
          err.println("dtm " + commandLine.getCommandName() + " failed: " + e);
          e.printStackTrace(err);
          return 1;
        });
    return cli.execute(args);
  }

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      String v = DtmCli.class.getPackage().getImplementationVersion();
      return new String[] {"dtm-spark " + (v == null ? "dev" : v)};
    }
  }
}
