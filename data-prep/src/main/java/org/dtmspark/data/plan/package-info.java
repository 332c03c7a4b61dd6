/**
 * The input side of sharding, as pure values and plans: {@link org.dtmspark.data.plan.InputScanner}
 * lists the images of an input root in one of the {@link org.dtmspark.data.plan.InputLayout}s
 * through the Hadoop FileSystem API (accounting for every entry as an image, a skipped file or a
 * reject), {@link org.dtmspark.data.plan.SynsetList} gives the labels, and {@link
 * org.dtmspark.data.plan.ShardPlanner} decides, deterministically from a seed, which image goes to
 * which row of which shard. The Spark shard job executes the plan, reading image bytes with {@link
 * org.dtmspark.data.plan.SourceBytes}.
 */
package org.dtmspark.data.plan;
