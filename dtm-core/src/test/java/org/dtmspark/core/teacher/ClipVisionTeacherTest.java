package org.dtmspark.core.teacher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import org.dtmspark.core.data.ImageNormalization;
import org.dtmspark.core.io.Npy;
import org.dtmspark.core.io.NpyArray;
import org.dtmspark.core.io.SafeTensors;
import org.dtmspark.core.io.SafeTensorsFile;
import org.dtmspark.core.io.TensorData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link ClipVisionTeacher} against golden tokens of an independent PyTorch implementation of the
 * Hugging Face CLIP vision tower, {@code golden/clip/make_golden.py} (its header says how to
 * regenerate the files), and its failures on bad checkpoints.
 */
class ClipVisionTeacherTest {
  /** Float32 here against a float64 reference over two blocks; observed differences are ~2e-6. */
  private static final double TOLERANCE = 1e-4;

  private static final ObjectMapper MAPPER = new ObjectMapper();

  @TempDir Path tmp;

  private static Path golden() {
    URL url = ClipVisionTeacherTest.class.getResource("/golden/clip/config.json");
    if (url == null) {
      throw new IllegalStateException("Golden CLIP checkpoint missing from the test classpath");
    }
    try {
      return Paths.get(url.toURI()).getParent();
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  /** A copy of the golden checkpoint directory that a test may damage. */
  private Path copy() throws IOException {
    Path dir = Files.createDirectory(tmp.resolve("ckpt"));
    for (String f :
        new String[] {
          ClipVisionTeacher.CONFIG_FILE,
          ClipVisionTeacher.WEIGHTS_FILE,
          ClipVisionTeacher.PREPROCESSOR_FILE
        }) {
      Files.copy(golden().resolve(f), dir.resolve(f));
    }
    return dir;
  }

  private static void editConfig(Path dir, String field, Object value) throws IOException {
    Path path = dir.resolve(ClipVisionTeacher.CONFIG_FILE);
    ObjectNode root = (ObjectNode) MAPPER.readTree(path.toFile());
    root.set(field, MAPPER.valueToTree(value));
    MAPPER.writeValue(path.toFile(), root);
  }

  private static NDArray array(NDManager manager, NpyArray a) {
    return manager.create(a.data(), new Shape(a.shape()));
  }

  private static ClipVisionTeacher load(Path dir, NDManager manager) throws IOException {
    return ClipVisionTeacher.load(dir, manager, Optional.empty());
  }

  @Test
  void tokensMatchAnIndependentPyTorchImplementation() throws IOException {
    NpyArray expected = Npy.read(golden().resolve("tokens.npy"));
    try (NDManager manager = NDManager.newBaseManager();
        ClipVisionTeacher teacher = load(golden(), manager)) {
      NDArray tokens = teacher.targets(array(manager, Npy.read(golden().resolve("pixels.npy"))));
      assertThat(tokens.getShape()).isEqualTo(new Shape(expected.shape()));
      float[] actual = tokens.toFloatArray();
      double max = 0;
      for (int i = 0; i < actual.length; i++) {
        max = Math.max(max, Math.abs((double) actual[i] - expected.data()[i]));
      }
      assertThat(max).as("max abs difference from the reference").isLessThanOrEqualTo(TOLERANCE);
    }
  }

  /**
   * Float16 weights and compute on the CPU (PyTorch has half kernels for every op of the tower)
   * against float32: within half precision over two blocks, and float32 tokens on the pixels'
   * manager.
   */
  @Test
  void float16ComputeMatchesFloat32WithinHalfPrecision() throws IOException {
    try (NDManager manager = NDManager.newBaseManager(Device.cpu());
        ClipVisionTeacher full = load(golden(), manager);
        ClipVisionTeacher half =
            ClipVisionTeacher.load(golden(), manager, Optional.empty(), DataType.FLOAT16)) {
      NDArray pixels = array(manager, Npy.read(golden().resolve("pixels.npy")));
      NDArray expected = full.targets(pixels);
      NDArray actual = half.targets(pixels);

      assertThat(half.computeType()).isEqualTo(DataType.FLOAT16);
      assertThat(actual.getDataType()).isEqualTo(DataType.FLOAT32);
      assertThat(actual.getManager()).isSameAs(manager);
      assertThat(actual.getShape()).isEqualTo(expected.getShape());
      float[] a = actual.toFloatArray();
      float[] e = expected.toFloatArray();
      double maxDiff = 0;
      double maxAbs = 0;
      for (int i = 0; i < a.length; i++) {
        maxDiff = Math.max(maxDiff, Math.abs((double) a[i] - e[i]));
        maxAbs = Math.max(maxAbs, Math.abs(e[i]));
      }
      // Half precision has an 11-bit significand (relative step 2^-11, about 5e-4); two blocks
      // of rounding stay within a few hundred of those steps of the largest token value.
      assertThat(maxDiff).isGreaterThan(0.0).isLessThanOrEqualTo(2e-2 * maxAbs);
      assertThat(pixels.getDataType()).isEqualTo(DataType.FLOAT32);
    }
  }

  @Test
  void computeTypeOtherThanFloat32OrFloat16IsRejected() {
    try (NDManager manager = NDManager.newBaseManager()) {
      assertThatThrownBy(
              () -> ClipVisionTeacher.load(golden(), manager, Optional.empty(), DataType.FLOAT64))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("Teacher compute type must be float32 or float16, cannot be: float64");
    }
  }

  @Test
  void describesItselfFromTheCheckpoint() throws IOException {
    try (NDManager manager = NDManager.newBaseManager();
        ClipVisionTeacher teacher = load(golden(), manager)) {
      assertThat(teacher.imageSize()).isEqualTo(32);
      assertThat(teacher.numTokens()).isEqualTo(16);
      assertThat(teacher.dim()).isEqualTo(20);
      assertThat(teacher.config().activation()).isEqualTo(ClipVisionConfig.Activation.QUICK_GELU);
      assertThat(teacher.normalization())
          .isEqualTo(
              new ImageNormalization(
                  new float[] {0.3f, 0.5f, 0.6f}, new float[] {0.2f, 0.35f, 0.25f}));
      assertThat(teacher.id()).startsWith(golden().toString() + "@").matches(".*@[0-9a-f]{16}");
    }
  }

  @Test
  void idChangesWithTheWeights() throws IOException {
    Path dir = copy();
    Path weights = dir.resolve(ClipVisionTeacher.WEIGHTS_FILE);
    SafeTensorsFile file = SafeTensors.read(weights);
    SafeTensors.write(weights, Map.of("note", "changed"), file.tensors());
    try (NDManager manager = NDManager.newBaseManager();
        ClipVisionTeacher original = load(golden(), manager);
        ClipVisionTeacher changed = load(dir, manager)) {
      assertThat(changed.id().substring(changed.id().length() - 16))
          .isNotEqualTo(original.id().substring(original.id().length() - 16));
    }
  }

  @Test
  void overrideReplacesThePreprocessorStatistics() throws IOException {
    try (NDManager manager = NDManager.newBaseManager();
        ClipVisionTeacher teacher =
            ClipVisionTeacher.load(golden(), manager, Optional.of(ImageNormalization.IMAGENET))) {
      assertThat(teacher.normalization()).isEqualTo(ImageNormalization.IMAGENET);
      NDArray pixels = array(manager, Npy.read(golden().resolve("pixels.npy")));
      NDArray tokens = teacher.targets(pixels);
      float[] expected = Npy.read(golden().resolve("tokens.npy")).data();
      assertThat(tokens.toFloatArray()).isNotEqualTo(expected);
    }
  }

  @Test
  void missingPreprocessorConfigMeansClipStatistics() throws IOException {
    Path dir = copy();
    Files.delete(dir.resolve(ClipVisionTeacher.PREPROCESSOR_FILE));
    try (NDManager manager = NDManager.newBaseManager();
        ClipVisionTeacher teacher = load(dir, manager)) {
      assertThat(teacher.normalization()).isEqualTo(ImageNormalization.CLIP);
    }
  }

  @Test
  void readsTheVisionHalfOfAFullClipModelConfig() throws IOException {
    Path dir = copy();
    Path path = dir.resolve(ClipVisionTeacher.CONFIG_FILE);
    ObjectNode vision = (ObjectNode) MAPPER.readTree(path.toFile());
    vision.remove("projection_dim");
    ObjectNode full = MAPPER.createObjectNode();
    full.put("projection_dim", 20);
    full.set("vision_config", vision);
    full.putObject("text_config").put("hidden_size", 512);
    MAPPER.writeValue(path.toFile(), full);
    NpyArray expected = Npy.read(golden().resolve("tokens.npy"));
    try (NDManager manager = NDManager.newBaseManager();
        ClipVisionTeacher teacher = load(dir, manager);
        ClipVisionTeacher visionOnly = load(golden(), manager)) {
      assertThat(teacher.config()).isEqualTo(visionOnly.config());
      NDArray tokens = teacher.targets(array(manager, Npy.read(golden().resolve("pixels.npy"))));
      float[] actual = tokens.toFloatArray();
      for (int i = 0; i < actual.length; i++) {
        assertThat((double) actual[i]).isCloseTo(expected.data()[i], within(TOLERANCE));
      }
    }
  }

  @Test
  void targetsCarryNoGradientWhileTheStudentRecords() throws IOException {
    try (NDManager manager = NDManager.newBaseManager();
        ClipVisionTeacher teacher = load(golden(), manager);
        GradientCollector gc = Engine.getInstance().newGradientCollector()) {
      NDArray pixels = array(manager, Npy.read(golden().resolve("pixels.npy")));
      pixels.setRequiresGradient(true);
      NDArray tokens = teacher.targets(pixels);
      assertThat(tokens.hasGradient()).isFalse();
      assertThat(tokens.getManager()).isSameAs(manager);
    }
  }

  @Test
  void rejectsPixelsOfAnotherResolution() throws IOException {
    try (NDManager manager = NDManager.newBaseManager();
        ClipVisionTeacher teacher = load(golden(), manager)) {
      NDArray pixels = manager.zeros(new Shape(1, 3, 16, 16));
      assertThatThrownBy(() -> teacher.targets(pixels))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("[B, 3, 32, 32]")
          .hasMessageContaining("(1, 3, 16, 16)");
    }
  }

  @Test
  void missingWeightsFileIsNamed() throws IOException {
    Path dir = copy();
    Files.delete(dir.resolve(ClipVisionTeacher.WEIGHTS_FILE));
    try (NDManager manager = NDManager.newBaseManager()) {
      assertThatThrownBy(() -> load(dir, manager))
          .isInstanceOf(IOException.class)
          .hasMessageContaining(dir.resolve("model.safetensors").toString());
    }
  }

  @Test
  void missingConfigFileIsNamed() throws IOException {
    Path dir = copy();
    Files.delete(dir.resolve(ClipVisionTeacher.CONFIG_FILE));
    try (NDManager manager = NDManager.newBaseManager()) {
      assertThatThrownBy(() -> load(dir, manager))
          .isInstanceOf(IOException.class)
          .hasMessageContaining(dir.resolve("config.json").toString());
    }
  }

  @Test
  void tensorOfTheWrongShapeIsNamedWithBothShapes() throws IOException {
    Path dir = copy();
    Path weights = dir.resolve(ClipVisionTeacher.WEIGHTS_FILE);
    SafeTensorsFile file = SafeTensors.read(weights);
    Map<String, TensorData> tensors = new LinkedHashMap<>(file.tensors());
    String name = "vision_model.encoder.layers.1.mlp.fc1.weight";
    tensors.put(name, TensorData.ofFloats(new long[] {48, 96}, new float[48 * 96]));
    SafeTensors.write(weights, Map.of(), tensors);
    try (NDManager manager = NDManager.newBaseManager()) {
      assertThatThrownBy(() -> load(dir, manager))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining(name)
          .hasMessageContaining("[96, 48]")
          .hasMessageContaining("[48, 96]");
    }
  }

  @Test
  void unknownActivationIsNamed() throws IOException {
    Path dir = copy();
    editConfig(dir, "hidden_act", "swish");
    try (NDManager manager = NDManager.newBaseManager()) {
      assertThatThrownBy(() -> load(dir, manager))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("hidden_act")
          .hasMessageContaining("swish");
    }
  }

  @Test
  void moreLayersInTheConfigThanInTheWeightsNamesTheMissingTensor() throws IOException {
    Path dir = copy();
    editConfig(dir, "num_hidden_layers", 3);
    try (NDManager manager = NDManager.newBaseManager()) {
      assertThatThrownBy(() -> load(dir, manager))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("vision_model.encoder.layers.2.self_attn.q_proj.weight")
          .hasMessageContaining("num_hidden_layers 3");
    }
  }

  @Test
  void configProjectionThatDoesNotMatchTheWeightsIsNamed() throws IOException {
    Path dir = copy();
    editConfig(dir, "projection_dim", 24);
    try (NDManager manager = NDManager.newBaseManager()) {
      assertThatThrownBy(() -> load(dir, manager))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("visual_projection.weight")
          .hasMessageContaining("[24, 48]")
          .hasMessageContaining("[20, 48]");
    }
  }

  @Test
  void preprocessorResolutionOtherThanTheConfigsIsRejected() throws IOException {
    Path dir = copy();
    Path path = dir.resolve(ClipVisionTeacher.PREPROCESSOR_FILE);
    ObjectNode root = (ObjectNode) MAPPER.readTree(path.toFile());
    root.putObject("crop_size").put("height", 64).put("width", 64);
    MAPPER.writeValue(path.toFile(), root);
    try (NDManager manager = NDManager.newBaseManager()) {
      assertThatThrownBy(() -> load(dir, manager))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("image_size (32)")
          .hasMessageContaining("64");
    }
  }
}
