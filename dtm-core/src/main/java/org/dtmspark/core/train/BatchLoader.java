package org.dtmspark.core.train;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import org.dtmspark.core.data.BlockMaskGenerator;
import org.dtmspark.core.data.ImageDataset;
import org.dtmspark.core.data.RgbImage;
import org.dtmspark.core.data.ViewParams;
import org.dtmspark.core.data.ViewRenderer;
import org.dtmspark.core.data.ViewSampler;
import org.dtmspark.core.teacher.TargetStore;

/**
 * Prepares training batches on a background thread while the device trains on the previous one.
 *
 * <p>Which images a step trains on is the {@link BatchPlan}'s pure function of the seed and the
 * step. Everything drawn for an image depends only on the step and the image's position {@code p}
 * in the global batch, never on the rank that holds it: its view comes from {@code (seed, "view",
 * step, p)}, its mask from {@code (seed, "mask", step, p)}, and with cached targets the stored view
 * it replays from {@code (seed, "replay-view", step, p)}, its pixel augmentation (fine-tuning) from
 * {@code (seed, "pixel-augment", step, p)}. So any step can be reproduced alone (resume) and a
 * global batch is the same whatever the number of ranks.
 */
public final class BatchLoader implements AutoCloseable {
  private static final Batch END =
      new Batch(-1, new int[0], new int[0], null, null, List.of(), null);

  private final ImageDataset data;
  private final BatchPlan plan;
  private final ViewSampler sampler;
  private final BlockMaskGenerator masks;
  private final TargetStore targets;
  private final int viewSize;
  private final PixelAugmentation augmentation;
  private final BlockingQueue<Batch> queue;
  private final Thread worker;
  private long orderEpoch = -1;
  private int[] order;
  private volatile Throwable failure;
  private volatile boolean closed;

  /**
   * Starts preparing steps {@code firstStep .. endStep - 1}.
   *
   * @param sampler view sampler, or null to render the whole image (evaluation); ignored with
   *     cached targets, whose stored views are replayed
   * @param masks mask generator, or null for jobs without masking
   * @param targets cached teacher targets to replay, or null
   */
  public BatchLoader(
      ImageDataset data,
      BatchPlan plan,
      ViewSampler sampler,
      BlockMaskGenerator masks,
      TargetStore targets,
      int viewSize,
      long firstStep,
      long endStep,
      int prefetch) {
    this(data, plan, sampler, masks, targets, viewSize, null, firstStep, endStep, prefetch);
  }

  /**
   * Starts preparing steps {@code firstStep .. endStep - 1}, applying {@code augmentation} to every
   * rendered view.
   *
   * @param augmentation per-image augmentation after rendering, or null for none
   */
  public BatchLoader(
      ImageDataset data,
      BatchPlan plan,
      ViewSampler sampler,
      BlockMaskGenerator masks,
      TargetStore targets,
      int viewSize,
      PixelAugmentation augmentation,
      long firstStep,
      long endStep,
      int prefetch) {
    this.data = data;
    this.plan = plan;
    this.sampler = sampler;
    this.masks = masks;
    this.targets = targets;
    this.viewSize = viewSize;
    this.augmentation = augmentation;
    this.queue = new ArrayBlockingQueue<>(Math.max(1, prefetch));
    this.worker = new Thread(() -> produce(firstStep, endStep), "dtm-batch-loader");
    worker.setDaemon(true);
    worker.start();
  }

  /** Builds the batch of {@code step}; called by the loader thread only. */
  Batch build(long step) {
    long epoch = plan.epochOf(step);
    if (epoch != orderEpoch) {
      order = plan.epochOrder(epoch);
      orderEpoch = epoch;
    }
    int[] indices = plan.indices(step, order);
    int batchSize = indices.length;
    int[] labels = new int[batchSize];
    List<RgbImage> images = new ArrayList<>(batchSize);
    List<ViewParams> views = new ArrayList<>(batchSize);
    float[] tokens = null;
    int tokenSize = 0;
    if (targets != null) {
      tokenSize = Math.multiplyExact(targets.numTokens(), targets.dim());
      tokens = new float[Math.multiplyExact(batchSize, tokenSize)];
    }
    float[] mask = null;
    if (masks != null) {
      mask = new float[Math.multiplyExact(batchSize, masks.numPatches())];
    }
    for (int i = 0; i < batchSize; i++) {
      int index = indices[i];
      long position = plan.globalPosition(i);
      labels[i] = data.label(index);
      RgbImage image = data.image(index);
      images.add(image);
      ViewParams view;
      if (targets != null) {
        int k =
            Seeds.rng(plan.seed(), "replay-view", step, position).nextInt(targets.viewsPerImage());
        view = targets.view(index, k);
        targets.tokens(index, k, tokens, i * tokenSize);
      } else if (sampler != null) {
        view =
            sampler.sample(
                image.width(), image.height(), Seeds.rng(plan.seed(), "view", step, position));
      } else {
        view = ViewParams.fullImage(image.width(), image.height());
      }
      views.add(view);
      if (masks != null) {
        boolean[] m = masks.sample(Seeds.rng(plan.seed(), "mask", step, position));
        int n = m.length;
        for (int j = 0; j < n; j++) {
          mask[i * n + j] = m[j] ? 1f : 0f;
        }
      }
    }
    float[] pixels = ViewRenderer.renderBatch(images, views, viewSize);
    if (augmentation != null) {
      int each = 3 * viewSize * viewSize;
      for (int i = 0; i < batchSize; i++) {
        long position = plan.globalPosition(i);
        augmentation.apply(
            pixels, i * each, viewSize, Seeds.rng(plan.seed(), "pixel-augment", step, position));
      }
    }
    return new Batch(step, indices, labels, pixels, mask, List.copyOf(views), tokens);
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
