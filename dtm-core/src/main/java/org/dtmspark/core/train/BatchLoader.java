package org.dtmspark.core.train;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import org.dtmspark.core.data.BlockMaskGenerator;
import org.dtmspark.core.data.ByteViewRenderer;
import org.dtmspark.core.data.ImageDataset;
import org.dtmspark.core.data.ImageSource;
import org.dtmspark.core.data.LoaderPool;
import org.dtmspark.core.data.RandomErasing;
import org.dtmspark.core.data.ViewChoice;
import org.dtmspark.core.data.ViewParams;
import org.dtmspark.core.data.ViewSampler;
import org.dtmspark.core.teacher.TargetStore;

/**
 * Prepares training batches on a background thread while the device trains on the previous one.
 *
 * <p>Which images a step trains on is the {@link BatchPlan}'s pure function of the seed and the
 * step. Everything drawn for an image depends only on the epoch, the image's stream {@code v} and
 * its position {@code k} in the stream, never on the rank that holds it: its view comes from {@code
 * (seed, "view", epoch, v, k)} and its mask from {@code (seed, "mask", epoch, v, k)}. With cached
 * targets every image of block (shard) {@code s} replays, in epoch {@code e}, the stored view
 * {@code (seed, "replay-view", e, s)}: the cache's views are drawn independently per image, so one
 * view index per shard and epoch gives every image an independent view while a rank reads one view
 * of the cache per shard. Fine-tuning's pixel augmentation (RandAugment, random erasing) draws from
 * {@code (seed, "pixel-augment", epoch, v, k)}. So any step can be reproduced alone (resume) and a
 * global batch is the same whatever the number of ranks.
 *
 * <p><b>Loader threads.</b> The images of a batch are decoded and rendered by a {@link LoaderPool}
 * into one 8-bit {@code [B, 3, S, S]} buffer; every sample's view is a pure function of its stream
 * position (or the stored view), so the bytes are identical whatever the number of threads.
 *
 * <p><b>Read-ahead.</b> When one of this rank's streams enters a block, the next block of that
 * stream is announced to the dataset and the target store ({@code prefetch}), which read it on
 * their I/O thread; the block a stream leaves is {@code release}d. At most two blocks per owned
 * stream are therefore held by this loader.
 *
 * <p><b>Accounting.</b> The batch that ends an epoch carries the bytes this rank read from the
 * image shards and the target cache during that epoch ({@link Batch#read()}).
 */
public final class BatchLoader implements AutoCloseable {
  private static final Batch END =
      new Batch(-1, new int[0], new int[0], null, null, List.of(), null, null, null);

  private final ImageDataset data;
  private final BatchPlan plan;
  private final ViewSampler sampler;
  private final BlockMaskGenerator masks;
  private final TargetStore targets;
  private final int viewSize;
  private final PixelAugmentation augmentation;
  private final BlockingQueue<Batch> queue;
  private final LoaderPool pool;
  private final Thread worker;
  private BatchPlan.Epoch epoch;
  private int[][] sequence; // per owned stream: its blocks in order, one per run
  private int[] cursor; // per owned stream: index in sequence of the current block
  private boolean[] entered; // per owned stream: whether cursor is a block it reads from
  private long imageBytesAtEpochStart;
  private long targetBytesAtEpochStart;
  private volatile Throwable failure;
  private volatile boolean closed;

