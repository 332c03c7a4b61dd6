package org.dtmspark.data.cache;

import java.io.IOException;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.dtmspark.data.shard.RejectReader;
import org.dtmspark.data.shard.RejectRow;
import org.dtmspark.data.shard.RejectSchema;

/**
 * Images of a split that have no targets: images the targets job could not decode. They are written
 * as reject rows ({@link RejectRow}, the format of the image shards' rejects), one file per cache
 * file: {@code <cache>/_rejects/part-NNNNN.parquet} holds the rejects of the image shard whose
 * targets are in {@code <cache>/part-NNNNN.parquet}, and exists only when that shard has any. The
 * job commits a reject file before its cache file, so a committed cache file always has its
 * rejects.
 *
 * <p>A reject row's location is {@code <image shard>#image_id=<id>}, its split the image's split,
 * its reason {@value #REASON} followed by the key and the decoder's message.
 */
public final class TargetRejects {
  /** The reason, up to the first colon, of every reject row the targets job writes. */
  public static final String REASON = "undecodable image";

  private static final String ID_MARK = "#image_id=";

  private TargetRejects() {}

  /** The reject file of cache file {@code cacheFileName} under {@code cacheRoot}. */
  public static Path path(Path cacheRoot, String cacheFileName) {
    return new Path(new Path(cacheRoot, RejectSchema.DIRECTORY), cacheFileName);
  }

  /**
   * The reject row of an image the teacher job could not decode.
   *
   * @param imageShard location of the image shard holding the image
   * @param imageId the image's id
   * @param key the image's key
   * @param split the image's split
   * @param message why decoding failed
   */
  public static RejectRow row(
      String imageShard, long imageId, String key, String split, String message) {
    return new RejectRow(
        imageShard + ID_MARK + imageId, split, REASON + ": " + key + ": " + message);
  }

  /**
   * The image id of a reject row made by {@link #row}.
   *
   * @throws IllegalArgumentException naming the location when it holds no image id
   */
  public static long imageId(RejectRow row) {
    String location = row.location();
    int at = location.lastIndexOf(ID_MARK);
    if (at < 0) {
      throw new IllegalArgumentException(
          "Reject location must end in " + ID_MARK + "<id>, cannot be: " + location);
    }
    try {
      return Long.parseLong(location.substring(at + ID_MARK.length()));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(
          "Reject location must end in " + ID_MARK + "<id>, cannot be: " + location, e);
    }
  }

  /** The rejects of cache file {@code cacheFileName}: empty when it has no reject file. */
  public static List<RejectRow> read(Configuration conf, Path cacheRoot, String cacheFileName)
      throws IOException {
    Path file = path(cacheRoot, cacheFileName);
    FileSystem fs = file.getFileSystem(conf);
    if (!fs.exists(file)) {
      return List.of();
    }
    return RejectReader.readAll(conf, file);
  }
}
