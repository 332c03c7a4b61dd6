package org.dtmspark.core.morph;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.ArrayList;
import java.util.List;
import org.dtmspark.core.nn.Tensors;

/**
 * The DTM loss (SPEC section 3, "Morphing matrix and loss"; paper Eq. 4 and 5).
 *
 * <p>For each level of the schedule, the morphing matrix {@code M [B, t', N]} comes from bipartite
 * matching on the (optionally normalised) targets. Online tokens {@code u} and targets {@code v}
 * are averaged per cluster and spread back to the {@code N} positions, {@code ū = Mᵀ((M u) / |c|)},
 * the distance is taken per position and averaged over positions and the batch. Since {@code ū} is
 * constant within a cluster this is computed in the equivalent cluster form {@code Σ_c (|c| / N)
 * d(û_c, v̂_c)}, i.e. Eq. 4 with weights {@code w_c / N}. The loss is the mean over levels. A level
 * with {@code r = 0} skips matching: plain token-wise distillation.
 */
public final class DtmLoss {
  private static final float COSINE_EPS = 1e-8f;
  private static final float TARGET_NORM_EPS = 1e-6f;

  private final DtmLossConfig config;

  public DtmLoss(DtmLossConfig config) {
    if (config == null) {
      throw new IllegalArgumentException("DTM loss config must be set, cannot be: null");
    }
    this.config = config;
  }

  public DtmLossConfig config() {
    return config;
  }

  /**
   * Computes the loss.
   *
   * @param online {@code [B, N, P]} online (student) tokens; the loss is differentiable w.r.t. them
   * @param targets {@code [B, N, P]} target tokens; used without gradient
   * @param schedule the levels of this step
   * @return scalar loss, attached to the manager of {@code online}
   */
  public NDArray compute(NDArray online, NDArray targets, MorphSchedule schedule) {
    checkShapes(online, targets);
    NDManager home = online.getManager();
    long batch = online.getShape().get(0);
    long numTokens = online.getShape().get(1);
    try (NDManager scratch = home.newSubManager()) {
      online.tempAttach(scratch);
      targets.tempAttach(scratch);
      NDArray v = prepareTargets(targets);
      NDArray total = null;
      for (MorphLevel level : schedule.levels()) {
        NDArray levelLoss;
        if (level.isTokenWise()) {
          levelLoss = distance(online, v).mean();
        } else {
          try (Morphing morphing = BipartiteMorpher.morph(v, level, config.protectFirst())) {
            NDArray m = morphing.matrix(); // [B, t', N]
            NDArray sizes = morphing.sizes(); // [B, t']
            NDArray counts = sizes.expandDims(2);
            NDArray onlineClusters = m.matMul(online).div(counts);
            NDArray targetClusters = m.matMul(v).div(counts);
            NDArray perCluster = distance(onlineClusters, targetClusters); // [B, t']
            levelLoss = perCluster.mul(sizes).sum().div(Tensors.scalar(scratch, batch * numTokens));
            levelLoss.attach(scratch);
          }
        }
        total = total == null ? levelLoss : total.add(levelLoss);
      }
      NDArray loss = total.div(Tensors.scalar(scratch, schedule.levels().size()));
      loss.attach(home);
      return loss;
    }
  }

  /**
   * The morphing of every level, for inspection (e.g. the cluster overlay). Token-wise levels give
   * the identity. Targets are normalised first when the config says so, as in {@link #compute}.
   *
   * @param targets {@code [B, N, P]}
   * @return one morphing per level, each in its own sub-manager of the targets' manager; the caller
   *     closes them
   */
  public List<Morphing> morphAll(NDArray targets, MorphSchedule schedule) {
    Shape shape = targets.getShape();
    if (shape.dimension() != 3) {
      throw new IllegalArgumentException("Targets must have shape [B, N, P], cannot be: " + shape);
    }
    List<Morphing> out = new ArrayList<>(schedule.levels().size());
    NDManager home = targets.getManager();
    try (NDManager scratch = home.newSubManager()) {
      targets.tempAttach(scratch);
      NDArray v = prepareTargets(targets);
      for (MorphLevel level : schedule.levels()) {
        out.add(BipartiteMorpher.morph(v, level, config.protectFirst(), home));
      }
    } catch (RuntimeException e) {
      out.forEach(Morphing::close);
      throw e;
    }
    return out;
  }

  /**
   * Distance per token along the last axis.
   *
   * @param a {@code [..., P]}
   * @param b {@code [..., P]}, same shape
   * @return {@code [...]}
   */
  NDArray distance(NDArray a, NDArray b) {
    int last = a.getShape().dimension() - 1;
    int[] axis = {last};
    return switch (config.distance()) {
      case COSINE -> {
        NDArray eps = Tensors.scalar(a.getManager(), COSINE_EPS);
        NDArray an = a.div(a.norm(axis, true).maximum(eps));
        NDArray bn = b.div(b.norm(axis, true).maximum(eps));
        yield an.mul(bn).sum(axis).neg().add(1f);
      }
      case L1 -> a.sub(b).abs().mean(axis);
      case L2 -> a.sub(b).square().mean(axis);
      case SMOOTH_L1 -> {
        float beta = (float) config.smoothL1Beta();
        NDArray diff = a.sub(b).abs();
        if (beta == 0) {
          yield diff.mean(axis);
        }
        NDArray quadratic = diff.square().mul(Tensors.scalar(a.getManager(), 0.5 / beta));
        NDArray linear = diff.sub(0.5f * beta);
        yield NDArrays.where(diff.lt(beta), quadratic, linear).mean(axis);
      }
    };
  }

  /** The targets, detached, normalised per token when configured. */
  private NDArray prepareTargets(NDArray targets) {
    NDArray v = targets.stopGradient();
    if (!config.normalizeTargets()) {
      return v;
    }
    int[] axis = {2};
    NDArray mean = v.mean(axis, true);
    NDArray centred = v.sub(mean);
    NDArray variance = centred.square().mean(axis, true);
    return centred.div(variance.add(TARGET_NORM_EPS).sqrt());
  }

  private static void checkShapes(NDArray online, NDArray targets) {
    Shape u = online.getShape();
    Shape v = targets.getShape();
    if (u.dimension() != 3 || !u.equals(v) || u.get(0) < 1 || u.get(1) < 1 || u.get(2) < 1) {
      throw new IllegalArgumentException(
          "Online and target tokens must both have shape [B, N, P], cannot be: " + u + " and " + v);
    }
  }
}
