package org.dtmspark.sync;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.dtmspark.sync.RingOrder.Member;
import org.junit.jupiter.api.Test;

class RingOrderTest {
  @Test
  void ranksInterleavedOverTwoHostsGoRoundEachHostInTurn() {
    // Spark placed ranks 0, 2 on host a and 1, 3 on host b; GPUs in no particular order.
    List<Member> members =
        List.of(new Member("b", 1), new Member("a", 0), new Member("b", 0), new Member("a", 1));
    int[] order = RingOrder.ranksInRingOrder(members);
    assertThat(order).containsExactly(1, 3, 2, 0);
    assertThat(RingOrder.crossHostLinks(members, order)).isEqualTo(2);
    // In rank order the same ring crosses between hosts at every link.
    assertThat(RingOrder.crossHostLinks(members, new int[] {0, 1, 2, 3})).isEqualTo(4);
  }

  @Test
  void everyHostSendsOnceAndReceivesOnceAcrossHostsWhateverThePlacement() {
    SplittableRandom rng = new SplittableRandom(11);
    for (int trial = 0; trial < 200; trial++) {
      int hosts = rng.nextInt(1, 6);
      int ranks = rng.nextInt(1, 33);
      List<Member> members = new ArrayList<>();
      Map<String, Integer> gpus = new HashMap<>();
      for (int r = 0; r < ranks; r++) {
        String host = "node-" + rng.nextInt(hosts);
        int gpu = gpus.merge(host, 1, Integer::sum) - 1;
        members.add(new Member(host, rng.nextBoolean() ? gpu : -1));
      }
      int[] order = RingOrder.ranksInRingOrder(members);
      assertThat(order).as("a permutation of the ranks").containsExactlyInAnyOrder(range(ranks));
      long distinctHosts = members.stream().map(Member::host).distinct().count();
      assertThat(RingOrder.crossHostLinks(members, order))
          .as("trial %d: %d ranks on %d hosts", trial, ranks, distinctHosts)
          .isEqualTo(distinctHosts == 1 ? 0 : (int) distinctHosts);
      for (int p = 0; p < ranks; p++) {
        assertThat(RingOrder.positionOf(order, order[p])).isEqualTo(p);
      }
    }
  }

  @Test
  void onOneHostRanksGoByDeviceThenRank() {
    List<Member> members =
        List.of(new Member("h", 3), new Member("h", -1), new Member("h", 0), new Member("h", -1));
    assertThat(RingOrder.ranksInRingOrder(members)).containsExactly(1, 3, 2, 0);
    assertThat(RingOrder.crossHostLinks(members, RingOrder.ranksInRingOrder(members))).isZero();
  }

  @Test
  void badMembersAreRejectedNamingTheValue() {
    assertThatThrownBy(() -> new Member(" ", 0))
        .hasMessage("Host of a ring member must not be blank");
    assertThatThrownBy(() -> new Member("h", -2))
        .hasMessage("Device of a ring member must be a GPU index or -1 for the CPU, cannot be: -2");
    assertThatThrownBy(() -> RingOrder.ranksInRingOrder(List.of()))
        .hasMessage("A ring needs at least one member, cannot be: []");
    assertThatThrownBy(() -> RingOrder.positionOf(new int[] {1, 0}, 2))
        .hasMessage("Rank 2 is not in the ring of 2");
  }

  private static Integer[] range(int n) {
    Integer[] r = new Integer[n];
    for (int i = 0; i < n; i++) {
      r[i] = i;
    }
    return r;
  }
}
