package org.dtmspark.core.train;

import java.io.IOException;
import java.util.Map;
import org.dtmspark.core.io.IOConsumer;

/**
 * Where a training run publishes what it produces: metrics of logged steps and checkpoints. A
 * single-JVM run writes a local directory ({@link LocalRunOutput}); in a data-parallel run rank 0
 * publishes to the run's filesystem and the other ranks publish nothing ({@link #NONE}).
 */
public interface RunOutput extends AutoCloseable {
  /** Publishes nothing: the output of ranks other than 0. */
  RunOutput NONE =
      new RunOutput() {
        @Override
        public void metrics(Map<String, Object> record) {}

        @Override
        public String checkpoint(String name, IOConsumer<java.nio.file.Path> writer) {
          return "";
        }

        @Override
        public void close() {}
      };

  /** Training is about to run steps {@code firstStep .. endStep - 1}. */
  default void started(long firstStep, long endStep) throws IOException {}

  /** Records the metrics of a logged step. */
  void metrics(Map<String, Object> record) throws IOException;

  /**
   * Records what rank {@code rank} read during one epoch: by default a metrics record {@code
   * {"rank", "epoch", "image_bytes_read", "target_bytes_read"}}. Every rank reports its own.
   */
  default void dataRead(int rank, Batch.DataRead read) throws IOException {
    metrics(dataReadRecord(rank, read));
  }

  /** The metrics record of {@link #dataRead}. */
  static Map<String, Object> dataReadRecord(int rank, Batch.DataRead read) {
    Map<String, Object> record = new java.util.LinkedHashMap<>();
    record.put("rank", rank);
    record.put("epoch", read.epoch());
    record.put("image_bytes_read", read.imageBytes());
    record.put("target_bytes_read", read.targetBytes());
    return record;
  }

  /**
   * Publishes checkpoint {@code name} (for example {@code step-1000} or {@code last}) atomically:
   * {@code writer} fills a local directory that must not exist yet; the checkpoint becomes visible
   * under its final name only once complete.
   *
   * @return where the checkpoint is, as a path or URI string
   */
  String checkpoint(String name, IOConsumer<java.nio.file.Path> writer) throws IOException;

  /** Finishes the output (for example renders the curves of the metrics). */
  @Override
  void close() throws IOException;
}
