package org.dtmspark.data.shard;

import java.io.Serializable;

/**
 * One input that could not be used as an image row.
 *
 * @param location where the input was: a path, or an archive path plus the member name
 * @param split the split it was meant for, or null when none applies
 * @param reason why it was rejected, a short stable phrase (for example {@code truncated}), counted
 *     by reason in the manifest
 */
public record RejectRow(String location, String split, String reason) implements Serializable {
  public RejectRow {
    if (location == null || location.isEmpty()) {
      throw new IllegalArgumentException(
          "Reject location must be a non-empty string, cannot be: " + location);
    }
    if (reason == null || reason.isEmpty()) {
      throw new IllegalArgumentException(
          "Reject reason for " + location + " must be a non-empty string, cannot be: " + reason);
    }
  }
}
