package org.dtmspark.clustertests;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Child processes of the cluster tests: programs run to the end, and daemons started and stopped.
 */
final class Processes {
  /** Exit code and output of one run. */
  record Result(int code, String out, String err) {
    /** Both streams, for assertion messages. */
    String both() {
      return "stdout:\n" + out + "\nstderr:\n" + err;
    }
  }

  private Processes() {}

  /**
   * A process builder for {@code command} in {@code work}, with this JVM's environment minus the
   * variables that would point the child at another cluster or Spark home, plus {@code env}.
   */
  static ProcessBuilder builder(Path work, Map<String, String> env, List<String> command) {
    ProcessBuilder pb = new ProcessBuilder(command).directory(work.toFile());
    Map<String, String> environment = pb.environment();
    environment
        .keySet()
        .removeIf(
            k ->
                k.startsWith("DTM_")
                    || k.startsWith("PYTORCH_")
                    || k.equals("SPARK_HOME")
                    || k.equals("SPARK_CONF_DIR")
                    || k.equals("HADOOP_CONF_DIR")
                    || k.equals("YARN_CONF_DIR"));
    environment.putAll(env);
    return pb;
  }

  /**
   * Runs {@code command} to the end; output goes through files, so that a chatty program cannot
   * block on a full pipe. Fails with the end of its stderr when it runs longer than {@code
   * seconds}.
   */
  static Result run(Path work, Map<String, String> env, List<String> command, int seconds)
      throws IOException, InterruptedException {
    Path out = Files.createTempFile(work, "out", ".txt");
    Path err = Files.createTempFile(work, "err", ".txt");
    Process p =
        builder(work, env, command)
            .redirectOutput(out.toFile())
            .redirectError(err.toFile())
            .start();
    if (!p.waitFor(seconds, TimeUnit.SECONDS)) {
      p.descendants().forEach(ProcessHandle::destroyForcibly);
      p.destroyForcibly().waitFor();
      throw new IllegalStateException(
          String.join(" ", command.subList(0, Math.min(3, command.size())))
              + " ... did not finish in "
              + seconds
              + " s; the end of its stderr:\n"
              + tail(Files.readString(err, StandardCharsets.UTF_8), 6000));
    }
    Result r =
        new Result(
            p.exitValue(),
            Files.readString(out, StandardCharsets.UTF_8),
            Files.readString(err, StandardCharsets.UTF_8));
    Files.delete(out);
    Files.delete(err);
    return r;
  }

  /** Starts a daemon whose output goes to {@code log}; {@link #stop} ends it. */
  static Process start(Path work, Map<String, String> env, List<String> command, Path log)
      throws IOException {
    return builder(work, env, command)
        .redirectErrorStream(true)
        .redirectOutput(log.toFile())
        .start();
  }

  /** Ends a daemon started by {@link #start} and the processes it started. */
  static void stop(Process p) throws InterruptedException {
    if (p == null) {
      return;
    }
    p.descendants().forEach(ProcessHandle::destroy);
    p.destroy();
    if (!p.waitFor(20, TimeUnit.SECONDS)) {
      p.descendants().forEach(ProcessHandle::destroyForcibly);
      p.destroyForcibly().waitFor();
    }
  }

  /** The last {@code chars} characters of {@code text}. */
  static String tail(String text, int chars) {
    return text.substring(Math.max(0, text.length() - chars));
  }
}
