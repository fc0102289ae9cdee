"""`import logbench` against the `logbench` CLI: the same files, the same
answers, field for field. Run by `cargo test` (tests/python.rs), which builds
the extension and passes the CLI's path in LOGBENCH_BIN."""

import bz2
import gzip
import json
import os
import subprocess
import threading

import pytest

import logbench

CLI = os.environ["LOGBENCH_BIN"]

# The texts of the contract tests (tests/contract.rs): LOG-FORMAT.md's rules.
CONTRACT_TEXTS = [
    b"1362330056,cpu_usage,74\n",
    b"1,cpu_usage,10\n2,cpu_usage,20\n3,memory_usage,1396\n4,cpu_usage,30\n",
    b"1,cpu_usage,10\n2,cpu_usage,20",
    b"1,cpu_usage,10\r\n\r\n2,cpu_usage,20\r\r\n3,cpu_usage,5\r",
    b"1,cpu_usage,4\rx\n1,cpu_usage,3\n",
    b"\n\n1,cpu_usage,7\n\n",
    b" 1,cpu_usage,1\n1,cpu_usage,1 \n1, cpu_usage,1\n1,cpu_usage ,1\n\t\n1,cpu_usage,2\n",
    b"1,cpu_usage\n1,cpu_usage,12,extra\n,cpu_usage,1\n1,,1\n1,cpu_usage,\n,,\n1\n1,cpu_usage,5\n",
    b"1,cpu_usage_total,1\n1,xcpu_usage,2\n1,CPU_USAGE,3\n1,cpu_usag,4\n1,cpu_usage,5\n",
    b"1,cpu_usage,+7\n1,cpu_usage,-7\n1,cpu_usage,007\n1,cpu_usage,-0\n"
    b"1,cpu_usage,9223372036854775807\n1,cpu_usage,-9223372036854775808\n"
    b"1,cpu_usage,9223372036854775808\n1,cpu_usage,+-1\n",
    b"x1,cpu_usage,100\n1,cpu_usage,1oo\n1,cpu_usage,100,\n1,cpu_usage,1\n",
    b"1,cpu\xffusage,5\n\xff,cpu_usage,1\n1,cpu_usage,\xff\n1,\0,3\n\0\n1,cpu_usage,2\n",
    b"18446744073709551616,cpu_usage,1\n00000000000000000000001,cpu_usage,2\n",
]

ENCODINGS = {"log": lambda b: b, "log.gz": gzip.compress, "log.bz2": bz2.compress}


def cli(*args):
    """The CLI's JSON (one document per line) and its exit status."""
    run = subprocess.run([CLI, *args], capture_output=True, check=False)
    lines = run.stdout.decode().splitlines()
    return [json.loads(line) for line in lines], run.returncode, run.stderr.decode()


def timeless(document):
    """A document without its timings."""
    document = dict(document)
    document.pop("seconds", None)
    return document


@pytest.fixture(scope="module")
def contract_files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("contract")
    files = []
    for i, text in enumerate(CONTRACT_TEXTS):
        for suffix, encode in ENCODINGS.items():
            path = folder / f"case{i}.{suffix}"
            path.write_bytes(encode(text))
            files.append(path)
    return files


@pytest.mark.parametrize("strategy", [None, "naive-regex", "running-sum", "swar", "parallel"])
def test_mean_equals_the_cli_on_every_contract_file(contract_files, strategy):
    for path in contract_files:
        args = ["mean", str(path), "--json"] + (["--strategy", strategy] if strategy else [])
        records, status, _ = cli(*args)
        if status == 0:
            got = logbench.mean(path, strategy=strategy)
            assert timeless(got) == timeless(records[0]), path
            assert isinstance(got["sum"], int)
        else:
            with pytest.raises(logbench.Error) as raised:
                logbench.mean(path, strategy=strategy)
            assert str(path) in str(raised.value)


def test_mean_takes_metrics_threads_and_strict(contract_files):
    path = contract_files[3]  # the plain log, raw (three files per text)
    for threads in (1, 2):
        got = logbench.mean(str(path), metric="memory_usage", threads=threads)
        assert (got["count"], got["sum"], got["metric"]) == (1, 1396, "memory_usage")
    non_utf8 = contract_files[0].parent / "non-utf8.log"
    non_utf8.write_bytes(b"1,cpu\xffusage,5\n1,cpu\xefusage,6\n")
    assert logbench.mean(non_utf8, metric=b"cpu\xffusage")["sum"] == 5
    malformed = contract_files[3 * 7]  # the field-count case, raw
    with pytest.raises(logbench.Error, match="line 1: malformed"):
        logbench.mean(malformed, strict=True)


