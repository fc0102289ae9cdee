"""`logbench stats`' question in DuckDB: per metric, count, sum, min, max,
mean and the discrete 0.5/0.9/0.99 quantiles of a raw `epoch,metric,value`
log, on all cores. Prints one tab-separated row per metric, sorted by metric.

    python duckdb_stats.py FILE
"""

import sys

import duckdb


def main(path: str) -> None:
    rows = duckdb.sql(
        f"""
        SELECT metric, count(*), sum(value), min(value), max(value), avg(value),
               quantile_disc(value, [0.5, 0.9, 0.99])
        FROM read_csv('{path}', header = false, delim = ',',
                      columns = {{'epoch': 'UBIGINT', 'metric': 'VARCHAR', 'value': 'BIGINT'}})
        GROUP BY metric ORDER BY metric
        """
    ).fetchall()
    for metric, count, total, low, high, mean, quantiles in rows:
        print(metric, count, total, low, high, f"{mean:.6f}", *quantiles, sep="\t")


if __name__ == "__main__":
    main(sys.argv[1])
