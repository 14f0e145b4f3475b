"""Reads a Parquet file's column statistics with two independent readers and
prints them as JSON, for test/interop/parquet-statistics.test.ts:

- pyarrow: ParquetFile(...).metadata, row group by row group, column by
  column (has_min_max, min, max, null_count), and the true extremes of each
  row group's column, read back from the data;
- DuckDB: parquet_metadata() (stats_min_value, stats_max_value,
  stats_null_count) and parquet_file_metadata() (created_by).

It also applies parquet-mr's rule for trusting statistics
(org.apache.parquet.CorruptStatistics.shouldIgnoreStatistics with
org.apache.parquet.VersionParser): a created_by that VersionParser cannot
parse makes parquet-mr drop the statistics of binary columns; a parsed one
that is not parquet-mr (older than 1.8.0) keeps them.

usage: python parquet_statistics.py FILE
"""

from __future__ import annotations

import json
import re
import sys
from typing import Any

import duckdb
import pyarrow.compute as pc
import pyarrow.parquet as pq

# org.apache.parquet.VersionParser.FORMAT
VERSION_FORMAT = re.compile(r"^(.*?)\s+version\s*(?:([^(]*?)\s*(?:\(\s*build\s*([^)]*?)\s*\))?)?$")


def parquet_mr_keeps_statistics(created_by: str) -> dict[str, Any]:
    match = VERSION_FORMAT.match(created_by)
    if not match or not match.group(1):
        return {"parsed": False, "keeps": False}
    application, version, build = match.groups()
    keeps = application != "parquet-mr"  # parquet-mr itself: only >= 1.8.0, not checked here
    return {"parsed": True, "keeps": keeps, "application": application, "version": version, "build": build}


def as_json(value: Any) -> Any:
    if isinstance(value, bytes):
        return value.decode("utf-8")
    return value


def pyarrow_statistics(path: str) -> dict[str, Any]:
    file = pq.ParquetFile(path)
    meta = file.metadata
    groups = []
    for g in range(meta.num_row_groups):
        table = file.read_row_group(g)
        columns = {}
        for c in range(meta.num_columns):
            chunk = meta.row_group(g).column(c)
            stats = chunk.statistics
            data = table.column(chunk.path_in_schema)
            extremes = pc.min_max(data)
            columns[chunk.path_in_schema] = {
                "hasMinMax": bool(stats is not None and stats.has_min_max),
                "min": as_json(stats.min) if stats is not None and stats.has_min_max else None,
                "max": as_json(stats.max) if stats is not None and stats.has_min_max else None,
                "nullCount": stats.null_count if stats is not None and stats.has_null_count else None,
                "dataMin": as_json(extremes["min"].as_py()),
                "dataMax": as_json(extremes["max"].as_py()),
            }
        groups.append({"rows": meta.row_group(g).num_rows, "columns": columns})
    return {"createdBy": meta.created_by, "rowGroups": groups}


def duckdb_statistics(path: str) -> dict[str, Any]:
    con = duckdb.connect()
    rows = con.execute(
        "SELECT row_group_id, path_in_schema, stats_min_value, stats_max_value, stats_null_count "
        "FROM parquet_metadata(?) ORDER BY row_group_id, column_id",
        [path],
    ).fetchall()
    created_by = con.execute("SELECT created_by FROM parquet_file_metadata(?)", [path]).fetchone()[0]
    groups: dict[int, dict[str, Any]] = {}
    for row_group, column, lo, hi, nulls in rows:
        groups.setdefault(row_group, {})[column] = {"min": lo, "max": hi, "nullCount": nulls}
    return {"createdBy": created_by, "rowGroups": [groups[g] for g in sorted(groups)], "version": duckdb.__version__}


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    path = argv[1]
    arrow = pyarrow_statistics(path)
    report = {
        "pyarrow": arrow,
        "duckdb": duckdb_statistics(path),
        "parquetMr": parquet_mr_keeps_statistics(arrow["createdBy"]),
    }
    json.dump(report, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
