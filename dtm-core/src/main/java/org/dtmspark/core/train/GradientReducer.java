package org.dtmspark.core.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
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
  GradientReducer LOCAL = (gradients, loss) -> new Reduced(gradients, loss, 0);

  /**
   * Called once before the first step with every trainable parameter's name and shape: an
   * implementation over several ranks checks here that all ranks train the same parameters, and
   * fails naming the ranks and the first parameter that differs.
   */
  default void prepare(Map<String, Shape> parameters) {}

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
   * @param seconds wall time spent communicating (0 for one rank)
   */
  record Reduced(Map<String, NDArray> gradients, double loss, double seconds) {}
}
