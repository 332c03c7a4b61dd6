package org.dtmspark.data;

import org.dtmspark.core.data.ImageDataset;
import org.dtmspark.core.data.RgbImage;
import org.dtmspark.data.idx.IdxDataset;

/** An MNIST-family idx dataset held in memory, decoded to RGB on access. */
public final class IdxImageDataset implements ImageDataset {
  private final String id;
  private final IdxDataset data;
  private final int[] labels;
  private final int numClasses;

  public IdxImageDataset(String id, IdxDataset data) {
    this.id = id;
    this.data = data;
    this.labels = data.labels().toIntArray();
    int max = -1;
    for (int label : labels) {
      max = Math.max(max, label);
    }
    this.numClasses = max + 1;
  }

  @Override
  public String id() {
    return id;
  }

  @Override
  public int size() {
    return labels.length;
  }

  @Override
  public int numClasses() {
    return numClasses;
  }

  @Override
  public int label(int index) {
    return labels[index];
  }

  @Override
  public RgbImage image(int index) {
    return data.images().toRgbImage(index);
  }
}
