package org.dtmspark.core.precision;

import ai.djl.Device;
import ai.djl.engine.Engine;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * A region of the calling thread in which libtorch's autocast is on for one device type: the
 * operations PyTorch's autocast lists as lower precision (matrix products, linear layers,
 * convolutions) run in the mixed precision's compute type, those it lists as fp32 (on CUDA:
 * softmax, layer norm, losses) in fp32; gradients flow back through the casts to the fp32
 * parameters. Opening a region does what {@code torch.autocast.__enter__} does (enable, set the
 * dtype, increment the nesting), closing it what {@code __exit__} does (decrement the nesting,
 * clear the cast cache at the outermost level, restore the previous state).
 *
 * <p>The state is thread-local in libtorch: open and close on the thread that runs the forward.
 *
 * <p>DJL has no autocast, so this goes through a small JNI library of this project ({@code
 * src/main/native/dtm_autocast.c}) that finds the libtorch DJL loaded and calls {@code
 * at::autocast::*} in it. Maven builds the library into the jar when a C compiler is present.
 */
public final class Autocast implements AutoCloseable {
  private static final String RESOURCE =
      "/org/dtmspark/core/precision/native/linux-x86_64/libdtm_autocast.so";
  private static final int DEVICE_CPU = 0;
  private static final int DEVICE_CUDA = 1;

  private static boolean loaded;

  private final int deviceType;
  private final boolean wasEnabled;
  private final int previousDtype;
  private boolean closed;

  private Autocast(int deviceType, int dtype) {
    this.deviceType = deviceType;
    this.wasEnabled = enabled(deviceType);
    this.previousDtype = dtype(deviceType);
    enter(deviceType, dtype);
  }

  /**
   * Turns autocast on for {@code device}'s type on this thread, computing in {@code precision}'s
   * type.
   *
   * @throws IllegalArgumentException for {@link Precision#FP32} or a device that is neither CPU nor
   *     GPU
   * @throws IllegalStateException when the native library is not available here
   */
  public static Autocast open(Device device, Precision precision) {
    if (!precision.mixed()) {
      throw new IllegalArgumentException("Autocast needs fp16, not " + precision);
    }
    int type;
    if (device.isGpu()) {
      type = DEVICE_CUDA;
    } else if (Device.Type.CPU.equals(device.getDeviceType())) {
      type = DEVICE_CPU;
    } else {
      throw new IllegalArgumentException("Autocast supports CPU and CUDA devices, not " + device);
    }
    ensureLoaded();
    return new Autocast(type, precision.scalarType());
  }

  /**
   * Checks that mixed precision can run in this JVM: the shim is in the jar and binds to libtorch.
   *
   * @throws IllegalStateException saying why not and how to get it
   */
  public static void ensureAvailable() {
    ensureLoaded();
  }

  /** Whether autocast is on for {@code device}'s type on this thread (for tests and checks). */
  public static boolean isEnabled(Device device) {
    ensureLoaded();
    return enabled(device.isGpu() ? DEVICE_CUDA : DEVICE_CPU);
  }

  @Override
  public void close() {
    if (!closed) {
      closed = true;
      exit(deviceType, wasEnabled, previousDtype);
    }
  }

  private static synchronized void ensureLoaded() {
    if (loaded) {
      return;
    }
    String os = System.getProperty("os.name");
    String arch = System.getProperty("os.arch");
    if (!"Linux".equals(os) || !"amd64".equals(arch)) {
      throw new IllegalStateException(
          "Mixed precision (fp16) needs the autocast shim, built for Linux x86-64 only;"
              + " this JVM runs on "
              + os
              + " "
              + arch
              + ": use precision = fp32");
    }
    Engine.getEngine("PyTorch"); // loads libtorch, which the shim binds to
    try (InputStream in = Autocast.class.getResourceAsStream(RESOURCE)) {
      if (in == null) {
        throw new IllegalStateException(
            "Mixed precision (fp16) needs the autocast shim "
                + RESOURCE
                + ", which this build lacks: Maven compiles it from"
                + " dtm-core/src/main/native/dtm_autocast.c when a C compiler is installed"
                + " (apt-get install gcc), then rebuild; or use precision = fp32");
      }
      Path file = Files.createTempFile("dtm_autocast", ".so");
      file.toFile().deleteOnExit();
      Files.copy(in, file, StandardCopyOption.REPLACE_EXISTING);
      System.load(file.toAbsolutePath().toString());
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot extract the autocast shim " + RESOURCE, e);
    }
    bind();
    loaded = true;
  }

  private static native void bind();

  private static native void enter(int deviceType, int dtype);

  private static native void exit(int deviceType, boolean wasEnabled, int previousDtype);

  private static native boolean enabled(int deviceType);

  private static native int dtype(int deviceType);
}
