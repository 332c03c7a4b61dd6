package org.dtmspark.data.cache;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.IOException;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileAlreadyExistsException;
import org.apache.hadoop.fs.Path;
import org.dtmspark.data.shard.ShardFormatException;
import org.dtmspark.data.shard.VersionedJsonFile;

/**
 * The {@value #FILE_NAME} of a target cache, format version {@value #FORMAT_VERSION}: which teacher
 * made the tokens, their shape and type, how the views were chosen, and which files hold them. The
 * targets job writes it last, atomically, so a cache directory without it is not finished.
 *
 * <p>JSON with snake_case keys.
 *
 * <p>The fields from {@code teacher_id} to {@code images_manifest_sha256} are the cache's {@link
 * TargetCacheSettings} (see there for their meaning); the rest are counts. Every image of the split
 * is either covered (it has all its rows) or rejected (the targets job could not decode it; a row
 * in {@code _rejects/}).
 *
 * @param formatVersion always {@value #FORMAT_VERSION}
 * @param teacherId the teacher as the user named it, e.g. {@code /models/clip-vit-base-patch16}
 * @param teacherSha256 lower-case hex SHA-256 of the teacher's weights
 * @param numTokens N of every row's tokens, at least 1
 * @param dim P of every row's tokens, at least 1
 * @param dtype {@value TargetRow#FP16} or {@value TargetRow#FP32}
 * @param normalization the input normalisation the teacher saw
 * @param viewPolicy how the views were sampled ({@link CacheViews#policy()})
 * @param viewsPerImage K, sampled views per image (view indices {@code 0..K-1}), at least 0
 * @param fullView whether each image also has the full-image view (index {@value
 *     TargetCacheSchema#FULL_VIEW})
 * @param seed the seed the views were sampled from
 * @param split the split of the image shards the cache covers
 * @param imagesManifestSha256 lower-case hex SHA-256 of the bytes of the image shards' {@code
 *     _manifest.json}
 * @param images images covered
 * @param rejectedImages images of the split without targets (reject rows under {@code _rejects/})
 * @param rows rows in all files
 * @param files the cache files, relative to the cache root, e.g. {@code part-00000.parquet}
 */
