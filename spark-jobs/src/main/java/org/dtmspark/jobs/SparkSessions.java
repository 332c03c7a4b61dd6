package org.dtmspark.jobs;

import java.io.File;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.SparkConf;
import org.apache.spark.sql.SparkSession;

/** The SparkSession of a command: spark-submit's, or an embedded one. */
public final class SparkSessions {
  private SparkSessions() {}

  /**
   * The active session, or a new one. Under {@code spark-submit} the master and every setting come
   * from there; run from {@code bin/dtm} (no {@code spark.master}) the job runs embedded on {@code
   * local[*]} with the driver on the loopback interface.
   */
  public static SparkSession getOrCreate(String appName) {
    SparkConf conf = new SparkConf();
    SparkSession.Builder builder = SparkSession.builder().appName(appName);
    if (!conf.contains("spark.master")) {
      builder.master("local[*]").config("spark.driver.host", "127.0.0.1");
    }
    return builder.getOrCreate();
  }

  /**
   * The session of a training job with {@code ranks} ranks. Under {@code spark-submit} (or with
   * {@code spark.master} set) it is that session. Otherwise, for more than one rank, an embedded
   * {@code local-cluster[ranks, 1, executorMemoryMb]}: a standalone master and {@code ranks}
   * workers in this JVM, each starting one executor JVM with this JVM's classpath and its {@code
   * --add-opens} and {@code -D} options (DJL's gradient collector is process-wide, so every rank
   * needs its own JVM). Spark needs {@code SPARK_HOME} (any directory) and {@code
   * SPARK_SCALA_VERSION} in this process's environment for that; {@code bin/dtm} sets both.
   */
  public static SparkSession forRanks(String appName, int ranks, int executorMemoryMb) {
    SparkConf conf = new SparkConf();
    if (conf.contains("spark.master") || ranks <= 1) {
      return getOrCreate(appName);
    }
    return localCluster(appName, ranks, executorMemoryMb);
  }

  /**
   * An embedded {@code local-cluster[executors, 1, executorMemoryMb]}, as {@link #forRanks} builds
   * it, for any number of executors (benchmarks compare 1 and N ranks in executor JVMs).
   */
  public static SparkSession localCluster(String appName, int ranks, int executorMemoryMb) {
    String sparkHome = System.getenv("SPARK_HOME");
    if (sparkHome == null || System.getenv("SPARK_SCALA_VERSION") == null) {
      throw new IllegalStateException(
          "An embedded cluster of "
              + ranks
              + " ranks needs SPARK_HOME (any existing directory) and SPARK_SCALA_VERSION=2.12 in"
              + " the environment (bin/dtm sets both), or a cluster through spark-submit");
    }
    try {
      // Spark's launcher takes the executors' jars from $SPARK_HOME/jars and fails without it;
      // ours come from spark.executor.extraClassPath.
      java.nio.file.Files.createDirectories(java.nio.file.Path.of(sparkHome, "jars"));
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(
          "SPARK_HOME " + sparkHome + " must be a directory with a jars/ directory", e);
    }
    List<String> options = jvmOptionsForExecutors();
    if (options.stream().noneMatch(o -> o.startsWith("-Dai.djl.pytorch.num_threads="))) {
      // The ranks share this machine's cores: one PyTorch thread pool each, not one per core each.
      int threads = Math.max(1, Runtime.getRuntime().availableProcessors() / ranks);
      options.add("-Dai.djl.pytorch.num_threads=" + threads);
    }
    String executorOptions = String.join(" ", options);
    return SparkSession.builder()
        .appName(appName)
        .master("local-cluster[" + ranks + ",1," + executorMemoryMb + "]")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.executor.memory", executorMemoryMb + "m")
        .config("spark.executor.extraClassPath", absoluteClassPath())
        .config("spark.executor.extraJavaOptions", executorOptions)
        .config("spark.ui.enabled", "false")
        // One attempt per stage: the training job resubmits and resumes itself.
        .config("spark.stage.maxConsecutiveAttempts", "1")
        .getOrCreate();
  }

  /**
   * Stops {@code spark} when it is an embedded {@code local-cluster} (its executor JVMs and workers
   * go down with it, before this JVM's shutdown would race them); a session of {@code spark-submit}
   * or a shared {@code local} one is left alone.
   */
  public static void stopEmbeddedCluster(SparkSession spark) {
    if (spark.sparkContext().master().startsWith("local-cluster")) {
      spark.stop();
    }
  }

  /** This JVM's classpath with absolute entries (executors run in the worker's directory). */
  static String absoluteClassPath() {
    List<String> entries = new ArrayList<>();
    for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
      if (!entry.isEmpty()) {
        entries.add(new File(entry).getAbsolutePath());
      }
    }
    return String.join(File.pathSeparator, entries);
  }

  /** The {@code --add-opens}, {@code -D} and {@code -Xss} options this JVM was started with. */
  static List<String> jvmOptionsForExecutors() {
    List<String> options = new ArrayList<>();
    for (String arg : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
      if (arg.startsWith("--add-opens") || arg.startsWith("-D") || arg.startsWith("-Xss")) {
        if (!arg.contains(" ") && !arg.startsWith("-Dspark.")) {
          options.add(arg);
        }
      }
    }
    return options;
  }
}
