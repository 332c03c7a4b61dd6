package org.dtmspark.core.train;

import java.nio.file.Path;

/**
 * What a pretraining run did.
 *
 * @param stepsRun optimizer steps executed by this run (excluding steps before a resume)
 * @param finalStep global step reached
 * @param finalLoss loss of the last step
 * @param meanLossLastEpoch mean loss over the last {@code min(stepsPerEpoch, stepsRun)} steps
 * @param imagesPerSecond training throughput of this run
 * @param checkpoint the final checkpoint directory
 * @param metrics the metrics JSON-lines file
 */
public record PretrainResult(
    long stepsRun,
    long finalStep,
    double finalLoss,
    double meanLossLastEpoch,
    double imagesPerSecond,
    Path checkpoint,
    Path metrics) {}
