# Shared by tools/web-test and tools/bench-web (sourced; needs `step` and
# `fail`): Debian's chromium + chromedriver, node, playwright-core from npm
# (no browser download), and a server for dist/ on a free local port.

apt_install() {
    [ "$(id -u)" = 0 ] || fail "need root to apt-get install $*"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

# Node and npm (Debian's, when the machine has none): the e2e tests, the
# benchmarks and core's wasm32-wasip1 unit tests (tools/wasi-run.mjs) use them.
need_node() {
    if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
        step "installing node and npm"
        apt_install nodejs npm || fail "cannot install node"
    fi
}

web_env_setup() {
    if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then
        step "installing Debian's chromium and chromium-driver"
        apt_install chromium chromium-driver || fail "cannot install chromium"
    fi
    need_node

    step "playwright-core and axe-core (npm, into web/e2e/node_modules; no browser download)"
    local stale=0 pkg want have
    for pkg in playwright-core axe-core; do
        want=$(sed -n "s/.*\"$pkg\": \"\(.*\)\".*/\1/p" web/e2e/package.json)
        have=$(sed -n 's/^  "version": "\(.*\)",$/\1/p' "web/e2e/node_modules/$pkg/package.json" 2>/dev/null || true)
        [ "$have" = "$want" ] || stale=1
    done
    if [ "$stale" = 1 ]; then
        (cd web/e2e && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 timeout 300 npm ci --no-audit --no-fund --loglevel=error) \
            || fail "npm ci failed"
    fi
}

# serve_dist DIR LOG: serves DIR on 127.0.0.1 (a free port); sets `url` and
# `server_pid` (the caller kills it).
serve_dist() {
    python3 -u "$ROOT/web/serve.py" "$1" 0 -q >"$2" 2>&1 &
    server_pid=$!
    url=
    for _ in $(seq 1 100); do
        url=$(sed -n 's/^serving \(http[^ ]*\)$/\1/p' "$2" | head -n1)
        [ -n "$url" ] && break
        kill -0 "$server_pid" 2>/dev/null || break
        sleep 0.1
    done
    [ -n "$url" ] || { cat "$2" >&2; fail "the server did not start"; }
    ctype=$(python3 -c "import sys,urllib.request; print(urllib.request.urlopen(sys.argv[1]+'app_bg.wasm', timeout=10).headers['Content-Type'])" "$url")
    [ "$ctype" = application/wasm ] || fail ".wasm served as $ctype, not application/wasm"
}
