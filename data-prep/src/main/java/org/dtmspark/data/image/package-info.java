/**
 * Per-file image inspection for sharding: {@link org.dtmspark.data.image.ImageInspector} turns the
 * bytes of one input file into an {@link org.dtmspark.data.image.Inspection}, either the image to
 * store (original bytes, or a JPEG re-encoding with its reason) or a reject with a reason, and says
 * which files are skipped as not being inputs at all. No Spark here: the sharding job calls it for
 * every file.
 */
package org.dtmspark.data.image;
