package org.dtmspark.core.data;

import java.awt.Rectangle;
import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.ColorModel;
import java.awt.image.DataBufferByte;
import java.awt.image.IndexColorModel;
import java.awt.image.PixelInterleavedSampleModel;
import java.awt.image.Raster;
import java.awt.image.SampleModel;
import java.io.IOException;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.Function;
import javax.imageio.ImageIO;
import javax.imageio.ImageReadParam;
import javax.imageio.ImageReader;
import javax.imageio.spi.IIORegistry;
import javax.imageio.spi.ImageReaderSpi;
import javax.imageio.stream.ImageInputStream;

/**
 * A {@link RasterDecoder} over ImageIO readers, reused across images (one reader per plug-in).
 *
 * <p><b>Straight into the raster.</b> The reader's image is used as it comes when its pixels are
 * 8-bit samples interleaved in one byte buffer, gray or sRGB (what the JDK's JPEG reader and
 * TwelveMonkeys' give for gray, YCbCr and converted CMYK JPEGs, and the PNG reader for 8-bit gray,
 * RGB and RGBA): its buffer becomes the {@link ByteRaster}, no per-pixel conversion. Other images
 * (palette, 16 bits per sample, colour spaces other than sRGB) are converted as {@link
 * RgbImage#fromBufferedImage} converts them: gray samples scaled to 8 bits, everything else through
 * the colour model to sRGB with {@code getRGB}.
 *
 * <p><b>Regions.</b> For JPEG and PNG, only the view's crop box is decoded ({@link
 * ImageReadParam#setSourceRegion}): both readers produce every row in order and copy out the
 * region, so the pixels equal those of a full decode (tested for baseline, progressive, gray, CMYK
 * and YCCK JPEGs and for PNGs), and the JPEG reader stops after the region's last row. Other
 * formats are decoded whole.
 */
public final class ImageIoRasterDecoder implements RasterDecoder {
  /** Largest image decoded, in pixels (2^27, as data preparation's limit); larger are refused. */
  public static final long MAX_PIXELS = 1L << 27;

  private static final Set<String> REGION_FORMATS = Set.of("jpeg", "jpg", "png");

  private final Function<String, ImageReaderSpi> readerFor;
  private final boolean regions;
  private final Map<ImageReaderSpi, ImageReader> readers = new HashMap<>();

  /** Reader providers by lower-case format name; a name without one is looked up again. */
  private final Map<String, ImageReaderSpi> byFormat = new HashMap<>();

  /**
   * A decoder choosing readers as {@link ImageIO} does (the first registered reader for the format
   * name, or for the bytes when no format is given), decoding regions where it can.
   */
  public ImageIoRasterDecoder() {
    this(null, true);
  }

  /**
   * A decoder with a given choice of readers.
   *
   * @param readerFor the reader provider for a lower-case format name, or null where none is
   *     installed; null to choose as {@link ImageIO} does
   * @param regions whether to decode only the crop box where the format allows (false decodes every
   *     image whole, for comparisons)
   */
  public ImageIoRasterDecoder(Function<String, ImageReaderSpi> readerFor, boolean regions) {
    this.readerFor = readerFor;
    this.regions = regions;
  }

