/** The streaming engine: durable event log, per-key ordered processing, sinks, dead letters. */
package dev.scoreline.stream;
