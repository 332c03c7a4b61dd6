package org.dtmspark.core.optim;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import org.dtmspark.core.nn.Tensors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * AdamW with decoupled weight decay (PyTorch {@code torch.optim.AdamW} semantics) over the flat
 * master of a {@link FlatParameters}, with per-parameter decay exclusion and learning-rate scale
 * from {@link ParameterGroups}, and state that is saved and restored by parameter name.
 *
 * <p>One {@link #step} at step number {@code t} (1-based), with the gradient {@code g = c * grad}
 * ({@code c}: the caller's unscale and clipping factor) and {@code lr' = lr * lrScale(p)}, does for
 * every element:
 *
 * <pre>
 *   p  = p - lr * decayRate * p                     decayRate = weightDecay * lrScale, or 0
 *   m  = beta1 * m + (1 - beta1) * g
 *   v  = beta2 * v + (1 - beta2) * g^2
 *   p  = p - (lr' * sqrt(1 - beta2^t) / (1 - beta1^t)) * m / (sqrt(v) + eps * sqrt(1 - beta2^t))
 * </pre>
 *
 * which is {@code p -= lr' * mhat / (sqrt(vhat) + eps)} with the bias corrections moved onto the
 * scalars. Everything runs on the master's device as whole-tensor operations on {@code [numel]}
 * fp32 tensors: about 16 native calls per step whatever the number of parameters. The step's
 * scalars (learning rate, {@code c}, bias corrections) travel to the device as one 5-float upload;
 * {@code beta1} and {@code beta2} are device constants made once.
 *
 * <p>Per-parameter settings become per-element vectors of the master's size, made once: {@code
 * decayRate} when weight decay is on (4 bytes per parameter; ViT-B: 344 MB), and {@code lrScale}
 * only when a layer decay below 1 gives parameters different scales (another 4 bytes per
 * parameter). The moments take 8 bytes per parameter, as before.
 *
 * <p>State (see {@link #stateTensors()} and {@link #stateMetadata()}), unchanged from the
 * per-parameter optimizer this one replaced, so checkpoints of either resume with either: tensors
 * {@code exp_avg.<name>} and {@code exp_avg_sq.<name>} per parameter, and string metadata {@code
 * optimizer=AdamW}, {@code format_version=1}, {@code step}, {@code beta1}, {@code beta2}, {@code
 * eps}, {@code weight_decay}.
 *
 * <p>Not thread-safe; one instance per training loop.
 */
public final class AdamW implements AutoCloseable {
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
  private static final Logger LOG = LoggerFactory.getLogger(AdamW.class);
  private static final Set<DataType> FLOAT_TYPES =
      Set.of(DataType.FLOAT16, DataType.FLOAT32, DataType.FLOAT64);

  private final AdamWConfig config;
  private final ParameterGroups groups;
  private final FlatParameters flat;
  private final NDManager stateManager;
  private final NDArray beta1;
  private final NDArray beta2;
  private final NDArray decayRate;
  private final NDArray lrScale;
  private NDArray expAvg;
  private NDArray expAvgSq;
  private Map<String, NDArray> stateViews;
  private long step;
  private boolean closed;

  /**
   * Creates an optimizer with zero moments (step 0).
   *
   * @param config betas, eps and weight decay
   * @param groups decay and learning-rate scale of every parameter; exactly the parameters of
   *     {@code flat}, with their shapes
   * @param flat the parameters this optimizer updates; its manager gets the optimizer's state in a
   *     sub-manager, which closing this optimizer frees
   * @throws IllegalArgumentException naming a parameter the groups and {@code flat} disagree on
   */
  public AdamW(AdamWConfig config, ParameterGroups groups, FlatParameters flat) {
    if (config == null || groups == null || flat == null) {
      throw new IllegalArgumentException("AdamW needs a config, parameter groups and parameters");
    }
    for (FlatParameters.Segment s : flat.segments()) {
      if (!groups.contains(s.name())) {
        throw new IllegalArgumentException("Parameter " + s.name() + " is in no parameter group");
      }
      Shape shape = groups.group(s.name()).shape();
      if (!shape.equals(s.shape())) {
        throw new IllegalArgumentException(
            "Parameter "
                + s.name()
                + " has shape "
                + s.shape()
                + ", the parameter groups were set up for shape "
                + shape);
      }
    }
    if (groups.names().size() != flat.segments().size()) {
      for (String name : groups.names()) {
        if (!flat.shapes().containsKey(name)) {
          throw new IllegalArgumentException("No parameter named " + name + " to update");
        }
      }
    }
    this.config = config;
    this.groups = groups;
    this.flat = flat;
    this.stateManager = flat.manager().newSubManager();
    NDArray data = flat.data();
    this.expAvg = persistent(data.zerosLike(), "exp_avg");
    this.expAvgSq = persistent(data.zerosLike(), "exp_avg_sq");
    this.beta1 = persistent(Tensors.scalar(stateManager, config.beta1()), "beta1");
    this.beta2 = persistent(Tensors.scalar(stateManager, config.beta2()), "beta2");
    boolean anyDecay = false;
    boolean scaled = false;
    for (ParameterGroups.Group g : groups.groups()) {
      anyDecay |= g.decay();
      scaled |= g.lrScale() != 1.0;
    }
    this.decayRate =
        config.weightDecay() != 0 && anyDecay
            ? flat.perElement(
                s -> {
                  ParameterGroups.Group g = groups.group(s.name());
                  return g.decay() ? config.weightDecay() * g.lrScale() : 0.0;
                },
                stateManager)
            : null;
    this.lrScale =
        scaled ? flat.perElement(s -> groups.group(s.name()).lrScale(), stateManager) : null;
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
   * Updates the master in place from {@code gradScale * grad}.
   *
   * @param grad {@code [numel]} fp32 on the master's device, laid out as the master; only read
   * @param lr base learning rate of this step (finite, at least 0), scaled per parameter
   * @param gradScale factor applied to {@code grad} (unscaling, clipping), finite and above 0
   */
  public void step(NDArray grad, double lr, double gradScale) {
    ensureOpen();
    if (!(lr >= 0) || Double.isInfinite(lr)) {
      throw new IllegalArgumentException(
          "Learning rate must be finite and at least 0, cannot be: " + lr);
    }
    if (!(gradScale > 0) || Double.isInfinite(gradScale)) {
      throw new IllegalArgumentException(
          "Gradient scale must be finite and above 0, cannot be: " + gradScale);
    }
    if (grad.size() != flat.numel() || grad.getShape().dimension() != 1) {
      throw new IllegalArgumentException(
          "The gradient must be [" + flat.numel() + "], cannot be: " + grad.getShape());
    }
    long t = step + 1;
    double b1 = config.beta1();
    double b2 = config.beta2();
    double biasCorrection1 = 1 - Math.pow(b1, t);
    double biasCorrection2Sqrt = Math.sqrt(1 - Math.pow(b2, t));
    float[] scalars = {
      (float) lr,
      (float) ((1 - b1) * gradScale),
      (float) ((1 - b2) * gradScale * gradScale),
      (float) (lr * biasCorrection2Sqrt / biasCorrection1),
      (float) (config.eps() * biasCorrection2Sqrt)
    };
    NDArray p = flat.data();
    try (NDManager scratch = stateManager.newSubManager()) {
      // [5] -> five [1] views: lr, k1, k2, step size, eps'
      NDList s =
          Tensors.fromHost(scratch, scalars, new Shape(scalars.length)).split(scalars.length);
      s.attach(scratch);
      NDArray lrT = s.get(0);
      NDArray k1 = s.get(1);
      NDArray k2 = s.get(2);
      NDArray stepSize = s.get(3);
      NDArray epsT = s.get(4);
      if (decayRate != null) {
        NDArray decay = decayRate.mul(lrT); // [numel]
        decay.attach(scratch);
        NDArray shrink = p.mul(decay);
        shrink.attach(scratch);
        p.subi(shrink);
      }
      NDArray g1 = grad.mul(k1);
      g1.attach(scratch);
      expAvg.muli(beta1).addi(g1);
      NDArray g2 = grad.mul(grad);
      g2.attach(scratch);
      g2.muli(k2);
      expAvgSq.muli(beta2).addi(g2);
      NDArray denom = expAvgSq.sqrt();
      denom.attach(scratch);
      denom.addi(epsT);
      NDArray update = expAvg.div(denom);
      update.attach(scratch);
      update.muli(stepSize);
      if (lrScale != null) {
        update.muli(lrScale);
      }
      p.subi(update);
    }
    step = t;
  }

  /**
   * The moments by state key, {@code exp_avg.<name>} and {@code exp_avg_sq.<name>} for every
   * parameter in the master's order; empty before the first step. The arrays are views of this
   * optimizer's own state (not copies): read or copy them, do not modify or close them. They change
   * at the next step.
   */
  public Map<String, NDArray> stateTensors() {
    ensureOpen();
    if (step == 0) {
      return Map.of();
    }
    if (stateViews == null) {
      Map<String, NDArray> m = flat.unflatten(expAvg, stateManager);
      Map<String, NDArray> v = flat.unflatten(expAvgSq, stateManager);
      LinkedHashMap<String, NDArray> out = new LinkedHashMap<>();
      for (String name : m.keySet()) {
        out.put(EXP_AVG + name, m.get(name));
        out.put(EXP_AVG_SQ + name, v.get(name));
      }
      stateViews = Collections.unmodifiableMap(out);
    }
    return stateViews;
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
   * every parameter (none missing, none extra) with the parameters' shapes and a floating-point
   * type. At step 0 there must be no tensors. Differences in betas, eps or weight decay from this
   * optimizer's config are logged as warnings; the config wins.
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

    NDArray newAvg;
    NDArray newAvgSq;
    if (loadedStep > 0) {
      Map<String, NDArray> m = new LinkedHashMap<>();
      Map<String, NDArray> v = new LinkedHashMap<>();
      for (String name : groups.names()) {
        m.put(name, tensors.get(EXP_AVG + name));
        v.put(name, tensors.get(EXP_AVG_SQ + name));
      }
      newAvg = persistent(flat.flatten(m, stateManager), "exp_avg");
      newAvgSq = persistent(flat.flatten(v, stateManager), "exp_avg_sq");
    } else {
      newAvg = persistent(flat.data().zerosLike(), "exp_avg");
      newAvgSq = persistent(flat.data().zerosLike(), "exp_avg_sq");
    }
    closeStateViews();
    expAvg.close();
    expAvgSq.close();
    expAvg = newAvg;
    expAvgSq = newAvgSq;
    step = loadedStep;
  }

  /** Frees the moments and the per-element vectors. */
  @Override
  public void close() {
    if (!closed) {
      closed = true;
      stateViews = null;
      stateManager.close();
    }
  }

  private NDArray persistent(NDArray array, String name) {
    // State outlives the caller's per-step NDScope.
    NDScope.unregister(array);
    array.attach(stateManager);
    array.setName(name);
    return array;
  }

  private void closeStateViews() {
    if (stateViews != null) {
      for (NDArray a : stateViews.values()) {
        a.close();
      }
      stateViews = null;
    }
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

  private void ensureOpen() {
    if (closed) {
      throw new IllegalStateException("AdamW optimizer is closed");
    }
  }
}
