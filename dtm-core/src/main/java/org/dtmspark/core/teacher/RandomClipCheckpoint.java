package org.dtmspark.core.teacher;

import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import org.dtmspark.core.data.ImageNormalization;
import org.dtmspark.core.io.SafeTensors;
import org.dtmspark.core.io.TensorData;

/**
 * Writes a Hugging Face CLIP vision checkpoint directory with random weights ({@code config.json},
 * {@code model.safetensors} in float16, {@code preprocessor_config.json} with the CLIP statistics):
 * a stand-in with the cost of a real one (CLIP weights are not available here), for benchmarks.
 *
 * <p>Weights are seeded: matrices and embeddings normal with std 0.02, LayerNorm weights 1, biases
 * 0, drawn from {@code new SplittableRandom(seed)} in the order of {@link
 * ClipVisionTeacher#parameterShapes}.
 */
public final class RandomClipCheckpoint {
  private static final ObjectMapper JSON =
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  private RandomClipCheckpoint() {}

  /** The ViT-B/16 vision tower of {@code openai/clip-vit-base-patch16}, projection 512. */
  public static ClipVisionConfig vitB16() {
    return new ClipVisionConfig(
        768, 3072, 12, 12, 224, 16, ClipVisionConfig.Activation.QUICK_GELU, 1e-5, 512);
  }

  /**
   * Writes the checkpoint of {@code config} into {@code dir} (created if missing).
   *
   * @param seed seed of the weights
   */
  public static void write(Path dir, ClipVisionConfig config, long seed) throws IOException {
    Files.createDirectories(dir);
    ObjectNode c = JSON.createObjectNode();
    c.putArray("architectures").add("CLIPVisionModelWithProjection");
    c.put("projection_dim", config.projectionDim());
    c.put("hidden_size", config.hiddenSize());
    c.put("intermediate_size", config.intermediateSize());
    c.put("num_hidden_layers", config.numLayers());
    c.put("num_attention_heads", config.numHeads());
    c.put("num_channels", 3);
    c.put("image_size", config.imageSize());
    c.put("patch_size", config.patchSize());
    c.put("hidden_act", config.activation().hfName());
    c.put("layer_norm_eps", config.layerNormEps());
    JSON.writeValue(dir.resolve(ClipVisionTeacher.CONFIG_FILE).toFile(), c);

    ObjectNode p = JSON.createObjectNode();
    ObjectNode crop = p.putObject("crop_size");
    crop.put("height", config.imageSize());
    crop.put("width", config.imageSize());
    float[] mean = ImageNormalization.CLIP.mean();
    float[] std = ImageNormalization.CLIP.std();
    var m = p.putArray("image_mean");
    var s = p.putArray("image_std");
    for (int i = 0; i < 3; i++) {
      m.add(mean[i]);
      s.add(std[i]);
    }
    JSON.writeValue(dir.resolve(ClipVisionTeacher.PREPROCESSOR_FILE).toFile(), p);

    SplittableRandom random = new SplittableRandom(seed);
    Map<String, TensorData> tensors = new LinkedHashMap<>();
    for (Map.Entry<String, Shape> e : ClipVisionTeacher.parameterShapes(config).entrySet()) {
      String name = e.getKey();
      long[] shape = e.getValue().getShape();
      float[] values = new float[Math.toIntExact(TensorData.numel(shape))];
      boolean norm = name.contains("norm") || name.contains("layrnorm");
      if (norm && name.endsWith(".weight")) {
        Arrays.fill(values, 1f);
      } else if (!name.endsWith(".bias")) {
        for (int i = 0; i < values.length; i++) {
          values[i] = (float) (0.02 * random.nextGaussian());
        }
      }
      tensors.put(name, TensorData.ofFloatsAsHalf(shape, values));
    }
    SafeTensors.write(dir.resolve(ClipVisionTeacher.WEIGHTS_FILE), Map.of("format", "pt"), tensors);
  }
}
