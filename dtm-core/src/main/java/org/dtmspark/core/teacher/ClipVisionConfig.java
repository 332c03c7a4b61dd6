package org.dtmspark.core.teacher;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * Architecture of a Hugging Face CLIP vision tower with its projection ({@code
 * CLIPVisionModelWithProjection}, or the vision half of a {@code CLIPModel}).
 *
 * @param hiddenSize token width D
 * @param intermediateSize MLP hidden width
 * @param numLayers number of transformer blocks
 * @param numHeads attention heads; must divide {@code hiddenSize}
 * @param imageSize input resolution S in pixels (square)
 * @param patchSize patch side p; must divide {@code imageSize}
 * @param activation the MLP activation
 * @param layerNormEps epsilon of every LayerNorm
 * @param projectionDim output token width P of {@code visual_projection}
 */
public record ClipVisionConfig(
    int hiddenSize,
    int intermediateSize,
    int numLayers,
    int numHeads,
    int imageSize,
    int patchSize,
    Activation activation,
    double layerNormEps,
    int projectionDim) {

  /** The MLP activations a CLIP checkpoint may name in {@code hidden_act}. */
  public enum Activation {
    /** {@code x * sigmoid(1.702 x)}, Hugging Face {@code quick_gelu} (OpenAI CLIP). */
    QUICK_GELU("quick_gelu"),
    /** The exact erf GELU, Hugging Face {@code gelu}. */
    GELU("gelu");

    private final String hfName;

    Activation(String hfName) {
      this.hfName = hfName;
    }

    /** The name in a Hugging Face {@code config.json}. */
    public String hfName() {
      return hfName;
    }

    /** Looks up a {@code hidden_act} value; fails naming it when it is not supported. */
    public static Activation fromHfName(String name) {
      for (Activation a : values()) {
        if (a.hfName.equals(name)) {
          return a;
        }
      }
      throw new IllegalArgumentException(
          "CLIP hidden_act must be one of [quick_gelu, gelu], cannot be: " + name);
    }
  }

  public ClipVisionConfig {
    requireAtLeast("hidden_size", hiddenSize, 1);
    requireAtLeast("intermediate_size", intermediateSize, 1);
    requireAtLeast("num_hidden_layers", numLayers, 1);
    requireAtLeast("num_attention_heads", numHeads, 1);
    requireAtLeast("image_size", imageSize, 1);
    requireAtLeast("patch_size", patchSize, 1);
    requireAtLeast("projection_dim", projectionDim, 1);
    if (activation == null) {
      throw new IllegalArgumentException("CLIP activation must not be null");
    }
    if (hiddenSize % numHeads != 0) {
      throw new IllegalArgumentException(
          "CLIP hidden_size must be a multiple of num_attention_heads ("
              + numHeads
              + "), cannot be: "
              + hiddenSize);
    }
    if (imageSize % patchSize != 0) {
      throw new IllegalArgumentException(
          "CLIP image_size must be a multiple of patch_size ("
              + patchSize
              + "), cannot be: "
              + imageSize);
    }
    if (!(layerNormEps > 0)) {
      throw new IllegalArgumentException(
          "CLIP layer_norm_eps must be positive, cannot be: " + layerNormEps);
    }
  }

  private static void requireAtLeast(String field, int value, int min) {
    if (value < min) {
      throw new IllegalArgumentException(
          "CLIP " + field + " must be at least " + min + ", cannot be: " + value);
    }
  }

  /**
   * Reads a Hugging Face {@code config.json}: either a {@code CLIPModel} config, whose {@code
   * vision_config} holds the tower and whose top-level {@code projection_dim} sizes the projection,
   * or a vision-only config with every field at top level. Absent fields take the Hugging Face
   * {@code CLIPVisionConfig} defaults (ViT-B/32: 768, 3072, 12 layers, 12 heads, 224, 32, {@code
   * quick_gelu}, 1e-5, projection 512).
   *
   * @throws IllegalArgumentException naming the field when a value is invalid
   */
  public static ClipVisionConfig fromHfJson(JsonNode root) {
    if (root == null || !root.isObject()) {
      throw new IllegalArgumentException("CLIP config must be a JSON object, cannot be: " + root);
    }
    JsonNode vision = root.has("vision_config") ? root.get("vision_config") : root;
    if (!vision.isObject()) {
      throw new IllegalArgumentException(
          "CLIP vision_config must be a JSON object, cannot be: " + vision);
    }
    int projection =
        root.has("projection_dim")
            ? intField(root, "projection_dim", 512)
            : intField(vision, "projection_dim", 512);
    JsonNode act = vision.get("hidden_act");
    if (act != null && !act.isTextual()) {
      throw new IllegalArgumentException("CLIP hidden_act must be a string, cannot be: " + act);
    }
    return new ClipVisionConfig(
        intField(vision, "hidden_size", 768),
        intField(vision, "intermediate_size", 3072),
        intField(vision, "num_hidden_layers", 12),
        intField(vision, "num_attention_heads", 12),
        intField(vision, "image_size", 224),
        intField(vision, "patch_size", 32),
        Activation.fromHfName(act == null ? "quick_gelu" : act.textValue()),
        doubleField(vision, "layer_norm_eps", 1e-5),
        projection);
  }

  private static int intField(JsonNode node, String field, int fallback) {
    JsonNode v = node.get(field);
    if (v == null || v.isNull()) {
      return fallback;
    }
    if (!v.isIntegralNumber() || !v.canConvertToInt()) {
      throw new IllegalArgumentException("CLIP " + field + " must be an integer, cannot be: " + v);
    }
    return v.intValue();
  }

  private static double doubleField(JsonNode node, String field, double fallback) {
    JsonNode v = node.get(field);
    if (v == null || v.isNull()) {
      return fallback;
    }
    if (!v.isNumber()) {
      throw new IllegalArgumentException("CLIP " + field + " must be a number, cannot be: " + v);
    }
    return v.doubleValue();
  }

  /** Patches per side, S / p. */
  public int gridSize() {
    return imageSize / patchSize;
  }

  /** Patch tokens per image, N = (S / p)^2. */
  public int numPatches() {
    return gridSize() * gridSize();
  }

  /** Width of one attention head, D / heads. */
  public int headDim() {
    return hiddenSize / numHeads;
  }
}