  /** Starts preparing steps {@code firstStep .. endStep - 1} with one loader thread. */
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
    this(data, plan, sampler, masks, targets, viewSize, null, firstStep, endStep, prefetch, 1);
  }

  /**
   * Starts preparing steps {@code firstStep .. endStep - 1}.
   *
   * @param sampler view sampler, or null to render the whole image (evaluation); ignored with
   *     cached targets, whose stored views are replayed
   * @param masks mask generator, or null for jobs without masking
   * @param targets cached teacher targets to replay, or null
   * @param augmentation per-image augmentation after rendering (on the loader threads), or null
   * @param prefetch batches prepared ahead of the trainer
   * @param loaderThreads threads decoding, rendering and augmenting each batch, at least 1
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
      int prefetch,
      int loaderThreads) {
    this.pool = new LoaderPool(loaderThreads, data.decoders());
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

  /** The stored view every image of {@code block} replays in {@code epoch}. */
  static int replayView(long seed, long epoch, int block, int viewsPerImage) {
    return Seeds.rng(seed, "replay-view", epoch, block).nextInt(viewsPerImage);
  }

  /** Builds the batch of {@code step}; called by the loader thread only. */
  Batch build(long step) {
    long e = plan.epochOf(step);
    if (epoch == null || epoch.epoch() != e) {
      startEpoch(e, step);
    }
    int[] indices = plan.indices(step, epoch);
    int batchSize = indices.length;
    int[] labels = new int[batchSize];
    List<ImageSource> sources = new ArrayList<>(batchSize);
    List<ViewChoice> choices = new ArrayList<>(batchSize);
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
    int[] streams = new int[batchSize];
    long[] positions = new long[batchSize];
    for (int i = 0; i < batchSize; i++) {
      int index = indices[i];
      int stream = plan.stream(i);
      long position = plan.position(step, i);
      streams[i] = stream;
      positions[i] = position;
      int block = plan.block(step, i, epoch);
      enter(i / plan.streamBatch(), block);
      labels[i] = data.label(index);
      sources.add(data.source(index));
      if (targets != null) {
        int k = replayView(plan.seed(), e, block, targets.viewsPerImage());
        choices.add(ViewChoice.of(targets.view(index, k)));
        targets.tokens(index, k, tokens, i * tokenSize);
      } else if (sampler != null) {
        long seed = plan.seed();
        choices.add((w, h) -> sampler.sample(w, h, Seeds.rng(seed, "view", e, stream, position)));
      } else {
        choices.add(ViewChoice.fullImage());
      }
      if (masks != null) {
        boolean[] m = masks.sample(Seeds.rng(plan.seed(), "mask", e, stream, position));
        int n = m.length;
        for (int j = 0; j < n; j++) {
          mask[i * n + j] = m[j] ? 1f : 0f;
        }
      }
    }
    byte[] pixels = new byte[Math.multiplyExact(batchSize, ByteViewRenderer.sampleBytes(viewSize))];
    RandomErasing.Erasure[] erasures = null;
    LoaderPool.AfterRender after = null;
    if (augmentation != null) {
      RandomErasing.Erasure[] out = erasures = new RandomErasing.Erasure[batchSize];
      long seed = plan.seed();
      after =
          (i, buffer, offset) ->
              out[i] =
                  augmentation.apply(
                      buffer,
                      offset,
                      viewSize,
                      Seeds.rng(seed, "pixel-augment", e, streams[i], positions[i]));
    }
    List<ViewParams> views = pool.renderChoosing(sources, choices, viewSize, pixels, after);
    ErasedPixels erased =
        erasures == null ? null : ErasedPixels.of(erasures, ByteViewRenderer.sampleBytes(viewSize));
    Batch.DataRead read = null;
    if ((step + 1) % plan.stepsPerEpoch() == 0) {
      read = finishEpoch();
    }
    return new Batch(step, indices, labels, pixels, mask, List.copyOf(views), tokens, read, erased);
  }

  /** Enters epoch {@code e} at {@code step}, its first step or, on resume, a later one. */
  private void startEpoch(long e, long step) {
    if (epoch != null) {
      releaseAll();
    }
    epoch = plan.epoch(e);
    int owned = plan.ownedStreams().length;
    sequence = new int[owned][];
    cursor = new int[owned];
    entered = new boolean[owned];
    imageBytesAtEpochStart = data.bytesRead();
    targetBytesAtEpochStart = targets != null ? targets.bytesRead() : 0;
    for (int j = 0; j < owned; j++) {
      sequence[j] = epoch.blockSequence(j);
      int first = epoch.run(j, plan.position(step, j * plan.streamBatch()));
      cursor[j] = first - 1;
      // The stream's first two blocks go to the I/O thread at once.
      for (int c = first; c < Math.min(first + 2, sequence[j].length); c++) {
        prefetch(sequence[j][c]);
      }
    }
  }

  /** Owned stream {@code j} reads from {@code block}: on a new block, read ahead the one after. */
  private void enter(int j, int block) {
    int c = cursor[j];
    if (c >= 0 && entered[j] && sequence[j][c] == block) {
      return;
    }
    boolean first = !entered[j];
    if (!first) {
      release(sequence[j][c]);
    }
    c++;
    if (c >= sequence[j].length || sequence[j][c] != block) {
      throw new IllegalStateException(
          "Stream " + plan.ownedStreams()[j] + " reached block " + block + " out of its order");
    }
    cursor[j] = c;
    entered[j] = true;
    if (!first && c + 1 < sequence[j].length) {
      prefetch(sequence[j][c + 1]);
    }
  }

  private void prefetch(int block) {
    data.prefetch(block);
    if (targets != null) {
      targets.prefetch(
          block, replayView(plan.seed(), epoch.epoch(), block, targets.viewsPerImage()));
    }
  }

  private void release(int block) {
    data.release(block);
    if (targets != null) {
      targets.release(
          block, replayView(plan.seed(), epoch.epoch(), block, targets.viewsPerImage()));
    }
  }

  private void releaseAll() {
    for (int j = 0; j < sequence.length; j++) {
      if (entered[j]) {
        release(sequence[j][cursor[j]]);
        entered[j] = false;
      }
    }
  }

  private Batch.DataRead finishEpoch() {
    releaseAll();
    long targetBytes = targets != null ? targets.bytesRead() - targetBytesAtEpochStart : 0;
    return new Batch.DataRead(
        epoch.epoch(), data.bytesRead() - imageBytesAtEpochStart, targetBytes);
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
    pool.close();
  }
}
