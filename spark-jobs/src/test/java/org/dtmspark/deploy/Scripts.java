package org.dtmspark.deploy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/** Runs the repository's shell scripts the way a user does, for the deploy tests. */
final class Scripts {
  /** The repository root (tests run in the spark-jobs module directory). */
  static final Path HOME = Path.of("..").toAbsolutePath().normalize();

  static final Path DTM_SUBMIT = HOME.resolve("deploy/bin/dtm-submit");
  static final Path DTM_STAGE = HOME.resolve("deploy/airflow/dtm-stage");
  static final Path DISCOVER_GPUS = HOME.resolve("deploy/gpu/discover-gpus.sh");

  /** Exit code and output of one script run. */
  record Result(int code, String out, String err) {}

  private Scripts() {}

  /** The bash on this machine's PATH. */
  static Path bash() {
    return onPath("bash").orElseThrow(() -> new IllegalStateException("bash is not on PATH"));
  }

  /** {@code name} on this JVM's PATH, if there. */
  static Optional<Path> onPath(String name) {
    for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
      Path p = Path.of(dir.isEmpty() ? "." : dir, name);
      if (Files.isExecutable(p)) {
        return Optional.of(p);
      }
    }
    return Optional.empty();
  }

  /**
   * Runs {@code command} in {@code work} with this JVM's environment minus the {@code DTM_*} and
   * {@code SPARK_HOME} variables, plus {@code env}; output goes through files, so that a chatty
   * script cannot block on a full pipe.
   */
  static Result run(Path work, Map<String, String> env, List<String> command)
      throws IOException, InterruptedException {
    return run(work, env, command, 120);
  }

  /** {@link #run(Path, Map, List)} that gives up after {@code seconds}. */
  static Result run(Path work, Map<String, String> env, List<String> command, int seconds)
      throws IOException, InterruptedException {
    ProcessBuilder pb = new ProcessBuilder(command).directory(work.toFile());
    Map<String, String> environment = pb.environment();
    environment.keySet().removeIf(k -> k.startsWith("DTM_") || k.equals("SPARK_HOME"));
    environment.putAll(env);
    Path out = Files.createTempFile(work, "out", ".txt");
    Path err = Files.createTempFile(work, "err", ".txt");
    pb.redirectOutput(out.toFile()).redirectError(err.toFile());
    Process p = pb.start();
    if (!p.waitFor(seconds, TimeUnit.SECONDS)) {
      p.destroyForcibly().waitFor();
      String log = Files.readString(err, StandardCharsets.UTF_8);
      throw new IllegalStateException(
          command.get(0)
              + " ... did not finish in "
              + seconds
              + " s; the end of its stderr:\n"
              + log.substring(Math.max(0, log.length() - 4000)));
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

  /** Runs a bash script with arguments. */
  static Result script(Path work, Map<String, String> env, Path script, String... args)
      throws IOException, InterruptedException {
    List<String> command = new ArrayList<>();
    command.add(bash().toString());
    command.add(script.toString());
    command.addAll(Arrays.asList(args));
    return run(work, env, command);
  }

  /** Writes an executable shell script. */
  static Path executable(Path file, String body) throws IOException {
    Files.createDirectories(file.getParent());
    Files.writeString(file, "#!" + bash() + "\n" + body);
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rwxr-xr-x"));
    return file;
  }

  /**
   * A stand-in for a program this machine does not have (spark-submit, nvidia-smi, java): it prints
   * each argument on its own line, so that tests see exactly what the script passed.
   */
  static Path printArgs(Path file) throws IOException {
    return executable(file, "for a in \"$@\"; do printf '%s\\n' \"$a\"; done\n");
  }

  /** The arguments a printed command passes to its program, as bash splits them. */
  static List<String> argumentsOf(Path work, String printedCommand)
      throws IOException, InterruptedException {
    Result r = run(work, Map.of(), List.of(bash().toString(), "-c", printedCommand));
    if (r.code() != 0) {
      throw new IllegalStateException("command failed (" + r.code() + "): " + r.err());
    }
    return r.out().lines().toList();
  }

  /** The {@code --conf KEY=VALUE} settings of a spark-submit argument list, by key. */
  static Map<String, String> confs(List<String> args) {
    Map<String, String> confs = new HashMap<>();
    for (int i = 0; i < args.size() - 1; i++) {
      if (args.get(i).equals("--conf")) {
        String kv = args.get(i + 1);
        int eq = kv.indexOf('=');
        confs.put(kv.substring(0, eq), kv.substring(eq + 1));
      }
    }
    return confs;
  }

  /** The value after {@code option} in an argument list. */
  static String valueOf(List<String> args, String option) {
    int i = args.indexOf(option);
    if (i < 0 || i == args.size() - 1) {
      throw new IllegalArgumentException(option + " not in " + args);
    }
    return args.get(i + 1);
  }

  /** The options of conf/java17-add-opens.txt, in order. */
  static List<String> addOpens() throws IOException {
    return Files.readAllLines(HOME.resolve("conf/java17-add-opens.txt")).stream()
        .map(String::strip)
        .filter(l -> !l.isEmpty() && !l.startsWith("#"))
        .toList();
  }
}
