#!/usr/bin/env bash
# One entry point for a fresh machine that has Python 3.11:
#   ./run.sh demo   set up .venv, then parse the seed pages (authors, timestamps) and score them with the shipped models
#   ./run.sh test   set up .venv (and the system packages the browser and PostgreSQL tests need), then run the whole suite
# Extra arguments after `test` go to pytest.
set -euo pipefail
cd "$(dirname "$0")"

PYTHON=${PYTHON:-$(command -v python3.11 || command -v python3)}
VENV=${VENV:-.venv}

setup_python() {
    if [ ! -x "$VENV/bin/python" ]; then
        "$PYTHON" -m venv "$VENV"
    fi
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -e '.[test]'
}

have_postgres() {
    compgen -G "/usr/lib/postgresql/*/bin/pg_ctl" >/dev/null || command -v pg_ctl >/dev/null
}

setup_system() {
    # Debian packages: headless Chromium for the moderator-page browser tests, and a PostgreSQL
    # server for the queue tests (the tests start a throwaway cluster of their own on loopback).
    local missing=()
    if ! { command -v chromium >/dev/null && command -v chromedriver >/dev/null; }; then
        missing+=(chromium chromium-driver)
    fi
    if ! have_postgres; then
        missing+=(postgresql)
    fi
    if [ ${#missing[@]} = 0 ]; then
        return
    fi
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq >/dev/null
        apt-get install -y -qq "${missing[@]}" >/dev/null
    else
        echo "run.sh: ${missing[*]} missing and cannot apt-get install them; browser tests skip, PostgreSQL tests skip (fail when CI=true)" >&2
    fi
}

case "${1:-}" in
    demo)
        shift
        setup_python
        echo "== classifier parse seeds/ : comments with author and timestamp, page statuses" >&2
        "$VENV/bin/classifier" parse seeds/ --format table
        echo "== classifier score seeds/ : scores with the shipped models" >&2
        "$VENV/bin/classifier" score seeds/ --format table "$@"
        ;;
    test)
        shift
        setup_python
        setup_system
        "$VENV/bin/python" -m pytest "$@"
        ;;
    *)
        echo "usage: ./run.sh demo|test [args...]" >&2
        exit 2
        ;;
esac
