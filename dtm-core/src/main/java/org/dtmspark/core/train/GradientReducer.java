package org.dtmspark.core.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import java.util.Map;

/**
 * Averages the gradients of one optimizer step over the ranks of a data-parallel run, before the
 * overflow check, clipping and the optimizer step, so that every rank applies the same update.
 *
 * <p>Gradients travel as one flat fp32 vector on the parameters' device: the parameters in the
 * order of {@link #prepare}'s map (sorted by name), each flattened row-major. Every rank calls
 * {@link #reduce} once per optimizer step, after its last micro-batch.
 */
public interface GradientReducer extends AutoCloseable {
  /** One rank, nothing to average. */
  GradientReducer LOCAL = (flatGradients, loss) -> new Reduced(loss, 0);

  /**
   * Called once before the first step with every trainable parameter's name and shape, in the order
   * of the flat gradient: an implementation over several ranks checks here that all ranks train the
   * same parameters, and fails naming the ranks and the first parameter that differs.
   */
  default void prepare(Map<String, Shape> parameters) {}

  /**
   * Replaces {@code flatGradients}, in place, by its mean over all ranks.
   *
   * @param flatGradients {@code [numel]} fp32 on the parameters' device, this rank's gradients
   * @param loss this rank's loss
   * @return the mean loss over the ranks and the seconds spent communicating
   */
  Reduced reduce(NDArray flatGradients, double loss);

  /**
   * @param loss the mean loss over the ranks
   * @param seconds wall time spent communicating (0 for one rank)
   */
  record Reduced(double loss, double seconds) {}

  /** Releases buffers and connections; the default holds none. */
  @Override
  default void close() {}
}
