package org.dtmspark.core.data;

import java.util.function.Supplier;

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

  /**
   * Sizes of the consecutive index ranges that are stored together (the shards of a sharded
   * dataset), in index order, summing to {@link #size()}. Training shuffles blocks, then images
   * within a block, so that a streaming reader touches one block at a time. One block by default.
   */
  default int[] blocks() {
    return new int[] {size()};
  }

  /**
   * A hint that block {@code block} (of {@link #blocks()}) will be read soon: a dataset that reads
   * from storage may start reading it on an I/O thread and holds it until {@link #release}d. Calls
   * nest: a block prefetched twice stays until released twice. No-op by default.
   */
  default void prefetch(int block) {}

  /** Ends one {@link #prefetch} of {@code block}; a block never prefetched is ignored. */
  default void release(int block) {}

  /** Bytes read from storage so far by this dataset's image reads (0 for in-memory data). */
  default long bytesRead() {
    return 0;
  }

  /**
   * Where the loader gets the pixels of image {@code index}: by default the decoded {@link #image};
   * a dataset of encoded files gives their bytes, which the loader's threads decode (only the
   * region a view needs, where the codec allows).
   */
  default ImageSource source(int index) {
    return ImageSource.decoded(id() + "#" + index, image(index));
  }

  /**
   * Makes the decoder each loader thread uses for this dataset's {@link ImageSource.Encoded}
   * sources: ImageIO's readers by default; a dataset whose files need other readers (shards that
   * may hold CMYK JPEGs) names its own.
   */
  default Supplier<RasterDecoder> decoders() {
    return ImageIoRasterDecoder::new;
  }

  /** The decoded image {@code index}. */
  RgbImage image(int index);
}
