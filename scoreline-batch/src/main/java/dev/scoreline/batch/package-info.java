/** The local batch engine: score every entity, publish a KV snapshot. */
package dev.scoreline.batch;
