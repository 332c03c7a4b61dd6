package org.dtmspark.data.plan;

import java.io.Serializable;
import java.util.List;

/**
 * What {@link InputScanner#scan} found: every entry it looked at is in exactly one of {@code
 * images}, {@code skipped} and {@code rejects}.
 *
 * @param images the candidate images, sorted by {@link SourceImage#ORDER}; each has a wnid in
 *     {@code synsets}
 * @param skipped entries deliberately not read, sorted by location
 * @param rejects files that cannot be used, sorted by location
 * @param synsets the class list that labels the images
 */
public record Listing(
    List<SourceImage> images,
    List<SkippedFile> skipped,
    List<ListingReject> rejects,
    SynsetList synsets)
    implements Serializable {

  /** Copies the lists. */
  public Listing {
    images = List.copyOf(images);
    skipped = List.copyOf(skipped);
    rejects = List.copyOf(rejects);
  }

  /** The number of entries found: images plus skipped plus rejects. */
  public long entriesFound() {
    return (long) images.size() + skipped.size() + rejects.size();
  }
}
