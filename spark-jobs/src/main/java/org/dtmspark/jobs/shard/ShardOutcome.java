package org.dtmspark.jobs.shard;

import java.io.Serializable;
import java.util.List;
import java.util.Map;
import org.dtmspark.data.shard.RejectRow;

/**
 * What one shard task wrote.
 *
 * @param shard global shard index
 * @param split the shard's split
 * @param relativePath path under the output root
 * @param rows rows written
 * @param bytes file size
 * @param sha256 file checksum
 * @param classCounts rows per wnid
 * @param rejects inputs of this shard that could not be used
 */
record ShardOutcome(
    int shard,
    String split,
    String relativePath,
    long rows,
    long bytes,
    String sha256,
    Map<String, Long> classCounts,
    List<RejectRow> rejects)
    implements Serializable {}
