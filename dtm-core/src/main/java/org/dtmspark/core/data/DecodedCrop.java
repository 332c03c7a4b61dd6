package org.dtmspark.core.data;

/**
 * What a {@link RasterDecoder} returns: the view chosen for the image and a raster that holds at
 * least the view's crop box.
 *
 * @param view the view, crop box in the whole image's coordinates
 * @param raster the decoded pixels: the whole image, or a region of it
 * @param originX column of the whole image at the raster's left edge
 * @param originY row of the whole image at the raster's top edge
 */
public record DecodedCrop(ViewParams view, ByteRaster raster, int originX, int originY) {
  public DecodedCrop {
    if (view == null || raster == null) {
      throw new IllegalArgumentException("View and raster must be given");
    }
    if (originX < 0
        || originY < 0
        || view.cropX() < originX
        || view.cropY() < originY
        || (long) view.cropX() + view.cropWidth() > (long) originX + raster.width()
        || (long) view.cropY() + view.cropHeight() > (long) originY + raster.height()) {
      throw new IllegalArgumentException(
          "Crop box of "
              + view
              + " must lie inside the decoded region (x="
              + originX
              + ", y="
              + originY
              + ", width="
              + raster.width()
              + ", height="
              + raster.height()
              + ")");
    }
  }
}
