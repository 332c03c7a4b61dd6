package org.dtmspark.core.optim;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.StringJoiner;
import java.util.TreeMap;
import org.dtmspark.core.nn.Parameters;

/**
 * Per-parameter optimizer settings: whether weight decay applies and the learning-rate scale.
 *
 * <p><b>Weight decay</b> follows the reference code (BEiT v2's {@code get_parameter_groups} with
 * the model's {@code no_weight_decay()} set): a parameter is not decayed when it is 1-D (LayerNorm
 * weights and biases, layer-scale vectors {@code gamma_1/gamma_2}, {@code q_bias/v_bias}), when its
 * name ends in {@code .bias}, or when its name <em>is</em> {@code pos_embed} or {@code cls_token}
 * ({@link NoDecayRule#REFERENCE}). The mask token and the relative position bias tables are
 * decayed, as in the reference. This project's earlier rule, which also exempted every name
 * containing one of {@link #LEGACY_NO_DECAY_KEYWORDS} (mask token, relative position tables), is
 * {@link NoDecayRule#TABLES_AND_TOKENS}. Everything else (linear and conv weights, the heads) is
 * decayed.
 *
 * <p><b>Layer-wise learning-rate decay</b> (fine-tuning) follows BEiT's {@code
 * get_num_layer_for_vit}: see {@link #layerId} and {@link #layerScale}. A decay of 1.0 gives every
 * parameter scale 1 (pretraining).
 */
public final class ParameterGroups {
  /** Names that the reference exempts from weight decay whatever their shape (exact match). */
  public static final List<String> REFERENCE_NO_DECAY_NAMES = List.of("pos_embed", "cls_token");

  /**
   * Name fragments that {@link NoDecayRule#TABLES_AND_TOKENS} exempts from weight decay, whatever
   * the shape.
   */
  public static final List<String> LEGACY_NO_DECAY_KEYWORDS =
      List.of("pos_embed", "relative_position_bias_table", "cls_token", "mask_token", "gamma_");

  /** Which parameters escape weight decay. */
  public enum NoDecayRule {
    /**
     * The reference code's rule: 1-D parameters, names ending in {@code .bias}, {@code pos_embed}
     * and {@code cls_token}.
     */
    REFERENCE,
    /**
     * The reference rule plus every name containing one of {@link #LEGACY_NO_DECAY_KEYWORDS}: the
     * mask token and the relative position tables are not decayed either.
     */
    TABLES_AND_TOKENS;

    /**
     * {@link #TABLES_AND_TOKENS} when {@code exemptTablesAndMaskToken}, else {@link #REFERENCE}.
     */
    public static NoDecayRule of(boolean exemptTablesAndMaskToken) {
      return exemptTablesAndMaskToken ? TABLES_AND_TOKENS : REFERENCE;
    }
  }

  /**
   * The settings of one parameter.
   *
   * @param name the parameter's name
   * @param shape the parameter's shape
   * @param decay whether weight decay applies
   * @param layerId BEiT layer id, 0 (embeddings) to depth + 1 (head and everything after blocks)
   * @param lrScale factor on the learning rate, {@code layerDecay^(depth + 1 - layerId)}
   */
  public record Group(String name, Shape shape, boolean decay, int layerId, double lrScale) {}

  private final int depth;
  private final double layerDecay;
  private final NoDecayRule rule;
  private final LinkedHashMap<String, Group> groups;

  private ParameterGroups(
      int depth, double layerDecay, NoDecayRule rule, LinkedHashMap<String, Group> groups) {
    this.depth = depth;
    this.layerDecay = layerDecay;
    this.rule = rule;
    this.groups = groups;
  }

  /**
   * Settings for every parameter of {@code params}, in their definition order.
   *
   * @param depth number of transformer blocks of the model, at least 1
   * @param layerDecay layer-wise learning-rate decay in (0, 1]; 1.0 means no layer decay
   */
  public static ParameterGroups of(Parameters params, int depth, double layerDecay) {
    return of(params, depth, layerDecay, NoDecayRule.REFERENCE);
  }

