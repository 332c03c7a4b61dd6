package org.dtmspark.core.teacher;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.LayerNorm;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import org.dtmspark.core.data.ImageNormalization;
import org.dtmspark.core.io.SafeTensors;
import org.dtmspark.core.io.SafeTensorsFile;
import org.dtmspark.core.io.TensorData;
import org.dtmspark.core.nn.Tensors;

/**
 * A frozen Hugging Face CLIP vision tower with its projection, read from a checkpoint directory in
 * the layout of {@code openai/clip-vit-base-patch16}.
 *
 * <p>Forward: pixels normalised with the teacher's mean/std, patch embedding (convolution without
 * bias, done as a matrix product), class embedding prepended, position embedding added, {@code
 * pre_layrnorm}, pre-norm blocks ({@code x + attn(ln1(x))}, {@code x + mlp(ln2(x))}, attention with
 * q/k/v/out biases, MLP {@code fc2(act(fc1(x)))}), {@code post_layernorm} on every token, then
 * {@code visual_projection}; the CLS token is dropped. Targets are {@code [B, N, P]} with {@code N
 * = (S / p)^2} and {@code P = projection_dim}.
 *
 * <p>Weights are held in the compute type, float32 by default or float16 (half the memory and, on a
 * GPU, the tensor cores), whatever their stored type. The forward pass runs on the device of the
 * manager the teacher was loaded on: pixels are normalised in float32 where they are, copied to
 * that device and cast to the compute type; targets come back as float32 on the pixels' device.
 */
public final class ClipVisionTeacher implements Teacher {
  /** The checkpoint's model config. */
  public static final String CONFIG_FILE = "config.json";

  /** The checkpoint's weights. */
  public static final String WEIGHTS_FILE = "model.safetensors";

  /** The checkpoint's image preprocessing; optional (CLIP constants and the config's size). */
  public static final String PREPROCESSOR_FILE = "preprocessor_config.json";

  private static final ObjectMapper MAPPER = new ObjectMapper();
  private static final String V = "vision_model.";
  private static final String CLASS_EMBEDDING = V + "embeddings.class_embedding";
  private static final String PATCH_WEIGHT = V + "embeddings.patch_embedding.weight";
  private static final String POSITION_WEIGHT = V + "embeddings.position_embedding.weight";
  private static final String PRE_NORM = V + "pre_layrnorm";
  private static final String POST_NORM = V + "post_layernorm";
  private static final String PROJECTION_WEIGHT = "visual_projection.weight";

  private final String id;
  private final ClipVisionConfig config;
  private final ImageNormalization normalization;
  private final NDManager weightsManager;
  private final DataType computeType;
  private final Map<String, NDArray> weights;
  private final NDArray patchWeightT; // [3 p p, D]
  private final NDArray projectionT; // [D, P]

  private ClipVisionTeacher(
      String id,
      ClipVisionConfig config,
      ImageNormalization normalization,
      NDManager weightsManager,
      DataType computeType,
      Map<String, NDArray> weights) {
    this.id = id;
    this.config = config;
    this.normalization = normalization;
    this.weightsManager = weightsManager;
    this.computeType = computeType;
    this.weights = weights;
    int p = config.patchSize();
    this.patchWeightT =
        weights.get(PATCH_WEIGHT).reshape(config.hiddenSize(), 3L * p * p).transpose().duplicate();
    this.projectionT = weights.get(PROJECTION_WEIGHT).transpose().duplicate();
  }

  /**
   * The tensor names and shapes a checkpoint of {@code config} must hold, in a fixed order (other
   * tensors, such as a text tower, are ignored).
   */
  public static Map<String, Shape> parameterShapes(ClipVisionConfig config) {
    long d = config.hiddenSize();
    long p = config.patchSize();
    long m = config.intermediateSize();
    Map<String, Shape> shapes = new LinkedHashMap<>();
    shapes.put(CLASS_EMBEDDING, new Shape(d));
    shapes.put(PATCH_WEIGHT, new Shape(d, 3, p, p));
    shapes.put(POSITION_WEIGHT, new Shape(config.numPatches() + 1L, d));
    shapes.put(PRE_NORM + ".weight", new Shape(d));
    shapes.put(PRE_NORM + ".bias", new Shape(d));
    for (int i = 0; i < config.numLayers(); i++) {
      String b = layer(i);
      for (String proj : new String[] {"q_proj", "k_proj", "v_proj", "out_proj"}) {
        shapes.put(b + "self_attn." + proj + ".weight", new Shape(d, d));
        shapes.put(b + "self_attn." + proj + ".bias", new Shape(d));
      }
      shapes.put(b + "layer_norm1.weight", new Shape(d));
      shapes.put(b + "layer_norm1.bias", new Shape(d));
      shapes.put(b + "mlp.fc1.weight", new Shape(m, d));
      shapes.put(b + "mlp.fc1.bias", new Shape(m));
      shapes.put(b + "mlp.fc2.weight", new Shape(d, m));
      shapes.put(b + "mlp.fc2.bias", new Shape(d));
      shapes.put(b + "layer_norm2.weight", new Shape(d));
      shapes.put(b + "layer_norm2.bias", new Shape(d));
    }
    shapes.put(POST_NORM + ".weight", new Shape(d));
    shapes.put(POST_NORM + ".bias", new Shape(d));
    shapes.put(PROJECTION_WEIGHT, new Shape(config.projectionDim(), d));
    return shapes;
  }

