package org.dtmspark.data.plan;

import java.io.Serializable;

/**
 * An input file that could be an image but cannot be used, decided from the listing alone: a val
 * image without a label row, an image of a wnid not in the synset list, a file outside any class
 * directory.
 *
 * @param location the file's location, in the form of {@link SourceImage#location()}
 * @param reason why it cannot be used, e.g. {@code unknown wnid n99999999}
 */
public record ListingReject(String location, String reason) implements Serializable {
  /** Validates the fields. */
  public ListingReject {
    if (location == null || location.isEmpty() || reason == null || reason.isEmpty()) {
      throw new IllegalArgumentException(
          "Reject location and reason must be non-empty, cannot be: " + location + ", " + reason);
    }
  }
}