  /**
   * Settings for every parameter of {@code params}, in their definition order, with the given
   * weight-decay rule.
   *
   * @param depth number of transformer blocks of the model, at least 1
   * @param layerDecay layer-wise learning-rate decay in (0, 1]; 1.0 means no layer decay
   * @param rule which parameters escape weight decay
   */
  public static ParameterGroups of(
      Parameters params, int depth, double layerDecay, NoDecayRule rule) {
    LinkedHashMap<String, Shape> shapes = new LinkedHashMap<>();
    for (Map.Entry<String, NDArray> e : params.asMap().entrySet()) {
      shapes.put(e.getKey(), e.getValue().getShape());
    }
    return ofShapes(shapes, depth, layerDecay, rule);
  }

  /**
   * Settings for the named shapes only, in iteration order. Use it to optimise a subset of a
   * model's parameters (frozen parameters are simply left out).
   *
   * @param depth number of transformer blocks of the model, at least 1
   * @param layerDecay layer-wise learning-rate decay in (0, 1]; 1.0 means no layer decay
   */
  public static ParameterGroups ofShapes(Map<String, Shape> shapes, int depth, double layerDecay) {
    return ofShapes(shapes, depth, layerDecay, NoDecayRule.REFERENCE);
  }

  /**
   * Settings for the named shapes only, in iteration order, with the given weight-decay rule.
   *
   * @param depth number of transformer blocks of the model, at least 1
   * @param layerDecay layer-wise learning-rate decay in (0, 1]; 1.0 means no layer decay
   * @param rule which parameters escape weight decay
   */
  public static ParameterGroups ofShapes(
      Map<String, Shape> shapes, int depth, double layerDecay, NoDecayRule rule) {
    if (rule == null) {
      throw new IllegalArgumentException("No-decay rule must not be null");
    }
    if (depth < 1) {
      throw new IllegalArgumentException("Model depth must be at least 1, cannot be: " + depth);
    }
    if (!(layerDecay > 0 && layerDecay <= 1)) {
      throw new IllegalArgumentException("Layer decay must be in (0, 1], cannot be: " + layerDecay);
    }
    LinkedHashMap<String, Group> groups = new LinkedHashMap<>();
    for (Map.Entry<String, Shape> e : shapes.entrySet()) {
      String name = e.getKey();
      Shape shape = e.getValue();
      int layerId = layerId(name, depth);
      groups.put(
          name,
          new Group(
              name,
              shape,
              decays(name, shape.getShape(), rule),
              layerId,
              layerScale(name, depth, layerDecay)));
    }
    return new ParameterGroups(depth, layerDecay, rule, groups);
  }

  /**
   * Whether weight decay applies to a parameter under the reference rule (see the class comment).
   *
   * @param name timm/BEiT parameter name
   * @param shape the parameter's shape
   */
  public static boolean decays(String name, long[] shape) {
    return decays(name, shape, NoDecayRule.REFERENCE);
  }

  /**
   * Whether weight decay applies to a parameter under {@code rule}.
   *
   * @param name timm/BEiT parameter name
   * @param shape the parameter's shape
   */
  public static boolean decays(String name, long[] shape, NoDecayRule rule) {
    if (shape.length == 1 || name.endsWith(".bias") || REFERENCE_NO_DECAY_NAMES.contains(name)) {
      return false;
    }
    if (rule == NoDecayRule.TABLES_AND_TOKENS) {
      for (String keyword : LEGACY_NO_DECAY_KEYWORDS) {
        if (name.contains(keyword)) {
          return false;
        }
      }
    }
    return true;
  }

