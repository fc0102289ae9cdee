"""`logbench stats`' question in polars: per metric, count, sum, min, max,
mean and the 0.5/0.9/0.99 quantiles (nearest, never interpolated) of a raw
`epoch,metric,value` log, lazily and on all cores. Prints one tab-separated
row per metric, sorted by metric.

    python polars_stats.py FILE
"""

import sys

import polars as pl


def main(path: str) -> None:
    log = pl.scan_csv(
        path,
        has_header=False,
        new_columns=["epoch", "metric", "value"],
        schema_overrides={"epoch": pl.UInt64, "metric": pl.String, "value": pl.Int64},
    )
    value = pl.col("value")
    answer = (
        log.group_by("metric")
        .agg(
            value.count().alias("count"),
            value.sum().alias("sum"),
            value.min().alias("min"),
            value.max().alias("max"),
            value.mean().alias("mean"),
            *(value.quantile(q, interpolation="nearest").alias(f"q{q}") for q in (0.5, 0.9, 0.99)),
        )
        .sort("metric")
        .collect()
    )
    for row in answer.iter_rows():
        metric, count, total, low, high, mean, *quantiles = row
        print(metric, count, total, low, high, f"{mean:.6f}", *(int(q) for q in quantiles), sep="\t")


if __name__ == "__main__":
    main(sys.argv[1])
