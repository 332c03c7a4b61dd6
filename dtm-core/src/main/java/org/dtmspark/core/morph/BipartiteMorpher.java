package org.dtmspark.core.morph;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

/**
 * Dynamic token morphing by bipartite soft matching (ToMe-style, Bolya et al.) on the target
 * tokens, exactly as SPEC section 3, "Bipartite matching".
 *
 * <p>One iteration on the current morphed tokens {@code x} ({@code t} tokens, size-weighted means
 * of the originals they hold), with {@code p = 1} when the first token is protected, else 0:
 *
 * <ol>
 *   <li>{@code r' = min(r, (t - p) / 2)} (integer division); if {@code r' <= 0} nothing merges.
 *   <li>L2-normalise {@code x} over features; A = even positions, B = odd positions; {@code scores
 *       = A·Bᵀ}; with protection, row 0 of {@code scores} is {@code -inf}.
 *   <li>Each A token's best B partner: the maximum score and the <em>first</em> index reaching it.
 *   <li>A tokens are ranked by best score, descending, ties broken by lower position first: {@code
 *       rank_i = #{j : s_j > s_i} + #{j < i : s_j == s_i}}. The {@code r'} best ranked merge into
 *       their partners.
 *   <li>New token list: {@code [unmerged A..., all of B in order...]}, the unmerged A sorted by
 *       position when the first token is protected, else by rank.
 * </ol>
 *
 * <p>Merged values are size-weighted means and sizes add. Internally each token carries the sum of
 * the original tokens it holds and its size ({@code x = sum / size}), which is the same quantity as
 * {@code (T·(x*sizes)) / sizes'} without the repeated multiply and divide. Every step is batched on
 * the device: the matching costs {@code O(tA·tB·D)} per iteration (one batched matrix product), the
 * merge is two gathers plus a one-hot product of size {@code [tB, r']}, and the source map is
 * carried as the cluster index of every original position ({@code [B, N]}, one gather per
 * iteration), turned into the one-hot matrix {@code M} once at the end.
 */
public final class BipartiteMorpher {
  private static final double NORM_EPS = 1e-12;

  private BipartiteMorpher() {}

  /**
   * Morphs a batch of target tokens with {@code level.k()} iterations of bipartite matching, each
   * merging up to {@code level.r()} tokens. Starts from the full targets; the caller loops over
   * levels.
   *
   * @param targets {@code [B, N, D]} target tokens; read without gradient ({@code stopGradient}),
   *     computed in float32
   * @param level tokens per iteration and number of iterations; {@code r = 0} gives the identity
   * @param protectFirst whether token 0 never merges
   * @return the morphing, with {@code M [B, t', N]} and sizes {@code [B, t']}, in a new sub-manager
   *     of the targets' manager (the caller closes it)
   */
  public static Morphing morph(NDArray targets, MorphLevel level, boolean protectFirst) {
    return morph(targets, level, protectFirst, targets.getManager());
  }

  /** As {@link #morph(NDArray, MorphLevel, boolean)}, with the result under {@code parent}. */
  static Morphing morph(NDArray targets, MorphLevel level, boolean protectFirst, NDManager parent) {
    Shape shape = targets.getShape();
    if (shape.dimension() != 3 || shape.get(0) < 1 || shape.get(1) < 1 || shape.get(2) < 1) {
      throw new IllegalArgumentException(
          "Targets must have shape [B, N, D] with B, N, D at least 1, cannot be: " + shape);
    }
    long batch = shape.get(0);
    long numTokens = shape.get(1);
    long dim = shape.get(2);
    int p = protectFirst ? 1 : 0;
    if (Math.min(level.r(), (numTokens - p) / 2) <= 0) {
      return Morphing.identity(parent, batch, numTokens);
    }
    NDManager result = parent.newSubManager();
    try (NDManager scratch = targets.getManager().newSubManager()) {
      NDArray detached = targets.stopGradient();
      detached.attach(scratch);
      NDArray features = detached.toType(DataType.FLOAT32, false);
      NDArray sums =
          NDArrays.concat(new NDList(features, scratch.ones(new Shape(batch, numTokens, 1))), 2);
      NDArray assign =
          scratch.arange(0, numTokens, 1, DataType.INT64).expandDims(0).repeat(0, batch);
      long t = numTokens;
      for (int iteration = 0; iteration < level.k(); iteration++) {
        long merges = Math.min(level.r(), (t - p) / 2);
        if (merges <= 0) {
          break; // t no longer changes, so no later iteration merges either
        }
        NDArray oldSums = sums;
        NDArray oldAssign = assign;
        try (NDManager step = scratch.newSubManager()) {
          oldSums.tempAttach(step);
          oldAssign.tempAttach(step);
          NDArray[] next = iterate(step, oldSums, oldAssign, t, merges, dim, protectFirst);
          sums = next[0];
          assign = next[1];
          sums.attach(scratch);
          assign.attach(scratch);
        }
        oldSums.close();
        oldAssign.close();
        t -= merges;
      }
      NDArray clusterIds = scratch.arange(0, t, 1, DataType.INT64).reshape(1, t, 1);
      NDArray matrix = assign.expandDims(1).eq(clusterIds).toType(DataType.FLOAT32, false);
      NDArray sizes = matrix.sum(new int[] {2}); // a fresh array, not a view of the sums
      matrix.attach(result);
      sizes.attach(result);
      return new Morphing(result, matrix, sizes);
    } catch (RuntimeException e) {
      result.close();
      throw e;
    }
  }

