#!/usr/bin/env bash
# Runs the whole test suite: Rust unit and integration tests against a local emulator,
# the Python client's tests, and the template checks. This is the command CI runs.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/python-env.sh
endpoint=$(scripts/emulator.sh start)
trap 'scripts/emulator.sh stop "$endpoint"' EXIT

# Dummy credentials and no metadata probing: every AWS call goes to the emulator.
export AWS_ENDPOINT_URL="$endpoint"
export MPT_TEST_ENDPOINT="$endpoint"
export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_SESSION_TOKEN=testing
export AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
export AWS_EC2_METADATA_DISABLED=true

cargo test --workspace --locked

# The emulator launcher's Query must answer exactly as moto's own.
.venv/bin/python -m pytest -q -p no:cacheprovider scripts/emulator

# Template checks: both run offline. `sam validate --lint` runs cfn-lint on the SAM template;
# the bare cfn-lint run also fails on warnings (exit codes 4 and 8 are warnings and notes).
export SAM_CLI_TELEMETRY=0
.venv/bin/cfn-lint template.yaml
.venv/bin/sam validate --lint --template template.yaml --region us-east-1

# The Python client's tests start `mpt serve` from this build against the same emulator.
# `cargo test` above built target/debug/mpt for the command line's own tests; a separate
# `cargo build` would resolve other features and compile many dependencies again.
if [[ ! -x target/debug/mpt ]]; then
    echo "target/debug/mpt is missing after cargo test; build it with cargo build -p mpt-cli" >&2
    exit 1
fi
# The client is installed into a directory of this checkout, not into .venv, so the tests
# import the package as built from this checkout whatever else shares the virtualenv.
client_dir=.run/python-client
rm -rf "$client_dir"
.venv/bin/pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation \
    --target "$client_dir" ./clients/python
# pytest exits 5 when it collects no tests; `set -e` turns that, like any failure, into a failed run.
PYTHONPATH="$client_dir" MPT_BIN=target/debug/mpt .venv/bin/python -m pytest -q -p no:cacheprovider clients/python/tests
