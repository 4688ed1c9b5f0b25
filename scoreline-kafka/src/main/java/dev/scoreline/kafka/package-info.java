/** Kafka source and sink for streaming surfaces. */
package dev.scoreline.kafka;
