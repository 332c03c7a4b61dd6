package org.dtmspark.sync;

import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.stream.IntStream;

/**
 * The order of the ranks around the ring: by host, then device, then rank, so that the ranks of a
 * host sit next to each other and each host carries two cross-host links (one in, one out) instead
 * of up to two per rank. Pure planning, the same on every rank given the same members.
 *
 * <p>The ring's position of a rank is only where it sits in the ring: a sum is the same whatever
 * the order, and the training rank (which data a rank reads) stays what it is.
 */
public final class RingOrder {
  private RingOrder() {}

  /**
   * Where a rank runs.
   *
   * @param host the host of its endpoint (name or address, compared as text)
   * @param device its GPU index, -1 for the CPU
   */
  public record Member(String host, int device) {
    public Member {
      Objects.requireNonNull(host, "host");
      if (host.isBlank()) {
        throw new IllegalArgumentException("Host of a ring member must not be blank");
      }
      if (device < -1) {
        throw new IllegalArgumentException(
            "Device of a ring member must be a GPU index or -1 for the CPU, cannot be: " + device);
      }
    }
  }

  /**
   * The ranks in ring order: element {@code p} is the rank at ring position {@code p}.
   *
   * @param members every rank's place, indexed by rank
   */
  public static int[] ranksInRingOrder(List<Member> members) {
    if (members.isEmpty()) {
      throw new IllegalArgumentException("A ring needs at least one member, cannot be: []");
    }
    return IntStream.range(0, members.size())
        .boxed()
        .sorted(
            Comparator.comparing((Integer r) -> members.get(r).host())
                .thenComparingInt(r -> members.get(r).device())
                .thenComparingInt(r -> r))
        .mapToInt(Integer::intValue)
        .toArray();
  }

  /** The ring position of {@code rank} in {@code order} (from {@link #ranksInRingOrder}). */
  public static int positionOf(int[] order, int rank) {
    for (int p = 0; p < order.length; p++) {
      if (order[p] == rank) {
        return p;
      }
    }
    throw new IllegalArgumentException("Rank " + rank + " is not in the ring of " + order.length);
  }

  /** Links of the ring {@code order} (position {@code p} sends to {@code p + 1}) between hosts. */
  public static int crossHostLinks(List<Member> members, int[] order) {
    if (order.length < 2) {
      return 0;
    }
    int links = 0;
    for (int p = 0; p < order.length; p++) {
      String from = members.get(order[p]).host();
      String to = members.get(order[(p + 1) % order.length]).host();
      if (!from.equals(to)) {
        links++;
      }
    }
    return links;
  }
}
