package org.dtmspark.core.teacher;

import ai.djl.ndarray.NDArray;
import org.dtmspark.core.data.ImageNormalization;

/**
 * A frozen model that produces the target tokens the student learns to predict.
 *
 * <p>The teacher sees the same augmented view as the student, unmasked, and normalises it with its
 * own statistics. It never records gradients.
 */
public interface Teacher extends AutoCloseable {
  /** Identifies the teacher in caches and provenance (for example a checkpoint path and hash). */
  String id();

  /** Input resolution in pixels (square). */
  int imageSize();

  /** Number of target tokens per image, N (the CLS token is never included). */
  int numTokens();

  /** Dimension of every target token, P. */
  int dim();

  /** The mean/std the teacher applies to pixels in [0, 1]. */
  ImageNormalization normalization();

  /**
   * Computes target tokens.
   *
   * @param pixels {@code [B, 3, imageSize, imageSize]}, values in [0, 1], not normalised
   * @return {@code [B, N, P]} float32 target tokens, on the same manager as {@code pixels}
   */
  NDArray targets(NDArray pixels);

  @Override
  void close();
}
