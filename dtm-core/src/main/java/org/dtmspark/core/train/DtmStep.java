package org.dtmspark.core.train;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.training.GradientCollector;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.dtmspark.core.data.ImageNormalization;
import org.dtmspark.core.morph.DtmLoss;
import org.dtmspark.core.morph.MorphSchedule;
import org.dtmspark.core.nn.VisionTransformer;
import org.dtmspark.core.optim.AdamW;
import org.dtmspark.core.optim.GradientClipping;
import org.dtmspark.core.optim.NonFiniteGradientException;

/**
 * One DTM optimizer step on given targets: masked student forward, DTM loss, backward, gradients
 * averaged over the ranks, global-norm clipping, AdamW, gradients zeroed. Where the targets come
 * from (an online teacher, a cache) is the caller's business; so is the per-step {@code NDScope}
 * that frees the temporaries.
 */
public final class DtmStep {
  private final VisionTransformer student;
  private final AdamW optimizer;
  private final DtmLoss loss;
  private final double clipGrad;
  private final GradientReducer reducer;

  /**
   * @param student the model; its parameters must require gradients
   * @param clipGrad global gradient-norm threshold, 0 disables clipping
   * @param reducer averages gradients over the ranks ({@link GradientReducer#LOCAL} for one)
   */
  public DtmStep(
      VisionTransformer student,
      AdamW optimizer,
      DtmLoss loss,
      double clipGrad,
      GradientReducer reducer) {
    this.student = student;
    this.optimizer = optimizer;
    this.loss = loss;
    this.clipGrad = clipGrad;
    this.reducer = reducer;
  }

  /** A step of a single-JVM run. */
  public DtmStep(VisionTransformer student, AdamW optimizer, DtmLoss loss, double clipGrad) {
    this(student, optimizer, loss, clipGrad, GradientReducer.LOCAL);
  }

  /**
   * Loss, gradient norm (before clipping) and morphing schedule of one step.
   *
   * @param loss the DTM loss of the step, averaged over the ranks
   * @param gradNorm global L2 norm of the averaged gradients before clipping
   * @param schedule the morphing schedule used
   * @param communicationSeconds time spent averaging gradients over the ranks
   */
  public record Stats(
      double loss, double gradNorm, MorphSchedule schedule, double communicationSeconds) {}

  /**
   * Runs the step.
   *
   * @param pixels {@code [B, 3, S, S]} in [0, 1]; the student normalises with ImageNet statistics
   * @param mask {@code [B, N]} 1 = masked
   * @param targets {@code [B, N, P]} target tokens, no gradient
   * @param schedule morphing levels of this step (token-wise when every r is 0)
   * @param lr learning rate of this step
   */
  public Stats run(
      NDArray pixels, NDArray mask, NDArray targets, MorphSchedule schedule, double lr) {
    NDArray input = ImageNormalization.IMAGENET.apply(pixels);
    NDArray value;
    try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
      NDArray features = student.forwardFeatures(input, mask, true, null);
      NDArray online = student.predictTokens(features);
      value = loss.compute(online, targets.stopGradient(), schedule);
      gc.backward(value);
    }
    Map<String, NDArray> local = student.parameters().gradients();
    GradientReducer.Reduced reduced;
    Map<String, NDArray> grads;
    if (reducer == GradientReducer.LOCAL) {
      reduced = new GradientReducer.Reduced(value.getFloat(), 0);
      grads = local;
    } else {
      // The reducer's contract: one flat [numel] vector, parameters sorted by name, row-major.
      Map<String, NDArray> sorted = new TreeMap<>(local);
      NDList parts = new NDList(sorted.size());
      for (NDArray g : sorted.values()) {
        parts.add(g.reshape(-1));
      }
      NDArray flat = NDArrays.concat(parts);
      reduced = reducer.reduce(flat, value.getFloat());
      grads = new LinkedHashMap<>();
      long offset = 0;
      for (Map.Entry<String, NDArray> e : sorted.entrySet()) {
        long n = e.getValue().size();
        grads.put(
            e.getKey(),
            flat.get(new NDIndex("{}:{}", offset, offset + n)).reshape(e.getValue().getShape()));
        offset += n;
      }
    }
    double norm;
    try {
      norm = GradientClipping.clipByGlobalNorm(grads.values(), clipGrad);
    } catch (NonFiniteGradientException e) {
      throw new IllegalStateException(
          "Non-finite gradient (loss "
              + reduced.loss()
              + ", morphing "
              + schedule
              + ") in "
              + nonFinite(grads),
          e);
    }
    optimizer.step(student.parameters(), grads, lr);
    for (NDArray g : local.values()) {
      g.subi(g);
    }
    return new Stats(reduced.loss(), norm, schedule, reduced.seconds());
  }

  /** Names of the parameters whose gradient holds a NaN or an infinity (the first few). */
  private static List<String> nonFinite(Map<String, NDArray> grads) {
    List<String> names = new ArrayList<>();
    for (Map.Entry<String, NDArray> e : grads.entrySet()) {
      NDArray g = e.getValue();
      if (g.isNaN().any().getBoolean() || g.isInfinite().any().getBoolean()) {
        names.add(e.getKey());
      }
    }
    return names.size() > 8 ? names.subList(0, 8) : names;
  }
}
