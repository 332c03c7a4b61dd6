package org.dtmspark.sync;

/**
 * How far a producer has filled the buffer of a pipelined all-reduce ({@link
 * AllReduce#sumInPlace(java.nio.ByteBuffer, Filling, float)}): the ring sends and adds a bucket
 * only once this rank's values of that bucket are in the buffer, so that copies into the buffer
 * (for example gradients downloaded from a GPU, bucket by bucket, on another thread) overlap the
 * transfer of the buckets before them.
 */
public interface Filling {
  /** The buffer is already filled. */
  Filling FILLED = (end, deadlineNanos) -> {};

  /**
   * Returns once elements {@code [0, end)} of the buffer hold this rank's values, in buffer order.
   *
   * @param deadlineNanos a {@link System#nanoTime()} after which to give up
   * @throws RuntimeException the producer failed (its failure as the cause), or the deadline passed
   */
  void awaitFilled(int end, long deadlineNanos);
}
