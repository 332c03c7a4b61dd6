package org.dtmspark.jobs.pretrain;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.nio.ByteBuffer;
import java.nio.FloatBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.dtmspark.core.config.ConfigError;
import org.dtmspark.core.nn.Tensors;
import org.dtmspark.core.train.GradientReducer;
import org.dtmspark.sync.AllReduce;
import org.dtmspark.sync.Filling;

/**
 * Averages the flat gradient over the ranks through an {@link AllReduce}. Parameters are matched by
 * name: {@link #prepare} exchanges every rank's sorted parameter names and shapes and fails, naming
 * the ranks and the first parameter that differs, unless all ranks agree. Every step then sums the
 * flat gradient over the ranks, scaled by {@code 1 / ranks} inside the ring (each sum's owner
 * scales it once, so no extra pass), then the loss (a second, one-float all-reduce). The time
 * reported is the whole exchange, copies included.
 *
 * <p>How the gradient reaches the ring depends on its device ({@link Path}):
 *
 * <ul>
 *   <li>{@link Path#DIRECT} (a CPU tensor): DJL's {@code toByteBuffer(true)} of a contiguous CPU
 *       tensor is a direct buffer over the tensor's own memory (PyTorch JNI {@code
 *       torchDirectByteBuffer}: {@code NewDirectByteBuffer(data_ptr)}), so the ring sums the
 *       gradient where it lies, sending from it and receiving gathered sums into it: no host copy,
 *       no allocation of its size, a few native calls per step for the view.
 *   <li>{@link Path#STAGED} (a GPU tensor): one CPU tensor of the gradient's size, allocated on the
 *       first step and reused, is the ring's buffer. A copy thread downloads the gradient into it
 *       bucket by bucket ({@code index_put_} of a slice: libtorch's {@code copy_} across devices),
 *       and the ring sends each bucket as soon as its download is done ({@link Filling}), so
 *       downloads overlap the transfer of earlier buckets. The sum goes back with one {@code
 *       index_put_} of the whole buffer. No DJL cross-device call ({@code toDevice}, {@code
 *       toByteBuffer} of a GPU array) is made: each would attach a new sub-manager to the
 *       gradient's manager for the rest of the run.
 *   <li>{@link Path#PER_PARAMETER}: the exchange of issue 5, kept so that {@code bin/dtm
 *       bench-allreduce --exchange} can time it beside the new one: every parameter's gradient
 *       copied to a new heap array ({@code toByteBuffer()}), gathered into one heap buffer with the
 *       loss, summed, scaled on the host, and copied back parameter by parameter.
 * </ul>
 *
 * <p>Results are bit-identical on every rank: the ring's sums are, and every rank scales them by
 * the same float.
 */
final class AllReduceGradientReducer implements GradientReducer {
  /** How gradients travel between the device and the ring. */
  enum Path {
    /** The ring sums a CPU tensor's memory in place. */
    DIRECT,
    /** Bucketed device-to-host copies on a copy thread, overlapping the ring. */
    STAGED,
    /** The issue-5 exchange: per-parameter copies through heap arrays (benchmarks only). */
    PER_PARAMETER
  }

  private final AllReduce allReduce;
  private final int bucketElements;
  private final Path forced;
  private final float[] loss = new float[1];
  private List<Shape> shapes;
  private long numel = -1;
  private NDManager own;
  private NDArray host;
  private ByteBuffer hostBytes;
  private ExecutorService copier;
  private float[] heap;

  /**
   * @param allReduce the ring
   * @param bucketElements floats per device-to-host copy of the staged path (the ring's bucket)
   */
  AllReduceGradientReducer(AllReduce allReduce, int bucketElements) {
    this(allReduce, bucketElements, null);
  }

  /**
   * @param path the path to take whatever the device (tests, benchmarks); {@code null} chooses by
   *     device
   */
  AllReduceGradientReducer(AllReduce allReduce, int bucketElements, Path path) {
    if (bucketElements < 1) {
      throw new IllegalArgumentException(
          "Bucket size must be at least 1 float, cannot be: " + bucketElements);
    }
    this.allReduce = allReduce;
    this.bucketElements = bucketElements;
    this.forced = path;
  }

