package dev.scoreline.core.retrieval;

/**
 * One search hit: the item's id and its similarity score to the query (larger is better).
 *
 * @param id the item id given at build time
 * @param score the similarity ({@link Similarity}) of the item to the query
 */
public record Neighbor(long id, float score) {}
