package org.dtmspark.data.image;

import com.twelvemonkeys.imageio.plugins.jpeg.JPEGImageReaderSpi;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import javax.imageio.spi.IIORegistry;
import javax.imageio.spi.ImageReaderSpi;
import javax.imageio.spi.ImageReaderWriterSpi;
import javax.imageio.spi.ImageWriterSpi;

/**
 * The ImageIO plug-ins {@link ImageInspector} uses, chosen once per JVM (class loading is the
 * cache): TwelveMonkeys' JPEG reader, which decodes CMYK and YCCK JPEGs and applies embedded ICC
 * profiles; the JDK's readers for the other formats where it has one; the JDK's JPEG writer.
 *
 * <p>The TwelveMonkeys reader is registered with ImageIO's default registry when it is not there
 * yet (for example when the plug-in jar was loaded by a class loader that ImageIO did not scan, as
 * in a Spark executor), which also makes it the JVM's preferred JPEG reader. Plug-in instances are
 * created per use: readers and writers are not thread-safe, their providers are.
 */
final class Codecs {
  private static final String JDK_PLUGIN_PACKAGE = "com.sun.imageio.plugins.";

  /** TwelveMonkeys' JPEG reader provider. */
  static final ImageReaderSpi JPEG_READER = twelveMonkeysJpegReader();

  /**
   * The JDK's JPEG reader provider (TwelveMonkeys' when the JDK has none): for plain JPEGs, which
   * TwelveMonkeys' reader hands to the JDK's anyway, at some cost (see {@link ShardRasterDecoder}).
   */
  static final ImageReaderSpi JDK_JPEG_READER = jdkJpegReader();

  /** A JPEG writer provider, the JDK's when present. */
  static final ImageWriterSpi JPEG_WRITER = jpegWriter();

  private static final Map<ImageFormat, ImageReaderSpi> READERS = readers();

  private Codecs() {}

  /** The reader provider for {@code format}, or null when no installed plug-in reads it. */
  static ImageReaderSpi reader(ImageFormat format) {
    return READERS.get(format);
  }

  private static ImageReaderSpi twelveMonkeysJpegReader() {
    IIORegistry registry = IIORegistry.getDefaultInstance();
    JPEGImageReaderSpi spi = registry.getServiceProviderByClass(JPEGImageReaderSpi.class);
    if (spi == null) {
      spi = new JPEGImageReaderSpi();
      registry.registerServiceProvider(spi, ImageReaderSpi.class);
    }
    return spi;
  }

  private static ImageReaderSpi jdkJpegReader() {
    List<ImageReaderSpi> spis = new ArrayList<>();
    for (ImageReaderSpi spi : providers(ImageReaderSpi.class)) {
      if (spi != JPEG_READER) {
        spis.add(spi);
      }
    }
    ImageReaderSpi spi = preferJdk(spis, ImageFormat.JPEG);
    return spi != null ? spi : JPEG_READER;
  }

  private static Map<ImageFormat, ImageReaderSpi> readers() {
    Map<ImageFormat, ImageReaderSpi> readers = new EnumMap<>(ImageFormat.class);
    for (ImageFormat format : ImageFormat.values()) {
      ImageReaderSpi spi =
          format == ImageFormat.JPEG
              ? JPEG_READER
              : preferJdk(providers(ImageReaderSpi.class), format);
      if (spi != null) {
        readers.put(format, spi);
      }
    }
    return readers;
  }

  private static ImageWriterSpi jpegWriter() {
    ImageWriterSpi spi = preferJdk(providers(ImageWriterSpi.class), ImageFormat.JPEG);
    if (spi == null) {
      throw new IllegalStateException("No ImageIO writer for JPEG is installed");
    }
    return spi;
  }

  private static <T> List<T> providers(Class<T> category) {
    List<T> all = new ArrayList<>();
    Iterator<T> it = IIORegistry.getDefaultInstance().getServiceProviders(category, true);
    it.forEachRemaining(all::add);
    return all;
  }

  /** The JDK's provider for {@code format} if any, else the first other one, else null. */
  private static <T extends ImageReaderWriterSpi> T preferJdk(List<T> spis, ImageFormat format) {
    T other = null;
    for (T spi : spis) {
      if (!handles(spi, format)) {
        continue;
      }
      if (spi.getPluginClassName().startsWith(JDK_PLUGIN_PACKAGE)) {
        return spi;
      }
      if (other == null) {
        other = spi;
      }
    }
    return other;
  }

  private static boolean handles(ImageReaderWriterSpi spi, ImageFormat format) {
    for (String name : spi.getFormatNames()) {
      String lower = name.toLowerCase(Locale.ROOT);
      if (lower.equals(format.lowerCaseName()) || format.extensions().contains(lower)) {
        return true;
      }
    }
    return false;
  }
}
