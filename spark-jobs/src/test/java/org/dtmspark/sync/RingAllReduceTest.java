package org.dtmspark.sync;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.dtmspark.core.train.Seeds;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class RingAllReduceTest {
  private static final long SEED = 20240611L;

  /** Rank {@code rank}'s values for operation {@code op}: gaussian, magnitudes 1e-3 to 1e2. */
  static float[] values(int rank, int op, int length) {
    SplittableRandom rng = Seeds.rng(SEED, "sync-test", op, rank);
    float[] v = new float[length];
    for (int i = 0; i < length; i++) {
      v[i] = (float) (rng.nextGaussian() * Math.pow(10, rng.nextInt(-3, 3)));
    }
    return v;
  }

  /**
   * Largest |result - exact sum| divided by the bound allowed for {@code wire}: fp32 allows R
   * roundings of 2^-24 relative to the sum of magnitudes; fp16 allows R roundings of 2^-11 (one per
   * hop and the final one) plus R half-subnormal units.
   */
  static double worstErrorOverBound(float[] result, int worldSize, int op, Wire wire) {
    int length = result.length;
    double[] exact = new double[length];
    double[] magnitude = new double[length];
    for (int r = 0; r < worldSize; r++) {
      float[] v = values(r, op, length);
      for (int i = 0; i < length; i++) {
        exact[i] += v[i];
        magnitude[i] += Math.abs(v[i]);
      }
    }
    double unit = wire == Wire.FP32 ? 0x1p-24 : 0x1p-11;
    double floor = wire == Wire.FP32 ? 0 : worldSize * 0x1p-24;
    double worst = 0;
    for (int i = 0; i < length; i++) {
      double bound = worldSize * unit * magnitude[i] + floor + Double.MIN_VALUE;
      worst = Math.max(worst, Math.abs(result[i] - exact[i]) / bound);
    }
    return worst;
  }

  static void assertBitIdentical(List<float[]> results) {
    for (int r = 1; r < results.size(); r++) {
      float[] a = results.get(0);
      float[] b = results.get(r);
      assertThat(b.length).isEqualTo(a.length);
      for (int i = 0; i < a.length; i++) {
        if (Float.floatToRawIntBits(a[i]) != Float.floatToRawIntBits(b[i])) {
          throw new AssertionError(
              "rank " + r + " differs from rank 0 at " + i + ": " + b[i] + " vs " + a[i]);
        }
      }
    }
  }

  static Stream<Arguments> rings() {
    List<Arguments> cases = new ArrayList<>();
    for (int worldSize = 2; worldSize <= 4; worldSize++) {
      for (Wire wire : Wire.values()) {
        // Buckets of 2 floats: fewer floats per bucket than ranks, so some segments are empty.
        cases.add(Arguments.of(worldSize, wire, 8, new int[] {0, 1, 3, 7, 1001}));
        // Buckets of 1024 floats: 977 buckets for a million floats, many in flight.
        cases.add(Arguments.of(worldSize, wire, 4096, new int[] {0, 1, 3, 1_000_003}));
      }
    }
    return cases.stream();
  }

  @ParameterizedTest(name = "{0} ranks, {1}, {2}-byte buckets")
  @MethodSource("rings")
  void sumMatchesTheExactSumAndIsBitIdenticalOnEveryRank(
      int worldSize, Wire wire, int bucketBytes, int[] lengths) throws Exception {
    List<RingAllReduce> ring =
        Ranks.ring(worldSize, SyncOptions.defaults().withWire(wire).withBucketBytes(bucketBytes));
    try {
      for (int op = 0; op < lengths.length; op++) {
        int length = lengths[op];
        int index = op;
        List<float[]> results =
            Ranks.values(
                Ranks.run(
                    worldSize,
                    rank -> {
                      float[] v = values(rank, index, length);
                      ring.get(rank).sumInPlace(v);
                      return v;
                    }));
        assertBitIdentical(results);
        assertThat(worstErrorOverBound(results.get(0), worldSize, op, wire))
            .as("length %d", length)
            .isLessThanOrEqualTo(1.0);
      }
    } finally {
      Ranks.closeAll(ring);
    }
  }

  @Test
  void fp32SumOfTwoRanksIsExact() throws Exception {
    // Two addends: each segment's sum is one IEEE addition, the correctly rounded exact sum.
    List<RingAllReduce> ring = Ranks.ring(2, SyncOptions.defaults().withBucketBytes(64));
    try {
      List<float[]> results =
          Ranks.values(
              Ranks.run(
                  2,
                  rank -> {
                    float[] v = values(rank, 0, 999);
                    ring.get(rank).sumInPlace(v);
                    return v;
                  }));
      float[] a = values(0, 0, 999);
      float[] b = values(1, 0, 999);
      for (int i = 0; i < a.length; i++) {
        assertThat(results.get(0)[i]).isEqualTo((float) ((double) a[i] + b[i]));
        assertThat(results.get(1)[i]).isEqualTo(a[i] + b[i]);
      }
    } finally {
      Ranks.closeAll(ring);
    }
  }

  @Test
  void sumInPlaceTouchesOnlyTheGivenRange() throws Exception {
    List<RingAllReduce> ring = Ranks.ring(3, SyncOptions.defaults().withBucketBytes(16));
    try {
      List<float[]> results =
          Ranks.values(
              Ranks.run(
                  3,
                  rank -> {
                    float[] v = new float[20];
                    java.util.Arrays.fill(v, rank + 1);
                    ring.get(rank).sumInPlace(v, 5, 11);
                    return v;
                  }));
      for (int r = 0; r < 3; r++) {
        float[] v = results.get(r);
        for (int i = 0; i < 20; i++) {
          assertThat(v[i]).as("rank %d index %d", r, i).isEqualTo(i >= 5 && i < 16 ? 6f : r + 1);
        }
      }
    } finally {
      Ranks.closeAll(ring);
    }
  }

  @Test
  void fp16ResultsAreHalfValuesOnEveryRank() throws Exception {
    // The owner of a segment keeps the rounded sum it sends: every rank ends with fp16 values.
    List<RingAllReduce> ring = Ranks.ring(3, SyncOptions.defaults().withWire(Wire.FP16));
    try {
      List<float[]> results =
          Ranks.values(
              Ranks.run(
                  3,
                  rank -> {
                    float[] v = values(rank, 7, 5000);
                    ring.get(rank).sumInPlace(v);
                    return v;
                  }));
      assertBitIdentical(results);
      for (float f : results.get(0)) {
        assertThat(Half.toFloat(Half.fromFloat(f))).isEqualTo(f);
      }
    } finally {
      Ranks.closeAll(ring);
    }
  }

  @Test
  void manyConsecutiveOperationsOnOneRingStayCorrect() throws Exception {
    int worldSize = 3;
    int operations = 150;
    int[] lengths = {0, 1, 5, 17, 1000, 4099};
    List<RingAllReduce> ring = Ranks.ring(worldSize, SyncOptions.defaults().withBucketBytes(1024));
    try {
      List<Double> worst =
          Ranks.values(
              Ranks.run(
                  worldSize,
                  rank -> {
                    double w = 0;
                    for (int op = 0; op < operations; op++) {
                      if (op % 10 == 9) {
                        byte[] mine =
                            ("rank " + rank + " op " + op).getBytes(StandardCharsets.UTF_8);
                        List<byte[]> all = ring.get(rank).allGather(mine);
                        for (int r = 0; r < worldSize; r++) {
                          String expected = "rank " + r + " op " + op;
                          if (!expected.equals(new String(all.get(r), StandardCharsets.UTF_8))) {
                            throw new AssertionError("all-gather entry " + r + " at op " + op);
                          }
                        }
                        continue;
                      }
                      float[] v = values(rank, op, lengths[op % lengths.length]);
                      ring.get(rank).sumInPlace(v);
                      w = Math.max(w, worstErrorOverBound(v, worldSize, op, Wire.FP32));
                    }
                    return w;
                  }));
      assertThat(worst).allSatisfy(w -> assertThat(w).isLessThanOrEqualTo(1.0));
    } finally {
      Ranks.closeAll(ring);
    }
  }

  @Test
  void allGatherGivesEveryRankEveryPayloadInRankOrder() throws Exception {
    List<RingAllReduce> ring = Ranks.ring(4, SyncOptions.defaults());
    try {
      List<List<byte[]>> results =
          Ranks.values(Ranks.run(4, rank -> ring.get(rank).allGather(new byte[rank * 1000])));
      for (List<byte[]> all : results) {
        assertThat(all).hasSize(4);
        for (int r = 0; r < 4; r++) {
          assertThat(all.get(r)).hasSize(r * 1000);
        }
      }
    } finally {
      Ranks.closeAll(ring);
    }
  }

  @Test
  void worldSizeOneIsANoOp() {
    try (RingAllReduce.Endpoint endpoint = RingAllReduce.listen("127.0.0.1");
        RingAllReduce ring =
            endpoint.connect(
                0,
                List.of(endpoint.address()),
                RingAllReduce.newSecret(),
                "m",
                SyncOptions.defaults())) {
      float[] v = {1.5f, -2f, 3f};
      ring.sumInPlace(v);
      assertThat(v).containsExactly(1.5f, -2f, 3f);
      assertThat(ring.allGather(new byte[] {7})).singleElement().isEqualTo(new byte[] {7});
      assertThat(ring.worldSize()).isEqualTo(1);
    }
  }

  @Test
  void closeReleasesEveryThreadAndLeavesTheRingUnusable() throws Exception {
    List<RingAllReduce> ring = Ranks.ring(3, SyncOptions.defaults());
    Ranks.closeAll(ring);
    ring.get(0).close(); // idempotent
    assertThat(Thread.getAllStackTraces().keySet())
        .noneMatch(t -> t.getName().startsWith("dtm-sync-"));
    assertThatThrownBy(() -> ring.get(1).sumInPlace(new float[3]))
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("Rank 1's ring is closed (closed by this rank)");
  }

  @Test
  void badArgumentsAreRejectedNamingTheValueAndTheRule() throws Exception {
    try (RingAllReduce.Endpoint endpoint = RingAllReduce.listen("127.0.0.1")) {
      List<String> one = List.of(endpoint.address());
      byte[] secret = RingAllReduce.newSecret();
      SyncOptions options = SyncOptions.defaults();
      assertThatThrownBy(() -> endpoint.connect(1, one, secret, "m", options))
          .hasMessage("Rank must be in [0, 1), cannot be: 1");
      assertThatThrownBy(() -> endpoint.connect(0, one, new byte[4], "m", options))
          .hasMessage("Job secret must have at least 16 bytes, cannot be: 4 bytes");
      assertThatThrownBy(() -> endpoint.connect(0, List.of("nohost"), secret, "m", options))
          .hasMessage("Address of rank 0 must be host:port, cannot be: 'nohost'");
      assertThatThrownBy(() -> endpoint.connect(0, List.of("h:99999"), secret, "m", options))
          .hasMessage("Address of rank 0 must be host:port, cannot be: 'h:99999'");
      assertThatThrownBy(() -> endpoint.connect(0, one, secret, "x".repeat(5000), options))
          .hasMessage("Fingerprint must have at most 4096 UTF-8 bytes, cannot be: 5000 bytes");
      try (RingAllReduce ring = endpoint.connect(0, one, secret, "m", options)) {
        assertThatThrownBy(() -> ring.sumInPlace(new float[10], 4, 7))
            .hasMessage(
                "Range to sum must lie within the array of 10 floats, cannot be: offset 4, length"
                    + " 7");
      }
      assertThatThrownBy(() -> endpoint.connect(0, one, secret, "m", options))
          .hasMessage("This endpoint already built a ring: open a new endpoint for each ring");
    }
  }
}
