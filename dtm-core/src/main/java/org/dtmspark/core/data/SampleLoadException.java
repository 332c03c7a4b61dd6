package org.dtmspark.core.data;

/**
 * One sample of a batch could not be loaded (decoded or rendered). The message names the sample's
 * position in the batch and its {@link ImageSource#id()}; the cause is the underlying failure.
 */
public final class SampleLoadException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final int sample;
  private final String sampleId;

  /**
   * Creates the exception.
   *
   * @param sample position of the sample in the batch
   * @param sampleId the sample's id
   * @param cause the failure
   */
  public SampleLoadException(int sample, String sampleId, Throwable cause) {
    super("Cannot load sample " + sample + " (" + sampleId + "): " + cause.getMessage(), cause);
    this.sample = sample;
    this.sampleId = sampleId;
  }

  /** Position of the sample in the batch. */
  public int sample() {
    return sample;
  }

  /** The id of the sample's image source. */
  public String sampleId() {
    return sampleId;
  }
}
