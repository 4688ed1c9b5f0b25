/** The quickstart demo: a synthetic shop, learned embeddings and a trained ranker. */
package dev.scoreline.demo;
