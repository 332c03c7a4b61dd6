package org.dtmspark.core.eval;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import org.dtmspark.core.config.ProbeSettings;
import org.dtmspark.core.nn.Parameters;
import org.dtmspark.core.optim.AdamW;
import org.dtmspark.core.optim.AdamWConfig;
import org.dtmspark.core.optim.CosineSchedule;
import org.dtmspark.core.optim.FlatParameters;
import org.dtmspark.core.optim.ParameterGroups;
import org.dtmspark.core.train.Seeds;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Linear probe: a softmax classifier trained on frozen features.
 *
 * <p>Features are standardised with the training split's per-dimension mean and standard deviation
 * (the parameter-free batch norm of MAE's probe); the classifier is trained with AdamW on
 * mini-batches in a seeded order, with a cosine learning-rate decay.
 */
public final class LinearProbe {
  private static final Logger LOG = LoggerFactory.getLogger(LinearProbe.class);

  private final ProbeSettings settings;

  public LinearProbe(ProbeSettings settings) {
    this.settings = settings;
  }

  /** Trains on {@code train} and reports top-1 on both splits. */
  public ProbeResult run(Features train, Features val) {
    if (train.dim() != val.dim()) {
      throw new IllegalArgumentException(
          "Train and val features differ in dimension: " + train.dim() + " vs " + val.dim());
    }
    int classes = Math.max(train.numClasses(), val.numClasses());
    int n = train.count();
    int d = train.dim();
    int batch = Math.min(settings.batchSize(), n);
    long stepsPerEpoch = Math.max(1, n / batch);
    long total = stepsPerEpoch * settings.epochs();
    CosineSchedule schedule = new CosineSchedule(settings.lr(), 0.0, 0, total, 0.0);
    try (NDManager manager = NDManager.newBaseManager();
        Parameters params = Parameters.create(manager)) {
      NDArray xTrain = manager.create(train.values(), new Shape(n, d));
      NDArray mean = xTrain.mean(new int[] {0}, true);
      NDArray std = xTrain.sub(mean).square().mean(new int[] {0}, true).add(1e-6).sqrt();
      NDArray xs = xTrain.sub(mean).div(std);
      NDArray ys = manager.create(train.labels());
      NDArray xv = manager.create(val.values(), new Shape(val.count(), d)).sub(mean).div(std);
      NDArray yv = manager.create(val.labels());
      params.put("head.weight", manager.zeros(new Shape(classes, d)));
      params.put("head.bias", manager.zeros(new Shape(classes)));
      ParameterGroups groups = ParameterGroups.of(params, 1, 1.0);
      double lastLoss = Double.NaN;
      try (FlatParameters flat = FlatParameters.of(params);
          AdamW opt =
              new AdamW(new AdamWConfig(0.9, 0.999, 1e-8, settings.weightDecay()), groups, flat)) {
        long step = 0;
        for (int epoch = 0; epoch < settings.epochs(); epoch++) {
          int[] order = Seeds.permutation(n, Seeds.rng(settings.seed(), "probe-order", epoch));
          NDArray orderArray = manager.create(order);
          double sum = 0;
          for (long s = 0; s < stepsPerEpoch; s++, step++) {
            try (NDScope scope = new NDScope()) {
              scope.suppressNotUsedWarning();
              NDArray idx = orderArray.get(s * batch + ":" + (s + 1) * batch);
              NDArray x = xs.get(new NDIndex("{}", idx));
              NDArray y = ys.get(new NDIndex("{}", idx));
              NDArray loss;
              try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                flat.bindViews();
                loss = crossEntropy(logits(params, x), y, 0.0);
                gc.backward(loss);
              }
              try (NDArray grad = flat.gradient(manager)) {
                opt.step(grad, schedule.at(step), 1.0);
              }
              flat.zeroGradients();
              sum += loss.getFloat();
            }
          }
          orderArray.close();
          lastLoss = sum / stepsPerEpoch;
          if ((epoch + 1) % Math.max(1, settings.epochs() / 5) == 0) {
            LOG.info("probe epoch {}/{}: loss {}", epoch + 1, settings.epochs(), lastLoss);
          }
        }
      }
      double trainTop1 = accuracy(params, xs, ys);
      double valTop1 = accuracy(params, xv, yv);
      return new ProbeResult(trainTop1, valTop1, lastLoss);
    }
  }

  private static NDArray logits(Parameters params, NDArray x) {
    return x.matMul(params.get("head.weight").transpose()).add(params.get("head.bias"));
  }

  private static double accuracy(Parameters params, NDArray x, NDArray y) {
    try (NDScope scope = new NDScope()) {
      scope.suppressNotUsedWarning();
      NDArray pred = logits(params, x).argMax(1);
      return pred.eq(y.toType(pred.getDataType(), false)).sum().getLong() / (double) y.size();
    }
  }

  /**
   * Mean cross-entropy with label smoothing.
   *
   * @param logits {@code [B, K]}
   * @param labels {@code [B]} integer classes
   * @param smoothing epsilon: the target puts {@code 1 - eps} on the label and {@code eps / K} on
   *     every class
   */
  public static NDArray crossEntropy(NDArray logits, NDArray labels, double smoothing) {
    long k = logits.getShape().get(1);
    NDArray logp = logits.logSoftmax(1);
    NDArray oneHot = labels.toType(ai.djl.ndarray.types.DataType.INT64, false).oneHot((int) k);
    NDArray target = oneHot.toType(logp.getDataType(), false).mul(1 - smoothing).add(smoothing / k);
    return target.mul(logp).sum(new int[] {1}).neg().mean();
  }
}
