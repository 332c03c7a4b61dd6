package org.dtmspark.core.config;

/** A {@code train} section: epochs, batch, limits and cadence. */
public record TrainSettings(
    int epochs, int batchSize, long maxSteps, int logEverySteps, int checkpointEverySteps) {

  static TrainSettings from(SettingsReader r) {
    return new TrainSettings(
        r.intAtLeast("epochs", 1),
        r.intAtLeast("batch-size", 1),
        r.longAtLeast("max-steps", 0),
        r.intAtLeast("log-every-steps", 1),
        r.intAtLeast("checkpoint-every-steps", 0));
  }

  /**
   * Optimizer steps in one epoch of {@code datasetSize} images (the last partial batch is dropped).
   */
  public long stepsPerEpoch(long datasetSize) {
    long steps = datasetSize / batchSize;
    if (steps == 0) {
      throw new ConfigError(
          "train.batch-size must be at most the dataset size ("
              + datasetSize
              + "), cannot be: "
              + batchSize);
    }
    return steps;
  }

  /** Steps this run executes: all epochs, or {@link #maxSteps} when it is smaller. */
  public long stepsToRun(long datasetSize) {
    long all = stepsPerEpoch(datasetSize) * epochs;
    return maxSteps > 0 ? Math.min(all, maxSteps) : all;
  }
}
