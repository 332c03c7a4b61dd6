package org.dtmspark.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.NoSuchFileException;
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
      BenchCommand.class,
      ShardCommand.class,
      ImportIdxCommand.class,
      BenchShardCommand.class,
      TargetsCommand.class,
      BenchTargetsCommand.class,
      BenchAllReduceCommand.class,
      BenchRanksCommand.class,
      BenchLoaderCommand.class,
      BenchReadsCommand.class,
    })
public final class DtmCli implements Runnable {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  public static void main(String[] args) {
    int code = execute(args);
    // Under spark-submit (which sets spark.master as a system property of the driver) a driver that
    // succeeded returns from main: YARN's application master fails an application whose main calls
    // System.exit before it returns ("Shutdown hook called before final status was reported").
    if (code != 0 || System.getProperty("spark.master") == null) {
      System.exit(code);
    }
  }

  /** Runs the command line on standard output and error, returning the exit code. */
  public static int execute(String... args) {
    return execute(new PrintWriter(System.out, true), new PrintWriter(System.err, true), args);
  }

  /** Runs the command line with the given streams and returns the exit code (tests call this). */
  public static int execute(PrintWriter out, PrintWriter err, String... args) {
    CommandLine cli = new CommandLine(new DtmCli());
    cli.setOut(out);
    cli.setErr(err);
    cli.setExecutionExceptionHandler(
        (e, commandLine, parseResult) -> {
          PrintWriter errors = commandLine.getErr();
          String command = "dtm " + commandLine.getCommandName();
          if (e instanceof NoSuchFileException missing) {
            errors.println(
                command
                    + ": file not found: "
                    + missing.getFile()
                    + (missing.getReason() == null ? "" : " (" + missing.getReason() + ")"));
            return 2;
          }
          if (e instanceof ConfigError
              || e instanceof IllegalArgumentException
              || e instanceof UncheckedIOException
              || e instanceof IOException) {
            errors.println(command + ": " + e.getMessage());
            return 2;
          }
          errors.println(command + " failed: " + e);
          e.printStackTrace(errors);
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
