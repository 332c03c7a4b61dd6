package org.dtmspark.jobs.pretrain;

import ai.djl.Device;
import org.dtmspark.core.config.ConfigError;

/**
 * What a rank's task may use, decided from what Spark gave it and what the PyTorch library sees:
 * pure functions, so that the rules are tested without a GPU or a cluster.
 */
final class TaskResources {
  /** The system property DJL reads for libtorch's intra-op threads. */
  static final String THREADS_PROPERTY = "ai.djl.pytorch.num_threads";

  private TaskResources() {}

  /**
   * The device a rank trains on.
   *
   * @param gpusSeen CUDA devices the PyTorch library sees in this JVM (0 for a CPU build)
   * @param gpusGiven the addresses of the {@code gpu} resource Spark assigned the task (empty for
   *     none)
   * @return the GPU Spark gave, or the CPU when Spark gave none and this JVM has no CUDA device
   * @throws ConfigError the task would silently train on the CPU of a GPU host, or its GPU is not
   *     one the library can use
   */
  static Device device(int gpusSeen, String... gpusGiven) {
    if (gpusGiven.length == 0) {
      if (gpusSeen > 0) {
        throw new ConfigError(
            "This task sees "
                + gpusSeen
                + " CUDA device(s) but Spark gave it no GPU, so it would train on the CPU: request"
                + " one GPU per task (spark.task.resource.gpu.amount=1,"
                + " spark.executor.resource.gpu.amount=1 and a discovery script, see"
                + " deploy/gpu/discover-gpus.sh), or give the executors the CPU build of libtorch"
                + " (PYTORCH_FLAVOR=cpu) to train on CPUs");
      }
      return Device.cpu();
    }
    String address = gpusGiven[0].trim();
    int index;
    try {
      index = Integer.parseInt(address);
    } catch (NumberFormatException e) {
      throw new ConfigError(
          "GPU address of the task must be a device index, cannot be: " + gpusGiven[0]);
    }
    if (gpusSeen == 0) {
      throw new ConfigError(
          "Spark gave this task GPU "
              + address
              + " but the PyTorch library sees no CUDA device: give GPU executors the CUDA build"
              + " of libtorch (PYTORCH_FLAVOR, see the README's \"libtorch on the nodes\")");
    }
    if (index < 0 || index >= gpusSeen) {
      throw new ConfigError(
          "Spark gave this task GPU "
              + address
              + " but the PyTorch library sees "
              + gpusSeen
              + " CUDA device(s), 0 to "
              + (gpusSeen - 1)
              + ": the discovery script and CUDA_VISIBLE_DEVICES disagree");
    }
    return Device.gpu(index);
  }

  /**
   * libtorch's intra-op threads for a rank: the value of {@value #THREADS_PROPERTY} when it is set
   * (the embedded cluster sets it to its share of the machine's cores; a site may set it in {@code
   * spark.executor.extraJavaOptions}), otherwise the task's CPUs ({@code spark.task.cpus}, as Spark
   * reports them to the task), on every cluster manager.
   *
   * @param property the property's value, {@code null} when unset
   * @param taskCpus the CPUs Spark gave the task
   */
  static int intraOpThreads(String property, int taskCpus) {
    if (property != null) {
      try {
        int n = Integer.parseInt(property.trim());
        if (n >= 1) {
          return n;
        }
      } catch (NumberFormatException e) {
        // reported below
      }
      throw new ConfigError(
          THREADS_PROPERTY + " must be a whole number of threads >= 1, cannot be: " + property);
    }
    if (taskCpus < 1) {
      throw new IllegalArgumentException("Task CPUs must be at least 1, cannot be: " + taskCpus);
    }
    return taskCpus;
  }
}