  @Override
  public void prepare(Map<String, Shape> parameters) {
    List<String> mine = describe(parameters);
    List<byte[]> all =
        allReduce.allGather(String.join("\n", mine).getBytes(StandardCharsets.UTF_8));
    for (int rank = 0; rank < all.size(); rank++) {
      String text = new String(all.get(rank), StandardCharsets.UTF_8);
      List<String> theirs = text.isEmpty() ? List.of() : List.of(text.split("\n", -1));
      if (!theirs.equals(mine)) {
        throw new ConfigError(firstDifference(allReduce.rank(), mine, rank, theirs));
      }
    }
    shapes = List.copyOf(new TreeMap<>(parameters).values());
    numel = shapes.stream().mapToLong(Shape::size).sum();
  }

  /** {@code name [d0, d1, ...]} of every parameter, sorted by name. */
  private static List<String> describe(Map<String, Shape> parameters) {
    List<String> out = new ArrayList<>();
    new TreeMap<>(parameters).forEach((name, shape) -> out.add(name + " " + shape));
    return out;
  }

  private static String firstDifference(int me, List<String> mine, int other, List<String> theirs) {
    int n = Math.min(mine.size(), theirs.size());
    for (int i = 0; i < n; i++) {
      if (!mine.get(i).equals(theirs.get(i))) {
        return "Rank "
            + other
            + " trains parameter "
            + theirs.get(i)
            + " where rank "
            + me
            + " has "
            + mine.get(i)
            + ": every rank must train the same parameters (model config and code)";
      }
    }
    return "Rank "
        + other
        + " has "
        + theirs.size()
        + " parameters but rank "
        + me
        + " has "
        + mine.size()
        + ": every rank must train the same parameters (model config and code)";
  }

  /** The path {@link #reduce} takes for a gradient on {@code device}. */
  Path pathFor(Device device) {
    if (forced != null) {
      return forced;
    }
    return Device.cpu().equals(device) ? Path.DIRECT : Path.STAGED;
  }

  @Override
  public Reduced reduce(NDArray flatGradients, double loss) {
    long started = System.nanoTime();
    check(flatGradients);
    int n = (int) numel;
    Path path = pathFor(flatGradients.getDevice());
    if (path == Path.PER_PARAMETER) {
      return perParameter(flatGradients, loss, started);
    }
    float inverse = 1f / allReduce.worldSize();
    if (path == Path.DIRECT) {
      // [numel] fp32 in native order: the tensor's memory, averaged in place by the ring.
      allReduce.sumInPlace(flatGradients.toByteBuffer(true), Filling.FILLED, inverse);
    } else {
      staged(flatGradients, n, inverse);
    }
    this.loss[0] = (float) loss;
    allReduce.sumInPlace(this.loss);
    return new Reduced(this.loss[0] / allReduce.worldSize(), (System.nanoTime() - started) / 1e9);
  }

  /** The flat gradient must be what {@link #prepare} announced. */
  private void check(NDArray flat) {
    if (numel < 0) {
      throw new IllegalStateException("prepare must be called before the first reduce");
    }
    if (numel > Integer.MAX_VALUE - 8) {
      throw new IllegalStateException(
          "The ring sums at most " + (Integer.MAX_VALUE - 8) + " floats, cannot be: " + numel);
    }
    Shape expected = new Shape(numel);
    if (!flat.getShape().equals(expected) || flat.getDataType() != DataType.FLOAT32) {
      throw new IllegalArgumentException(
          "Flat gradient must be "
              + expected
              + " float32 (the parameters given to prepare), cannot be: "
              + flat.getShape()
              + " "
              + flat.getDataType());
    }
  }

  private NDManager ownManager() {
    if (own == null) {
      own = NDManager.newBaseManager(Device.cpu());
    }
    return own;
  }

