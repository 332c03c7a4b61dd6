package org.dtmspark.data.shard;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Collections;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileAlreadyExistsException;
import org.apache.hadoop.fs.Path;

/**
 * The {@value #FILE_NAME} of a sharded dataset, format version {@value #FORMAT_VERSION}: what was
 * found, what was written and what was left out. The sharding job writes it last, so a directory
 * without it is not a finished output.
 *
 * <p>JSON with snake_case keys; maps are written sorted by key. The constructor checks that the
 * counts agree (split totals equal their class counts and their shards' rows, the reject total
 * equals its reasons, every class is a synset) and that {@code synsetsSha256} is the hash of {@code
 * synsets} (see {@link #synsetsSha256(List)}).
 *
 * @param formatVersion always {@value #FORMAT_VERSION}
 * @param tool the program that wrote the output, e.g. {@code dtm-spark shard}
 * @param toolVersion its version
 * @param createdAt when the output was finished, ISO-8601 instant
 * @param splits per split name: image count and image count per wnid
 * @param shards every shard file, in split then file-name order
 * @param synsets the class list, in label order: label {@code i} is {@code synsets.get(i)}
 * @param synsetsSha256 {@link #synsetsSha256(List)} of {@code synsets}
 * @param rejects how many inputs became reject rows, in all and per reason
 * @param skipped inputs deliberately not read (hidden files, known non-image files)
 * @param options the job options, as resolved, for provenance
 * @param filesFound every input file the job found
 */
