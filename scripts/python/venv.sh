# Sourced by the Python measuring scripts, from the repository root: the
# virtualenv `cargo test` makes under target/python-venv (made here if
# missing), with the test tools, Dask and line_profiler installed and the
# extension built into it. Sets $py.
venv=target/python-venv
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check -r python/requirements-test.txt -r scripts/python/requirements.txt
VIRTUAL_ENV=$venv CARGO_TARGET_DIR=target/python-build \
    "$venv/bin/maturin" develop --release --quiet --manifest-path python/Cargo.toml
py=$venv/bin/python
