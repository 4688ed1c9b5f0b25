package dev.scoreline.duckdb;

import dev.scoreline.core.error.ErrorCode;
import dev.scoreline.core.error.ScorelineException;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.StringJoiner;

/**
 * A Parquet or CSV file, or a directory of them, described once (columns and DuckDB types) and
 * exposed as a SQL relation that adds two columns giving each row's position in the source: {@code
 * __sl_file} (the file name) and {@code __sl_pos} (the row's position in the scan). "Later in the
 * source" means a greater {@code (__sl_file, __sl_pos)}: files in name order, rows in file order.
 *
 * <p>{@code __sl_pos} is Parquet's {@code file_row_number} (the row's index in its file). For CSV
 * (and for a Parquet file that has a column named {@code file_row_number}) it is the scan's {@code
 * WITH ORDINALITY} number, which DuckDB assigns in scan order across the sorted files.
 *
 * <p>Format: the declared {@code format}, else the file extension ({@code .parquet}, {@code .pq};
 * {@code .csv}, {@code .tsv}, {@code .txt}, optionally {@code .gz}/{@code .zst}); a directory is
 * read as {@code <dir>/*.parquet} or {@code <dir>/*.csv} and must hold files of one format. CSV is
 * read with {@code read_csv_auto} (types sniffed), except that columns the caller names as strings
 * are read as VARCHAR, so keys like {@code 007} keep their zeros.
 */
final class SourceScan {
  static final String FILE = Sql.RESERVED_PREFIX + "file";
  static final String POS = Sql.RESERVED_PREFIX + "pos";

  enum Format {
    PARQUET,
    CSV
  }

  private final String label;
  private final Path path;
  private final Format format;
  private final String location;

  /** Source columns (actual name to DuckDB type) in file order, without {@link #FILE}. */
  private final LinkedHashMap<String, String> columns;

  /** Lower-cased name to actual name (DuckDB resolves identifiers case-insensitively). */
  private final Map<String, String> byLowerName;

  private final List<String> describedNames;
  private final Map<String, String> csvVarchar;
  private final boolean fileRowNumber;

  private SourceScan(
      String label,
      Path path,
      Format format,
      String location,
      List<String> describedNames,
      LinkedHashMap<String, String> columns,
      Map<String, String> csvVarchar,
      boolean fileRowNumber) {
    this.label = label;
    this.path = path;
    this.format = format;
    this.location = location;
    this.describedNames = describedNames;
    this.columns = columns;
    this.csvVarchar = csvVarchar;
    this.fileRowNumber = fileRowNumber;
    this.byLowerName = new LinkedHashMap<>();
    for (String name : columns.keySet()) {
      byLowerName.putIfAbsent(name.toLowerCase(Locale.ROOT), name);
    }
  }

