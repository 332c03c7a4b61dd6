package org.dtmspark.core.train;

import ai.djl.ndarray.NDArray;
import java.util.Map;

/**
 * Averages the gradients of one step over the ranks of a data-parallel run, before clipping and the
 * optimizer step, so that every rank applies the same update.
 *
 * <p>Every rank calls {@link #reduce} once per step with the same parameter names (matched by name,
 * never by DJL's per-process ids) in the same order.
 */
public interface GradientReducer {
  /** One rank, nothing to average. */
  GradientReducer LOCAL = (gradients, loss) -> new Reduced(gradients, loss);

  /**
   * Gradients and loss averaged over all ranks.
   *
   * @param gradients parameter gradients by name, averaged over this rank's batch
   * @param loss this rank's loss
   * @return the means over the ranks: identical on every rank
   */
  Reduced reduce(Map<String, NDArray> gradients, double loss);

  /**
   * Gradients and loss averaged over the ranks.
   *
   * @param gradients by parameter name, on the parameters' device; may be the arrays passed in
   * @param loss the mean loss
   */
  record Reduced(Map<String, NDArray> gradients, double loss) {}
}
