package org.dtmspark.sync;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.dtmspark.sync.Handshake.Identity;
import org.junit.jupiter.api.Test;

class RingFailureTest {
  /** Time limits well above what the tests need; a test that waits for one sets it shorter. */
  private static final SyncOptions FAST =
      SyncOptions.defaults()
          .withConnectTimeout(Duration.ofSeconds(10))
          .withOperationTimeout(Duration.ofSeconds(10));

  @Test
  void aPeerWithoutTheSecretIsRefusedLoggedAndLeftOutOfTheRing() throws Exception {
    List<RingAllReduce.Endpoint> endpoints = Ranks.endpoints(3);
    List<String> addresses = Ranks.addresses(endpoints);
    byte[] secret = RingAllReduce.newSecret();
    InetSocketAddress rankOne = RingAllReduce.parseAddress(1, addresses.get(1));
    ExecutorService pool = Executors.newSingleThreadExecutor();
    InetSocketAddress target = new InetSocketAddress(rankOne.getHostString(), rankOne.getPort());
    try (LogCapture log = LogCapture.of(RingAllReduce.class);
        SocketChannel stranger = SocketChannel.open(target);
        SocketChannel rogue = SocketChannel.open(target)) {
      // Both connected before any rank runs connect, so first in rank 1's queue of connections:
      // something that is not a sync peer at all, then a sync peer without the job's secret.
      stranger.write(
          ByteBuffer.wrap(
              "GET / HTTP/1.1\r\nHost: example\r\nAccept: */*\r\n\r\n"
                  .getBytes(StandardCharsets.US_ASCII)));
      String strangerAddress = stranger.getLocalAddress().toString();
      String rogueAddress = rogue.getLocalAddress().toString();
      rogue.configureBlocking(false);
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      Future<Throwable> rogueOutcome =
          pool.submit(
              () -> {
                try {
                  Handshake.asClient(
                      rogue, RingAllReduce.newSecret(), new Identity(0, 3, "test-model"), deadline);
                  return null;
                } catch (Handshake.Refused e) {
                  return e;
                }
              });
      List<RingAllReduce> ring =
          Ranks.values(
              Ranks.run(
                  3,
                  rank ->
                      endpoints.get(rank).connect(rank, addresses, secret, "test-model", FAST)));
      try {
        assertThat(rogueOutcome.get(30, TimeUnit.SECONDS))
            .isInstanceOf(Handshake.Refused.class)
            .hasMessageContaining("refused them");
        assertThat(log.lines())
            .contains(
                "WARN Rank 1 refused a connection from "
                    + strangerAddress
                    + ": not a dtm-spark sync peer (bad magic)",
                "WARN Rank 1 refused a connection from "
                    + rogueAddress
                    + ": authentication failed: it does not hold this job's secret");
        List<float[]> sums =
            Ranks.values(
                Ranks.run(
                    3,
                    rank -> {
                      float[] v = {rank + 1, 10 * (rank + 1)};
                      ring.get(rank).sumInPlace(v);
                      return v;
                    }));
        assertThat(sums).allSatisfy(v -> assertThat(v).containsExactly(6f, 60f));
      } finally {
        Ranks.closeAll(ring);
      }
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void ranksWithDifferentSecretsNeverFormARing() throws Exception {
    List<RingAllReduce.Endpoint> endpoints = Ranks.endpoints(2);
    List<String> addresses = Ranks.addresses(endpoints);
    List<byte[]> secrets = List.of(RingAllReduce.newSecret(), RingAllReduce.newSecret());
    try (LogCapture log = LogCapture.of(RingAllReduce.class)) {
      List<Ranks.Outcome<RingAllReduce>> outcomes =
          Ranks.run(
              2,
              rank ->
                  endpoints
                      .get(rank)
                      .connect(
                          rank,
                          addresses,
                          secrets.get(rank),
                          "m",
                          FAST.withConnectTimeout(Duration.ofSeconds(2))));
      assertThat(outcomes.get(0).error())
          .isInstanceOf(PeerFailureException.class)
          .hasMessageContaining("rank 1");
      assertThat(outcomes.get(1).error())
          .isInstanceOf(PeerFailureException.class)
          .hasMessageContaining("rank 0");
      assertThat(log.lines())
          .anySatisfy(
              line ->
                  assertThat(line)
                      .startsWith("WARN Rank ")
                      .contains("refused a connection from /127.0.0.1:")
                      .endsWith("authentication failed: it does not hold this job's secret"));
    }
  }

  @Test
  void aDifferentFingerprintFailsConnectOnEveryRankNamingBothRanks() throws Exception {
    // Rank 2 is no neighbour of rank 0: only the roll call can tell rank 0.
    List<RingAllReduce.Endpoint> endpoints = Ranks.endpoints(4);
    List<String> addresses = Ranks.addresses(endpoints);
    byte[] secret = RingAllReduce.newSecret();
    List<Ranks.Outcome<RingAllReduce>> outcomes =
        Ranks.run(
            4,
            rank ->
                endpoints
                    .get(rank)
                    .connect(rank, addresses, secret, rank == 2 ? "vit-b" : "vit-s", FAST));
    for (Ranks.Outcome<RingAllReduce> o : outcomes) {
      assertThat(o.error())
          .isInstanceOf(RingMismatchException.class)
          .hasMessage(
              "Rank 2 has model fingerprint 'vit-b' but rank 0 has 'vit-s': every rank must train"
                  + " the same model");
    }
  }

  @Test
  void aDifferentWireFailsConnectOnEveryRank() throws Exception {
    List<RingAllReduce.Endpoint> endpoints = Ranks.endpoints(3);
    List<String> addresses = Ranks.addresses(endpoints);
    byte[] secret = RingAllReduce.newSecret();
    List<Ranks.Outcome<RingAllReduce>> outcomes =
        Ranks.run(
            3,
            rank ->
                endpoints
                    .get(rank)
                    .connect(
                        rank,
                        addresses,
                        secret,
                        "m",
                        FAST.withWire(rank == 1 ? Wire.FP16 : Wire.FP32)));
    for (Ranks.Outcome<RingAllReduce> o : outcomes) {
      assertThat(o.error())
          .isInstanceOf(RingMismatchException.class)
          .hasMessage(
              "Rank 1 sends fp16 on the wire but rank 0 sends fp32: every rank must use the same"
                  + " wire format");
    }
  }

  @Test
  void aDifferentWorldSizeFailsConnectNamingBothRanks() throws Exception {
    List<RingAllReduce.Endpoint> endpoints = Ranks.endpoints(3);
    List<String> all = Ranks.addresses(endpoints);
    byte[] secret = RingAllReduce.newSecret();
    try {
      // Rank 0 believes in two ranks, rank 1 in three (the third never shows up).
      List<Ranks.Outcome<RingAllReduce>> outcomes =
          Ranks.run(
              2,
              rank ->
                  endpoints
                      .get(rank)
                      .connect(rank, rank == 0 ? all.subList(0, 2) : all, secret, "m", FAST));
      assertThat(outcomes.get(0).error())
          .isInstanceOf(RingMismatchException.class)
          .hasMessageStartingWith("Rank 1 (" + all.get(1) + ") has world size 3 but rank 0 has 2");
      assertThat(outcomes.get(1).error())
          .isInstanceOf(RingMismatchException.class)
          .hasMessageStartingWith("Rank 0 (/127.0.0.1:")
          .hasMessageContaining("has world size 2 but rank 1 has 3");
    } finally {
      endpoints.get(2).close();
    }
  }

  @Test
  void aRankThatNeverConnectsFailsConnectAfterTheTimeoutNamingIt() throws Exception {
    List<RingAllReduce.Endpoint> endpoints = Ranks.endpoints(2);
    List<String> addresses = Ranks.addresses(endpoints);
    endpoints.get(1).close();
    PeerFailureException e =
        (PeerFailureException)
            Ranks.run(
                    1,
                    rank ->
                        endpoints
                            .get(0)
                            .connect(
                                0,
                                addresses,
                                RingAllReduce.newSecret(),
                                "m",
                                FAST.withConnectTimeout(Duration.ofSeconds(1))))
                .get(0)
                .error();
    assertThat(e.peers()).containsExactly(1);
    assertThat(e.getMessage()).startsWith("Rank 0 of 2 ").contains("rank 1").contains("1 s");
  }

  @Test
  void aSilentPeerEndsTheOthersOperationAtTheTimeoutNamingIt() throws Exception {
    List<RingAllReduce> ring = Ranks.ring(3, FAST.withOperationTimeout(Duration.ofSeconds(1)));
    CountDownLatch othersDone = new CountDownLatch(2);
    try {
      List<Ranks.Outcome<Void>> outcomes =
          Ranks.run(
              3,
              rank -> {
                if (rank == 1) {
                  othersDone.await(); // alive, connected, and never calls sumInPlace
                  return null;
                }
                try {
                  ring.get(rank).sumInPlace(new float[1000]);
                  return null;
                } finally {
                  othersDone.countDown();
                }
              });
      PeerFailureException afterSilent = (PeerFailureException) outcomes.get(2).error();
      assertThat(afterSilent.peers()).containsExactly(1);
      assertThat(afterSilent.getMessage())
          .startsWith(
              "Rank 2 of 3 timed out after 1 s in all-reduce #1 of 1000 floats: waiting for data"
                  + " from rank 1 (");
      PeerFailureException other = (PeerFailureException) outcomes.get(0).error();
      assertThat(other.peers()).containsExactly(2);
      assertThatThrownBy(() -> ring.get(2).sumInPlace(new float[1]))
          .isInstanceOf(IllegalStateException.class)
          .hasMessageStartingWith("Rank 2's ring is closed (failed: Rank 2 of 3 timed out");
    } finally {
      Ranks.closeAll(ring);
    }
  }

  @Test
  void aPeerClosingMidRunEndsTheOthersOperationAtOnceNamingIt() throws Exception {
    List<RingAllReduce> ring = Ranks.ring(3, FAST);
    try {
      List<Ranks.Outcome<Void>> outcomes =
          Ranks.run(
              3,
              rank -> {
                ring.get(rank).sumInPlace(new float[100_000]);
                if (rank == 1) {
                  ring.get(rank).close();
                  return null;
                }
                ring.get(rank).sumInPlace(new float[100_000]);
                return null;
              });
      assertThat(outcomes.get(1).error()).isNull();
      PeerFailureException afterClosed = (PeerFailureException) outcomes.get(2).error();
      assertThat(afterClosed.peers()).containsExactly(1);
      assertThat(afterClosed.getMessage())
          .startsWith("Rank 1 (/127.0.0.1:")
          .contains("closed the connection during all-reduce #2 of 100000 floats on rank 2 of 3");
      PeerFailureException other = (PeerFailureException) outcomes.get(0).error();
      assertThat(other.getMessage()).doesNotContain("timed out");
    } finally {
      Ranks.closeAll(ring);
    }
  }

  @Test
  void buffersOfDifferentLengthsFailNamingBothRanks() throws Exception {
    List<RingAllReduce> ring = Ranks.ring(2, FAST);
    try {
      List<Ranks.Outcome<Void>> outcomes =
          Ranks.run(
              2,
              rank -> {
                ring.get(rank).sumInPlace(new float[10 + rank]);
                return null;
              });
      assertThat(outcomes.get(0).error())
          .isInstanceOf(RingMismatchException.class)
          .hasMessage(
              "Rank 1 passed 11 floats to all-reduce #1 but rank 0 passed 10: every rank must"
                  + " reduce buffers of the same length");
      assertThat(outcomes.get(1).error())
          .isInstanceOf(RingMismatchException.class)
          .hasMessage(
              "Rank 0 passed 10 floats to all-reduce #1 but rank 1 passed 11: every rank must"
                  + " reduce buffers of the same length");
    } finally {
      Ranks.closeAll(ring);
    }
  }

  @Test
  void differentOperationsFailNamingBothRanks() throws Exception {
    List<RingAllReduce> ring = Ranks.ring(2, FAST);
    try {
      List<Ranks.Outcome<Void>> outcomes =
          Ranks.run(
              2,
              rank -> {
                if (rank == 0) {
                  ring.get(rank).sumInPlace(new float[4]);
                } else {
                  ring.get(rank).allGather(new byte[4]);
                }
                return null;
              });
      assertThat(outcomes.get(1).error())
          .isInstanceOf(RingMismatchException.class)
          .hasMessage(
              "Rank 0 is in operation #1 (an fp32 all-reduce) but rank 1 is in all-gather #1:"
                  + " every rank must call the same operations in the same order");
      assertThat(outcomes.get(0).error()).isInstanceOf(RingMismatchException.class);
    } finally {
      Ranks.closeAll(ring);
    }
  }
}