  /**
   * Resolves and describes a source.
   *
   * @param label how messages name the owner, such as {@code feature view 'user_stats'}
   * @param declaredFormat {@code parquet}, {@code csv} or null (from the extension)
   * @param stringColumns names (case-insensitive) to read as VARCHAR from CSV
   */
  static SourceScan open(
      Connection connection,
      String label,
      Path path,
      String declaredFormat,
      Collection<String> stringColumns) {
    String text = path.toString();
    if (text.indexOf('*') >= 0 || text.indexOf('?') >= 0 || text.indexOf('[') >= 0) {
      throw userError(
          label
              + ": source path "
              + path
              + " contains a glob character (* ? [); name a file or a directory instead");
    }
    Format format;
    String location;
    if (Files.isDirectory(path)) {
      format = directoryFormat(label, path, declaredFormat);
      String ext = format == Format.PARQUET ? "*.parquet" : "*.csv";
      location = path.resolve(ext).toString();
    } else if (Files.isRegularFile(path)) {
      format = fileFormat(label, path, declaredFormat);
      location = text;
    } else {
      throw userError(label + ": source " + path + " does not exist");
    }

    String reader = reader(format, location, Map.of(), false);
    List<String> names = new ArrayList<>();
    LinkedHashMap<String, String> columns = new LinkedHashMap<>();
    try (Statement s = connection.createStatement();
        ResultSet rs = s.executeQuery("DESCRIBE SELECT * FROM " + reader)) {
      while (rs.next()) {
        String name = rs.getString("column_name");
        names.add(name);
        if (!name.equals(FILE)) {
          columns.put(name, rs.getString("column_type"));
        }
      }
    } catch (SQLException e) {
      throw userError(label + ": cannot read source " + path + ": " + e.getMessage());
    }
    for (String name : columns.keySet()) {
      if (name.toLowerCase(Locale.ROOT).startsWith(Sql.RESERVED_PREFIX)) {
        throw userError(
            label
                + ": source "
                + path
                + " has column '"
                + name
                + "'; names starting with "
                + Sql.RESERVED_PREFIX
                + " are reserved for Scoreline");
      }
    }
    Map<String, String> csvVarchar = new LinkedHashMap<>();
    boolean fileRowNumber = format == Format.PARQUET;
    if (format == Format.CSV) {
      for (String wanted : stringColumns) {
        for (Map.Entry<String, String> c : columns.entrySet()) {
          if (c.getKey().equalsIgnoreCase(wanted) && !c.getValue().equals("VARCHAR")) {
            csvVarchar.put(c.getKey(), "VARCHAR");
            c.setValue("VARCHAR");
          }
        }
      }
    } else {
      for (String name : columns.keySet()) {
        if (name.equalsIgnoreCase("file_row_number")) {
          fileRowNumber = false;
        }
      }
    }
    return new SourceScan(label, path, format, location, names, columns, csvVarchar, fileRowNumber);
  }

  private static Format directoryFormat(String label, Path dir, String declared) {
    int parquet = 0;
    int csv = 0;
    try (DirectoryStream<Path> files = Files.newDirectoryStream(dir)) {
      for (Path f : files) {
        String name = f.getFileName().toString().toLowerCase(Locale.ROOT);
        if (!Files.isRegularFile(f)) {
          continue;
        }
        if (name.endsWith(".parquet")) {
          parquet++;
        } else if (name.endsWith(".csv")) {
          csv++;
        }
      }
    } catch (IOException e) {
      throw userError(label + ": cannot list source directory " + dir + ": " + e);
    }
    Format format;
    if (declared != null) {
      format = parse(declared);
    } else if (parquet > 0 && csv > 0) {
      throw userError(
          label
              + ": source directory "
              + dir
              + " holds both .parquet and .csv files; keep one format per directory or set"
              + " source.format");
    } else {
      format = csv > 0 ? Format.CSV : Format.PARQUET;
    }
    if ((format == Format.PARQUET ? parquet : csv) == 0) {
      throw userError(
          label
              + ": source directory "
              + dir
              + " holds no "
              + (format == Format.PARQUET ? ".parquet" : ".csv")
              + " files");
    }
    return format;
  }

  private static Format fileFormat(String label, Path file, String declared) {
    if (declared != null) {
      return parse(declared);
    }
    String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
    for (String compressed : new String[] {".gz", ".zst"}) {
      if (name.endsWith(compressed)) {
        name = name.substring(0, name.length() - compressed.length());
      }
    }
    if (name.endsWith(".parquet") || name.endsWith(".pq")) {
      return Format.PARQUET;
    }
    if (name.endsWith(".csv") || name.endsWith(".tsv") || name.endsWith(".txt")) {
      return Format.CSV;
    }
    throw userError(
        label
            + ": cannot tell the format of "
            + file
            + " from its extension; use .parquet or .csv, or set source.format");
  }

  private static Format parse(String declared) {
    return declared.equalsIgnoreCase("csv") ? Format.CSV : Format.PARQUET;
  }