  @Override
  public DecodedCrop decode(byte[] bytes, String format, ViewChoice choice, String sourceName) {
    Objects.requireNonNull(choice, "choice");
    try (ImageInputStream in = new ByteArrayImageInputStream(bytes)) {
      ImageReaderSpi spi = provider(in, format, sourceName, bytes.length);
      ImageReader reader = reader(spi);
      boolean done = false;
      try {
        reader.setInput(in, true, true);
        int width = reader.getWidth(0);
        int height = reader.getHeight(0);
        if ((long) width * height > MAX_PIXELS) {
          throw new ImageDecodeException(
              "Cannot decode image "
                  + sourceName
                  + ": "
                  + width
                  + " x "
                  + height
                  + " pixels is more than the limit of "
                  + MAX_PIXELS,
              null);
        }
        ViewParams view;
        try {
          view = choice.choose(width, height);
          view.requireFitsIn(width, height);
        } catch (RuntimeException e) {
          throw new BadView(e);
        }
        ImageReadParam param = reader.getDefaultReadParam();
        boolean region =
            regions
                && regionFormat(spi)
                && (view.cropWidth() < width || view.cropHeight() < height);
        if (region) {
          param.setSourceRegion(
              new Rectangle(view.cropX(), view.cropY(), view.cropWidth(), view.cropHeight()));
        }
        BufferedImage image = reader.read(0, param);
        if (image == null) {
          throw new ImageDecodeException(
              "Cannot decode image " + sourceName + ": the decoder returned no pixels", null);
        }
        ByteRaster raster = toByteRaster(image);
        done = true;
        return region
            ? new DecodedCrop(view, raster, view.cropX(), view.cropY())
            : new DecodedCrop(view, raster, 0, 0);
      } finally {
        if (done) {
          reader.setInput(null);
        } else {
          // A reader that failed mid-image is not trusted with the next one.
          readers.remove(spi);
          reader.dispose();
        }
      }
    } catch (BadView e) {
      throw (RuntimeException) e.getCause();
    } catch (ImageDecodeException e) {
      throw e;
    } catch (IOException | RuntimeException e) {
      throw new ImageDecodeException("Cannot decode image " + sourceName + ": " + e, e);
    }
  }

  /** Carries a failure of the view choice past the handler that names decoding failures. */
  private static final class BadView extends RuntimeException {
    private static final long serialVersionUID = 1L;

    BadView(RuntimeException cause) {
      super(cause.getMessage(), cause, false, false);
    }
  }

  private ImageReaderSpi provider(ImageInputStream in, String format, String sourceName, int size)
      throws IOException {
    ImageReaderSpi spi;
    if (format != null) {
      String name = format.toLowerCase(Locale.ROOT);
      spi = byFormat.computeIfAbsent(name, readerFor != null ? readerFor : this::registered);
    } else {
      spi = recognising(in);
    }
    if (spi == null) {
      throw new ImageDecodeException(
          "Cannot decode image "
              + sourceName
              + ": no image reader for "
              + (format != null ? "format '" + format + "'" : "its bytes")
              + " ("
              + size
              + " bytes)",
          null);
    }
    return spi;
  }

  /** The first registered reader provider naming {@code format}, as ImageIO's lookup by name. */
  private ImageReaderSpi registered(String format) {
    Iterator<ImageReaderSpi> it =
        IIORegistry.getDefaultInstance().getServiceProviders(ImageReaderSpi.class, true);
    while (it.hasNext()) {
      ImageReaderSpi spi = it.next();
      for (String name : spi.getFormatNames()) {
        if (name.toLowerCase(Locale.ROOT).equals(format)) {
          return spi;
        }
      }
    }
    return null;
  }

  /**
   * The first registered reader provider that recognises the stream's first bytes, as {@link
   * ImageIO#getImageReaders} finds it, without creating a reader per provider tried.
   */
  private static ImageReaderSpi recognising(ImageInputStream in) throws IOException {
    Iterator<ImageReaderSpi> it =
        IIORegistry.getDefaultInstance().getServiceProviders(ImageReaderSpi.class, true);
    while (it.hasNext()) {
      ImageReaderSpi spi = it.next();
      boolean recognised;
      try {
        recognised = spi.canDecodeInput(in);
      } catch (IOException e) {
        recognised = false; // too short for this format's signature, as ImageIO treats it
      } finally {
        in.seek(0);
      }
      if (recognised) {
        return spi;
      }
    }
    return null;
  }

  private ImageReader reader(ImageReaderSpi spi) throws IOException {
    ImageReader reader = readers.get(spi);
    if (reader == null) {
      reader = spi.createReaderInstance();
      readers.put(spi, reader);
    }
    return reader;
  }

  private static boolean regionFormat(ImageReaderSpi spi) {
    for (String name : spi.getFormatNames()) {
      if (REGION_FORMATS.contains(name.toLowerCase(Locale.ROOT))) {
        return true;
      }
    }
    return false;
  }

