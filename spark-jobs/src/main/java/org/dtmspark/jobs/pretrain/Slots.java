package org.dtmspark.jobs.pretrain;

import org.apache.spark.SparkConf;
import org.apache.spark.SparkContext;
import org.dtmspark.core.config.ConfigError;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Checks, before training starts, that the cluster can run one rank per executor JVM: DJL's
 * gradient collector is process-wide, so two ranks must never share a JVM, and a barrier stage
 * needs every rank's slot at once.
 */
final class Slots {
  private static final Logger LOG = LoggerFactory.getLogger(Slots.class);

  private Slots() {}

  /**
   * Waits up to {@code waitSeconds} for {@code ranks} executors to register.
   *
   * @throws ConfigError when the settings would put two ranks in one JVM, or too few executors
   *     register in time
   */
  static void await(SparkContext sc, int ranks, int waitSeconds) {
    SparkConf conf = sc.getConf();
    if (sc.isLocal()) {
      if (ranks > 1) {
        throw new ConfigError(
            "--ranks "
                + ranks
                + " needs one executor JVM per rank, but master "
                + sc.master()
                + " runs everything in one JVM: use --ranks 1, the launcher's local cluster"
                + " (bin/dtm pretrain --ranks N without --master), or a cluster");
      }
      return;
    }
    int taskCpus = conf.getInt("spark.task.cpus", 1);
    if (conf.contains("spark.executor.cores")) {
      int executorCores = conf.getInt("spark.executor.cores", 1);
      if (executorCores >= 2 * taskCpus) {
        throw new ConfigError(
            "spark.executor.cores ("
                + executorCores
                + ") allows "
                + executorCores / taskCpus
                + " tasks per executor with spark.task.cpus = "
                + taskCpus
                + ", but each rank needs its own JVM: set spark.task.cpus to "
                + executorCores);
      }
    }
    long deadline = System.nanoTime() + waitSeconds * 1_000_000_000L;
    int executors = executors(sc);
    while (executors < ranks && System.nanoTime() < deadline) {
      LOG.info("Waiting for executors: {} of {} registered", executors, ranks);
      try {
        Thread.sleep(1000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("Interrupted while waiting for executors", e);
      }
      executors = executors(sc);
    }
    if (executors < ranks) {
      throw new ConfigError(
          "--ranks "
              + ranks
              + " needs "
              + ranks
              + " executors (one per rank), but "
              + executors
              + " registered within pretrain.distributed.executor-wait-seconds = "
              + waitSeconds);
    }
  }

  /** Registered executors, the driver not counted. */
  private static int executors(SparkContext sc) {
    return Math.max(0, sc.statusTracker().getExecutorInfos().length - 1);
  }
}
