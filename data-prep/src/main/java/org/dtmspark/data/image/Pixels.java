package org.dtmspark.data.image;

import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.ColorModel;
import java.awt.image.IndexColorModel;
import java.awt.image.Raster;
import java.awt.image.WritableRaster;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import javax.imageio.IIOImage;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.stream.ImageOutputStream;
import javax.imageio.stream.MemoryCacheImageOutputStream;

/** Pixel conversions for re-encoding: to 8-bit gray or RGB, scaling down, JPEG encoding. */
final class Pixels {
  private Pixels() {}

  /** Whether the image is gray (one colour component, no palette), with or without alpha. */
  static boolean isGray(BufferedImage image) {
    ColorModel cm = image.getColorModel();
    return cm.getColorSpace().getType() == ColorSpace.TYPE_GRAY && !(cm instanceof IndexColorModel);
  }

  /**
   * The image as 8-bit gray ({@code TYPE_BYTE_GRAY}) when it is gray, else as 8-bit RGB; alpha is
   * dropped, not composited (as the training decoder does). Gray samples are copied and scaled to 8
   * bits, not sent through colour conversion (which would treat them as linear light).
   */
  static BufferedImage toGrayOrRgb(BufferedImage src) {
    int w = src.getWidth();
    int h = src.getHeight();
    int type = src.getType();
    if (type == BufferedImage.TYPE_BYTE_GRAY
        || type == BufferedImage.TYPE_INT_RGB
        || type == BufferedImage.TYPE_3BYTE_BGR) {
      return src;
    }
    int[] row = new int[w];
    if (isGray(src)) {
      BufferedImage out = new BufferedImage(w, h, BufferedImage.TYPE_BYTE_GRAY);
      Raster in = src.getRaster();
      WritableRaster dst = out.getRaster();
      long max = (1L << src.getColorModel().getComponentSize(0)) - 1;
      for (int y = 0; y < h; y++) {
        in.getSamples(0, y, w, 1, 0, row);
        for (int x = 0; x < w; x++) {
          row[x] = (int) ((row[x] * 255L + max / 2) / max);
        }
        dst.setSamples(0, y, w, 1, 0, row);
      }
      return out;
    }
    BufferedImage out = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
    for (int y = 0; y < h; y++) {
      src.getRGB(0, y, w, 1, row, 0, w);
      out.setRGB(0, y, w, 1, row, 0, w);
    }
    return out;
  }

  /**
   * Scales {@code src} (8-bit gray or RGB, see {@link #toGrayOrRgb}) down so that its shorter side
   * is {@code shorterSide}, keeping the aspect ratio (the longer side rounded to the nearest
   * pixel). Halves with bilinear filtering (an exact 2 x 2 average) while the image is at least
   * twice the target, then makes the last step bicubic, so large reductions do not alias.
   */
  static BufferedImage scaleShorterSide(BufferedImage src, int shorterSide) {
    int w = src.getWidth();
    int h = src.getHeight();
    int targetW;
    int targetH;
    if (w <= h) {
      targetW = shorterSide;
      targetH = (int) Math.max(1, Math.round((double) h * shorterSide / w));
    } else {
      targetH = shorterSide;
      targetW = (int) Math.max(1, Math.round((double) w * shorterSide / h));
    }
    BufferedImage current = src;
    while (current.getWidth() / 2 >= targetW && current.getHeight() / 2 >= targetH) {
      current =
          draw(
              current,
              current.getWidth() / 2,
              current.getHeight() / 2,
              RenderingHints.VALUE_INTERPOLATION_BILINEAR);
    }
    if (current.getWidth() != targetW || current.getHeight() != targetH) {
      current = draw(current, targetW, targetH, RenderingHints.VALUE_INTERPOLATION_BICUBIC);
    }
    return current;
  }

  private static BufferedImage draw(BufferedImage src, int w, int h, Object interpolation) {
    int type =
        src.getType() == BufferedImage.TYPE_BYTE_GRAY
            ? BufferedImage.TYPE_BYTE_GRAY
            : BufferedImage.TYPE_INT_RGB;
    BufferedImage out = new BufferedImage(w, h, type);
    Graphics2D g = out.createGraphics();
    try {
      g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, interpolation);
      g.setRenderingHint(RenderingHints.KEY_RENDERING, RenderingHints.VALUE_RENDER_QUALITY);
      g.setRenderingHint(
          RenderingHints.KEY_COLOR_RENDERING, RenderingHints.VALUE_COLOR_RENDER_QUALITY);
      g.drawImage(src, 0, 0, w, h, null);
    } finally {
      g.dispose();
    }
    return out;
  }

  /** Encodes an 8-bit gray or RGB image as a baseline JFIF JPEG at {@code quality} in (0, 1]. */
  static byte[] encodeJpeg(BufferedImage image, float quality) {
    ImageWriter writer;
    try {
      writer = Codecs.JPEG_WRITER.createWriterInstance();
    } catch (IOException e) {
      throw new IllegalStateException("Cannot create a JPEG writer", e);
    }
    try {
      ImageWriteParam param = writer.getDefaultWriteParam();
      param.setCompressionMode(ImageWriteParam.MODE_EXPLICIT);
      param.setCompressionQuality(quality);
      ByteArrayOutputStream bytes = new ByteArrayOutputStream();
      try (ImageOutputStream out = new MemoryCacheImageOutputStream(bytes)) {
        writer.setOutput(out);
        writer.write(null, new IIOImage(image, null, null), param);
      }
      return bytes.toByteArray();
    } catch (IOException e) {
      throw new IllegalStateException("Cannot encode a JPEG in memory", e);
    } finally {
      writer.dispose();
    }
  }
}