  private static String layer(int i) {
    return V + "encoder.layers." + i + ".";
  }

  /**
   * Loads a Hugging Face CLIP checkpoint directory with float32 weights; see {@link #load(Path,
   * NDManager, Optional, DataType)}.
   */
  public static ClipVisionTeacher load(
      Path dir, NDManager manager, Optional<ImageNormalization> override) throws IOException {
    return load(dir, manager, override, DataType.FLOAT32);
  }

  /**
   * Loads a Hugging Face CLIP checkpoint directory.
   *
   * @param dir holds {@code config.json} and {@code model.safetensors}, and optionally {@code
   *     preprocessor_config.json} ({@code image_mean}, {@code image_std}, {@code crop_size} or
   *     {@code size}; absent values default to the CLIP constants and the config's image size)
   * @param manager the weights live on a sub-manager of it, on its device
   * @param override mean/std replacing those of the preprocessor config
   * @param computeType {@link DataType#FLOAT32} or {@link DataType#FLOAT16}: the type the weights
   *     are held in and the forward pass computes in
   * @return the teacher; id is the directory and the first 16 hex digits of the weights' SHA-256
   * @throws IOException naming the path when a file is missing or unreadable
   * @throws IllegalArgumentException naming the field or tensor when the config is invalid, does
   *     not match the weights, or a tensor has the wrong shape, or when the compute type is neither
   *     float32 nor float16
   */
  public static ClipVisionTeacher load(
      Path dir, NDManager manager, Optional<ImageNormalization> override, DataType computeType)
      throws IOException {
    requireComputeType(computeType);
    Path configPath = dir.resolve(CONFIG_FILE);
    Path weightsPath = dir.resolve(WEIGHTS_FILE);
    Path preprocessorPath = dir.resolve(PREPROCESSOR_FILE);
    ClipVisionConfig config;
    try {
      config = ClipVisionConfig.fromHfJson(readJson(configPath));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(configPath + ": " + e.getMessage(), e);
    }
    ImageNormalization normalization =
        Files.exists(preprocessorPath)
            ? preprocessor(preprocessorPath, config)
            : ImageNormalization.CLIP;
    if (override.isPresent()) {
      normalization = override.get();
    }
    if (normalization.mean().length != 3) {
      throw new IllegalArgumentException(
          "CLIP normalization must have 3 channels, cannot have: " + normalization.mean().length);
    }
    if (!Files.isRegularFile(weightsPath)) {
      throw new IOException("CLIP weights file does not exist: " + weightsPath);
    }
    SafeTensorsFile file = SafeTensors.read(weightsPath);
    Map<String, Shape> expected = parameterShapes(config);
    for (Map.Entry<String, Shape> e : expected.entrySet()) {
      TensorData t = file.tensors().get(e.getKey());
      if (t == null) {
        throw new IllegalArgumentException(
            "CLIP checkpoint "
                + weightsPath
                + " lacks tensor "
                + e.getKey()
                + " that "
                + configPath
                + " requires (num_hidden_layers "
                + config.numLayers()
                + ")");
      }
      if (!Arrays.equals(t.shape(), e.getValue().getShape())) {
        throw new IllegalArgumentException(
            "CLIP tensor "
                + e.getKey()
                + " in "
                + weightsPath
                + " must have shape "
                + Arrays.toString(e.getValue().getShape())
                + " for "
                + configPath
                + ", cannot have: "
                + Arrays.toString(t.shape()));
      }
    }
    String id = dir + "@" + sha256Prefix(weightsPath);
    NDManager owned = manager.newSubManager();
    try {
      Map<String, NDArray> weights = new LinkedHashMap<>();
      for (String name : expected.keySet()) {
        NDArray a = file.tensors().get(name).toNDArray(owned);
        if (a.getDataType() != computeType) {
          NDArray f = a.toType(computeType, false);
          a.close();
          a = f;
        }
        a.setRequiresGradient(false);
        weights.put(name, a);
      }
      return new ClipVisionTeacher(id, config, normalization, owned, computeType, weights);
    } catch (RuntimeException e) {
      owned.close();
      throw e;
    }
  }

