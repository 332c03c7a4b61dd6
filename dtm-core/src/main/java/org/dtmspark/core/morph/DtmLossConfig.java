package org.dtmspark.core.morph;

/**
 * Settings of the DTM loss.
 *
 * @param distance distance per token between online and target morphed tokens
 * @param smoothL1Beta beta of the smooth-L1 distance, finite and at least 0 (0 is plain L1, as in
 *     torch); ignored by the other distances
 * @param normalizeTargets whether each target token is normalised over its features ({@code (v -
 *     mean) / sqrt(var + 1e-6)}, population variance) before matching
 * @param protectFirst whether the first token never merges (the top-left patch stays a singleton),
 *     as in the reference code
 */
public record DtmLossConfig(
    Distance distance, double smoothL1Beta, boolean normalizeTargets, boolean protectFirst) {
  /** The reference defaults: cosine distance, beta 2, raw targets, first token protected. */
  public static final DtmLossConfig DEFAULT = new DtmLossConfig(Distance.COSINE, 2.0, false, true);

  public DtmLossConfig {
    if (distance == null) {
      throw new IllegalArgumentException("Distance must be set, cannot be: null");
    }
    if (!(smoothL1Beta >= 0) || Double.isInfinite(smoothL1Beta)) {
      throw new IllegalArgumentException(
          "Smooth-L1 beta must be finite and at least 0, cannot be: " + smoothL1Beta);
    }
  }
}
