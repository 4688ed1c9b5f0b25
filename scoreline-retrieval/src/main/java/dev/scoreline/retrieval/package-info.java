/** Vector indexes (jvector graph, exact) and candidate retrieval. */
package dev.scoreline.retrieval;