  private static String reader(
      Format format, String location, Map<String, String> csvTypes, boolean fileRowNumber) {
    StringBuilder sb = new StringBuilder();
    if (format == Format.PARQUET) {
      sb.append("read_parquet(").append(Sql.literal(location));
      sb.append(", filename = ").append(Sql.literal(FILE));
      if (fileRowNumber) {
        sb.append(", file_row_number = true");
      }
    } else {
      sb.append("read_csv_auto(").append(Sql.literal(location));
      sb.append(", filename = ").append(Sql.literal(FILE));
      if (!csvTypes.isEmpty()) {
        StringJoiner types = new StringJoiner(", ", "{", "}");
        csvTypes.forEach((k, v) -> types.add(Sql.literal(k) + ": " + Sql.literal(v)));
        sb.append(", types = ").append(types);
      }
    }
    return sb.append(')').toString();
  }

  /**
   * A parenthesized relation with every source column, {@code __sl_file} and {@code __sl_pos}
   * (alias it).
   */
  String relation() {
    if (fileRowNumber) {
      StringJoiner cols = new StringJoiner(", ");
      for (String n : describedNames) {
        cols.add(Sql.ident(n));
      }
      return "(SELECT "
          + cols
          + ", file_row_number AS "
          + Sql.ident(POS)
          + " FROM "
          + reader(format, location, csvVarchar, true)
          + ")";
    }
    StringJoiner alias = new StringJoiner(", ", "(", ")");
    for (String n : describedNames) {
      alias.add(Sql.ident(n));
    }
    alias.add(Sql.ident(POS));
    return "(SELECT * FROM "
        + reader(format, location, csvVarchar, false)
        + " WITH ORDINALITY AS "
        + Sql.ident(Sql.RESERVED_PREFIX + "src")
        + alias
        + ")";
  }

  /** The actual name of a column (matched case-insensitively, as DuckDB does), or null. */
  String column(String wanted) {
    if (columns.containsKey(wanted)) {
      return wanted;
    }
    return byLowerName.get(wanted.toLowerCase(Locale.ROOT));
  }

  /** The actual name of a required column; USER_ERROR naming it and the columns that exist. */
  String require(String wanted, String role) {
    String actual = column(wanted);
    if (actual == null) {
      throw userError(
          label
              + ": "
              + describe()
              + " has no column '"
              + wanted
              + "' ("
              + role
              + "); its columns are "
              + columns.keySet());
    }
    return actual;
  }

  /** DuckDB type of an actual column name. */
  String type(String actual) {
    return columns.get(actual);
  }

  List<String> columnNames() {
    return List.copyOf(columns.keySet());
  }

  /**
   * A TIMESTAMP (UTC, microseconds) expression for a time column: TIMESTAMP (any precision) and
   * DATE as is, TIMESTAMPTZ converted to UTC, integers as epoch milliseconds, VARCHAR parsed as ISO
   * 8601 (an offset is honoured; none means UTC). Requires the session time zone to be UTC.
   */
  String timestamp(String wanted, String role) {
    String actual = require(wanted, role);
    String type = columns.get(actual).toUpperCase(Locale.ROOT);
    String col = Sql.ident(actual);
    if (!DuckTypes.isTimestampLike(type)) {
      throw userError(
          label
              + ": column '"
              + actual
              + "' ("
              + role
              + ") of "
              + describe()
              + " has type "
              + type
              + "; use TIMESTAMP, TIMESTAMPTZ, DATE, epoch milliseconds (integer) or ISO-8601 text");
    }
    if (type.equals("VARCHAR")) {
      return "CAST(CAST(" + col + " AS TIMESTAMPTZ) AS TIMESTAMP)";
    }
    if (DuckTypes.isInteger(type)) {
      return "epoch_ms(CAST(" + col + " AS BIGINT))";
    }
    return "CAST(" + col + " AS TIMESTAMP)";
  }

  /** How messages name this source: {@code source /data/x.parquet (parquet)}. */
  String describe() {
    return "source " + path + " (" + format.name().toLowerCase(Locale.ROOT) + ")";
  }

  String label() {
    return label;
  }

  static ScorelineException userError(String message) {
    return new ScorelineException(ErrorCode.USER_ERROR, message);
  }
}
