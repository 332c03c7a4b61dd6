package org.dtmspark.data.shard;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.UUID;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileAlreadyExistsException;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * The small JSON files that mark a data-prep output complete ({@code _manifest.json}, {@code
 * _cache_meta.json}): version-checked parsing, reading from and atomic writing to any Hadoop
 * filesystem. For data-prep's formats, not a user API.
 */
public final class VersionedJsonFile {
  private VersionedJsonFile() {}

  /** Text read from a file and the file's fully qualified name. */
  public record Text(String json, String source) {}

  /**
   * Parses {@code json} as {@code type} after checking its integer {@code format_version}.
   *
   * @param label what the file is, capitalised, for messages ("Manifest", "Cache meta")
   * @param source where the text came from, for messages
   * @throws ShardFormatException naming {@code source} for invalid JSON, a missing or other
   *     version, or content that does not bind to {@code type}
   */
  public static <T> T parse(
      ObjectMapper mapper, String json, String source, String label, int version, Class<T> type)
      throws ShardFormatException {
    JsonNode tree;
    try {
      tree = mapper.readTree(json);
    } catch (JsonProcessingException e) {
      throw new ShardFormatException(
          label + " " + source + " is not valid JSON: " + e.getOriginalMessage(), e);
    }
    JsonNode found = tree == null ? null : tree.get("format_version");
    if (found == null || !found.isInt()) {
      throw new ShardFormatException(
          label
              + " "
              + source
              + " has no integer format_version; it is not a dtm-spark "
              + label.toLowerCase(Locale.ROOT));
    }
    if (found.intValue() != version) {
      throw new ShardFormatException(
          label
              + " "
              + source
              + " has format version "
              + found.intValue()
              + "; this reader reads version "
              + version);
    }
    try {
      return mapper.treeToValue(tree, type);
    } catch (JsonProcessingException e) {
      throw new ShardFormatException(
          label + " " + source + " is invalid: " + e.getOriginalMessage(), e);
    }
  }

  /** Reads {@code file} as UTF-8 from any Hadoop filesystem. */
  public static Text read(Configuration conf, Path file) throws IOException {
    FileSystem fs = file.getFileSystem(conf);
    byte[] bytes;
    try (InputStream in = fs.open(file)) {
      bytes = in.readAllBytes();
    }
    return new Text(new String(bytes, StandardCharsets.UTF_8), fs.makeQualified(file).toString());
  }

  /**
   * Writes {@code json} to {@code file}, which must not exist: to a hidden temporary sibling first,
   * then renamed (atomic on HDFS and local disk; a copy of this small file on S3A).
   *
   * @return the written file, fully qualified
   * @throws FileAlreadyExistsException when the file exists or appears while being written
   */
  public static Path writeNew(Configuration conf, Path file, String json) throws IOException {
    FileSystem fs = file.getFileSystem(conf);
    Path target = fs.makeQualified(file);
    if (fs.exists(target)) {
      throw new FileAlreadyExistsException("Cannot write " + target + ": the file already exists");
    }
    Path temp =
        new Path(target.getParent(), "." + target.getName() + ".inprogress-" + UUID.randomUUID());
    byte[] bytes = json.getBytes(StandardCharsets.UTF_8);
    try {
      try (OutputStream out = fs.create(temp, false)) {
        out.write(bytes);
      }
      if (fs.exists(target)) {
        throw new FileAlreadyExistsException(
            "Cannot write " + target + ": the file appeared while it was being written");
      }
      if (!fs.rename(temp, target)) {
        throw new IOException("Cannot rename " + temp + " to " + target);
      }
    } catch (IOException | RuntimeException e) {
      try {
        fs.delete(temp, false);
      } catch (IOException | RuntimeException d) {
        e.addSuppressed(d);
      }
      throw e;
    }
    return target;
  }
}
