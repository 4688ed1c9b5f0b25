package dev.scoreline.core.feature.online;

import dev.scoreline.core.feature.FeatureRef;
import dev.scoreline.core.feature.ValueType;
import java.util.List;

/**
 * A feature list compiled for reading: features grouped by entity (one multi-get each) and by view
 * (one record field each), with the schema positions to decode. Immutable; cached per feature list.
 */
final class ReadPlan {
  final List<FeatureRef> features;
  final List<String> names;
  final ValueType[] types;

  /** Per output column: the view slot whose event time it reports. */
  final int[] viewSlotOfFeature;

  final int viewSlots;
  final EntityRead[] entities;

  ReadPlan(
      List<FeatureRef> features,
      List<String> names,
      ValueType[] types,
      int[] viewSlotOfFeature,
      int viewSlots,
      EntityRead[] entities) {
    this.features = features;
    this.names = names;
    this.types = types;
    this.viewSlotOfFeature = viewSlotOfFeature;
    this.viewSlots = viewSlots;
    this.entities = entities;
  }

  /** The reads of one entity: one multiGetRecords call. */
  static final class EntityRead {
    final String entity;
    final String namespace;
    final String[] keyNames;
    final ValueType[] keyTypes;
    final dev.scoreline.core.feature.Definitions.KeyColumn[] keyColumns;
    final ViewRead[] views;

    /** The record field names of {@link #views}, in the same order. */
    final java.util.List<String> viewNames;

    /** Every output column this entity fills (to copy duplicate keys' results). */
    final int[] columns;

    /** A requested feature of this entity, named in errors about missing keys. */
    final String exampleFeature;

    EntityRead(
        String entity,
        String namespace,
        dev.scoreline.core.feature.Definitions.KeyColumn[] keyColumns,
        ViewRead[] views,
        int[] columns,
        String exampleFeature) {
      this.entity = entity;
      this.namespace = namespace;
      this.keyColumns = keyColumns;
      this.keyNames = new String[keyColumns.length];
      this.keyTypes = new ValueType[keyColumns.length];
      for (int i = 0; i < keyColumns.length; i++) {
        keyNames[i] = keyColumns[i].name();
        keyTypes[i] = keyColumns[i].type();
      }
      this.views = views;
      String[] names = new String[views.length];
      for (int i = 0; i < views.length; i++) {
        names[i] = views[i].view;
      }
      this.viewNames = java.util.List.of(names);
      this.columns = columns;
      this.exampleFeature = exampleFeature;
    }
  }

  /** The features read from one view's record field. */
  static final class ViewRead {
    final String view;
    final int slot;

    /** TTL in microseconds, or -1 for none. */
    final long ttlMicros;

    /** Schema positions to decode, ascending, unique. */
    final int[] positions;

    /** The type tag each position must have. */
    final byte[] tags;

    /** Output columns per position (more than one when a feature is requested twice). */
    final int[][] columns;

    ViewRead(String view, int slot, long ttlMicros, int[] positions, byte[] tags, int[][] columns) {
      this.view = view;
      this.slot = slot;
      this.ttlMicros = ttlMicros;
      this.positions = positions;
      this.tags = tags;
      this.columns = columns;
    }
  }
}
