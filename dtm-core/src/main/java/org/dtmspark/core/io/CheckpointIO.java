package org.dtmspark.core.io;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * Saves and loads checkpoint directories, format version 1:
 *
 * <ul>
 *   <li>{@code <dir>/model.safetensors}: the weights, by timm/BEiT-style name, with metadata {@code
 *       {"format": "dtm-spark-checkpoint", "format_version": "1"}};
 *   <li>{@code <dir>/checkpoint.json}: the {@link CheckpointMeta} as pretty-printed JSON with
 *       snake_case keys ({@code format_version, kind, model_config, step, epoch, rng_state,
 *       training_config, provenance, normalization});
 *   <li>{@code <dir>/optimizer.safetensors} (optional): optimizer tensors, with the caller's
 *       metadata.
 * </ul>
 *
 * A checkpoint is written to a hidden sibling directory and renamed into place, so a reader sees
 * either a complete checkpoint or none (see {@link AtomicFiles#publishDirectory}).
 */
public final class CheckpointIO {
  /** The checkpoint layout version this build writes and reads. */
  public static final int FORMAT_VERSION = 1;

  /** Value of the {@code format} metadata key of {@code model.safetensors}. */
  public static final String FORMAT = "dtm-spark-checkpoint";

  public static final String MODEL_FILE = "model.safetensors";
  public static final String META_FILE = "checkpoint.json";
  public static final String OPTIMIZER_FILE = "optimizer.safetensors";

  private static final Set<String> META_KEYS =
      Set.of(
          "format_version",
          "kind",
          "model_config",
          "step",
          "epoch",
          "rng_state",
          "training_config",
          "provenance",
          "normalization");

  private static final ObjectMapper MAPPER =
      new ObjectMapper()
          .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
          .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

  private CheckpointIO() {}

  /**
   * A loaded checkpoint.
   *
   * @param meta the sidecar
   * @param weights the model weights
   * @param optimizer the optimizer state, when the checkpoint has one
   */
  public record LoadedCheckpoint(
      CheckpointMeta meta, SafeTensorsFile weights, Optional<SafeTensorsFile> optimizer) {
    public LoadedCheckpoint {
      Objects.requireNonNull(meta, "meta");
      Objects.requireNonNull(weights, "weights");
      Objects.requireNonNull(optimizer, "optimizer");
    }
  }

  /**
   * Writes a checkpoint directory atomically, replacing {@code dir} if it exists.
   *
   * @param meta sidecar; its formatVersion must be {@link #FORMAT_VERSION}
   * @param weights model tensors by name, in the order to store them
   * @param optimizerTensors optimizer tensors by name, or null to write no optimizer file
   * @param optimizerMetadata metadata of the optimizer file (e.g. its kind and hyper-parameters);
   *     ignored when {@code optimizerTensors} is null, may be null for none
   */
  public static void save(
      Path dir,
      CheckpointMeta meta,
      Map<String, TensorData> weights,
      Map<String, TensorData> optimizerTensors,
      Map<String, String> optimizerMetadata)
      throws IOException {
    if (meta.formatVersion() != FORMAT_VERSION) {
      throw new IllegalArgumentException(
          "Checkpoint formatVersion to save must be "
              + FORMAT_VERSION
              + ", cannot be: "
              + meta.formatVersion());
    }
    Path target = dir.toAbsolutePath();
    Path tmp = AtomicFiles.createSiblingTempDirectory(target);
    boolean published = false;
    try {
      SafeTensors.write(tmp.resolve(MODEL_FILE), modelMetadata(), weights);
      if (optimizerTensors != null) {
        SafeTensors.write(
            tmp.resolve(OPTIMIZER_FILE),
            optimizerMetadata == null ? Map.of() : optimizerMetadata,
            optimizerTensors);
      }
      byte[] json = MAPPER.writerWithDefaultPrettyPrinter().writeValueAsBytes(toJson(meta));
      AtomicFiles.writeAtomically(
          tmp.resolve(META_FILE),
          out -> {
            out.write(json);
            out.write('\n');
          });
      AtomicFiles.publishDirectory(tmp, target);
      published = true;
    } finally {
      if (!published) {
        AtomicFiles.deleteRecursively(tmp);
      }
    }
  }

  /**
   * Loads a checkpoint directory written by {@link #save}.
   *
   * @throws IOException naming the path of a missing file, the version and file of an unsupported
   *     format version, or the file and field of malformed content
   */
  public static LoadedCheckpoint load(Path dir) throws IOException {
    if (!Files.isDirectory(dir)) {
      throw new IOException("Checkpoint directory does not exist: " + dir);
    }
    Path metaPath = dir.resolve(META_FILE);
    if (!Files.isRegularFile(metaPath)) {
      throw new IOException("Checkpoint metadata file does not exist: " + metaPath);
    }
    CheckpointMeta meta = fromJson(Files.readAllBytes(metaPath), metaPath.toString());
    Path modelPath = dir.resolve(MODEL_FILE);
    if (!Files.isRegularFile(modelPath)) {
      throw new IOException("Checkpoint weights file does not exist: " + modelPath);
    }
    SafeTensorsFile weights = SafeTensors.read(modelPath);
    String format = weights.metadata().get("format");
    String version = weights.metadata().get("format_version");
    if (!FORMAT.equals(format)) {
      throw new IOException(
          "Checkpoint weights "
              + modelPath
              + " must have metadata format "
              + FORMAT
              + ", cannot be: "
              + format);
    }
    if (!String.valueOf(FORMAT_VERSION).equals(version)) {
      throw new IOException(
          "Unsupported checkpoint format_version "
              + version
              + " in "
              + modelPath
              + "; this build reads version "
              + FORMAT_VERSION);
    }
    Path optimizerPath = dir.resolve(OPTIMIZER_FILE);
    Optional<SafeTensorsFile> optimizer =
        Files.exists(optimizerPath)
            ? Optional.of(SafeTensors.read(optimizerPath))
            : Optional.empty();
    return new LoadedCheckpoint(meta, weights, optimizer);
  }

  /**
   * The version of the code, from the jar manifest's {@code Implementation-Version}, or {@code
   * "dev"} when not running from a jar that has one.
   */
  public static String codeVersion() {
    String v = CheckpointIO.class.getPackage().getImplementationVersion();
    return v == null || v.isBlank() ? "dev" : v;
  }

  /**
   * A provenance map for {@link CheckpointMeta#provenance}: {@code code_version}, {@code
   * data_identity}, {@code seed}, {@code created_at} (ISO-8601 instant).
   *
   * @param dataIdentity what identifies the training data, e.g. a manifest hash
   */
  public static Map<String, Object> provenance(String dataIdentity, long seed, Instant createdAt) {
    Map<String, Object> p = new LinkedHashMap<>();
    p.put("code_version", codeVersion());
    p.put("data_identity", dataIdentity);
    p.put("seed", seed);
    p.put("created_at", createdAt.toString());
    return p;
  }

  private static Map<String, String> modelMetadata() {
    Map<String, String> m = new LinkedHashMap<>();
    m.put("format", FORMAT);
    m.put("format_version", String.valueOf(FORMAT_VERSION));
    return m;
  }

  static ObjectNode toJson(CheckpointMeta meta) {
    ObjectNode root = MAPPER.createObjectNode();
    root.put("format_version", meta.formatVersion());
    root.put("kind", meta.kind());
    root.set("model_config", MAPPER.valueToTree(meta.modelConfig()));
    root.put("step", meta.step());
    root.put("epoch", meta.epoch());
    root.set("rng_state", MAPPER.valueToTree(meta.rngState()));
    root.set("training_config", MAPPER.valueToTree(meta.trainingConfig()));
    root.set("provenance", MAPPER.valueToTree(meta.provenance()));
    root.put("normalization", meta.normalization());
    return root;
  }

  /** Parses the JSON of a {@value #META_FILE}; {@code source} names it in errors. */
  public static CheckpointMeta fromJson(byte[] json, String source) throws IOException {
    JsonNode root;
    try {
      root = MAPPER.readTree(json);
    } catch (JsonProcessingException e) {
      throw new IOException(
          "Checkpoint metadata " + source + " is not valid JSON: " + e.getOriginalMessage(), e);
    }
    if (root == null || !root.isObject()) {
      throw new IOException("Checkpoint metadata " + source + " must be a JSON object");
    }
    JsonNode version = root.get("format_version");
    if (version == null || !version.isInt()) {
      throw new IOException(
          "Checkpoint metadata "
              + source
              + " must have an integer format_version, found: "
              + version);
    }
    if (version.intValue() != FORMAT_VERSION) {
      throw new IOException(
          "Unsupported checkpoint format_version "
              + version.intValue()
              + " in "
              + source
              + "; this build reads version "
              + FORMAT_VERSION);
    }
    for (Iterator<String> it = root.fieldNames(); it.hasNext(); ) {
      String key = it.next();
      if (!META_KEYS.contains(key)) {
        throw new IOException(
            "Checkpoint metadata "
                + source
                + " has an unknown key: "
                + key
                + "; known: "
                + META_KEYS);
      }
    }
    try {
      return new CheckpointMeta(
          version.intValue(),
          text(root, "kind", source),
          object(root, "model_config", source),
          integral(root, "step", source),
          Math.toIntExact(integral(root, "epoch", source)),
          object(root, "rng_state", source),
          object(root, "training_config", source),
          object(root, "provenance", source),
          text(root, "normalization", source));
    } catch (IllegalArgumentException | ArithmeticException e) {
      throw new IOException("Invalid checkpoint metadata " + source + ": " + e.getMessage(), e);
    }
  }

  private static JsonNode required(JsonNode root, String key, String source) throws IOException {
    JsonNode node = root.get(key);
    if (node == null) {
      throw new IOException("Checkpoint metadata " + source + " lacks the key " + key);
    }
    return node;
  }

  private static String text(JsonNode root, String key, String source) throws IOException {
    JsonNode node = required(root, key, source);
    if (!node.isTextual()) {
      throw new IOException(
          "Checkpoint metadata " + source + " must have a string " + key + ", found: " + node);
    }
    return node.textValue();
  }

  private static long integral(JsonNode root, String key, String source) throws IOException {
    JsonNode node = required(root, key, source);
    if (!node.isIntegralNumber() || !node.canConvertToLong()) {
      throw new IOException(
          "Checkpoint metadata " + source + " must have an integer " + key + ", found: " + node);
    }
    return node.longValue();
  }

  private static Map<String, Object> object(JsonNode root, String key, String source)
      throws IOException {
    JsonNode node = required(root, key, source);
    if (!node.isObject()) {
      throw new IOException(
          "Checkpoint metadata " + source + " must have an object " + key + ", found: " + node);
    }
    return MAPPER.convertValue(node, new TypeReference<LinkedHashMap<String, Object>>() {});
  }
}
