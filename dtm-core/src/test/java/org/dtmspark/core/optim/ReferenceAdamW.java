package org.dtmspark.core.optim;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import org.dtmspark.core.nn.Parameters;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

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
 * <p>State (see {@link #stateTensors()} and {@link #stateMetadata()}): tensors {@code
 * exp_avg.<name>} and {@code exp_avg_sq.<name>} per parameter, and string metadata {@code
 * optimizer=AdamW}, {@code format_version=1}, {@code step}, {@code beta1}, {@code beta2}, {@code
 * eps}, {@code weight_decay}. Files are written elsewhere; this class only provides and accepts the
 * maps.
 *
 * <p>Not thread-safe; one instance per training loop.
 */
final class ReferenceAdamW implements AutoCloseable {
  /** Version of the state layout written by {@link #stateMetadata()}. */
  public static final String FORMAT_VERSION = "1";

  /** Prefix of the first-moment tensors in {@link #stateTensors()}. */
  public static final String EXP_AVG = "exp_avg.";

  /** Prefix of the second-moment tensors in {@link #stateTensors()}. */
  public static final String EXP_AVG_SQ = "exp_avg_sq.";

  /** Metadata key naming the optimizer; the value is {@code AdamW}. */
  public static final String KEY_OPTIMIZER = "optimizer";

  /** Metadata key of the state layout version. */
  public static final String KEY_FORMAT_VERSION = "format_version";

  /** Metadata key of the number of steps taken. */
  public static final String KEY_STEP = "step";

  private static final String OPTIMIZER_NAME = "AdamW";
  private static final Logger LOG = LoggerFactory.getLogger(ReferenceAdamW.class);
  private static final Set<DataType> FLOAT_TYPES =
      Set.of(DataType.FLOAT16, DataType.FLOAT32, DataType.FLOAT64);

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

  /** Number of steps taken, including those restored by {@link #loadState}. */
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

  /**
   * String metadata of the state: {@code optimizer}, {@code format_version}, {@code step}, {@code
   * beta1}, {@code beta2}, {@code eps}, {@code weight_decay} (doubles written so that they parse
   * back exactly).
   */
  public Map<String, String> stateMetadata() {
    ensureOpen();
    LinkedHashMap<String, String> out = new LinkedHashMap<>();
    out.put(KEY_OPTIMIZER, OPTIMIZER_NAME);
    out.put(KEY_FORMAT_VERSION, FORMAT_VERSION);
    out.put(KEY_STEP, Long.toString(step));
    out.put("beta1", Double.toString(config.beta1()));
    out.put("beta2", Double.toString(config.beta2()));
    out.put("eps", Double.toString(config.eps()));
    out.put("weight_decay", Double.toString(config.weightDecay()));
    return Collections.unmodifiableMap(out);
  }

  /**
   * Replaces this optimizer's state with a saved one, copying the tensors (the caller keeps
   * ownership of {@code tensors}). Validates everything before changing anything: the optimizer
   * name and format version, the step count, and that the tensors are exactly the two moments of
   * every parameter of the groups (none missing, none extra) with the parameters' shapes and a
   * floating-point type. At step 0 there must be no tensors. Differences in betas, eps or weight
   * decay from this optimizer's config are logged as warnings; the config wins. Moments follow
   * their parameter's device at the next step.
   *
   * @throws IllegalArgumentException naming the key that is missing, unexpected or invalid
   */
  public void loadState(Map<String, NDArray> tensors, Map<String, String> metadata) {
    ensureOpen();
    String optimizer = requireKey(metadata, KEY_OPTIMIZER);
    if (!OPTIMIZER_NAME.equals(optimizer)) {
      throw new IllegalArgumentException(
          "Optimizer state metadata "
              + KEY_OPTIMIZER
              + " must be "
              + OPTIMIZER_NAME
              + ", cannot be: "
              + optimizer);
    }
    String version = requireKey(metadata, KEY_FORMAT_VERSION);
    if (!FORMAT_VERSION.equals(version)) {
      throw new IllegalArgumentException(
          "Unsupported optimizer state format version: "
              + version
              + " (this code reads version "
              + FORMAT_VERSION
              + ")");
    }
    String stepText = requireKey(metadata, KEY_STEP);
    long loadedStep;
    try {
      loadedStep = Long.parseLong(stepText);
    } catch (NumberFormatException ex) {
      loadedStep = -1;
    }
    if (loadedStep < 0) {
      throw new IllegalArgumentException(
          "Optimizer state metadata "
              + KEY_STEP
              + " must be an integer at least 0, cannot be: "
              + stepText);
    }
    validateStateTensors(tensors, loadedStep);
    warnOnHyperparameterChange(metadata);

    LinkedHashMap<String, NDArray> newAvg = new LinkedHashMap<>();
    LinkedHashMap<String, NDArray> newAvgSq = new LinkedHashMap<>();
    if (loadedStep > 0) {
      for (String name : groups.names()) {
        newAvg.put(name, copyIn(tensors.get(EXP_AVG + name)));
        newAvgSq.put(name, copyIn(tensors.get(EXP_AVG_SQ + name)));
      }
    }
    clearMoments();
    expAvg.putAll(newAvg);
    expAvgSq.putAll(newAvgSq);
    step = loadedStep;
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

  private void validateStateTensors(Map<String, NDArray> tensors, long loadedStep) {
    for (String key : tensors.keySet()) {
      String name;
      if (key.startsWith(EXP_AVG_SQ)) {
        name = key.substring(EXP_AVG_SQ.length());
      } else if (key.startsWith(EXP_AVG)) {
        name = key.substring(EXP_AVG.length());
      } else {
        throw new IllegalArgumentException(
            "Unexpected optimizer state tensor "
                + key
                + ": keys must start with "
                + EXP_AVG
                + " or "
                + EXP_AVG_SQ);
      }
      if (!groups.contains(name)) {
        throw new IllegalArgumentException(
            "Unexpected optimizer state tensor " + key + ": no parameter named " + name);
      }
      if (loadedStep == 0) {
        throw new IllegalArgumentException(
            "Unexpected optimizer state tensor " + key + ": the state is at step 0");
      }
    }
    if (loadedStep == 0) {
      return;
    }
    for (ParameterGroups.Group group : groups.groups()) {
      for (String key : new String[] {EXP_AVG + group.name(), EXP_AVG_SQ + group.name()}) {
        NDArray tensor = tensors.get(key);
        if (tensor == null) {
          throw new IllegalArgumentException("Optimizer state is missing tensor " + key);
        }
        if (!tensor.getShape().equals(group.shape())) {
          throw new IllegalArgumentException(
              "Optimizer state tensor "
                  + key
                  + " has shape "
                  + tensor.getShape()
                  + ", parameter "
                  + group.name()
                  + " has shape "
                  + group.shape());
        }
        if (!FLOAT_TYPES.contains(tensor.getDataType())) {
          throw new IllegalArgumentException(
              "Optimizer state tensor "
                  + key
                  + " must have a floating-point type, cannot be: "
                  + tensor.getDataType());
        }
      }
    }
  }

  private void warnOnHyperparameterChange(Map<String, String> metadata) {
    Map<String, Double> current =
        Map.of(
            "beta1", config.beta1(),
            "beta2", config.beta2(),
            "eps", config.eps(),
            "weight_decay", config.weightDecay());
    for (Map.Entry<String, Double> e : current.entrySet()) {
      String saved = metadata.get(e.getKey());
      if (saved != null && !saved.equals(Double.toString(e.getValue()))) {
        LOG.warn(
            "Optimizer state was saved with {}={}, continuing with {}",
            e.getKey(),
            saved,
            e.getValue());
      }
    }
  }

  private static String requireKey(Map<String, String> metadata, String key) {
    String value = metadata.get(key);
    if (value == null) {
      throw new IllegalArgumentException("Optimizer state metadata is missing key " + key);
    }
    return value;
  }

  private NDArray copyIn(NDArray tensor) {
    NDArray copy = tensor.duplicate();
    NDScope.unregister(copy);
    copy.attach(stateManager);
    return copy;
  }

  private void clearMoments() {
    for (NDArray a : expAvg.values()) {
      a.close();
    }
    for (NDArray a : expAvgSq.values()) {
      a.close();
    }
    expAvg.clear();
    expAvgSq.clear();
  }

  private void ensureOpen() {
    if (closed) {
      throw new IllegalStateException("AdamW optimizer is closed");
    }
  }
}
