package org.dtmspark.core.optim;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import org.dtmspark.core.nn.Parameters;

/**
 * The per-parameter AdamW this project used before {@link AdamW} worked on one flat buffer, kept as
 * the reference the flat optimizer is tested against: one set of whole-tensor operations per
 * parameter, written as directly as possible.
 *
 * <p>AdamW with decoupled weight decay (PyTorch {@code torch.optim.AdamW} semantics), per-parameter
 * decay exclusion and learning-rate scale from {@link ParameterGroups}, and state that can be saved
 * and restored by parameter name.
 *
 * <p>One {@link #step} at step number {@code t} (1-based) does, for every parameter {@code p} of
 * the groups, with {@code lr' = lr * lrScale(p)}:
 *
 * <pre>
 *   p  = p * (1 - lr' * weightDecay)               only when the parameter decays
 *   m  = beta1 * m + (1 - beta1) * g
 *   v  = beta2 * v + (1 - beta2) * g^2
 *   p  = p - (lr' / (1 - beta1^t)) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
 * </pre>
 *
 * which is {@code p -= lr' * mhat / (sqrt(vhat) + eps)} written the way PyTorch evaluates it. The
 * moments {@code m} and {@code v} are created as zeros on the first step, with the parameter's
 * shape, data type and device. Every operation works on whole tensors on the parameter's device.
 *
 * <p>Parameters are updated in place, through a detached view of their storage ({@link
 * NDArray#stopGradient()}): PyTorch refuses an in-place operation on a leaf that requires gradients
 * while gradient recording is on, and the detached view makes the update legal whether or not a
 * {@code GradientCollector} is open. The update itself is never recorded.
 *
 * <p>State ({@link #stateTensors()}): tensors {@code exp_avg.<name>} and {@code exp_avg_sq.<name>}
 * per parameter, compared with the flat optimizer's. Saving and loading state is the flat {@link
 * AdamW}'s alone.
 *
 * <p>Not thread-safe; one instance per training loop.
 */
final class ReferenceAdamW implements AutoCloseable {
  /** Prefix of the first-moment tensors in {@link #stateTensors()}. */
  public static final String EXP_AVG = "exp_avg.";

  /** Prefix of the second-moment tensors in {@link #stateTensors()}. */
  public static final String EXP_AVG_SQ = "exp_avg_sq.";

  private final AdamWConfig config;
  private final ParameterGroups groups;
  private final NDManager stateManager;
  private final LinkedHashMap<String, NDArray> expAvg = new LinkedHashMap<>();
  private final LinkedHashMap<String, NDArray> expAvgSq = new LinkedHashMap<>();
  private long step;
  private boolean closed;

  /**
   * Creates an optimizer with no state (step 0).
   *
   * @param config betas, eps and weight decay
   * @param groups which parameters this optimizer updates, their decay and learning-rate scale
   * @param manager parent of the sub-manager that holds the moments; closing this optimizer frees
   *     them
   */
  ReferenceAdamW(AdamWConfig config, ParameterGroups groups, NDManager manager) {
    if (config == null || groups == null || manager == null) {
      throw new IllegalArgumentException("AdamW needs a config, parameter groups and a manager");
    }
    this.config = config;
    this.groups = groups;
    this.stateManager = manager.newSubManager();
  }

  /** The hyperparameters. */
  public AdamWConfig config() {
    return config;
  }

  /** The per-parameter settings. */
  public ParameterGroups groups() {
    return groups;
  }

  /** Number of steps taken. */
  public long stepCount() {
    return step;
  }