@JsonPropertyOrder({
  "format_version",
  "tool",
  "tool_version",
  "created_at",
  "files_found",
  "splits",
  "shards",
  "synsets",
  "synsets_sha256",
  "rejects",
  "skipped",
  "options"
})
public record Manifest(
    @JsonProperty("format_version") int formatVersion,
    @JsonProperty("tool") String tool,
    @JsonProperty("tool_version") String toolVersion,
    @JsonProperty("created_at") String createdAt,
    @JsonProperty("splits") Map<String, SplitSummary> splits,
    @JsonProperty("shards") List<ShardEntry> shards,
    @JsonProperty("synsets") List<String> synsets,
    @JsonProperty("synsets_sha256") String synsetsSha256,
    @JsonProperty("rejects") RejectSummary rejects,
    @JsonProperty("skipped") List<Skipped> skipped,
    @JsonProperty("options") Map<String, Object> options,
    @JsonProperty("files_found") long filesFound) {

  /** The version written by this code and the only version {@link #read} accepts. */
  public static final int FORMAT_VERSION = 1;

  /** File name under the output root. */
  public static final String FILE_NAME = "_manifest.json";

  private static final ObjectMapper JSON =
      JsonMapper.builder()
          .enable(SerializationFeature.INDENT_OUTPUT)
          .enable(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS)
          .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
          .enable(DeserializationFeature.FAIL_ON_MISSING_CREATOR_PROPERTIES)
          .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
          .build();

  /**
   * Images of one split.
   *
   * @param images number of image rows
   * @param classes image rows per wnid
   */
  public record SplitSummary(
      @JsonProperty("images") long images, @JsonProperty("classes") Map<String, Long> classes) {
    public SplitSummary {
      classes = sortedCopy(classes, "Class counts");
      long sum = 0;
      for (Map.Entry<String, Long> e : classes.entrySet()) {
        if (e.getValue() == null || e.getValue() < 0) {
          throw new IllegalArgumentException(
              "Image count of class "
                  + e.getKey()
                  + " must be at least 0, cannot be: "
                  + e.getValue());
        }
        sum += e.getValue();
      }
      if (images != sum) {
        throw new IllegalArgumentException(
            "Split image count must equal the sum of its class counts ("
                + sum
                + "), cannot be: "
                + images);
      }
    }
  }

  /**
   * One shard file.
   *
   * @param path path relative to the output root, e.g. {@code train/part-00000.parquet}
   * @param split the split it belongs to
   * @param rows image rows in the file
   * @param bytes file size
   * @param sha256 lower-case hex SHA-256 of the file's bytes
   */
  public record ShardEntry(
      @JsonProperty("path") String path,
      @JsonProperty("split") String split,
      @JsonProperty("rows") long rows,
      @JsonProperty("bytes") long bytes,
      @JsonProperty("sha256") String sha256) {
    public ShardEntry {
      requireText(path, "Shard path");
      requireText(split, "Split of shard " + path);
      requireText(sha256, "SHA-256 of shard " + path);
      if (rows < 0 || bytes < 0) {
        throw new IllegalArgumentException(
            "Rows and bytes of shard "
                + path
                + " must be at least 0, cannot be: "
                + rows
                + ", "
                + bytes);
      }
    }

    /** The entry for {@code written}, stored at {@code relativePath} under the output root. */
    public static ShardEntry of(String relativePath, String split, WrittenShard written) {
      return new ShardEntry(relativePath, split, written.rows(), written.bytes(), written.sha256());
    }
  }

  /**
   * Inputs that became reject rows.
   *
   * @param total number of reject rows
   * @param byReason reject rows per reason
   */
  public record RejectSummary(
      @JsonProperty("total") long total, @JsonProperty("by_reason") Map<String, Long> byReason) {
    /** No rejects. */
    public static final RejectSummary NONE = new RejectSummary(0, Map.of());

    public RejectSummary {
      byReason = sortedCopy(byReason, "Reject counts");
      long sum = byReason.values().stream().mapToLong(Long::longValue).sum();
      if (total != sum) {
        throw new IllegalArgumentException(
            "Reject total must equal the sum of its counts by reason ("
                + sum
                + "), cannot be: "
                + total);
      }
    }
  }

  /**
   * An input deliberately not read.
   *
   * @param location where it was
   * @param reason why it was skipped, e.g. {@code hidden file}
   */
  public record Skipped(
      @JsonProperty("location") String location, @JsonProperty("reason") String reason) {
    public Skipped {
      requireText(location, "Skipped location");
      requireText(reason, "Reason for skipping " + location);
    }
  }

  public Manifest {
    if (formatVersion != FORMAT_VERSION) {
      throw new IllegalArgumentException(
          "Manifest format version must be " + FORMAT_VERSION + ", cannot be: " + formatVersion);
    }
    requireText(tool, "Tool");
    requireText(toolVersion, "Tool version");
    requireText(createdAt, "Creation time");
    splits = sortedCopy(splits, "Splits");
    shards = List.copyOf(requireNonNull(shards, "Shards"));
    synsets = List.copyOf(requireNonNull(synsets, "Synsets"));
    if (rejects == null) {
      throw new IllegalArgumentException("Reject summary must be present, cannot be: null");
    }
    skipped = List.copyOf(requireNonNull(skipped, "Skipped"));
    options = Collections.unmodifiableMap(new TreeMap<>(requireNonNull(options, "Options")));
    if (filesFound < 0) {
      throw new IllegalArgumentException(
          "Number of files found must be at least 0, cannot be: " + filesFound);
    }
    String expected = synsetsSha256(synsets);
    if (!expected.equals(synsetsSha256)) {
      throw new IllegalArgumentException(
          "Synsets SHA-256 must be the hash of the synset list ("
              + expected
              + "), cannot be: "
              + synsetsSha256);
    }
    checkCounts(splits, shards, synsets);
  }

  private static void checkCounts(
      Map<String, SplitSummary> splits, List<ShardEntry> shards, List<String> synsets) {
    Set<String> known = new HashSet<>(synsets);
    if (known.size() != synsets.size()) {
      throw new IllegalArgumentException("Synsets must be distinct, cannot be: " + synsets);
    }
    Map<String, Long> rowsPerSplit = new TreeMap<>();
    for (ShardEntry shard : shards) {
      if (!splits.containsKey(shard.split())) {
        throw new IllegalArgumentException(
            "Split of shard "
                + shard.path()
                + " must be one of "
                + splits.keySet()
                + ", cannot be: "
                + shard.split());
      }
      rowsPerSplit.merge(shard.split(), shard.rows(), Long::sum);
    }
    for (Map.Entry<String, SplitSummary> e : splits.entrySet()) {
      long rows = rowsPerSplit.getOrDefault(e.getKey(), 0L);
      if (e.getValue().images() != rows) {
        throw new IllegalArgumentException(
            "Image count of split "
                + e.getKey()
                + " must equal the rows of its shards ("
                + rows
                + "), cannot be: "
                + e.getValue().images());
      }
      for (String wnid : e.getValue().classes().keySet()) {
        if (!known.contains(wnid)) {
          throw new IllegalArgumentException(
              "Class " + wnid + " of split " + e.getKey() + " must be in the synset list");
        }
      }
    }
  }

  /** Image rows in all shards. */
  public long totalRows() {
    return shards.stream().mapToLong(ShardEntry::rows).sum();
  }

  /**
   * The invariant of a finished output: every file found became an image row, a reject row, or a
   * skipped entry, i.e. {@code rows + rejects + skipped == filesFound}.
   */
  public boolean accountsForEveryFile() {
    return totalRows() + rejects.total() + skipped.size() == filesFound;
  }

  /** The shards of {@code split}, in manifest order. */
  public List<ShardEntry> shards(String split) {
    return shards.stream().filter(s -> s.split().equals(split)).toList();
  }

  /**
   * SHA-256 (lower-case hex) of a synset list: of the UTF-8 text with one wnid per line, each line
   * ending in {@code \n}, i.e. of the synset file {@code sha256sum} would hash.
   */
  public static String synsetsSha256(List<String> synsets) {
    StringBuilder text = new StringBuilder();
    for (String wnid : requireNonNull(synsets, "Synsets")) {
      text.append(wnid).append('\n');
    }
    return sha256Hex(text.toString());
  }

  /** This manifest as JSON text, ending in a newline. */
  public String toJson() {
    try {
      return JSON.writeValueAsString(this) + "\n";
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("Cannot serialise manifest: " + e.getMessage(), e);
    }
  }

  /**
   * Parses a manifest, checking its format version first.
   *
   * @param source where the text came from, for error messages
   * @throws ShardFormatException naming {@code source} when the version is not {@value
   *     #FORMAT_VERSION} or the content is invalid
   */
  public static Manifest fromJson(String json, String source) throws ShardFormatException {
    return VersionedJsonFile.parse(JSON, json, source, "Manifest", FORMAT_VERSION, Manifest.class);
  }

  /** The manifest file of the output at {@code root}. */
  public static Path path(Path root) {
    return new Path(root, FILE_NAME);
  }

  /**
   * Reads {@code <root>/_manifest.json} from any Hadoop filesystem.
   *
   * @throws ShardFormatException naming the file when its version is not {@value #FORMAT_VERSION}
   *     or its content is invalid
   */
  public static Manifest read(Configuration conf, Path root) throws IOException {
    VersionedJsonFile.Text text = VersionedJsonFile.read(conf, path(root));
    return fromJson(text.json(), text.source());
  }

  /**
   * Lower-case hex SHA-256 of the bytes of {@code <root>/_manifest.json}: the identity of a shard
   * set, which caches derived from it record.
   */
  public static String fileSha256(Configuration conf, Path root) throws IOException {
    VersionedJsonFile.Text text = VersionedJsonFile.read(conf, path(root));
    return sha256Hex(text.json());
  }

  /** Lower-case hex SHA-256 of the UTF-8 bytes of {@code text}. */
  static String sha256Hex(String text) {
    try {
      MessageDigest sha = MessageDigest.getInstance("SHA-256");
      return HexFormat.of().formatHex(sha.digest(text.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this JVM", e);
    }
  }

  /**
   * Writes {@code <root>/_manifest.json} atomically where the filesystem's rename is (HDFS, local):
   * to a hidden temporary sibling first, then renamed. On S3A the rename is a copy of this small
   * file.
   *
   * @return the written file, fully qualified
   * @throws FileAlreadyExistsException when the manifest exists
   */
  public Path write(Configuration conf, Path root) throws IOException {
    return VersionedJsonFile.writeNew(conf, path(root), toJson());
  }

  private static <V> Map<String, V> sortedCopy(Map<String, V> map, String what) {
    TreeMap<String, V> sorted = new TreeMap<>(requireNonNull(map, what));
    return Collections.unmodifiableMap(sorted);
  }

  private static <T> T requireNonNull(T value, String what) {
    if (value == null) {
      throw new IllegalArgumentException(what + " must be present, cannot be: null");
    }
    return value;
  }

  private static void requireText(String value, String what) {
    if (value == null || value.isEmpty()) {
      throw new IllegalArgumentException(
          what + " must be a non-empty string, cannot be: " + (value == null ? "null" : "''"));
    }
  }
}
