package org.dtmspark.jobs;

import org.apache.spark.SparkConf;
import org.apache.spark.sql.SparkSession;

/** The SparkSession of a command: spark-submit's, or an embedded {@code local[*]} one. */
public final class SparkSessions {
  private SparkSessions() {}

  /**
   * The active session, or a new one. Under {@code spark-submit} the master and every setting come
   * from there; run from {@code bin/dtm} (no {@code spark.master}) the job runs embedded on {@code
   * local[*]} with the driver on the loopback interface.
   */
  public static SparkSession getOrCreate(String appName) {
    SparkConf conf = new SparkConf();
    SparkSession.Builder builder = SparkSession.builder().appName(appName);
    if (!conf.contains("spark.master")) {
      builder.master("local[*]").config("spark.driver.host", "127.0.0.1");
    }
    return builder.getOrCreate();
  }
}
