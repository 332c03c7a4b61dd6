/**
 * The Parquet image-shard format (SPEC section 4, "Image shards"), format version 1: schema,
 * writers, streaming readers without a SparkSession, the manifest, reject files, and an in-memory
 * {@link org.dtmspark.core.data.ImageDataset} over shards.
 *
 * <p>An output root holds ({@link org.dtmspark.data.shard.Manifest}, {@link
 * org.dtmspark.data.shard.ImageShardSchema}, {@link org.dtmspark.data.shard.RejectSchema}):
 *
 * <pre>
 * &lt;out&gt;/_manifest.json                counts, shard list, synsets; written last
 * &lt;out&gt;/&lt;split&gt;/part-00000.parquet    image rows
 * &lt;out&gt;/_rejects/part-00000.parquet    one row per unusable input
 * </pre>
 *
 * <p>Every Parquet file carries {@code dtm.shard.format_version} and {@code dtm.shard.content} in
 * its key-value metadata and the manifest carries {@code format_version}; readers reject any other
 * version with an error naming the file and the version.
 *
 * <p>Commit protocol. A shard gets its final name only when complete ({@link
 * org.dtmspark.data.shard.ShardWriter#commit()}): by default it is written to a hidden sibling
 * {@code .part-00000.parquet.inprogress-<uuid>} and renamed, which is atomic on HDFS and local
 * disk. On S3A a rename is a server-side copy of every byte followed by a delete: correct, since
 * readers skip hidden names, but slow for large shards; there the job writes final names directly
 * ({@link org.dtmspark.data.shard.ShardWriteOptions.CommitMode#DIRECT}): an S3A object appears only
 * when its upload completes, and an aborted writer cancels the upload. A job that lets Spark write
 * instead relies on the S3A committers ({@code spark.hadoop.fs.s3a.committer.name=magic} or {@code
 * directory}, with Spark's {@code PathOutputCommitProtocol}). In every case the output is complete
 * only once {@code _manifest.json} exists, and {@link
 * org.dtmspark.data.shard.Manifest#accountsForEveryFile()} states its invariant: image rows plus
 * reject rows plus skipped files equal the files found.
 */
package org.dtmspark.data.shard;
