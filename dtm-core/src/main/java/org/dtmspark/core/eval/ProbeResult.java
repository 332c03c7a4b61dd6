package org.dtmspark.core.eval;

/**
 * Linear-probe accuracies.
 *
 * @param trainTop1 top-1 accuracy on the training features, in [0, 1]
 * @param valTop1 top-1 accuracy on the validation features, in [0, 1]
 * @param finalLoss training loss of the last epoch
 */
public record ProbeResult(double trainTop1, double valTop1, double finalLoss) {}
