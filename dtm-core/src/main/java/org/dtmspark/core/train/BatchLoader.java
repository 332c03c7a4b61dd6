package org.dtmspark.core.train;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import org.dtmspark.core.data.BlockMaskGenerator;
import org.dtmspark.core.data.ImageDataset;
import org.dtmspark.core.data.RgbImage;
import org.dtmspark.core.data.ViewParams;
import org.dtmspark.core.data.ViewRenderer;
import org.dtmspark.core.data.ViewSampler;

/**
 * Prepares training batches on a background thread while the device trains on the previous one.
 *
 * <p>The plan is pure: step {@code s} belongs to epoch {@code s / stepsPerEpoch}; every epoch reads
 * the dataset in the order of a permutation seeded by {@code (seed, "order", epoch)}, and the batch
 * of step {@code s} is its slice {@code [(s mod stepsPerEpoch) * B, ... + B)}. Views come from
 * {@code (seed, "view", s)} and masks from {@code (seed, "mask", s)}, so any step can be reproduced
 * alone (resume, replay).
 */
public final class BatchLoader implements AutoCloseable {
  private static final Batch END = new Batch(-1, new int[0], new int[0], null, null, List.of());

  private final ImageDataset data;
  private final ViewSampler sampler;
  private final BlockMaskGenerator masks;
  private final int batchSize;
  private final int viewSize;
  private final long seed;
  private final long stepsPerEpoch;
  private final BlockingQueue<Batch> queue;
  private final Thread worker;
  private volatile Throwable failure;
  private volatile boolean closed;

  /**
   * Starts preparing steps {@code firstStep .. endStep - 1}.
   *
   * @param masks mask generator, or null for jobs without masking
   * @param sampler view sampler, or null to render the whole image (evaluation)
   */
  public BatchLoader(
      ImageDataset data,
      ViewSampler sampler,
      BlockMaskGenerator masks,
      int batchSize,
      int viewSize,
      long seed,
      long stepsPerEpoch,
      long firstStep,
      long endStep,
      int prefetch) {
    this.data = data;
    this.sampler = sampler;
    this.masks = masks;
    this.batchSize = batchSize;
    this.viewSize = viewSize;
    this.seed = seed;
    this.stepsPerEpoch = stepsPerEpoch;
    this.queue = new ArrayBlockingQueue<>(Math.max(1, prefetch));
    this.worker = new Thread(() -> produce(firstStep, endStep), "dtm-batch-loader");
    worker.setDaemon(true);
    worker.start();
  }

  /** The dataset order of {@code epoch}. */
  public static int[] epochOrder(long seed, long epoch, int size) {
    return Seeds.permutation(size, Seeds.rng(seed, "order", epoch));
  }

  /** Builds the batch of {@code step} on the calling thread. */
  public Batch build(long step) {
    long epoch = step / stepsPerEpoch;
    int[] order = epochOrder(seed, epoch, data.size());
    int offset = (int) ((step % stepsPerEpoch) * batchSize);
    int[] indices = new int[batchSize];
    int[] labels = new int[batchSize];
    List<RgbImage> images = new ArrayList<>(batchSize);
    List<ViewParams> views = new ArrayList<>(batchSize);
    SplittableRandom viewRng = Seeds.rng(seed, "view", step);
    for (int i = 0; i < batchSize; i++) {
      int index = order[offset + i];
      indices[i] = index;
      labels[i] = data.label(index);
      RgbImage image = data.image(index);
      images.add(image);
      views.add(
          sampler == null
              ? ViewParams.fullImage(image.width(), image.height())
              : sampler.sample(image.width(), image.height(), viewRng));
    }
    float[] pixels = ViewRenderer.renderBatch(images, views, viewSize);
    float[] mask =
        masks == null ? null : masks.sampleBatch(batchSize, Seeds.rng(seed, "mask", step));
    return new Batch(step, indices, labels, pixels, mask, List.copyOf(views));
  }

  private void produce(long firstStep, long endStep) {
    try {
      for (long step = firstStep; step < endStep && !closed; step++) {
        Batch b = build(step);
        while (!closed && !queue.offer(b, 100, TimeUnit.MILLISECONDS)) {
          // wait for the trainer
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (Throwable t) {
      failure = t;
    } finally {
      queue.offer(END);
    }
  }

  /** The next batch; rethrows a failure of the loader thread with its cause. */
  public Batch next() {
    try {
      Batch b = queue.take();
      if (b == END) {
        queue.offer(END);
        if (failure != null) {
          throw new IllegalStateException("Batch loading failed: " + failure.getMessage(), failure);
        }
        throw new IllegalStateException("No more batches");
      }
      return b;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("Interrupted while waiting for a batch", e);
    }
  }

  @Override
  public void close() {
    closed = true;
    worker.interrupt();
    try {
      worker.join(10_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
