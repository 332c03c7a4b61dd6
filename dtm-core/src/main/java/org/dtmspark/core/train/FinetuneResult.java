package org.dtmspark.core.train;

import java.nio.file.Path;

/**
 * What a fine-tuning run did.
 *
 * @param steps optimizer steps run
 * @param finalLoss training loss of the last step
 * @param valTop1 top-1 accuracy on the validation set after the last epoch, in [0, 1]
 * @param checkpoint the final classifier checkpoint
 * @param metrics the metrics JSON-lines file
 */
public record FinetuneResult(
    long steps, double finalLoss, double valTop1, Path checkpoint, Path metrics) {}
