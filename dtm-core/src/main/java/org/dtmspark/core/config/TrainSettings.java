package org.dtmspark.core.config;

/**
 * A {@code train} section: epochs, batch, limits and cadence.
 *
 * @param batchSize images per optimizer step over all ranks and micro-batches
 * @param accumSteps micro-batches per optimizer step: each rank runs {@code batchSize / (ranks *
 *     accumSteps)} images at a time and sums their gradients before one exchange and one update
 */
public record TrainSettings(
    int epochs,
    int batchSize,
    int accumSteps,
    long maxSteps,
    int logEverySteps,
    int checkpointEverySteps) {

  static TrainSettings from(SettingsReader r) {
    return new TrainSettings(
        r.intAtLeast("epochs", 1),
        r.intAtLeast("batch-size", 1),
        r.intAtLeast("accum-steps", 1),
        r.longAtLeast("max-steps", 0),
        r.intAtLeast("log-every-steps", 1),
        r.intAtLeast("checkpoint-every-steps", 0));
  }

  /**
   * The step a run ends at: all epochs of {@code stepsPerEpoch} steps (which the batch plan gives),
   * or {@link #maxSteps} when it is smaller.
   */
  public long endStep(long stepsPerEpoch) {
    long all = stepsPerEpoch * epochs;
    return maxSteps > 0 ? Math.min(all, maxSteps) : all;
  }
}
