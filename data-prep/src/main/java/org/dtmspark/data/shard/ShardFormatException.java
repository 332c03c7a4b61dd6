package org.dtmspark.data.shard;

import java.io.IOException;

/**
 * A shard, reject file or manifest that this code cannot read: wrong or missing format version,
 * wrong content, or a schema without the expected columns. The message names the file.
 */
public final class ShardFormatException extends IOException {
  private static final long serialVersionUID = 1L;

  public ShardFormatException(String message) {
    super(message);
  }

  public ShardFormatException(String message, Throwable cause) {
    super(message, cause);
  }
}
