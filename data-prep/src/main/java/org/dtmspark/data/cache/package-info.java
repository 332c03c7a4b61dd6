/**
 * The target-token cache (SPEC section 4, "Target cache"), format version 1: the teacher's tokens
 * for K views of every image, computed once and replayed exactly by training.
 *
 * <pre>
 * &lt;out&gt;/_cache_meta.json              teacher, token shape, dtype, view policy, seed, split,
 *                                     image shards' identity, counts; written last
 * &lt;out&gt;/part-00000.parquet            one row per (image, view), see TargetCacheSchema: the
 *                                     targets of image shard &lt;images&gt;/&lt;split&gt;/part-00000.parquet
 * &lt;out&gt;/_rejects/part-00000.parquet   images of that shard without targets (TargetRejects)
 * </pre>
 *
 * <p>Every Parquet file carries {@code dtm.cache.format_version} and {@code dtm.cache.content} in
 * its key-value metadata and {@link org.dtmspark.data.cache.TargetCacheMeta} carries {@code
 * format_version}; readers reject any other version with an error naming the file and the version.
 * Cache files written by the targets job also carry their {@link
 * org.dtmspark.data.cache.TargetCacheSettings} ({@code dtm.cache.settings}). Which views an image
 * has is one rule, {@link org.dtmspark.data.cache.CacheViews}; {@link
 * org.dtmspark.data.cache.TargetCacheCheck} checks a file against it and against its image shard;
 * {@link org.dtmspark.data.cache.ShardTargetStore} serves a cache to training.
 *
 * <p>Files are written and committed by the image-shard machinery ({@link
 * org.dtmspark.data.shard.ParquetRowWriter}), so the commit protocol of {@link
 * org.dtmspark.data.shard} applies: a file gets its final name only when complete, and the cache is
 * complete only once {@code _cache_meta.json} exists and {@link
 * org.dtmspark.data.cache.TargetCacheMeta#complete(long)} holds.
 */
package org.dtmspark.data.cache;
