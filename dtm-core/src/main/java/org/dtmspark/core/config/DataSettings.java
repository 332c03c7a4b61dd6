package org.dtmspark.core.config;

/**
 * The {@code pretrain.data} section: how the training images are dealt to the ranks.
 *
 * @param streams number of virtual streams V the shards of an epoch are dealt to; 0 for one stream
 *     per rank
 * @param loaderThreads threads that decode and render the batches of a rank; 0 for the task's CPUs
 *     less libtorch's intra-op threads (at least 1)
 */
public record DataSettings(int streams, int loaderThreads) {
  /** At most this many loader threads may be asked for. */
  public static final int MAX_LOADER_THREADS = 256;

  static DataSettings from(SettingsReader r) {
    int threads = r.intAtLeast("loader-threads", 0);
    if (threads > MAX_LOADER_THREADS) {
      throw new ConfigError(
          "pretrain.data.loader-threads must be at most "
              + MAX_LOADER_THREADS
              + ", cannot be: "
              + threads);
    }
    return new DataSettings(r.intAtLeast("streams", 0), threads);
  }

  /**
   * The loader threads of a task with {@code taskCpus} CPUs of which libtorch uses {@code
   * intraOpThreads}: the configured number, or by default their difference, at least 1.
   */
  public int loaderThreadsFor(int taskCpus, int intraOpThreads) {
    return loaderThreads > 0 ? loaderThreads : Math.max(1, taskCpus - intraOpThreads);
  }

  /**
   * The number of streams of a run on {@code ranks} ranks.
   *
   * @throws ConfigError naming {@code pretrain.data.streams} and the ranks when the ranks do not
   *     divide it
   */
  public int streamsFor(int ranks) {
    int v = streams == 0 ? ranks : streams;
    if (v % ranks != 0) {
      throw new ConfigError(
          "pretrain.data.streams ("
              + v
              + ") must be a multiple of the number of ranks ("
              + ranks
              + "): rank r of N reads streams r, r + N, ...");
    }
    return v;
  }
}
