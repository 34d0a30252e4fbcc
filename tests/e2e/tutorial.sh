#!/usr/bin/env bash
# Runs every command of docs/tutorial.md, in order, and checks that each
# "output" block's lines appear in what the command block before it printed.
#
# Block kinds (the fence's info string):
#   sh install  run in the source checkout (sets up and builds sysext-build)
#   sh          run in the user's shell, HOME a scratch directory
#   sh host     run "on the host": a private mount namespace with fresh tmpfs
#               on /run and /var/lib/extensions, so systemd-sysext merges over
#               this machine's /usr without anyone else seeing it
#   text output lines that must appear in the previous block's output
# All blocks run in one bash session, so cd and export carry over.
source "$(dirname "$0")/lib/common.sh"
require_tool systemd-sysext unshare sha256sum /usr/bin/python3

doc=$SOURCE_DIR/docs/tutorial.md
[ -f "$doc" ] || fail "no $doc"
export HOME=$WORK/home
export XDG_CACHE_HOME=$WORK/cache
mkdir -p "$HOME"

step "splitting $doc into blocks"
blocks=$WORK/blocks
mkdir -p "$blocks"
/usr/bin/python3 - "$doc" "$blocks" <<'PY'
import re, sys, pathlib
doc, out = sys.argv[1], pathlib.Path(sys.argv[2])
text = pathlib.Path(doc).read_text()
n = 0
for m in re.finditer(r"^```([^\n]*)\n(.*?)^```\s*$", text, re.S | re.M):
    info, body = m.group(1).strip(), m.group(2)
    kind = {"sh install": "install", "sh": "sh", "sh host": "host", "text output": "output"}.get(info)
    if kind is None:
        continue  # json, ini and other illustrations are not commands
    n += 1
    (out / f"{n:03d}.{kind}").write_text(body)
if n == 0:
    sys.exit("no blocks found")
PY
ls "$blocks" | sed 's/^/  /'
grep -q . <(ls "$blocks"/*.host) || fail "the tutorial merges nothing on a host"

# One script: every block in order, its output captured for the checks.
script=$WORK/tutorial-run.sh
{
    echo 'set -euo pipefail'
    echo 'host() { unshare -m --propagation private bash -euo pipefail -c '"'"'
        mount --make-rprivate /
        mount -t tmpfs tmpfs /run
        mkdir -p /var/lib/extensions
        mount -t tmpfs tmpfs /var/lib/extensions
        mount --make-rshared /
        source "$0"'"'"' "$1"; }'
    for f in "$blocks"/*; do
        b=$(basename "$f")
        case $f in
        *.install) echo "cd '$SOURCE_DIR'; { source '$f'; } >'$WORK/out.$b' 2>&1" ;;
        *.sh) echo "{ source '$f'; } >'$WORK/out.$b' 2>&1" ;;
        *.host) echo "host '$f' >'$WORK/out.$b' 2>&1" ;;
        esac
        # The line shows which block failed when one does.
        [ "${f##*.}" = output ] || echo "echo 'block $b done' >>'$WORK/progress'"
    done
} >"$script"

step "running the tutorial"
rc=0
bash "$script" || rc=$?
if [ "$rc" -ne 0 ]; then
    last=$(tail -n1 "$WORK/progress" 2>/dev/null || echo "none")
    for f in "$WORK"/out.*; do echo "== $f"; cat "$f"; done | tail -n 60 >&2
    fail "the tutorial stopped with exit code $rc (last finished: $last)"
fi

step "sysext-build came from this checkout"
grep -q "sysext-build" "$WORK"/out.001.install || fail "the install block did not print a version"

step "every output block matches what its command block printed"
prev=""
for f in "$blocks"/*; do
    case $f in
    *.output)
        [ -n "$prev" ] || fail "$(basename "$f"): an output block before any command"
        while IFS= read -r line; do
            [ -n "${line// /}" ] || continue
            grep -qF -- "$line" "$WORK/out.$(basename "$prev")" ||
                fail "$(basename "$f"): expected the line '$line' in the output of $(basename "$prev"), got: $(cat "$WORK/out.$(basename "$prev")")"
        done <"$f"
        ;;
    *) prev=$f ;;
    esac
done

step "nothing merged outside the namespaces"
if command -v hello >/dev/null 2>&1; then fail "hello is visible on this machine"; fi
echo "tutorial: $(ls "$blocks" | wc -l) blocks ran and matched"
