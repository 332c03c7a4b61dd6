package org.dtmspark.sync;

/**
 * The schedule of one ring all-reduce on one rank: which part of the buffer each frame carries, in
 * which order frames travel, and which received frame a sent frame waits for. Pure arithmetic,
 * identical on every rank up to the rank's own offset, so that the frame rank {@code r - 1} sends
 * as its {@code k}-th is the frame rank {@code r} expects as its {@code k}-th.
 *
 * <p>The buffer is cut into buckets of {@code bucketElements} floats (the last may be shorter; a
 * buffer of length 0 is one empty bucket, so that even an empty operation checks that the ranks
 * agree). Each bucket is cut into {@code worldSize} segments, segment {@code s} covering {@code [n
 * * s / R, n * (s + 1) / R)} of the bucket's {@code n} floats: sizes differ by at most one and
 * segments may be empty when {@code n < R}.
 *
 * <p>A bucket takes {@code 2 (R - 1)} steps. At step {@code t} rank {@code r} sends segment {@code
 * (r - t) mod R} to rank {@code r + 1} and receives segment {@code (r - t - 1) mod R} from rank
 * {@code r - 1}. During the first {@code R - 1} steps (reduce-scatter) it adds what it receives to
 * its own values; after them it owns the complete sum of segment {@code (r + 1) mod R}, which it
 * sends at step {@code R - 1}. During the last {@code R - 1} steps (all-gather) it stores what it
 * receives and forwards it at the next step.
 *
 * <p>Buckets are pipelined: frames travel in wavefront order, by {@code bucket + step} and then by
 * bucket, so bucket {@code b + 1} starts its ring one step after bucket {@code b} and up to {@code
 * 2 (R - 1)} buckets are in flight. A frame can leave once the frame of the same bucket at the
 * previous step has arrived ({@link #after}).
 */
final class RingPlan {
  private final int worldSize;
  private final int rank;
  private final int length;
  private final int bucketElements;
  private final int buckets;
  private final int steps;
  private final int[] bucketOf;
  private final int[] stepOf;
  private final int[] frameOf;

  RingPlan(int worldSize, int rank, int length, int bucketElements) {
    if (worldSize < 2) {
      throw new IllegalArgumentException("A ring needs at least 2 ranks, cannot be: " + worldSize);
    }
    if (rank < 0 || rank >= worldSize) {
      throw new IllegalArgumentException(
          "Rank must be in [0, " + worldSize + "), cannot be: " + rank);
    }
    if (length < 0 || bucketElements < 1) {
      throw new IllegalArgumentException(
          "Length must be >= 0 and bucket size >= 1, cannot be: " + length + ", " + bucketElements);
    }
    this.worldSize = worldSize;
    this.rank = rank;
    this.length = length;
    this.bucketElements = bucketElements;
    this.buckets = Math.max(1, (int) (((long) length + bucketElements - 1) / bucketElements));
    this.steps = 2 * (worldSize - 1);
    long frames = (long) buckets * steps;
    if (frames > (1 << 26)) {
      throw new IllegalArgumentException(
          "Bucket size of "
              + bucketElements
              + " floats is too small for "
              + length
              + " floats on "
              + worldSize
              + " ranks: "
              + frames
              + " frames, at most "
              + (1 << 26));
    }
    bucketOf = new int[(int) frames];
    stepOf = new int[(int) frames];
    frameOf = new int[(int) frames];
    int k = 0;
    for (int wave = 0; wave < buckets + steps - 1; wave++) {
      for (int b = Math.max(0, wave - steps + 1); b <= Math.min(buckets - 1, wave); b++) {
        bucketOf[k] = b;
        stepOf[k] = wave - b;
        frameOf[b * steps + wave - b] = k;
        k++;
      }
    }
  }

  int length() {
    return length;
  }

  /** Frames this rank sends, which is also the number it receives. */
  int frames() {
    return bucketOf.length;
  }

  int bucket(int frame) {
    return bucketOf[frame];
  }

  int step(int frame) {
    return stepOf[frame];
  }

  /** The received frame that sending {@code frame} waits for, or -1 for a first step. */
  int after(int frame) {
    int t = stepOf[frame];
    return t == 0 ? -1 : frameOf[bucketOf[frame] * steps + t - 1];
  }

  /** Whether a received frame is added to this rank's values (reduce-scatter) or stored. */
  boolean reduces(int frame) {
    return stepOf[frame] < worldSize - 1;
  }

  /** Whether a sent frame carries the complete sum this rank owns (the first all-gather step). */
  boolean sendsOwnSum(int frame) {
    return stepOf[frame] == worldSize - 1;
  }

  /** First element (buffer index) of the segment sent as {@code frame}. */
  int sendStart(int frame) {
    return segmentStart(bucketOf[frame], sendSegment(frame));
  }

  int sendLength(int frame) {
    return segmentLength(bucketOf[frame], sendSegment(frame));
  }

  /** First element (buffer index) of the segment received as {@code frame}. */
  int receiveStart(int frame) {
    return segmentStart(bucketOf[frame], receiveSegment(frame));
  }

  int receiveLength(int frame) {
    return segmentLength(bucketOf[frame], receiveSegment(frame));
  }

  int sendSegment(int frame) {
    return Math.floorMod(rank - stepOf[frame], worldSize);
  }

  int receiveSegment(int frame) {
    return Math.floorMod(rank - stepOf[frame] - 1, worldSize);
  }

  /** The most floats any frame of a ring of this size can carry with this bucket size. */
  static int maxSegmentElements(int worldSize, int bucketElements) {
    return (bucketElements + worldSize - 1) / worldSize;
  }

  private int segmentStart(int bucket, int segment) {
    long start = (long) bucket * bucketElements;
    return (int) (start + (long) bucketLength(bucket) * segment / worldSize);
  }

  private int segmentLength(int bucket, int segment) {
    long n = bucketLength(bucket);
    return (int) (n * (segment + 1) / worldSize - n * segment / worldSize);
  }

  private int bucketLength(int bucket) {
    return (int) Math.min(bucketElements, length - (long) bucket * bucketElements);
  }
}
