#!/usr/bin/env bash
# Creates or refreshes the project's Python virtualenv in .venv from the pinned requirements.
# Re-running is cheap: it reinstalls only when a requirements file changed.
set -euo pipefail
cd "$(dirname "$0")/.."

venv=.venv
stamp="$venv/.requirements.sha256"
wanted=$(cat requirements/*.txt | sha256sum | cut -d' ' -f1)

if [[ ! -x "$venv/bin/python" ]]; then
    python3 -m venv "$venv"
fi
if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$wanted" ]]; then
    "$venv/bin/pip" install --quiet --disable-pip-version-check --upgrade pip
    "$venv/bin/pip" install --quiet --disable-pip-version-check -r requirements/test.txt -r requirements/fixtures.txt
    echo "$wanted" > "$stamp"
fi