def test_sums_are_exact_python_ints(tmp_path):
    path = tmp_path / "big.log"
    path.write_bytes(b"1,m,9223372036854775807\n" * 3)
    got = logbench.mean(path, metric="m")
    assert got["sum"] == 3 * (2**63 - 1)
    assert type(got["sum"]) is int
    groups = logbench.stats(path)["groups"]
    assert groups[0]["sum"] == 3 * (2**63 - 1)


STATS_OPTIONS = [
    ({}, []),
    ({"metric": ["cpu_usage", "nothing", b"cpu\xffusage"]},
     ["--metric", "cpu_usage", "--metric", "nothing"]),
    ({"every": 2}, ["--every", "2"]),
    ({"every": "1m", "since": 2, "until": "1970-01-01T00:00:04Z"},
     ["--every", "1m", "--since", "2", "--until", "1970-01-01T00:00:04Z"]),
    ({"quantiles": [0, 0.25, "1"], "engine": "naive"}, ["--quantiles", "0,0.25,1", "--engine", "naive"]),
    ({"threads": 1}, ["--threads", "1"]),
]


@pytest.mark.parametrize("options,flags", STATS_OPTIONS)
def test_stats_equals_the_cli_on_every_contract_file(contract_files, options, flags):
    if any(isinstance(m, bytes) for m in options.get("metric", [])):
        # The CLI takes the non-UTF-8 metric as raw argument bytes.
        flags = flags + ["--metric", os.fsdecode(b"cpu\xffusage")]
    for path in contract_files:
        documents, status, _ = cli("stats", str(path), "--json", *flags)
        if status == 0:
            assert timeless(logbench.stats(path, **options)) == timeless(documents[0]), path
        else:
            with pytest.raises(logbench.Error):
                logbench.stats(path, **options)
    # All of them as one log, in any order.
    readable = [p for p in contract_files if cli("stats", str(p), "--json")[1] == 0]
    documents, status, _ = cli("stats", *map(str, readable), "--json", *flags)
    assert status == 0
    assert timeless(logbench.stats(readable[::-1], **options)) == timeless(documents[0])


def test_a_bad_file_raises_with_the_clis_message_unless_keep_going(tmp_path):
    good = tmp_path / "good.log"
    good.write_bytes(b"1,cpu_usage,5\n")
    bad = tmp_path / "bad.log.gz"
    bad.write_bytes(gzip.compress(b"1,cpu_usage,5\n" * 100)[:-5])
    missing = tmp_path / "missing.log"
    _, status, stderr = cli("stats", str(good), str(bad))
    assert status == 1
    with pytest.raises(logbench.Error) as raised:
        logbench.stats([good, bad])
    assert str(raised.value) in stderr
    assert "bad.log.gz" in str(raised.value)
    kept = logbench.stats([good, bad, missing], keep_going=True)
    assert kept["files"] == 1
    assert [s["file"] for s in kept["skipped"]] == [str(bad), str(missing)]
    with pytest.raises(logbench.Error, match="missing.log"):
        logbench.mean(missing)


@pytest.mark.parametrize(
    "call",
    [
        lambda p: logbench.stats(p, every=0),
        lambda p: logbench.stats(p, every="5x"),
        lambda p: logbench.stats(p, since="tomorrow"),
        lambda p: logbench.stats(p, quantiles=[1.5]),
        lambda p: logbench.stats(p, engine="turbo"),
        lambda p: logbench.mean(p, strategy="turbo"),
    ],
)
def test_bad_options_raise_value_error(tmp_path, call):
    path = tmp_path / "one.log"
    path.write_bytes(b"1,cpu_usage,5\n")
    with pytest.raises(ValueError):
        call(path)


def test_the_gil_is_released_while_scanning(tmp_path):
    path = tmp_path / "many.log"
    path.write_bytes(b"".join(b"%d,cpu_usage,%d\n" % (i, i % 101) for i in range(2_000_000)))
    done = {}
    worker = threading.Thread(
        target=lambda: done.update(answer=logbench.stats(path, engine="naive", threads=1))
    )
    worker.start()
    spins = 0
    while worker.is_alive():
        spins += 1
    worker.join()
    assert done["answer"]["records"] == 2_000_000
    # Held, the GIL would stop this thread for the whole scan (a few spins
    # at its ends); released, it spins millions of times.
    assert spins > 100_000, spins
