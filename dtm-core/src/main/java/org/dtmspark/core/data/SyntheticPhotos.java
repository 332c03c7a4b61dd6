package org.dtmspark.core.data;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.GradientPaint;
import java.awt.Graphics2D;
import java.awt.Polygon;
import java.awt.RenderingHints;
import java.awt.geom.Ellipse2D;
import java.awt.geom.Rectangle2D;
import java.awt.image.BufferedImage;
import java.awt.image.DataBufferByte;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.Iterator;
import java.util.SplittableRandom;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.stream.ImageOutputStream;
import javax.imageio.stream.MemoryCacheImageOutputStream;

/**
 * Seeded photo-like test images for loader benchmarks and tests: not flat colour, which a JPEG
 * codec compresses to almost nothing and decodes unrealistically fast, but what makes a photo cost
 * what it costs to decode: a smooth two-colour gradient with a low-frequency wave (sky, walls), a
 * dozen overlapping shapes with their own gradients and hard, anti-aliased edges (objects), strokes
 * (thin structure), and Gaussian sensor noise on every sample (texture). At quality 0.9 a 500 x 375
 * image encodes to roughly the size of an ImageNet JPEG of that size (100-200 KB).
 */
public final class SyntheticPhotos {
  private static final double NOISE_SIGMA = 16.0;
  private static final double TEXTURE_AMPLITUDE = 8.0;

  private SyntheticPhotos() {}

  /**
   * A {@code width x height} sRGB image ({@code TYPE_3BYTE_BGR}), a pure function of the seed.
   *
   * @param width width in pixels, at least 1
   * @param height height in pixels, at least 1
   * @param seed the seed
   */
  public static BufferedImage image(int width, int height, long seed) {
    if (width < 1 || height < 1) {
      throw new IllegalArgumentException(
          "Image size must be at least 1 x 1, cannot be: " + width + " x " + height);
    }
    SplittableRandom rng = new SplittableRandom(seed);
    BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_3BYTE_BGR);
    Graphics2D g = image.createGraphics();
    try {
      g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
      g.setPaint(
          new GradientPaint(
              0, 0, color(rng), (float) width, (float) height, color(rng), rng.nextBoolean()));
      g.fillRect(0, 0, width, height);
      for (int i = 0; i < 12; i++) {
        float x = (float) (rng.nextDouble() * width);
        float y = (float) (rng.nextDouble() * height);
        float w = (float) ((0.05 + 0.4 * rng.nextDouble()) * width);
        float h = (float) ((0.05 + 0.4 * rng.nextDouble()) * height);
        g.setPaint(new GradientPaint(x, y, color(rng), x + w, y + h, color(rng)));
        switch (rng.nextInt(3)) {
          case 0 -> g.fill(new Ellipse2D.Float(x - w / 2, y - h / 2, w, h));
          case 1 -> g.fill(new Rectangle2D.Float(x - w / 2, y - h / 2, w, h));
          default -> {
            Polygon p = new Polygon();
            for (int k = 0; k < 3 + rng.nextInt(4); k++) {
              p.addPoint(
                  (int) (x + (rng.nextDouble() - 0.5) * 2 * w),
                  (int) (y + (rng.nextDouble() - 0.5) * 2 * h));
            }
            g.fill(p);
          }
        }
      }
      for (int i = 0; i < 8; i++) {
        g.setStroke(new BasicStroke((float) (1 + 4 * rng.nextDouble())));
        g.setColor(color(rng));
        g.drawLine(
            rng.nextInt(width), rng.nextInt(height), rng.nextInt(width), rng.nextInt(height));
      }
    } finally {
      g.dispose();
    }
    byte[] data = ((DataBufferByte) image.getRaster().getDataBuffer()).getData();
    double waveX = 2 * Math.PI * (1 + 3 * rng.nextDouble()) / width;
    double waveY = 2 * Math.PI * (1 + 3 * rng.nextDouble()) / height;
    // A fine texture (fabric, foliage): three gratings of random orientation, periods 4-16 pixels.
    double[] fx = new double[3];
    double[] fy = new double[3];
    for (int i = 0; i < 3; i++) {
      double angle = Math.PI * rng.nextDouble();
      double frequency = 2 * Math.PI / (4 + 12 * rng.nextDouble());
      fx[i] = frequency * Math.cos(angle);
      fy[i] = frequency * Math.sin(angle);
    }
    for (int y = 0; y < height; y++) {
      for (int x = 0; x < width; x++) {
        double wave = 12 * Math.sin(x * waveX) * Math.cos(y * waveY);
        for (int i = 0; i < 3; i++) {
          wave += TEXTURE_AMPLITUDE * Math.sin(x * fx[i] + y * fy[i]);
        }
        int p = 3 * (y * width + x);
        for (int c = 0; c < 3; c++) {
          double v = (data[p + c] & 0xFF) + wave + NOISE_SIGMA * rng.nextGaussian();
          data[p + c] = (byte) Math.max(0, Math.min(255, (int) Math.round(v)));
        }
      }
    }
    return image;
  }

  /**
   * {@link #image} encoded as a baseline JFIF JPEG by the JDK's writer.
   *
   * @param quality JPEG quality in {@code (0, 1]}
   */
  public static byte[] jpeg(int width, int height, long seed, float quality) {
    return encodeJpeg(image(width, height, seed), quality, false);
  }

  /**
   * Encodes an image as JPEG with the JDK's writer (YCbCr, 4:2:0 for colour).
   *
   * @param quality JPEG quality in {@code (0, 1]}
   * @param progressive whether to write a progressive JPEG instead of a baseline one
   */
  public static byte[] encodeJpeg(BufferedImage image, float quality, boolean progressive) {
    if (!(quality > 0 && quality <= 1)) {
      throw new IllegalArgumentException("JPEG quality must be in (0, 1], cannot be: " + quality);
    }
    Iterator<ImageWriter> writers = ImageIO.getImageWritersByFormatName("jpeg");
    if (!writers.hasNext()) {
      throw new IllegalStateException("No ImageIO writer for JPEG is installed");
    }
    ImageWriter writer = writers.next();
    try {
      ImageWriteParam param = writer.getDefaultWriteParam();
      param.setCompressionMode(ImageWriteParam.MODE_EXPLICIT);
      param.setCompressionQuality(quality);
      if (progressive) {
        param.setProgressiveMode(ImageWriteParam.MODE_DEFAULT);
      }
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

  private static Color color(SplittableRandom rng) {
    return new Color(rng.nextInt(256), rng.nextInt(256), rng.nextInt(256));
  }
}