  /** Checks that {@code type} is a compute type teachers support: float32 or float16. */
  static void requireComputeType(DataType type) {
    if (type != DataType.FLOAT32 && type != DataType.FLOAT16) {
      throw new IllegalArgumentException(
          "Teacher compute type must be float32 or float16, cannot be: " + type);
    }
  }

  private static JsonNode readJson(Path path) throws IOException {
    if (!Files.isRegularFile(path)) {
      throw new IOException("CLIP checkpoint file does not exist: " + path);
    }
    try {
      return MAPPER.readTree(path.toFile());
    } catch (JsonProcessingException e) {
      throw new IOException(path + " is not valid JSON: " + e.getOriginalMessage(), e);
    }
  }

  private static ImageNormalization preprocessor(Path path, ClipVisionConfig config)
      throws IOException {
    JsonNode root = readJson(path);
    float[] mean = floats(root, "image_mean", ImageNormalization.CLIP.mean(), path);
    float[] std = floats(root, "image_std", ImageNormalization.CLIP.std(), path);
    int size = resolution(root, path, config.imageSize());
    if (size != config.imageSize()) {
      throw new IllegalArgumentException(
          "CLIP preprocessor resolution in "
              + path
              + " must equal the config's image_size ("
              + config.imageSize()
              + "), cannot be: "
              + size);
    }
    try {
      return new ImageNormalization(mean, std);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(path + ": " + e.getMessage(), e);
    }
  }

  private static float[] floats(JsonNode root, String field, float[] fallback, Path path) {
    JsonNode v = root.get(field);
    if (v == null || v.isNull()) {
      return fallback;
    }
    if (!v.isArray() || v.size() != 3) {
      throw new IllegalArgumentException(
          field + " in " + path + " must be an array of 3 numbers, cannot be: " + v);
    }
    float[] out = new float[3];
    for (int i = 0; i < 3; i++) {
      if (!v.get(i).isNumber()) {
        throw new IllegalArgumentException(
            field + " in " + path + " must be an array of 3 numbers, cannot be: " + v);
      }
      out[i] = v.get(i).floatValue();
    }
    return out;
  }

  /** {@code crop_size}, else {@code size}: an integer or {height, width} / {shortest_edge}. */
  private static int resolution(JsonNode root, Path path, int fallback) {
    for (String field : new String[] {"crop_size", "size"}) {
      JsonNode v = root.get(field);
      if (v == null || v.isNull()) {
        continue;
      }
      if (v.isIntegralNumber()) {
        return v.intValue();
      }
      if (v.isObject()) {
        JsonNode h = v.get("height");
        JsonNode w = v.get("width");
        if (h != null && w != null && h.isIntegralNumber() && w.isIntegralNumber()) {
          if (h.intValue() != w.intValue()) {
            throw new IllegalArgumentException(
                field + " in " + path + " must be square, cannot be: " + v);
          }
          return h.intValue();
        }
        JsonNode edge = v.get("shortest_edge");
        if (edge != null && edge.isIntegralNumber()) {
          return edge.intValue();
        }
      }
      throw new IllegalArgumentException(
          field
              + " in "
              + path
              + " must be an integer or {height, width} or {shortest_edge}, cannot be: "
              + v);
    }
    return fallback;
  }

  private static String sha256Prefix(Path path) throws IOException {
    MessageDigest digest;
    try {
      digest = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is not available", e);
    }
    try (InputStream in = new DigestInputStream(Files.newInputStream(path), digest)) {
      in.transferTo(OutputStream.nullOutputStream());
    }
    return HexFormat.of().formatHex(digest.digest()).substring(0, 16);
  }

  /** The architecture read from {@code config.json}. */
  public ClipVisionConfig config() {
    return config;
  }

  /** The type the weights are held in and the forward pass computes in. */
  public DataType computeType() {
    return computeType;
  }

  /** The device the forward pass runs on. */
  public Device device() {
    return weightsManager.getDevice();
  }

  @Override
  public String id() {
    return id;
  }

  @Override
  public int imageSize() {
    return config.imageSize();
  }

  @Override
  public int numTokens() {
    return config.numPatches();
  }

  @Override
  public int dim() {
    return config.projectionDim();
  }

  @Override
  public ImageNormalization normalization() {
    return normalization;
  }

