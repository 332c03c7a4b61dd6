package org.dtmspark.data.shard;

/**
 * A committed Parquet file.
 *
 * @param path the file's final, fully qualified path
 * @param rows rows written
 * @param bytes file size in bytes
 * @param sha256 lower-case hex SHA-256 of the file's bytes, computed while writing
 */
public record WrittenShard(String path, long rows, long bytes, String sha256) {
  public WrittenShard {
    if (path == null || path.isEmpty()) {
      throw new IllegalArgumentException("Shard path must be non-empty, cannot be: " + path);
    }
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
}
