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
import java.util.Map;
import org.dtmspark.core.io.Npy;
import org.dtmspark.core.io.NpyArray;
import org.dtmspark.core.io.SafeTensors;
import org.dtmspark.core.io.SafeTensorsFile;
import org.dtmspark.core.io.TensorData;
import org.junit.jupiter.api.Test;

/**
 * {@link VisionTransformer} against golden outputs of an independent PyTorch implementation of the
 * BEiT v2 / timm {@code Beit} forward pass, {@code golden/vit/make_golden.py} (its header says how
 * to regenerate the files). Every parameter of the golden model is random, so relative position
 * tables, q/v biases, layer scale, mask and CLS tokens all contribute to the outputs.
 */
class VisionTransformerGoldenTest {
  /** Float32 here against a float64 reference over two blocks; observed differences are ~1e-6. */
  private static final double TOLERANCE = 1e-4;

  private static Path resource(String name) {
    URL url = VisionTransformerGoldenTest.class.getResource("/golden/vit/" + name);
    if (url == null) {
      throw new IllegalStateException("Golden resource missing from the test classpath: " + name);
    }
    try {
      return Paths.get(url.toURI());
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  private static VitConfig config() throws IOException {
    JsonNode n = new ObjectMapper().readTree(resource("config.json").toFile());
    return new VitConfig(
        n.get("name").asText(),
        n.get("imageSize").asInt(),
        n.get("patchSize").asInt(),
        n.get("inChannels").asInt(),
        n.get("embedDim").asInt(),
        n.get("depth").asInt(),
        n.get("numHeads").asInt(),
        n.get("mlpDim").asInt(),
        n.get("layerScaleInit").asDouble(),
        n.get("relPosBias").asBoolean(),
        n.get("sharedRelPosBias").asBoolean(),
        n.get("tokenHeadDim").asInt(),
        n.get("numClasses").asInt(),
        n.get("dropPath").asDouble());
  }

  /** The pretraining model: final norm and lm_head, no classifier. */
  private static VisionTransformer pretrainModel(NDManager manager) throws IOException {
    return model(manager, config().withNumClasses(0));
  }

  /** The classifier: fc_norm after pooling instead of the final norm, no lm_head. */
  private static VisionTransformer classifierModel(NDManager manager) throws IOException {
    return model(manager, config().withTokenHeadDim(0));
  }

  /** The golden weights that a model of {@code config} has (the file holds both heads). */
  private static VisionTransformer model(NDManager manager, VitConfig config) throws IOException {
    SafeTensorsFile file = SafeTensors.read(resource("weights.safetensors"));
    Map<String, Shape> wanted = VisionTransformer.parameterShapes(config);
    Parameters params = Parameters.create(manager);
    for (Map.Entry<String, TensorData> e : file.tensors().entrySet()) {
      if (wanted.containsKey(e.getKey())) {
        params.put(e.getKey(), e.getValue().toNDArray(params.manager()));
      }
    }
    return VisionTransformer.fromParameters(config, params);
  }

  private static NpyArray npy(String name) throws IOException {
    return Npy.read(resource(name));
  }

  private static NDArray array(NDManager manager, NpyArray a) {
    return manager.create(a.data(), new Shape(a.shape()));
  }

  private static double maxAbsDiff(float[] actual, float[] expected) {
    assertThat(actual).hasSameSizeAs(expected);
    double max = 0;
    for (int i = 0; i < actual.length; i++) {
      max = Math.max(max, Math.abs((double) actual[i] - expected[i]));
    }
    return max;
  }

  private static void assertMatches(NDArray actual, NpyArray expected) {
    assertThat(actual.getShape()).isEqualTo(new Shape(expected.shape()));
    double diff = maxAbsDiff(actual.toFloatArray(), expected.data());
    assertThat(diff)
        .as("max abs difference from the PyTorch reference")
        .isLessThanOrEqualTo(TOLERANCE);
  }

  @Test
  void goldenWeightsAreExactlyTheParametersOfBothModels() throws IOException {
    SafeTensorsFile file = SafeTensors.read(resource("weights.safetensors"));
    Map<String, Shape> expected =
        new java.util.LinkedHashMap<>(
            VisionTransformer.parameterShapes(config().withNumClasses(0)));
    expected.putAll(VisionTransformer.parameterShapes(config().withTokenHeadDim(0)));
    assertThat(file.tensors().keySet()).containsExactlyInAnyOrderElementsOf(expected.keySet());
    for (Map.Entry<String, TensorData> e : file.tensors().entrySet()) {
      assertThat(new Shape(e.getValue().shape()))
          .as(e.getKey())
          .isEqualTo(expected.get(e.getKey()));
    }
  }

  @Test
  void maskedFeaturesMatchAnIndependentPyTorchImplementation() throws IOException {
    try (NDManager manager = NDManager.newBaseManager();
        VisionTransformer vit = pretrainModel(manager)) {
      NpyArray mask = npy("mask.npy");
      assertThat(mask.data()).contains(0f, 1f);
      NDArray features =
          vit.forwardFeatures(array(manager, npy("images.npy")), array(manager, mask), false, null);
      assertMatches(features, npy("features.npy"));
    }
  }

  @Test
  void tokenPredictionsMatchAnIndependentPyTorchImplementation() throws IOException {
    try (NDManager manager = NDManager.newBaseManager();
        VisionTransformer vit = pretrainModel(manager)) {
      NDArray features =
          vit.forwardFeatures(
              array(manager, npy("images.npy")), array(manager, npy("mask.npy")), false, null);
      assertMatches(vit.predictTokens(features), npy("tokens.npy"));
    }
  }

  @Test
  void classLogitsWithoutMaskMatchAnIndependentPyTorchImplementation() throws IOException {
    try (NDManager manager = NDManager.newBaseManager();
        VisionTransformer vit = classifierModel(manager)) {
      NDArray features = vit.forwardFeatures(array(manager, npy("images.npy")), null, false, null);
      assertMatches(vit.classify(features), npy("logits.npy"));
    }
  }
}