@JsonPropertyOrder({
  "format_version",
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
  "images_manifest_sha256",
  "images",
  "rejected_images",
  "rows",
  "files"
})
public record TargetCacheMeta(
    @JsonProperty("format_version") int formatVersion,
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
    @JsonProperty("images_manifest_sha256") String imagesManifestSha256,
    @JsonProperty("images") long images,
    @JsonProperty("rejected_images") long rejectedImages,
    @JsonProperty("rows") long rows,
    @JsonProperty("files") List<String> files) {

  /** The version written by this code and the only version {@link #read} accepts. */
  public static final int FORMAT_VERSION = 2;

  /** File name under the cache root. */
  public static final String FILE_NAME = "_cache_meta.json";

  private static final ObjectMapper JSON =
      JsonMapper.builder()
          .enable(SerializationFeature.INDENT_OUTPUT)
          .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
          .enable(DeserializationFeature.FAIL_ON_MISSING_CREATOR_PROPERTIES)
          .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
          .build();

  public TargetCacheMeta {
    if (formatVersion != FORMAT_VERSION) {
      throw new IllegalArgumentException(
          "Cache meta format version must be " + FORMAT_VERSION + ", cannot be: " + formatVersion);
    }
    // Validates every settings field.
    new TargetCacheSettings(
        teacherId,
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
    if (images < 0 || rejectedImages < 0 || rows < 0) {
      throw new IllegalArgumentException(
          "Images, rejected images and rows must be at least 0, cannot be: "
              + images
              + ", "
              + rejectedImages
              + ", "
              + rows);
    }
    if (files == null) {
      throw new IllegalArgumentException("Files must be present, cannot be: null");
    }
    files = List.copyOf(files);
  }

  /** The meta of a cache made with {@code settings}, with its counts and files. */
  public static TargetCacheMeta of(
      TargetCacheSettings settings,
      long images,
      long rejectedImages,
      long rows,
      List<String> files) {
    return new TargetCacheMeta(
        FORMAT_VERSION,
        settings.teacherId(),
        settings.teacherSha256(),
        settings.numTokens(),
        settings.dim(),
        settings.dtype(),
        settings.normalization(),
        settings.viewPolicy(),
        settings.viewsPerImage(),
        settings.fullView(),
        settings.seed(),
        settings.split(),
        settings.imagesManifestSha256(),
        images,
        rejectedImages,
        rows,
        files);
  }

  /** The settings this cache was made with. */
  @JsonIgnore
  public TargetCacheSettings settings() {
    return new TargetCacheSettings(
        teacherId,
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

  /** Rows per image: {@code viewsPerImage}, plus one with the full view. */
  @JsonIgnore
  public int rowsPerImage() {
    return viewsPerImage + (fullView ? 1 : 0);
  }

  /**
   * Whether the cache accounts for every image of a split of {@code splitImages} images: {@code
   * images + rejectedImages == splitImages} and {@code rows == images * rowsPerImage()}.
   */
  public boolean complete(long splitImages) {
    return images + rejectedImages == splitImages && rows == images * rowsPerImage();
  }

  /** Bytes of the tokens of one view: {@link TargetRow#bytesPerView}. */
  @JsonIgnore
  public long bytesPerView() {
    return TargetRow.bytesPerView(numTokens, dim, dtype);
  }

  /** This meta as JSON text, ending in a newline. */
  public String toJson() {
    try {
      return JSON.writeValueAsString(this) + "\n";
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("Cannot serialise cache meta: " + e.getMessage(), e);
    }
  }

  /**
   * Parses a cache meta, checking its format version first.
   *
   * @param source where the text came from, for error messages
   * @throws ShardFormatException naming {@code source} when the version is not {@value
   *     #FORMAT_VERSION} or the content is invalid
   */
  public static TargetCacheMeta fromJson(String json, String source) throws ShardFormatException {
    try {
      return VersionedJsonFile.parse(
          JSON, json, source, "Cache meta", FORMAT_VERSION, TargetCacheMeta.class);
    } catch (ShardFormatException e) {
      String found = foundVersion(json);
      if (found != null && !found.equals(Integer.toString(FORMAT_VERSION))) {
        String advice = TargetCacheSchema.rewriteAdvice(found);
        if (!advice.isEmpty()) {
          throw new ShardFormatException(e.getMessage() + advice, e);
        }
      }
      throw e;
    }
  }

  private static String foundVersion(String json) {
    try {
      var node = JSON.readTree(json);
      return node != null && node.get("format_version") != null
          ? node.get("format_version").asText()
          : null;
    } catch (JsonProcessingException e) {
      return null;
    }
  }

  /** The meta file of the cache at {@code root}. */
  public static Path path(Path root) {
    return new Path(root, FILE_NAME);
  }

  /**
   * Reads {@code <root>/_cache_meta.json} from any Hadoop filesystem.
   *
   * @throws ShardFormatException naming the file when its version is not {@value #FORMAT_VERSION}
   *     or its content is invalid
   */
  public static TargetCacheMeta read(Configuration conf, Path root) throws IOException {
    VersionedJsonFile.Text text = VersionedJsonFile.read(conf, path(root));
    return fromJson(text.json(), text.source());
  }

  /**
   * Writes {@code <root>/_cache_meta.json}, the completion marker of the cache: to a hidden
   * temporary sibling first, then renamed (atomic on HDFS and local disk; a copy of this small file
   * on S3A).
   *
   * @return the written file, fully qualified
   * @throws FileAlreadyExistsException when the meta file exists
   */
  public Path write(Configuration conf, Path root) throws IOException {
    return VersionedJsonFile.writeNew(conf, path(root), toJson());
  }
}