  /**
   * BEiT's layer id of a parameter ({@code get_num_layer_for_vit}): {@code cls_token}, {@code
   * mask_token}, {@code pos_embed} and {@code patch_embed.*} are layer 0; {@code blocks.i.*} is
   * layer {@code i + 1}; {@code rel_pos_bias.*} (the shared relative position bias) and anything
   * else (final norm, heads) is layer {@code depth + 1}.
   *
   * @throws IllegalArgumentException when a {@code blocks.i.*} name has no valid index below depth
   */
  public static int layerId(String name, int depth) {
    if (name.equals("cls_token") || name.equals("mask_token") || name.equals("pos_embed")) {
      return 0;
    }
    if (name.startsWith("patch_embed.")) {
      return 0;
    }
    if (name.startsWith("rel_pos_bias.")) {
      return depth + 1;
    }
    if (name.startsWith("blocks.")) {
      int end = name.indexOf('.', "blocks.".length());
      String index = name.substring("blocks.".length(), end < 0 ? name.length() : end);
      int block;
      try {
        block = Integer.parseInt(index);
      } catch (NumberFormatException ex) {
        throw new IllegalArgumentException(
            "Parameter " + name + " must have a block index after 'blocks.', cannot be: " + index);
      }
      if (block < 0 || block >= depth) {
        throw new IllegalArgumentException(
            "Parameter "
                + name
                + " must have a block index in [0, "
                + depth
                + ") for model depth "
                + depth
                + ", cannot be: "
                + block);
      }
      return block + 1;
    }
    return depth + 1;
  }

  /**
   * Learning-rate scale of a parameter under layer-wise decay: {@code decay^(depth + 1 -
   * layerId(name, depth))}. The head gets 1, block {@code i} gets {@code decay^(depth - i)}, the
   * embeddings get {@code decay^(depth + 1)}.
   */
  public static double layerScale(String name, int depth, double decay) {
    return Math.pow(decay, depth + 1 - layerId(name, depth));
  }

  /** Model depth these settings were made for. */
  public int depth() {
    return depth;
  }

  /** The weight-decay rule these settings were made with. */
  public NoDecayRule noDecayRule() {
    return rule;
  }

  /** Layer-wise learning-rate decay these settings were made for (1.0 = none). */
  public double layerDecay() {
    return layerDecay;
  }

  /** Parameter names in order. */
  public List<String> names() {
    return Collections.unmodifiableList(new ArrayList<>(groups.keySet()));
  }

  /** Every parameter's settings, in order. */
  public List<Group> groups() {
    return Collections.unmodifiableList(new ArrayList<>(groups.values()));
  }

  /** The settings of {@code name}; fails naming it when it is not known. */
  public Group group(String name) {
    Group group = groups.get(name);
    if (group == null) {
      throw new IllegalArgumentException("No optimizer settings for parameter " + name);
    }
    return group;
  }

  public boolean contains(String name) {
    return groups.containsKey(name);
  }

  /** Number of parameter tensors that are decayed. */
  public int decayedCount() {
    int n = 0;
    for (Group g : groups.values()) {
      if (g.decay()) {
        n++;
      }
    }
    return n;
  }

  /** Number of parameter tensors that are not decayed. */
  public int notDecayedCount() {
    return groups.size() - decayedCount();
  }

  /**
   * One line for the log: tensor and value counts with and without decay, and the number of tensors
   * per learning-rate scale when layer decay is on.
   */
  public String summary() {
    long decayedValues = 0;
    long otherValues = 0;
    TreeMap<Integer, Integer> perLayer = new TreeMap<>();
    for (Group g : groups.values()) {
      if (g.decay()) {
        decayedValues += g.shape().size();
      } else {
        otherValues += g.shape().size();
      }
      perLayer.merge(g.layerId(), 1, Integer::sum);
    }
    StringBuilder sb = new StringBuilder();
    sb.append("weight decay: ")
        .append(decayedCount())
        .append(" tensors (")
        .append(decayedValues)
        .append(" values); no weight decay: ")
        .append(notDecayedCount())
        .append(" tensors (")
        .append(otherValues)
        .append(" values)");
    if (layerDecay != 1.0) {
      StringJoiner layers =
          new StringJoiner(", ", "; layer decay " + layerDecay + ", tensors per layer id: ", "");
      for (Map.Entry<Integer, Integer> e : perLayer.entrySet()) {
        double scale = Math.pow(layerDecay, depth + 1 - e.getKey());
        layers.add(
            e.getKey()
                + " (lr x"
                + String.format(Locale.ROOT, "%.4g", scale)
                + ") "
                + e.getValue());
      }
      sb.append(layers);
    }
    return sb.toString();
  }
}
