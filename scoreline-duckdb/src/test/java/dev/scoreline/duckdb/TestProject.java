package dev.scoreline.duckdb;

import dev.scoreline.core.feature.FeatureRegistry;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Array;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A project directory for tests: {@code features/*.yaml} written from text, data files written by a
 * DuckDB of the test's own with {@code COPY (query) TO file}, and Parquet read back in file order.
 */
final class TestProject implements AutoCloseable {
  final Path dir;
  private final Connection duck;

  TestProject(Path dir) {
    this.dir = dir;
    try {
      this.duck = DriverManager.getConnection("jdbc:duckdb:");
      execute("SET TimeZone = 'UTC'");
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Writes {@code features/<name>.yaml}. */
  TestProject features(String name, String yaml) {
    try {
      Path f = dir.resolve("features").resolve(name + ".yaml");
      Files.createDirectories(f.getParent());
      Files.writeString(f, yaml);
      return this;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Writes the rows of {@code query} to {@code relativePath}: Parquet, or CSV for {@code .csv}. */
  Path write(String relativePath, String query) {
    Path file = dir.resolve(relativePath);
    try {
      Files.createDirectories(file.getParent());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    String format = relativePath.endsWith(".csv") ? "FORMAT CSV, HEADER true" : "FORMAT PARQUET";
    execute(
        "COPY (" + query + ") TO '" + file.toString().replace("'", "''") + "' (" + format + ")");
    return file;
  }

  FeatureRegistry registry() {
    return FeatureRegistry.load(dir);
  }

  void execute(String sql) {
    try (Statement s = duck.createStatement()) {
      s.execute(sql);
    } catch (SQLException e) {
      throw new IllegalStateException(sql, e);
    }
  }

  /** Rows of a query as column name to value; arrays become lists, BLOBs byte arrays. */
  List<Map<String, Object>> query(String sql) {
    List<Map<String, Object>> rows = new ArrayList<>();
    try (Statement s = duck.createStatement();
        ResultSet rs = s.executeQuery(sql)) {
      ResultSetMetaData md = rs.getMetaData();
      while (rs.next()) {
        Map<String, Object> row = new LinkedHashMap<>();
        for (int i = 1; i <= md.getColumnCount(); i++) {
          Object v = rs.getObject(i);
          if (v instanceof Array a) {
            v = Arrays.asList((Object[]) a.getArray());
          } else if (md.getColumnTypeName(i).equals("BLOB") && v != null) {
            v = rs.getBytes(i);
          }
          row.put(md.getColumnName(i), v);
        }
        rows.add(row);
      }
    } catch (SQLException e) {
      throw new IllegalStateException(sql, e);
    }
    return rows;
  }

  /** A Parquet file's rows in file order. */
  List<Map<String, Object>> readParquet(Path file) {
    List<Map<String, Object>> rows =
        query(
            "SELECT * FROM read_parquet('"
                + file.toString().replace("'", "''")
                + "', file_row_number = true) ORDER BY file_row_number");
    for (Map<String, Object> r : rows) {
      r.remove("file_row_number");
    }
    return rows;
  }

  /** Rows of a Parquet or CSV file. */
  long countRows(Path file) {
    String reader = file.toString().endsWith(".csv") ? "read_csv_auto" : "read_parquet";
    return (Long)
        query(
                "SELECT count(*) AS n FROM "
                    + reader
                    + "('"
                    + file.toString().replace("'", "''")
                    + "')")
            .get(0)
            .get("n");
  }

  /** Column names and DuckDB types of a Parquet file, in order. */
  Map<String, String> schema(Path file) {
    Map<String, String> out = new LinkedHashMap<>();
    for (Map<String, Object> r :
        query(
            "DESCRIBE SELECT * FROM read_parquet('" + file.toString().replace("'", "''") + "')")) {
      out.put((String) r.get("column_name"), (String) r.get("column_type"));
    }
    return out;
  }

  /** One column of a Parquet file, in file order. */
  List<Object> column(Path file, String column) {
    List<Object> out = new ArrayList<>();
    for (Map<String, Object> r : readParquet(file)) {
      out.add(r.get(column));
    }
    return out;
  }

  @Override
  public void close() {
    try {
      duck.close();
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }
}
