package org.dtmspark.data.idx;

/**
 * Images and their labels, one label per image.
 *
 * @param images the images
 * @param labels one label per image, {@code labels.count() == images.count()}
 */
public record IdxDataset(IdxImages images, IdxLabels labels) {

  public IdxDataset {
    if (images.count() != labels.count()) {
      throw new IllegalArgumentException(
          "Number of labels must equal the number of images ("
              + images.count()
              + "), cannot be: "
              + labels.count());
    }
  }

  /** Number of examples. */
  public int count() {
    return images.count();
  }

  /** The examples at {@code indices}, in that order. */
  public IdxDataset select(int[] indices) {
    return new IdxDataset(images.select(indices), labels.select(indices));
  }
}
