package org.dtmspark.core.data;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * A pool of loader threads that decode images and render their views into one 8-bit batch.
 *
 * <p>{@link #render} takes a list of {@link ImageSource}s and their views and writes sample {@code
 * i} as {@code [3, size, size]} unsigned bytes at offset {@code i * 3 * size * size} of the
 * caller's buffer, i.e. the batch is {@code [B, 3, size, size]} row-major. Each sample is decoded
 * and rendered by one thread from its own inputs only, with the same arithmetic whichever thread
 * takes it, so the bytes are identical whatever the number of threads (tested). Threads take the
 * next sample from a shared counter, so a slow image does not hold up the others.
 *
 * <p>Encoded sources are decoded by one {@link RasterDecoder} per thread, made by the factory on
 * the thread's first encoded sample and closed when the pool closes. A failure is rethrown to the
 * caller as a {@link SampleLoadException} naming the sample's position and id; when several samples
 * fail, the one with the lowest position is reported (threads stop taking samples after a failure,
 * and every sample below a failed one has been taken), so the error too does not depend on the
 * number of threads. Calls are served one at a time; {@link #close} waits for the batch in
 * progress, stops the threads and closes their decoders.
 */
public final class LoaderPool implements AutoCloseable {
  private static final Batch STOP = new Batch(List.of(), List.of(), 0, new byte[0], null, 0);

  private final Supplier<? extends RasterDecoder> decoders;
  private final LinkedBlockingQueue<Batch> queue = new LinkedBlockingQueue<>();
  private final List<Thread> threads;
  private final List<Worker> workers;
  private boolean closed;

  /**
   * Starts {@code threads} loader threads (daemon threads named {@code dtm-loader-<i>}).
   *
   * @param threads number of threads, at least 1 (see {@link #defaultThreads})
   * @param decoders makes one decoder per thread for encoded sources; may be null when every source
   *     is already decoded (an encoded one is then an error)
   */
  public LoaderPool(int threads, Supplier<? extends RasterDecoder> decoders) {
    requireThreads(threads);
    this.decoders = decoders;
    List<Thread> ts = new ArrayList<>(threads);
    List<Worker> ws = new ArrayList<>(threads);
    for (int i = 0; i < threads; i++) {
      Worker worker = new Worker();
      Thread t = new Thread(worker, "dtm-loader-" + i);
      t.setDaemon(true);
      ws.add(worker);
      ts.add(t);
    }
    this.threads = List.copyOf(ts);
    this.workers = List.copyOf(ws);
    this.threads.forEach(Thread::start);
  }

  /**
   * {@link #defaultThreads} for this JVM: its available processors, less libtorch's intra-op
   * threads ({@code ai.djl.pytorch.num_threads}, default all processors).
   */
  public static int defaultThreadsForThisJvm() {
    int cpus = Runtime.getRuntime().availableProcessors();
    return defaultThreads(cpus, Integer.getInteger("ai.djl.pytorch.num_threads", cpus));
  }

  /**
   * The default number of loader threads: the task's CPUs less libtorch's intra-op threads, and at
   * least 1 (a task whose CPUs all go to libtorch still needs one thread to load).
   *
   * @param taskCpus CPUs given to the task, at least 1
   * @param intraOpThreads libtorch's intra-op threads, at least 1
   */
  public static int defaultThreads(int taskCpus, int intraOpThreads) {
    if (taskCpus < 1) {
      throw new IllegalArgumentException("Task CPUs must be at least 1, cannot be: " + taskCpus);
    }
    if (intraOpThreads < 1) {
      throw new IllegalArgumentException(
          "Intra-op threads must be at least 1, cannot be: " + intraOpThreads);
    }
    return Math.max(1, taskCpus - intraOpThreads);
  }

  /**
   * Checks a number of loader threads.
   *
   * @return {@code threads}
   * @throws IllegalArgumentException naming the value when it is less than 1
   */
  public static int requireThreads(int threads) {
    if (threads < 1) {
      throw new IllegalArgumentException(
          "Number of loader threads must be at least 1, cannot be: " + threads);
    }
    return threads;
  }

  /** Number of loader threads. */
  public int threads() {
    return threads.size();
  }

  /**
   * Renders a batch of fixed views.
   *
   * @param sources the images, one per sample
   * @param views the views, {@code views.get(i)} of {@code sources.get(i)}
   * @param size side of the square views, at least 1
   * @param out receives {@code [B, 3, size, size]} bytes from offset 0; at least that long
   * @throws SampleLoadException naming the lowest sample that failed
   */
  public void render(
      List<? extends ImageSource> sources, List<ViewParams> views, int size, byte[] out) {
    List<ViewChoice> choices = new ArrayList<>(views.size());
    for (ViewParams v : views) {
      choices.add(ViewChoice.of(v));
    }
    renderChoosing(sources, choices, size, out);
  }

  /**
   * Renders a batch whose views are chosen from each image's size (read from an encoded image's
   * header before decoding, so only the region the view needs is decoded).
   *
   * @param sources the images, one per sample
   * @param choices chooses the view of {@code sources.get(i)}
   * @param size side of the square views, at least 1
   * @param out receives {@code [B, 3, size, size]} bytes from offset 0; at least that long
   * @return the views chosen, one per sample
   * @throws SampleLoadException naming the lowest sample that failed
   */
  public List<ViewParams> renderChoosing(
      List<? extends ImageSource> sources,
      List<? extends ViewChoice> choices,
      int size,
      byte[] out) {
    return renderChoosing(sources, choices, size, out, null);
  }

  /** Work on one rendered sample, run on the loader thread that rendered it. */
  @FunctionalInterface
  public interface AfterRender {
    /**
     * @param sample the sample's index in the batch
     * @param out the batch buffer
     * @param offset start of the sample's {@code [3, size, size]} bytes in {@code out}
     */
    void apply(int sample, byte[] out, int offset);
  }

  /**
   * As {@link #renderChoosing(List, List, int, byte[])}, then {@code after} (when not null) on each
   * rendered sample, on the thread that rendered it: per-sample augmentation runs in parallel too.
   * A failure of {@code after} is the sample's failure.
   */
  public synchronized List<ViewParams> renderChoosing(
      List<? extends ImageSource> sources,
      List<? extends ViewChoice> choices,
      int size,
      byte[] out,
      AfterRender after) {
    Objects.requireNonNull(out, "out");
    if (closed) {
      throw new IllegalStateException("Loader pool is closed");
    }
    if (sources.size() != choices.size()) {
      throw new IllegalArgumentException(
          "Number of views must equal the number of images ("
              + sources.size()
              + "), cannot be: "
              + choices.size());
    }
    int each = ByteViewRenderer.sampleBytes(size);
    long needed = (long) sources.size() * each;
    if (out.length < needed) {
      throw new IllegalArgumentException(
          "Batch buffer must hold "
              + sources.size()
              + " x 3 x "
              + size
              + " x "
              + size
              + " = "
              + needed
              + " bytes, cannot be: "
              + out.length);
    }
    for (int i = 0; i < sources.size(); i++) {
      if (sources.get(i) == null || choices.get(i) == null) {
        throw new IllegalArgumentException(
            "Image source and view of sample " + i + " must be given, cannot be: null");
      }
    }
    if (sources.isEmpty()) {
      return List.of();
    }
    Batch batch =
        new Batch(List.copyOf(sources), List.copyOf(choices), size, out, after, threads());
    for (int i = 0; i < threads(); i++) {
      queue.add(batch);
    }
    boolean interrupted = false;
    while (true) {
      try {
        batch.done.await();
        break;
      } catch (InterruptedException e) {
        // Stop taking samples, but wait: the threads must not write into `out` after we return.
        interrupted = true;
        batch.stop = true;
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("Interrupted while loading a batch");
    }
    if (batch.failure != null) {
      if (batch.failure instanceof Error error) {
        throw error;
      }
      throw new SampleLoadException(
          batch.failedSample, batch.sources.get(batch.failedSample).id(), batch.failure);
    }
    return Arrays.asList(batch.views);
  }

  /** Waits for the batch in progress, stops the threads and closes their decoders. */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    for (int i = 0; i < threads(); i++) {
      queue.add(STOP);
    }
    boolean interrupted = false;
    for (Thread t : threads) {
      while (t.isAlive()) {
        try {
          t.join();
        } catch (InterruptedException e) {
          interrupted = true;
        }
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
    RuntimeException failure = null;
    for (Worker w : workers) {
      if (w.closeFailure != null) {
        if (failure == null) {
          failure = new IllegalStateException("Cannot close a loader thread's decoder");
        }
        failure.addSuppressed(w.closeFailure);
      }
    }
    if (failure != null) {
      throw failure;
    }
  }

  /** One call of {@link #renderChoosing}, shared by the threads. */
  private static final class Batch {
    final List<? extends ImageSource> sources;
    final List<? extends ViewChoice> choices;
    final int size;
    final byte[] out;
    final AfterRender after;
    final ViewParams[] views;
    final AtomicInteger next = new AtomicInteger();
    final CountDownLatch done;
    volatile boolean stop;
    int failedSample = Integer.MAX_VALUE;
    Throwable failure;

    Batch(
        List<? extends ImageSource> sources,
        List<? extends ViewChoice> choices,
        int size,
        byte[] out,
        AfterRender after,
        int threads) {
      this.sources = sources;
      this.choices = choices;
      this.size = size;
      this.out = out;
      this.after = after;
      this.views = new ViewParams[sources.size()];
      this.done = new CountDownLatch(threads);
    }

    synchronized void fail(int sample, Throwable t) {
      stop = true;
      if (sample < failedSample) {
        failedSample = sample;
        failure = t;
      }
    }
  }

  /** A loader thread: its decoder and render buffers, reused across batches. */
  private final class Worker implements Runnable {
    private final ByteViewRenderer renderer = new ByteViewRenderer();
    private RasterDecoder decoder;
    private volatile RuntimeException closeFailure;

    @Override
    public void run() {
      try {
        while (true) {
          Batch batch;
          try {
            batch = queue.take();
          } catch (InterruptedException e) {
            // Only close() stops a loader thread: a thread that left on a stray interrupt would
            // leave its share of a batch to the others and, the last one gone, hang the caller.
            continue;
          }
          if (batch == STOP) {
            return;
          }
          try {
            work(batch);
          } finally {
            batch.done.countDown();
          }
        }
      } finally {
        if (decoder != null) {
          try {
            decoder.close();
          } catch (RuntimeException e) {
            closeFailure = e;
          }
        }
      }
    }

    private void work(Batch batch) {
      int each = 3 * batch.size * batch.size;
      int n = batch.sources.size();
      while (!batch.stop) {
        int i = batch.next.getAndIncrement();
        if (i >= n) {
          return;
        }
        try {
          batch.views[i] =
              load(batch.sources.get(i), batch.choices.get(i), batch.size, batch.out, i * each);
          if (batch.after != null) {
            batch.after.apply(i, batch.out, i * each);
          }
        } catch (Throwable t) {
          batch.fail(i, t);
        }
      }
    }

    private ViewParams load(
        ImageSource source, ViewChoice choice, int size, byte[] out, int offset) {
      if (source instanceof ImageSource.Encoded e) {
        DecodedCrop crop = decoder().decode(e.bytes(), e.format(), choice, e.id());
        renderer.render(crop, size, out, offset);
        return crop.view();
      }
      if (source instanceof ImageSource.Raster r) {
        ViewParams view = choose(choice, r.raster().width(), r.raster().height());
        renderer.render(r.raster(), view, size, out, offset);
        return view;
      }
      RgbImage image = ((ImageSource.Decoded) source).image();
      ViewParams view = choose(choice, image.width(), image.height());
      renderer.render(image, view, size, out, offset);
      return view;
    }

    private RasterDecoder decoder() {
      if (decoder == null) {
        if (decoders == null) {
          throw new IllegalStateException(
              "This loader pool has no decoder: encoded images cannot be loaded");
        }
        decoder = Objects.requireNonNull(decoders.get(), "decoder factory returned null");
      }
      return decoder;
    }
  }

  private static ViewParams choose(ViewChoice choice, int width, int height) {
    ViewParams view = choice.choose(width, height);
    view.requireFitsIn(width, height);
    return view;
  }
}
