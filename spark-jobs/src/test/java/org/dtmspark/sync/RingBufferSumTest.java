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

  /** Room for {@code length} floats after {@code position} floats, positioned there. */
  private static ByteBuffer buffer(int length, int position, boolean direct, ByteOrder order) {
    int bytes = (length + position) * 4;
    ByteBuffer b = (direct ? ByteBuffer.allocateDirect(bytes) : ByteBuffer.allocate(bytes));
    return b.order(order).position(position * 4);
  }

  /**
   * Direct little-endian (sent from and received into in place), direct big-endian and heap (copied
   * through the ring's buffers).
   */
  private static final ByteOrder[] ORDERS = {
    ByteOrder.LITTLE_ENDIAN, ByteOrder.BIG_ENDIAN, ByteOrder.LITTLE_ENDIAN
  };

  @ParameterizedTest(name = "{0} ranks, {1}, {2}-byte buckets")
  @MethodSource("rings")
  void aBufferFilledWhileTheRingRunsSumsToTheSameBitsAsAnArrayTimesTheScale(
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
        for (int kind = 0; kind < ORDERS.length; kind++) {
          boolean direct = kind < 2;
          ByteOrder order = ORDERS[kind];
          // The mean (scale 1/R) and, on the fp32 wire, the plain sum.
          for (float scale :
              wire == Wire.FP32 ? new float[] {1f, 1f / worldSize} : new float[] {1f}) {
            List<float[]> buffers =
                Ranks.values(
                    Ranks.run(
                        worldSize,
                        rank -> {
                          float[] v = RingAllReduceTest.values(rank, index, length);
                          ByteBuffer b = buffer(length, 3, direct, order);
                          b.putFloat(0, -7f).putFloat(4, -7f).putFloat(8, -7f);
                          FloatBuffer target = b.slice().order(order).asFloatBuffer();
                          ring.get(rank)
                              .sumInPlace(b, new ChunkedFill(v, target, 777, length), scale);
                          assertThat(b.position()).isEqualTo(12);
                          assertThat(b.getFloat(0) + b.getFloat(4) + b.getFloat(8)).isEqualTo(-21f);
                          float[] out = new float[length];
                          target.get(0, out, 0, length);
                          return out;
                        }));
            RingAllReduceTest.assertBitIdentical(buffers);
            float[] expected = arrays.get(0).clone();
            for (int i = 0; i < length; i++) {
              expected[i] *= scale;
            }
            RingAllReduceTest.assertBitIdentical(List.of(expected, buffers.get(0)));
          }
        }
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
                ByteBuffer b = buffer(v.length, 0, true, ByteOrder.LITTLE_ENDIAN);
                FloatBuffer target = b.asFloatBuffer();
                ring.get(rank)
                    .sumInPlace(
                        b, new ChunkedFill(v, target, 1000, rank == 0 ? 5000 : 1 << 30), 1f);
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
