package org.dtmspark.core.io;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The content of the committed golden files under {@code src/test/resources/golden/}, and the
 * generator that wrote them. Regenerate only with a deliberate format change (and a new version):
 *
 * <pre>
 * java -cp dtm-core/target/test-classes:dtm-core/target/classes:$(deps) \
 *     org.dtmspark.core.io.GoldenFiles dtm-core/src/test/resources/golden
 * </pre>
 */
final class GoldenFiles {
  static final String TINY_SAFETENSORS = "tiny-v1.safetensors";
  static final String CHECKPOINT_DIR = "checkpoint-v1";

  private GoldenFiles() {}

  /** Tensors of {@code tiny-v1.safetensors}: one of every dtype, a scalar and an empty one. */
  static LinkedHashMap<String, TensorData> tinyTensors() {
    LinkedHashMap<String, TensorData> t = new LinkedHashMap<>();
    t.put(
        "patch_embed.proj.weight",
        TensorData.ofFloats(new long[] {2, 3}, new float[] {-1f, -0.5f, 0f, 0.5f, 1f, 1.5f}));
    t.put("cls_token", TensorData.ofFloatsAsHalf(new long[] {1, 1, 2}, new float[] {1.5f, -0.25f}));
    t.put("bf", new TensorData(DType.BF16, new long[] {2}, shorts(0x4040, 0xbf00)));
    t.put("f64", new TensorData(DType.F64, new long[] {1}, le(8).putDouble(1.0 / 3).array()));
    t.put(
        "i64",
        new TensorData(DType.I64, new long[] {2}, le(16).putLong(-1).putLong(1L << 40).array()));
    t.put("i32", new TensorData(DType.I32, new long[] {2}, le(8).putInt(7).putInt(-7).array()));
    t.put("u8", new TensorData(DType.U8, new long[] {2}, new byte[] {0, (byte) 255}));
    t.put("mask", new TensorData(DType.BOOL, new long[] {3}, new byte[] {1, 0, 1}));
    t.put("scalar", TensorData.ofFloats(new long[0], new float[] {42f}));
    t.put("empty", TensorData.ofFloats(new long[] {0, 4}, new float[0]));
    return t;
  }

  static Map<String, String> tinyMetadata() {
    Map<String, String> m = new LinkedHashMap<>();
    m.put("format", "dtm-spark-golden");
    m.put("format_version", "1");
    return m;
  }

  static CheckpointMeta checkpointMeta() {
    Map<String, Object> model = new LinkedHashMap<>();
    model.put("name", "tiny");
    model.put("imageSize", 32);
    model.put("patchSize", 16);
    model.put("inChannels", 3);
    model.put("embedDim", 4);
    model.put("depth", 1);
    model.put("numHeads", 2);
    model.put("mlpDim", 8);
    model.put("layerScaleInit", 0.1);
    model.put("relPosBias", true);
    model.put("sharedRelPosBias", false);
    model.put("tokenHeadDim", 6);
    model.put("numClasses", 0);
    model.put("dropPath", 0.0);
    Map<String, Object> rng = new LinkedHashMap<>();
    rng.put("seed", 7);
    rng.put("next_step_seed", 1234567890123L);
    Map<String, Object> training = new LinkedHashMap<>();
    training.put("lr", 1.5e-3);
    training.put("batch_size", 4);
    training.put("betas", java.util.List.of(0.9, 0.98));
    Map<String, Object> provenance = new LinkedHashMap<>();
    provenance.put("code_version", "golden");
    provenance.put("data_identity", "sha256:0123abcd");
    provenance.put("seed", 7);
    provenance.put("created_at", "2025-01-01T00:00:00Z");
    return new CheckpointMeta(
        1, CheckpointMeta.KIND_STUDENT, model, 12, 1, rng, training, provenance, "imagenet");
  }

  static LinkedHashMap<String, TensorData> checkpointWeights() {
    LinkedHashMap<String, TensorData> w = new LinkedHashMap<>();
    w.put(
        "cls_token",
        TensorData.ofFloats(new long[] {1, 1, 4}, new float[] {0.1f, 0.2f, 0.3f, 0.4f}));
    w.put("head.weight", TensorData.ofFloats(new long[] {2, 2}, new float[] {1f, -1f, 2f, -2f}));
    return w;
  }

  static LinkedHashMap<String, TensorData> checkpointOptimizer() {
    LinkedHashMap<String, TensorData> o = new LinkedHashMap<>();
    o.put("exp_avg.cls_token", TensorData.ofFloats(new long[] {1, 1, 4}, new float[] {0, 1, 2, 3}));
    o.put(
        "exp_avg_sq.cls_token",
        TensorData.ofFloats(new long[] {1, 1, 4}, new float[] {4, 5, 6, 7}));
    return o;
  }

  static Map<String, String> checkpointOptimizerMetadata() {
    Map<String, String> m = new LinkedHashMap<>();
    m.put("optimizer", "adamw");
    m.put("step", "12");
    return m;
  }

  /** The committed golden resource {@code name}. */
  static Path resource(String name) {
    URL url = GoldenFiles.class.getResource("/golden/" + name);
    if (url == null) {
      throw new IllegalStateException("Golden resource missing from the test classpath: " + name);
    }
    try {
      return Paths.get(url.toURI());
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  private static ByteBuffer le(int size) {
    return ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
  }

  private static byte[] shorts(int... values) {
    ByteBuffer b = le(2 * values.length);
    for (int v : values) {
      b.putShort((short) v);
    }
    return b.array();
  }

  /** Writes every golden file into the directory {@code args[0]}. */
  public static void main(String[] args) {
    Path dir = Paths.get(args[0]);
    try {
      SafeTensors.write(dir.resolve(TINY_SAFETENSORS), tinyMetadata(), tinyTensors());
      CheckpointIO.save(
          dir.resolve(CHECKPOINT_DIR),
          checkpointMeta(),
          checkpointWeights(),
          checkpointOptimizer(),
          checkpointOptimizerMetadata());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