  /**
   * The image's pixels as a byte raster: its own buffer when it holds 8-bit interleaved gray or
   * sRGB samples, else converted (see the class comment).
   */
  static ByteRaster toByteRaster(BufferedImage image) {
    ByteRaster direct = direct(image);
    return direct != null ? direct : converted(image);
  }

  private static ByteRaster direct(BufferedImage image) {
    Raster raster = image.getRaster();
    SampleModel sm = raster.getSampleModel();
    ColorModel cm = image.getColorModel();
    if (!(raster.getDataBuffer() instanceof DataBufferByte buffer)
        || buffer.getNumBanks() != 1
        || buffer.getOffset() != 0
        || !(sm instanceof PixelInterleavedSampleModel pism)
        || raster.getSampleModelTranslateX() != 0
        || raster.getSampleModelTranslateY() != 0
        || cm instanceof IndexColorModel) {
      return null;
    }
    int bands = pism.getNumBands();
    int stride = pism.getPixelStride();
    if (stride != bands || pism.getScanlineStride() != stride * image.getWidth()) {
      return null;
    }
    for (int size : pism.getSampleSize()) {
      if (size != 8) {
        return null;
      }
    }
    int[] offsets = pism.getBandOffsets();
    int type = cm.getColorSpace().getType();
    ByteRaster.Layout layout = null;
    if (type == ColorSpace.TYPE_GRAY && cm.getNumColorComponents() == 1) {
      layout = layoutOf(offsets, ByteRaster.Layout.GRAY, ByteRaster.Layout.GRAY_ALPHA);
    } else if (cm.getColorSpace().isCS_sRGB() && cm.getNumColorComponents() == 3) {
      for (ByteRaster.Layout candidate : ByteRaster.Layout.values()) {
        if (candidate.pixelStride() == bands
            && bands >= 3
            && candidate.offset(0) == offsets[0]
            && candidate.offset(1) == offsets[1]
            && candidate.offset(2) == offsets[2]) {
          layout = candidate;
        }
      }
    }
    if (layout == null) {
      return null;
    }
    return new ByteRaster(image.getWidth(), image.getHeight(), layout, buffer.getData());
  }

  private static ByteRaster.Layout layoutOf(
      int[] offsets, ByteRaster.Layout gray, ByteRaster.Layout grayAlpha) {
    if (offsets.length == 1 && offsets[0] == 0) {
      return gray;
    }
    if (offsets.length == 2 && offsets[0] == 0 && offsets[1] == 1) {
      return grayAlpha;
    }
    return null;
  }

  /** As {@link RgbImage#fromBufferedImage}, to 8 bits: raw gray samples, else sRGB by getRGB. */
  private static ByteRaster converted(BufferedImage image) {
    int w = image.getWidth();
    int h = image.getHeight();
    ColorModel cm = image.getColorModel();
    int[] row = new int[w];
    if (cm.getColorSpace().getType() == ColorSpace.TYPE_GRAY && !(cm instanceof IndexColorModel)) {
      byte[] data = new byte[w * h];
      Raster raster = image.getRaster();
      long max = (1L << cm.getComponentSize(0)) - 1;
      for (int y = 0; y < h; y++) {
        raster.getSamples(0, y, w, 1, 0, row);
        for (int x = 0; x < w; x++) {
          data[y * w + x] = (byte) ((row[x] * 255L + max / 2) / max);
        }
      }
      return new ByteRaster(w, h, ByteRaster.Layout.GRAY, data);
    }
    byte[] data = new byte[3 * w * h];
    for (int y = 0; y < h; y++) {
      image.getRGB(0, y, w, 1, row, 0, w);
      for (int x = 0; x < w; x++) {
        int p = 3 * (y * w + x);
        int argb = row[x];
        data[p] = (byte) (argb >> 16);
        data[p + 1] = (byte) (argb >> 8);
        data[p + 2] = (byte) argb;
      }
    }
    return new ByteRaster(w, h, ByteRaster.Layout.RGB, data);
  }

  @Override
  public void close() {
    for (ImageReader reader : readers.values()) {
      reader.dispose();
    }
    readers.clear();
  }
}