  /**
   * One matching iteration, all images at once.
   *
   * @param sums {@code [B, t, D + 1]}: per token the sum of its originals, then its size
   * @param assign {@code [B, N]} int64: current token of every original position
   * @param merges {@code r' > 0}, already capped at {@code (t - p) / 2}
   * @return new sums {@code [B, t - r', D + 1]} and new assignment {@code [B, N]}, in {@code step}
   */
  private static NDArray[] iterate(
      NDManager step,
      NDArray sums,
      NDArray assign,
      long t,
      long merges,
      long dim,
      boolean protectFirst) {
    long batch = sums.getShape().get(0);
    long channels = dim + 1;
    long sizeA = (t + 1) / 2;
    long sizeB = t / 2;
    long kept = sizeA - merges;

    // Cosine similarity of the current morphed tokens, A = even positions, B = odd positions.
    // A token's mean and its sum point the same way, so the sums are used as they are, and the
    // scores are divided by the outer product of the norms instead of normalising every token:
    // the same value as F.normalize(x) @ F.normalize(y)^T with two fewer passes over [B, t, D].
    NDArray features = sums.get(new NDIndex(":, :, :{}", dim)); // [B, t, D]
    NDArray norms = features.norm(new int[] {2}, true).maximum(NORM_EPS); // [B, t, 1]
    NDArray a = features.get(new NDIndex(":, 0::2, :"));
    NDArray b = features.get(new NDIndex(":, 1::2, :"));
    NDArray normsA = norms.get(new NDIndex(":, 0::2, :"));
    NDArray normsB = norms.get(new NDIndex(":, 1::2, :"));
    NDArray scores =
        a.matMul(b.transpose(0, 2, 1)).div(normsA.matMul(normsB.transpose(0, 2, 1))); // [B, tA, tB]
    if (protectFirst) {
      scores.set(new NDIndex(":, 0, :"), Float.NEGATIVE_INFINITY);
    }

    // Best partner: maximum score and the first column reaching it.
    NDArray nodeMax = scores.max(new int[] {2}, true); // [B, tA, 1]
    NDArray columnsB = step.arange(0, sizeB, 1, DataType.INT64); // [tB]
    NDArray notBest = scores.eq(nodeMax).logicalNot().toType(DataType.INT64, false);
    NDArray nodeIdx = notBest.mul(sizeB).add(columnsB).min(new int[] {2}); // [B, tA]

    // Stable descending rank of every A token by its best score.
    NDArray best = nodeMax.squeeze(2); // [B, tA]
    NDArray scoreI = best.expandDims(2); // [B, i, 1]
    NDArray scoreJ = best.expandDims(1); // [B, 1, j]
    NDArray positionsA = step.arange(0, sizeA, 1, DataType.INT64); // [tA]
    NDArray before = positionsA.reshape(1, 1, sizeA).lt(positionsA.reshape(1, sizeA, 1));
    NDArray ahead = scoreJ.gt(scoreI).logicalOr(scoreJ.eq(scoreI).logicalAnd(before));
    NDArray rank = ahead.toType(DataType.INT64, false).sum(new int[] {2}); // [B, tA]

    // Slot of every A token in the new order: merged ones first (by rank), then the kept ones.
    NDArray merged = rank.lt(merges).toType(DataType.INT64, false); // 1 = merges
    NDArray keptMask = merged.neg().add(1L);
    NDArray keptOrder =
        protectFirst ? keptMask.cumSum(1).sub(1L) : rank.sub(merges); // meaningful where kept
    NDArray slot = merged.mul(rank).add(keptMask.mul(keptOrder.add(merges)));
    NDArray slotIds = step.arange(0, sizeA, 1, DataType.INT64).reshape(1, sizeA, 1);
    NDArray order =
        slot.expandDims(1)
            .eq(slotIds)
            .toType(DataType.INT64, false)
            .mul(positionsA.reshape(1, 1, sizeA))
            .sum(new int[] {2}); // [B, tA]: A position in each slot
    NDArray src = order.get(new NDIndex(":, :{}", merges)); // [B, r']
    NDArray unmerged = order.get(new NDIndex(":, {}:", merges)); // [B, tA - r']
    NDArray dst = nodeIdx.gather(src, 1); // [B, r']

    // Merge: kept A tokens, then B tokens plus the A tokens merged into them.
    NDArray sumsA = sums.get(new NDIndex(":, 0::2, :"));
    NDArray sumsB = sums.get(new NDIndex(":, 1::2, :"));
    NDArray keptSums = sumsA.gather(unmerged.expandDims(2).broadcast(batch, kept, channels), 1);
    NDArray srcSums = sumsA.gather(src.expandDims(2).broadcast(batch, merges, channels), 1);
    NDArray scatter =
        dst.expandDims(1).eq(columnsB.reshape(1, sizeB, 1)).toType(DataType.FLOAT32, false);
    NDArray newB = sumsB.add(scatter.matMul(srcSums)); // [B, tB, D + 1]
    NDArray newSums = NDArrays.concat(new NDList(keptSums, newB), 1);

    // New position of every old token, interleaved back to old order, then composed with assign.
    NDArray newPosA = merged.mul(nodeIdx.add(kept)).add(keptMask.mul(keptOrder));
    NDArray newPosB = columnsB.add(kept).expandDims(0).repeat(0, batch);
    if (sizeB < sizeA) {
      NDArray padding = step.zeros(new Shape(batch, 1), DataType.INT64);
      newPosB = NDArrays.concat(new NDList(newPosB, padding), 1);
    }
    NDArray newPos =
        NDArrays.stack(new NDList(newPosA, newPosB), 2)
            .reshape(batch, 2 * sizeA)
            .get(new NDIndex(":, :{}", t));
    NDArray newAssign = newPos.gather(assign, 1);
    return new NDArray[] {newSums, newAssign};
  }
}