  /**
   * Computes target tokens without recording gradients.
   *
   * @param pixels {@code [B, 3, S, S]}, values in [0, 1], not normalised, on any device
   * @return {@code [B, N, P]} float32, detached, on the manager and device of {@code pixels}
   */
  @Override
  public NDArray targets(NDArray pixels) {
    Shape shape = pixels.getShape();
    long s = config.imageSize();
    if (shape.dimension() != 4 || shape.get(1) != 3 || shape.get(2) != s || shape.get(3) != s) {
      throw new IllegalArgumentException(
          "CLIP teacher pixels must have shape [B, 3, " + s + ", " + s + "], cannot be: " + shape);
    }
    NDManager out = pixels.getManager();
    // The scope lives on the weights' device, so that every array made inside is there too.
    try (NDManager m = weightsManager.newSubManager()) {
      NDArray input = pixels.toDevice(device(), true); // a copy, so pixels stay where they are
      input.attach(m);
      NDArray x =
          normalization
              .apply(input.stopGradient().toType(DataType.FLOAT32, false))
              .toType(computeType, false);
      x = embed(m, x); // [B, T, D]
      x = layerNorm(x, PRE_NORM);
      for (int i = 0; i < config.numLayers(); i++) {
        x = block(m, x, layer(i));
      }
      x = layerNorm(x, POST_NORM); // every token, CLS included
      NDArray tokens = x.get(":, 1:, :").matMul(projectionT); // [B, N, P]
      NDArray targets =
          tokens.stopGradient().toType(DataType.FLOAT32, false).toDevice(out.getDevice(), false);
      targets.attach(out);
      return targets;
    }
  }

  /** Patch embedding, class and position embeddings: {@code [B, 3, S, S] -> [B, N + 1, D]}. */
  private NDArray embed(NDManager m, NDArray images) {
    long b = images.getShape().get(0);
    long p = config.patchSize();
    long g = config.gridSize();
    long d = config.hiddenSize();
    NDArray patches =
        images
            .reshape(b, 3, g, p, g, p)
            .transpose(0, 2, 4, 1, 3, 5)
            .reshape(b, g * g, 3 * p * p); // [B, N, 3 p p]
    NDArray x = patches.matMul(patchWeightT); // [B, N, D]
    NDArray cls = weights.get(CLASS_EMBEDDING).reshape(1, 1, d).broadcast(b, 1, d);
    cls.attach(m);
    NDArray tokens = NDArrays.concat(new NDList(cls, x), 1); // [B, N + 1, D]
    tokens.attach(m);
    return tokens.add(weights.get(POSITION_WEIGHT));
  }

  /** One pre-norm block. */
  private NDArray block(NDManager m, NDArray x, String prefix) {
    NDArray mid = x.add(attention(m, layerNorm(x, prefix + "layer_norm1"), prefix + "self_attn."));
    NDArray hidden = linear(layerNorm(mid, prefix + "layer_norm2"), prefix + "mlp.fc1");
    return mid.add(linear(activation(m, hidden), prefix + "mlp.fc2"));
  }

  /** Multi-head scaled dot-product self-attention: {@code [B, T, D] -> [B, T, D]}. */
  private NDArray attention(NDManager m, NDArray x, String prefix) {
    long b = x.getShape().get(0);
    long t = x.getShape().get(1);
    long heads = config.numHeads();
    long hd = config.headDim();
    NDArray q = heads(linear(x, prefix + "q_proj"), b, t).mul(Tensors.scalar(m, 1 / Math.sqrt(hd)));
    NDArray k = heads(linear(x, prefix + "k_proj"), b, t);
    NDArray v = heads(linear(x, prefix + "v_proj"), b, t);
    NDArray context = q.matMul(k.transpose(0, 1, 3, 2)).softmax(-1).matMul(v); // [B, H, T, h]
    NDArray merged = context.transpose(0, 2, 1, 3).reshape(b, t, heads * hd);
    return linear(merged, prefix + "out_proj");
  }

  /** {@code [B, T, D] -> [B, H, T, h]}. */
  private NDArray heads(NDArray x, long b, long t) {
    return x.reshape(b, t, config.numHeads(), config.headDim()).transpose(0, 2, 1, 3);
  }

  private NDArray activation(NDManager m, NDArray x) {
    return switch (config.activation()) {
      case QUICK_GELU -> x.mul(Activation.sigmoid(x.mul(Tensors.scalar(m, 1.702))));
      case GELU -> Activation.gelu(x);
    };
  }

  /** {@code x W^T + b} with the named {@code .weight} and {@code .bias}. */
  private NDArray linear(NDArray x, String name) {
    return Linear.linear(x, weights.get(name + ".weight"), weights.get(name + ".bias"))
        .singletonOrThrow();
  }

  /** LayerNorm over the last axis with the named {@code .weight} and {@code .bias}. */
  private NDArray layerNorm(NDArray x, String name) {
    return LayerNorm.layerNorm(
            x,
            new Shape(config.hiddenSize()),
            weights.get(name + ".weight"),
            weights.get(name + ".bias"),
            (float) config.layerNormEps())
        .singletonOrThrow();
  }

  @Override
  public void close() {
    weightsManager.close();
  }
}
