package org.dtmspark.core.nn;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.dtmspark.core.io.Npy;
import org.dtmspark.core.io.NpyArray;
import org.dtmspark.core.io.SafeTensors;
import org.dtmspark.core.io.SafeTensorsFile;
import org.dtmspark.core.io.TensorData;
import org.junit.jupiter.api.Test;

/**
 * Checkpoints of this project against timm's own {@code Beit}: golden outputs that {@code
 * golden/timm/make_timm_golden.py} computed once with timm v0.9.16 (its header says how). Every
 * tensor of both checkpoints is random, relative position tables and q/v biases of order 1.
 */
class TimmInteropTest {
  /** Float32 here and in timm; observed differences are around 1e-6. */
  private static final double TOLERANCE = 1e-5;

  private static Path resource(String name) {
    URL url = TimmInteropTest.class.getResource("/golden/timm/" + name);
    if (url == null) {
      throw new IllegalStateException("Golden resource missing from the test classpath: " + name);
    }
    try {
      return Paths.get(url.toURI());
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  private static JsonNode json(String name) throws IOException {
    return new ObjectMapper().readTree(resource(name).toFile());
  }

  /** The golden shape with the given heads and relative position bias layout. */
  private static VitConfig config(boolean shared, int tokenHeadDim, int numClasses)
      throws IOException {
    JsonNode n = json("config.json");
    return new VitConfig(
        "timm-golden",
        n.get("imageSize").asInt(),
        n.get("patchSize").asInt(),
        n.get("inChannels").asInt(),
        n.get("embedDim").asInt(),
        n.get("depth").asInt(),
        n.get("numHeads").asInt(),
        n.get("mlpDim").asInt(),
        n.get("layerScaleInit").asDouble(),
        true,
        shared,
        tokenHeadDim,
        numClasses,
        0.0);
  }

  /** Pretraining student: shared and per-block tables, mask token, final norm, lm_head. */
  private static VitConfig pretrainedConfig() throws IOException {
    return config(true, json("config.json").get("tokenHeadDim").asInt(), 0);
  }

  /** Fine-tuned classifier (paper Table 13: no shared table): fc_norm and head, no norm. */
  private static VitConfig finetunedConfig() throws IOException {
    return config(false, 0, json("config.json").get("numClasses").asInt());
  }

  private static VisionTransformer load(NDManager manager, String file, VitConfig config)
      throws IOException {
    SafeTensorsFile weights = SafeTensors.read(resource(file));
    Parameters params = Parameters.create(manager);
    for (Map.Entry<String, TensorData> e : weights.tensors().entrySet()) {
      params.put(e.getKey(), e.getValue().toNDArray(params.manager()));
    }
    return VisionTransformer.fromParameters(config, params);
  }

  private static NDArray npy(NDManager manager, String name) throws IOException {
    NpyArray a = Npy.read(resource(name));
    return manager.create(a.data(), new Shape(a.shape()));
  }

  private static List<String> timmKeys(String model) throws IOException {
    List<String> keys = new ArrayList<>();
    json("timm_keys.json").get(model).forEach(k -> keys.add(k.asText()));
    return keys;
  }

  private static void assertMatchesTimm(NDArray actual, NDArray expected) {
    assertThat(actual.getShape()).isEqualTo(expected.getShape());
    float diff = actual.sub(expected).abs().max().getFloat();
    assertThat((double) diff).as("max abs difference from timm").isLessThanOrEqualTo(TOLERANCE);
  }

  @Test
  void aClassifierHasExactlyTheStateDictOfTimmsBeitWithAveragePooling() throws IOException {
    List<String> ours =
        new ArrayList<>(VisionTransformer.parameterShapes(finetunedConfig()).keySet());
    assertThat(ours).containsExactlyElementsOf(timmKeys("classifier"));
  }

  @Test
  void aPretrainedStudentIsTimmsEncoderPlusMaskTokenAndLmHead() throws IOException {
    List<String> ours =
        new ArrayList<>(VisionTransformer.parameterShapes(pretrainedConfig()).keySet());
    List<String> timm = new ArrayList<>(timmKeys("encoder"));
    // The one buffer timm saves: the shared table's index, which the README's call supplies.
    assertThat(timm.remove("rel_pos_bias.relative_position_index")).isTrue();
    assertThat(ours)
        .containsAll(timm)
        .hasSize(timm.size() + 3)
        .contains("mask_token", "lm_head.weight", "lm_head.bias");
  }

  @Test
  void encoderTokensMatchTimmsBeitWithoutPooling() throws IOException {
    try (NDManager manager = NDManager.newBaseManager();
        VisionTransformer vit = load(manager, "pretrained.safetensors", pretrainedConfig())) {
      NDArray tokens = vit.forwardFeatures(npy(manager, "images.npy"), null, false, null);
      assertMatchesTimm(tokens, npy(manager, "tokens.npy"));
    }
  }

  @Test
  void classifierLogitsMatchTimmsBeitWithAveragePooling() throws IOException {
    try (NDManager manager = NDManager.newBaseManager();
        VisionTransformer vit = load(manager, "finetuned.safetensors", finetunedConfig())) {
      NDArray logits =
          vit.classify(vit.forwardFeatures(npy(manager, "images.npy"), null, false, null));
      assertMatchesTimm(logits, npy(manager, "logits.npy"));
    }
  }
}
