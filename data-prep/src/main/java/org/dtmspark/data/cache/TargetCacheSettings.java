package org.dtmspark.data.cache;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.Serializable;
import org.dtmspark.data.shard.ShardFormatException;

/**
 * What determines the content of a target cache, apart from its counts: the teacher, the token
 * shape and type, the views and the images. {@link TargetCacheMeta} holds these plus the counts;
 * every cache file carries them in its Parquet key-value metadata ({@value #FILE_METADATA_KEY}, as
 * compact JSON with the keys of the meta), so that a resumed run can tell whether a file left by an
 * earlier run holds the targets it would write.
 *
 * @param teacherId the teacher as the user named it (its location), for people
 * @param teacherSha256 lower-case hex SHA-256 of the teacher's weights: the file of a TorchScript
 *     teacher, {@code model.safetensors} of a checkpoint directory
 * @param numTokens N of every row's tokens, at least 1
 * @param dim P of every row's tokens, at least 1
 * @param dtype {@value TargetRow#FP16} or {@value TargetRow#FP32}
 * @param normalization the mean/std the teacher applied, e.g. {@code mean=[0.48145466, ...]
 *     std=[...]}
 * @param viewPolicy how the views were chosen ({@link CacheViews#policy()})
 * @param viewsPerImage K, sampled views per image (view indices {@code 0..K-1}), at least 0
 * @param fullView whether each image also has the full-image view (index {@value
 *     TargetCacheSchema#FULL_VIEW})
 * @param seed the seed the views were sampled from
 * @param split the split of the image shards the cache covers
 * @param imagesManifestSha256 lower-case hex SHA-256 of the bytes of the image shards' {@code
 *     _manifest.json}
 */
@JsonPropertyOrder({
  "teacher_id",
  "teacher_sha256",
  "num_tokens",
  "dim",
  "dtype",
  "normalization",
  "view_policy",
  "views_per_image",
  "full_view",
  "seed",
  "split",
  "images_manifest_sha256"
})
public record TargetCacheSettings(
    @JsonProperty("teacher_id") String teacherId,
    @JsonProperty("teacher_sha256") String teacherSha256,
    @JsonProperty("num_tokens") int numTokens,
    @JsonProperty("dim") int dim,
    @JsonProperty("dtype") String dtype,
    @JsonProperty("normalization") String normalization,
    @JsonProperty("view_policy") String viewPolicy,
    @JsonProperty("views_per_image") int viewsPerImage,
    @JsonProperty("full_view") boolean fullView,
    @JsonProperty("seed") long seed,
    @JsonProperty("split") String split,
    @JsonProperty("images_manifest_sha256") String imagesManifestSha256)
    implements Serializable {
  private static final long serialVersionUID = 1L;

  /** Parquet key-value metadata key of the settings in every cache file. */
  public static final String FILE_METADATA_KEY = "dtm.cache.settings";

  private static final ObjectMapper JSON =
      JsonMapper.builder()
          .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
          .enable(DeserializationFeature.FAIL_ON_MISSING_CREATOR_PROPERTIES)
          .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
          .build();

  public TargetCacheSettings {
    requireText(teacherId, "Teacher id");
    requireText(teacherSha256, "Teacher SHA-256");
    requireText(normalization, "Normalization");
    requireText(viewPolicy, "View policy");
    requireText(split, "Split");
    requireText(imagesManifestSha256, "Images manifest SHA-256");
    if (numTokens < 1 || dim < 1) {
      throw new IllegalArgumentException(
          "Token shape must be at least [1, 1], cannot be: [" + numTokens + ", " + dim + "]");
    }
    TargetRow.bytesPerElement(dtype);
    if (viewsPerImage < 0) {
      throw new IllegalArgumentException(
          "Views per image must be at least 0, cannot be: " + viewsPerImage);
    }
    if (viewsPerImage == 0 && !fullView) {
      throw new IllegalArgumentException(
          "A cache must hold at least one view per image: views per image is 0 without the full"
              + " view");
    }
  }

  /** Rows per image: {@code viewsPerImage}, plus one with the full view. */
  @JsonIgnore
  public int rowsPerImage() {
    return viewsPerImage + (fullView ? 1 : 0);
  }

  /**
   * Whether a cache made with {@code other} holds the same targets as one made with these settings:
   * every field equal except {@code teacherId}, which only names the teacher (the same weights may
   * be given by another path).
   */
  public boolean sameTargetsAs(TargetCacheSettings other) {
    return other != null && withTeacherId("-").equals(other.withTeacherId("-"));
  }

  /** The fields where {@code other} differs from these settings, as {@code name: this vs other}. */
  public String differences(TargetCacheSettings other) {
    StringBuilder out = new StringBuilder();
    diff(out, "teacher_sha256", teacherSha256, other.teacherSha256);
    diff(out, "num_tokens", numTokens, other.numTokens);
    diff(out, "dim", dim, other.dim);
    diff(out, "dtype", dtype, other.dtype);
    diff(out, "normalization", normalization, other.normalization);
    diff(out, "view_policy", viewPolicy, other.viewPolicy);
    diff(out, "views_per_image", viewsPerImage, other.viewsPerImage);
    diff(out, "full_view", fullView, other.fullView);
    diff(out, "seed", seed, other.seed);
    diff(out, "split", split, other.split);
    diff(out, "images_manifest_sha256", imagesManifestSha256, other.imagesManifestSha256);
    return out.toString();
  }

  private static void diff(StringBuilder out, String name, Object a, Object b) {
    if (!a.equals(b)) {
      out.append(out.length() == 0 ? "" : "; ").append(name).append(": ");
      out.append(a).append(" vs ").append(b);
    }
  }

  /** These settings naming the teacher {@code id}. */
  public TargetCacheSettings withTeacherId(String id) {
    return new TargetCacheSettings(
        id,
        teacherSha256,
        numTokens,
        dim,
        dtype,
        normalization,
        viewPolicy,
        viewsPerImage,
        fullView,
        seed,
        split,
        imagesManifestSha256);
  }

  /** These settings as compact JSON. */
  public String toJson() {
    try {
      return JSON.writeValueAsString(this);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("Cannot serialise cache settings: " + e.getMessage(), e);
    }
  }

  /**
   * Parses settings written by {@link #toJson()}.
   *
   * @param source where the text came from, for error messages
   * @throws ShardFormatException naming {@code source} when the text is not valid settings
   */
  public static TargetCacheSettings fromJson(String json, String source)
      throws ShardFormatException {
    try {
      return JSON.readValue(json, TargetCacheSettings.class);
    } catch (JsonProcessingException e) {
      throw new ShardFormatException(
          "Cache settings in " + source + " are invalid: " + e.getOriginalMessage(), e);
    }
  }

  private static void requireText(String value, String what) {
    if (value == null || value.isEmpty()) {
      throw new IllegalArgumentException(
          what + " must be a non-empty string, cannot be: " + (value == null ? "null" : "''"));
    }
  }
}
