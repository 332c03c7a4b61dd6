package org.dtmspark.core.config;

/**
 * The {@code pretrain.data} section: how the training images are dealt to the ranks.
 *
 * @param streams number of virtual streams V the shards of an epoch are dealt to; 0 for one stream
 *     per rank
 */
public record DataSettings(int streams) {
  static DataSettings from(SettingsReader r) {
    return new DataSettings(r.intAtLeast("streams", 0));
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
