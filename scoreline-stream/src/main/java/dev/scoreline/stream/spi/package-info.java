/**
 * The service-provider interface of the streaming engine: event sources, result sinks, dead-letter
 * sinks and connectors that make them from configuration.
 */
package dev.scoreline.stream.spi;
