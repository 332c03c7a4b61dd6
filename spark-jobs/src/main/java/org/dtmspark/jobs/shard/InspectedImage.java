package org.dtmspark.jobs.shard;

import java.io.Serializable;

/**
 * One input after inspection, on its way to its shard: either the row to store or the reason it was
 * rejected ({@code image == null}).
 */
record InspectedImage(
    long imageId,
    String split,
    String key,
    String wnid,
    int label,
    String source,
    byte[] image,
    String format,
    int width,
    int height,
    String sha256,
    String reencoded,
    String rejectReason)
    implements Serializable {
  boolean rejected() {
    return rejectReason != null;
  }
}
