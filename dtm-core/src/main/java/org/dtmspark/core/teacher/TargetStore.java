package org.dtmspark.core.teacher;

import org.dtmspark.core.data.ViewParams;

/**
 * Teacher targets computed ahead of time (the target cache): for every image of a training dataset,
 * {@link #viewsPerImage()} views with their exact parameters and the teacher's tokens for each.
 *
 * <p>Training replays a stored view: it renders the student's input from {@link #view} (same crop,
 * flip and jitter as the teacher saw) and learns from {@link #tokens}. Indices are those of the
 * {@link org.dtmspark.core.data.ImageDataset} the store was opened for.
 *
 * <p>Implementations may load their data lazily; callers use one store from one thread at a time
 * (the batch loader's).
 */
public interface TargetStore extends AutoCloseable {
  /** Identifies the targets for provenance and logs: the teacher's id and the cache location. */
  String id();

  /** Number of tokens per view, N. */
  int numTokens();

  /** Dimension of every token, P. */
  int dim();

  /** Number of sampled views per image, K (view indices {@code 0..K-1}), at least 1. */
  int viewsPerImage();

  /** Whether image {@code index} has targets (an image the teacher could not read has none). */
  boolean has(int index);

  /** The exact parameters of view {@code view} of image {@code index}. */
  ViewParams view(int index, int view);

  /**
   * Copies the tokens of view {@code view} of image {@code index}, as float32 row-major {@code [N,
   * P]}, into {@code out[offset .. offset + N * P)}.
   */
  void tokens(int index, int view, float[] out, int offset);

  /**
   * A hint that view {@code view} of the images of block {@code block} (of the dataset's {@link
   * org.dtmspark.core.data.ImageDataset#blocks()}) will be read soon; held until {@link #release}d,
   * calls nest. No-op by default.
   */
  default void prefetch(int block, int view) {}

  /** Ends one {@link #prefetch} of {@code (block, view)}; one never prefetched is ignored. */
  default void release(int block, int view) {}

  /** Bytes read from storage so far (0 for targets held in memory). */
  default long bytesRead() {
    return 0;
  }

  @Override
  void close();
}
