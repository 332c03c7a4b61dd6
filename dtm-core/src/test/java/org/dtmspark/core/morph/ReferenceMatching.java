package org.dtmspark.core.morph;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * An independent, deliberately plain implementation of SPEC section 3 "Bipartite matching" for one
 * image: lists of tokens, double arithmetic, Java's stable sort. Used as the golden model.
 *
 * <p>Ties between tokens of the same direction (identical normalised vectors) are exact here and on
 * the device, so their resolution (first index, lower position first) is compared. Two tokens of
 * <em>different</em> directions whose scores agree to within rounding cannot be ordered the same
 * way by a float32 and a float64 implementation (unless all vectors involved are signed axis
 * vectors, whose scores are exact); a run where such a near-tie could change the result is reported
 * as ambiguous instead.
 */
final class ReferenceMatching {
  /** Scores closer than this (and from different directions) count as a near-tie. */
  static final double NEAR_TIE = 1e-5;

  /** A morphed token: the sum of the originals it holds and their positions. */
  static final class Token {
    final double[] sum;
    final List<Integer> sources = new ArrayList<>();

    Token(double[] sum) {
      this.sum = sum;
    }

    int size() {
      return sources.size();
    }

    double[] mean() {
      double[] m = new double[sum.length];
      for (int i = 0; i < sum.length; i++) {
        m[i] = sum[i] / size();
      }
      return m;
    }

    Token copy() {
      Token t = new Token(sum.clone());
      t.sources.addAll(sources);
      return t;
    }

    void absorb(Token other) {
      for (int i = 0; i < sum.length; i++) {
        sum[i] += other.sum[i];
      }
      sources.addAll(other.sources);
    }
  }

  private ReferenceMatching() {}

  /** One token per original position. */
  static List<Token> initial(float[][] image) {
    List<Token> tokens = new ArrayList<>();
    for (int n = 0; n < image.length; n++) {
      double[] sum = new double[image[n].length];
      for (int i = 0; i < sum.length; i++) {
        sum[i] = image[n][i];
      }
      Token t = new Token(sum);
      t.sources.add(n);
      tokens.add(t);
    }
    return tokens;
  }

  /** One matching iteration; returns a new list. */
  static List<Token> iterate(
      List<Token> tokens, int r, boolean protectFirst, AtomicBoolean ambiguous) {
    int t = tokens.size();
    int protectedCount = protectFirst ? 1 : 0;
    int merges = Math.min(r, (t - protectedCount) / 2);
    if (merges <= 0) {
      List<Token> same = new ArrayList<>();
      for (Token token : tokens) {
        same.add(token.copy());
      }
      return same;
    }
    List<Token> a = new ArrayList<>();
    List<Token> b = new ArrayList<>();
    for (int i = 0; i < t; i++) {
      (i % 2 == 0 ? a : b).add(tokens.get(i).copy());
    }
    double[] bestScore = new double[a.size()];
    int[] bestPartner = new int[a.size()];
    double[][] scores = new double[a.size()][b.size()];
    double[][] unitA = new double[a.size()][];
    double[][] unitB = new double[b.size()][];
    for (int i = 0; i < a.size(); i++) {
      unitA[i] = unit(a.get(i).mean());
    }
    for (int j = 0; j < b.size(); j++) {
      unitB[j] = unit(b.get(j).mean());
    }
    for (int i = 0; i < a.size(); i++) {
      for (int j = 0; j < b.size(); j++) {
        scores[i][j] = dot(unitA[i], unitB[j]);
        if (protectFirst && i == 0) {
          scores[i][j] = Double.NEGATIVE_INFINITY;
        }
        if (j == 0 || scores[i][j] > bestScore[i]) {
          bestScore[i] = scores[i][j];
          bestPartner[i] = j;
        }
      }
    }
    List<Integer> byScore = new ArrayList<>();
    for (int i = 0; i < a.size(); i++) {
      byScore.add(i);
    }
    // List.sort is stable: equal scores keep the lower position first.
    byScore.sort(Comparator.comparingDouble((Integer i) -> bestScore[i]).reversed());
    List<Integer> mergedA = byScore.subList(0, merges);
    List<Integer> keptA = new ArrayList<>(byScore.subList(merges, byScore.size()));
    if (protectFirst) {
      keptA.sort(Comparator.naturalOrder());
    }
    // Near-ties between different tokens that the result depends on.
    for (int i : mergedA) {
      for (int j = 0; j < b.size(); j++) {
        if (j != bestPartner[i]
            && nearTie(scores[i][j], bestScore[i])
            && !Arrays.equals(unitB[j], unitB[bestPartner[i]])
            && !(isAxis(unitA[i]) && isAxis(unitB[j]) && isAxis(unitB[bestPartner[i]]))) {
          ambiguous.set(true);
        }
      }
    }
    // Ranks beyond the merge boundary matter only when the kept tokens are listed by rank.
    int relevant = protectFirst ? merges + 1 : a.size();
    for (int x = 0; x < Math.min(relevant, a.size()); x++) {
      for (int y = x + 1; y < a.size(); y++) {
        int i = byScore.get(x);
        int j = byScore.get(y);
        if (nearTie(bestScore[i], bestScore[j])
            && !Arrays.equals(unitA[i], unitA[j])
            && !(isAxis(unitA[i])
                && isAxis(unitA[j])
                && isAxis(unitB[bestPartner[i]])
                && isAxis(unitB[bestPartner[j]]))) {
          ambiguous.set(true);
        }
      }
    }
    List<Token> out = new ArrayList<>();
    for (int i : keptA) {
      out.add(a.get(i));
    }
    for (int i : mergedA) {
      b.get(bestPartner[i]).absorb(a.get(i));
    }
    out.addAll(b);
    return out;
  }

  /**
   * {@code k} iterations from the originals; clusters in token order, positions sorted; empty when
   * a near-tie between different tokens makes the result depend on rounding.
   */
  static Optional<List<List<Integer>>> clusters(
      float[][] image, int r, int k, boolean protectFirst) {
    List<Token> tokens = initial(image);
    AtomicBoolean ambiguous = new AtomicBoolean();
    for (int i = 0; i < k; i++) {
      tokens = iterate(tokens, r, protectFirst, ambiguous);
    }
    if (ambiguous.get()) {
      return Optional.empty();
    }
    List<List<Integer>> out = new ArrayList<>();
    for (Token token : tokens) {
      List<Integer> sources = new ArrayList<>(token.sources);
      sources.sort(Comparator.naturalOrder());
      out.add(sources);
    }
    return Optional.of(out);
  }

  /**
   * Whether {@code u} is a signed axis vector (or zero): normalising it and its scores against
   * other such vectors (0 or ±1) are exact in float and double alike.
   */
  private static boolean isAxis(double[] u) {
    for (double x : u) {
      if (x != 0 && x != 1 && x != -1) {
        return false;
      }
    }
    return true;
  }

  private static boolean nearTie(double x, double y) {
    return x == y || Math.abs(x - y) <= NEAR_TIE;
  }

  private static double[] unit(double[] v) {
    double norm = Math.sqrt(dot(v, v));
    double[] u = new double[v.length];
    for (int i = 0; i < v.length; i++) {
      u[i] = v[i] / Math.max(norm, 1e-12);
    }
    return u;
  }

  private static double dot(double[] x, double[] y) {
    double s = 0;
    for (int i = 0; i < x.length; i++) {
      s += x[i] * y[i];
    }
    return s;
  }
}
