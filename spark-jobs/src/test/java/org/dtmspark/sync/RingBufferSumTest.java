package org.dtmspark.sync;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** The all-reduce of a (direct) buffer that a producer fills while the ring runs. */
class RingBufferSumTest {
  static Stream<org.junit.jupiter.params.provider.Arguments> rings() {
    return RingAllReduceTest.rings();
  }

  /**
   * Fills a buffer from {@code source} in chunks on its own thread, as the copy thread of the
   * gradient exchange does, and tells the ring how far it got.
   */
  private static final class ChunkedFill implements Filling {
    private final Thread thread;
    private int filled;
    private RuntimeException failure;

    ChunkedFill(float[] source, FloatBuffer into, int chunk, int failAt) {
      thread =
          new Thread(
              () -> {
                for (int start = 0; start < source.length; start += chunk) {
                  int n = Math.min(chunk, source.length - start);
                  if (start >= failAt) {
                    fail(new IllegalStateException("copy failed at " + start));
                    return;
                  }
                  into.put(start, source, start, n);
                  advance(start + n);
                  Thread.yield();
                }
              });
      thread.start();
    }

    synchronized void advance(int end) {
      filled = end;
      notifyAll();
    }

    synchronized void fail(RuntimeException e) {
      failure = e;
      notifyAll();
    }

    @Override
    public synchronized void awaitFilled(int end, long deadlineNanos) {
      while (filled < end) {
        if (failure != null) {
          throw failure;
        }
        try {
          wait(10);
        } catch (InterruptedException e) {
          throw new IllegalStateException(e);
        }
      }
    }
  }

  private static FloatBuffer direct(int length, int position) {
    ByteBuffer bytes =
        ByteBuffer.allocateDirect((length + position) * 4).order(ByteOrder.nativeOrder());
    FloatBuffer b = bytes.asFloatBuffer();
    b.position(position);
    return b;
  }

  @ParameterizedTest(name = "{0} ranks, {1}, {2}-byte buckets")
  @MethodSource("rings")
  void aBufferFilledWhileTheRingRunsSumsToTheSameBitsAsAnArray(
      int worldSize, Wire wire, int bucketBytes, int[] lengths) throws Exception {
    List<RingAllReduce> ring =
        Ranks.ring(worldSize, SyncOptions.defaults().withWire(wire).withBucketBytes(bucketBytes));
    try {
      for (int op = 0; op < lengths.length; op++) {
        int length = lengths[op];
        int index = op;
        List<float[]> arrays =
            Ranks.values(
                Ranks.run(
                    worldSize,
                    rank -> {
                      float[] v = RingAllReduceTest.values(rank, index, length);
                      ring.get(rank).sumInPlace(v);
                      return v;
                    }));
        List<float[]> buffers =
            Ranks.values(
                Ranks.run(
                    worldSize,
                    rank -> {
                      float[] v = RingAllReduceTest.values(rank, index, length);
                      FloatBuffer b = direct(length, 3);
                      b.put(0, -7f).put(1, -7f).put(2, -7f);
                      ring.get(rank).sumInPlace(b, new ChunkedFill(v, b.slice(), 777, length));
                      assertThat(b.position()).isEqualTo(3);
                      assertThat(b.get(0) + b.get(1) + b.get(2)).isEqualTo(-21f);
                      float[] out = new float[length];
                      b.get(3, out, 0, length);
                      return out;
                    }));
        RingAllReduceTest.assertBitIdentical(buffers);
        RingAllReduceTest.assertBitIdentical(List.of(arrays.get(0), buffers.get(0)));
      }
    } finally {
      Ranks.closeAll(ring);
    }
  }

  @Test
  void aFailedFillFailsTheAllReduceWithTheProducersError() throws Exception {
    List<RingAllReduce> ring = Ranks.ring(2, SyncOptions.defaults().withBucketBytes(4096));
    try {
      List<Ranks.Outcome<Void>> outcomes =
          Ranks.run(
              2,
              rank -> {
                float[] v = RingAllReduceTest.values(rank, 0, 10_000);
                FloatBuffer b = direct(v.length, 0);
                ring.get(rank)
                    .sumInPlace(b, new ChunkedFill(v, b, 1000, rank == 0 ? 5000 : 1 << 30));
                return null;
              });
      assertThat(outcomes.get(0).error())
          .isInstanceOf(IllegalStateException.class)
          .hasMessage("copy failed at 5000");
      // Rank 0 left the ring: rank 1 sees its connection close instead of waiting for a timeout.
      assertThat(outcomes.get(1).error()).isInstanceOf(PeerFailureException.class);
    } finally {
      Ranks.closeAll(ring);
    }
  }
}
