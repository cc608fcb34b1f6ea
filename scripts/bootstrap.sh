#!/usr/bin/env bash
# Create or reuse .venv and install Lifecycle into it (with test tools when asked).
# Sourced by scripts/lifecycle and scripts/test; reinstalls only when pyproject.toml changed.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$root/.venv"
extras="${1:-}"

find_python() {
  for candidate in python3.13 python3.12 python3.11 python3; do
    if command -v "$candidate" >/dev/null 2>&1 &&
      "$candidate" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null; then
      echo "$candidate"
      return 0
    fi
  done
  echo "Lifecycle needs Python 3.11 or newer on PATH" >&2
  return 1
}

if [ ! -x "$venv/bin/python" ]; then
  python="$(find_python)"
  echo "creating virtualenv in .venv with $python" >&2
  "$python" -m venv "$venv"
fi

spec="."
[ -n "$extras" ] && spec=".[$extras]"
stamp="$venv/.installed-$(sha256sum "$root/pyproject.toml" | cut -c1-16)-${extras:-base}"
if [ ! -f "$stamp" ]; then
  echo "installing Lifecycle ($spec) into .venv ..." >&2
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip >&2
  (cd "$root" && "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -e "$spec" >&2)
  touch "$stamp"
fi
