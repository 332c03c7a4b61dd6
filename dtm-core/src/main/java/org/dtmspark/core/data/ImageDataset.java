package org.dtmspark.core.data;

/**
 * A labelled image collection with random access, read by the training and evaluation loops.
 *
 * <p>Implementations must allow {@link #image} to be called from a background loader thread.
 */
public interface ImageDataset {
  /** Identity for provenance and logs: source path plus a content hash where available. */
  String id();

  /** Number of images. */
  int size();

  /** Number of classes; labels are in {@code [0, numClasses)}. */
  int numClasses();

  /** The label of image {@code index}. */
  int label(int index);

  /** The decoded image {@code index}. */
  RgbImage image(int index);
}