  /**
   * Updates every parameter named in the groups, in place.
   *
   * <p>Everything is validated before anything changes: each parameter of the groups must exist in
   * {@code params} and have a gradient in {@code grads} of the same shape, and {@code grads} must
   * name no other parameter. Gradients are only read.
   *
   * @param params the parameters; arrays are modified in place
   * @param grads gradient per parameter name, each with its parameter's shape
   * @param lr base learning rate of this step (finite, at least 0), scaled per parameter
   */
  public void step(Parameters params, Map<String, NDArray> grads, double lr) {
    ensureOpen();
    if (!(lr >= 0) || Double.isInfinite(lr)) {
      throw new IllegalArgumentException(
          "Learning rate must be finite and at least 0, cannot be: " + lr);
    }
    validateStepInputs(params, grads);

    long t = step + 1;
    double beta1 = config.beta1();
    double beta2 = config.beta2();
    double biasCorrection1 = 1 - Math.pow(beta1, t);
    double biasCorrection2Sqrt = Math.sqrt(1 - Math.pow(beta2, t));
    for (ParameterGroups.Group group : groups.groups()) {
      String name = group.name();
      NDArray param = params.get(name);
      NDArray grad = grads.get(name);
      NDArray m = moment(expAvg, EXP_AVG, name, param);
      NDArray v = moment(expAvgSq, EXP_AVG_SQ, name, param);
      double groupLr = lr * group.lrScale();

      try (NDArray data = param.stopGradient()) {
        if (group.decay() && config.weightDecay() != 0) {
          data.muli(1 - groupLr * config.weightDecay());
        }
        m.muli(beta1);
        try (NDArray scaled = grad.mul(1 - beta1)) {
          m.addi(scaled);
        }
        v.muli(beta2);
        try (NDArray squared = grad.square()) {
          squared.muli(1 - beta2);
          v.addi(squared);
        }
        try (NDArray denom = v.sqrt()) {
          denom.divi(biasCorrection2Sqrt).addi(config.eps());
          try (NDArray update = m.div(denom)) {
            update.muli(groupLr / biasCorrection1);
            data.subi(update);
          }
        }
      }
    }
    step = t;
  }

  /**
   * The moments by state key, {@code exp_avg.<name>} and {@code exp_avg_sq.<name>} for every
   * parameter in group order; empty before the first step. The arrays are this optimizer's own (not
   * copies): read or copy them, do not modify or close them. They change at the next step.
   */
  public Map<String, NDArray> stateTensors() {
    ensureOpen();
    LinkedHashMap<String, NDArray> out = new LinkedHashMap<>();
    for (String name : expAvg.keySet()) {
      out.put(EXP_AVG + name, expAvg.get(name));
      out.put(EXP_AVG_SQ + name, expAvgSq.get(name));
    }
    return Collections.unmodifiableMap(out);
  }

  /** Frees the moments. */
  @Override
  public void close() {
    if (!closed) {
      closed = true;
      expAvg.clear();
      expAvgSq.clear();
      stateManager.close();
    }
  }

  private void validateStepInputs(Parameters params, Map<String, NDArray> grads) {
    for (String name : grads.keySet()) {
      if (!groups.contains(name)) {
        throw new IllegalArgumentException(
            "Gradient given for " + name + ", which this optimizer does not update");
      }
    }
    for (ParameterGroups.Group group : groups.groups()) {
      String name = group.name();
      if (!params.contains(name)) {
        throw new IllegalArgumentException("No parameter named " + name + " to update");
      }
      NDArray param = params.get(name);
      if (!param.getShape().equals(group.shape())) {
        throw new IllegalArgumentException(
            "Parameter "
                + name
                + " has shape "
                + param.getShape()
                + ", the optimizer was set up for shape "
                + group.shape());
      }
      NDArray grad = grads.get(name);
      if (grad == null) {
        throw new IllegalArgumentException("No gradient given for parameter " + name);
      }
      if (!grad.getShape().equals(param.getShape())) {
        throw new IllegalArgumentException(
            "Gradient of "
                + name
                + " has shape "
                + grad.getShape()
                + ", parameter has shape "
                + param.getShape());
      }
      NDArray m = expAvg.get(name);
      if (m != null && m.getDataType() != param.getDataType()) {
        throw new IllegalArgumentException(
            "Optimizer state "
                + EXP_AVG
                + name
                + " has data type "
                + m.getDataType()
                + ", parameter has "
                + param.getDataType());
      }
    }
  }

  private NDArray moment(Map<String, NDArray> moments, String prefix, String name, NDArray param) {
    NDArray moment = moments.get(name);
    if (moment == null) {
      moment = param.zerosLike();
      // State outlives the caller's per-step NDScope.
      NDScope.unregister(moment);
      moment.attach(stateManager);
      moment.setName(prefix + name);
      moments.put(name, moment);
    } else if (!moment.getDevice().equals(param.getDevice())) {
      NDArray moved = moment.toDevice(param.getDevice(), true);
      NDScope.unregister(moved);
      moved.attach(stateManager);
      moved.setName(prefix + name);
      moment.close();
      moment = moved;
      moments.put(name, moment);
    }
    return moment;
  }

  private void ensureOpen() {
    if (closed) {
      throw new IllegalStateException("AdamW optimizer is closed");
    }
  }
}