  /**
   * Downloads {@code flat} bucket by bucket on the copy thread into the host tensor while the ring
   * sums the buckets already there, then uploads the sums in one copy.
   */
  private void staged(NDArray flat, int n, float inverse) {
    if (host == null) {
      // [numel] fp32 on the CPU, once per run: the ring's buffer.
      host = ownManager().zeros(new Shape(numel), DataType.FLOAT32);
      NDScope.unregister(host); // made inside the step's scope, kept for the run
      hostBytes = host.toByteBuffer(true);
      copier =
          Executors.newSingleThreadExecutor(
              task -> {
                Thread t = new Thread(task, "dtm-gradient-copy-rank-" + allReduce.rank());
                t.setDaemon(true);
                return t;
              });
    }
    CopyProgress progress = new CopyProgress();
    copier.execute(
        () -> {
          try {
            for (int start = 0; start < n; start += bucketElements) {
              int end = (int) Math.min(n, (long) start + bucketElements);
              NDIndex slice = new NDIndex().addSliceDim(start, end);
              try (NDArray part = flat.get(slice)) {
                host.set(slice, part);
              }
              progress.advance(end);
            }
            progress.finish();
          } catch (RuntimeException | Error e) {
            progress.fail(e);
          }
        });
    try {
      allReduce.sumInPlace(hostBytes, progress, inverse);
    } finally {
      progress.awaitDone();
    }
    flat.set(new NDIndex().addSliceDim(0, n), host);
  }

  /** The issue-5 exchange, per parameter through heap arrays (benchmarks only). */
  private Reduced perParameter(NDArray flat, double loss, long started) {
    if (heap == null) {
      heap = new float[(int) numel + 1];
    }
    int offset = 0;
    for (Shape shape : shapes) {
      int size = (int) shape.size();
      try (NDArray g = flat.get(new NDIndex().addSliceDim(offset, offset + size))) {
        FloatBuffer data = g.toByteBuffer().asFloatBuffer();
        data.get(heap, offset, size);
      }
      offset += size;
    }
    heap[offset] = (float) loss;
    allReduce.sumInPlace(heap);
    float scale = 1f / allReduce.worldSize();
    for (int i = 0; i < heap.length; i++) {
      heap[i] *= scale;
    }
    offset = 0;
    for (Shape shape : shapes) {
      int size = (int) shape.size();
      float[] part = new float[size];
      System.arraycopy(heap, offset, part, 0, size);
      try (NDArray mean = Tensors.fromHost(flat.getManager(), part, new Shape(size))) {
        flat.set(new NDIndex().addSliceDim(offset, offset + size), mean);
      }
      offset += size;
    }
    return new Reduced(heap[offset], (System.nanoTime() - started) / 1e9);
  }

  @Override
  public void close() {
    if (copier != null) {
      copier.shutdownNow();
      try {
        copier.awaitTermination(30, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    if (own != null) {
      own.close();
    }
    host = null;
    hostBytes = null;
    heap = null;
  }

  /**
   * How far the copy thread has filled the host buffer; the ring waits on it. A failed copy fails
   * the all-reduce with the copy's exception as the cause.
   */
  private static final class CopyProgress implements Filling {
    private int filled;
    private boolean done;
    private Throwable failure;

    synchronized void advance(int end) {
      filled = end;
      notifyAll();
    }

    synchronized void finish() {
      done = true;
      notifyAll();
    }

    synchronized void fail(Throwable e) {
      failure = e;
      done = true;
      notifyAll();
    }

    @Override
    public synchronized void awaitFilled(int end, long deadlineNanos) {
      while (filled < end) {
        if (failure != null) {
          throw new IllegalStateException(
              "Copying the gradient to the host failed: " + failure, failure);
        }
        long remaining = deadlineNanos - System.nanoTime();
        if (remaining <= 0) {
          throw new IllegalStateException(
              "Copying the gradient to the host did not reach float " + end + " in time");
        }
        waitNanos(remaining);
      }
    }

    /** Returns once the copy thread has finished with this step (so its buffer may be reused). */
    synchronized void awaitDone() {
      boolean interrupted = false;
      while (!done && failure == null) {
        try {
          wait();
        } catch (InterruptedException e) {
          interrupted = true;
        }
      }
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }

    private void waitNanos(long nanos) {
      try {
        TimeUnit.NANOSECONDS.timedWait(this, nanos);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("Interrupted while waiting for the gradient copy", e);
      }
    }
  }
}
