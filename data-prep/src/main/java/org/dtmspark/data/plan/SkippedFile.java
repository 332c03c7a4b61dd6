package org.dtmspark.data.plan;

import java.io.Serializable;

/**
 * An input entry deliberately not read: a hidden file, a known non-image file ({@code .DS_Store},
 * {@code *.txt}, ...), or a directory that is not an input (listed once, not descended).
 *
 * @param location the file's or directory's location, in the form of {@link SourceImage#location()}
 * @param reason why it was not read
 */
public record SkippedFile(String location, String reason) implements Serializable {
  /** Validates the fields. */
  public SkippedFile {
    if (location == null || location.isEmpty() || reason == null || reason.isEmpty()) {
      throw new IllegalArgumentException(
          "Skipped file location and reason must be non-empty, cannot be: "
              + location
              + ", "
              + reason);
    }
  }
}
