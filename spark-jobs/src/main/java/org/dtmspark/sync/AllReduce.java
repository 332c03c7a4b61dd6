package org.dtmspark.sync;

import java.nio.ByteBuffer;
import java.util.List;

/**
 * Collective operations among the ranks of one data-parallel job: the one interface behind which
 * gradient synchronisation lives.
 *
 * <p>Every rank calls the same operations in the same order with buffers of the same length; an
 * operation returns on a rank once that rank holds the result. Results are bit-identical on every
 * rank, so that the same optimizer step applied to the same weights keeps the weights identical.
 *
 * <p>Implementations are not thread-safe: one operation at a time, from one thread at a time. A
 * failed operation ({@link PeerFailureException}, {@link RingMismatchException}) closes the
 * instance; every later operation throws {@link IllegalStateException}. The job then restarts its
 * ranks (a failed Spark barrier task fails the stage) and builds a new ring.
 *
 * <p>{@link RingAllReduce} is the host-memory implementation over TCP; an NCCL implementation for
 * GPU clusters fits behind the same interface.
 */
public interface AllReduce extends AutoCloseable {
  /** This rank, {@code 0 <= rank < worldSize}. */
  int rank();

  /** Number of ranks. */
  int worldSize();

  /** Replaces every element of {@code data} by its sum over all ranks. */
  default void sumInPlace(float[] data) {
    sumInPlace(data, 0, data.length);
  }

  /**
   * Replaces {@code data[offset .. offset + length)} by its element-wise sum over all ranks. Every
   * rank must pass the same {@code length}; a rank that passes another length fails the operation
   * with a {@link RingMismatchException} naming both ranks.
   */
  void sumInPlace(float[] data, int offset, int length);

  /**
   * Replaces the floats of {@code data}, from its position to its limit in the buffer's byte order,
   * by {@code scale} times their element-wise sum over all ranks, in place (a direct buffer may be
   * the memory of a tensor); position and limit stay as they were. Each sum is scaled once, by the
   * rank that owns it, so results are bit-identical on every rank; {@code scale = 1 / worldSize}
   * gives the mean at no extra pass. Every rank must pass the same number of floats, as for {@link
   * #sumInPlace(float[], int, int)}.
   *
   * @param filling when this rank's values of each part of {@code data} are in place: the ring
   *     sends, adds and overwrites a bucket only after {@link Filling#awaitFilled} returns for its
   *     end
   */
  void sumInPlace(ByteBuffer data, Filling filling, float scale);

  /**
   * Gives every rank every rank's {@code payload}: element {@code i} of the result is rank {@code
   * i}'s payload (this rank's own at {@link #rank()}). For small metadata (parameter names, step
   * counters, checks), not for tensors.
   */
  List<byte[]> allGather(byte[] payload);

  /** Releases every socket and thread; idempotent. Peers see the connections close. */
  @Override
  void close();
}
