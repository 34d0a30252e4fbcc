#!/usr/bin/env bash
# SIGKILL `sysext-build index --gpg-key` while it adds a release to a signed
# index, at fractions of a whole run's time and as soon as each of its files
# appears (the lock, each temporary, each renamed file, SHA256SUMS.gpg,
# SHA256SUMS). After every kill the served index is the previous complete one
# or the new complete one: SHA256SUMS lists either the old entries or the old
# and the new, every listed file has its bytes (sha256sum -c), and gpgv
# accepts SHA256SUMS.gpg for it. The one state between, a signature renamed
# into place before the list it signs (index.hpp: the last two renames), is
# counted; a reader then sees a refused signature, never a wrong file. Then
# the same command, run again, leaves the new complete index, signed, with no
# temporaries, whatever the kill left.
source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/build_env.sh"
require_tool sha256sum gpg gpgv gpgconf head cmp

gnupg=$WORK/gnupg
mkdir -m 700 "$gnupg"
trap 'gpgconf --homedir "$gnupg" --kill gpg-agent 2>/dev/null || true; cleanup_work' EXIT
gpg --homedir "$gnupg" --batch --quiet --passphrase '' --quick-gen-key "index test <index@127.0.0.1>" ed25519 sign never 2>/dev/null
gpg --homedir "$gnupg" --batch --quiet --export index@127.0.0.1 >"$WORK/pubring.gpg"
sign=(--gpg-key index@127.0.0.1 --gpg-homedir "$gnupg")

# Incompressible images, so that copying them into the index takes a moment.
mk() { # mk VERSION: x86-64 and arm64 releases of VERSION in releases-VERSION
    local arch
    mkdir -p "$WORK/tree-$1/usr/share/blob"
    for arch in 1 2 3; do head -c 4M /dev/urandom >"$WORK/tree-$1/usr/share/blob/part$arch"; done
    for arch in x86-64 arm64; do
        "$SYSEXT_BUILD" -q build --download-cache "$BUILD_CACHE" "$SOURCE_DIR/profiles/my-files.json" \
            --set root="$WORK/tree-$1" --set version="$1" --arch "$arch" -o "$WORK/out-$1-$arch" \
            --release-dir "$WORK/releases-$1" --base-url http://127.0.0.1:1/x "${sign[@]}" 2>/dev/null ||
            fail "build $1 $arch"
    done
}
mk 1.0
mk 1.1
idx=$WORK/index
"$SYSEXT_BUILD" -q index "$idx" "$WORK/releases-1.0" "${sign[@]}" || fail "the first index"
cp -a "$idx" "$WORK/index-old"
old_sums=$(cat "$idx/SHA256SUMS")

step "a whole run, for its time and its result"
start=$(date +%s.%N)
"$SYSEXT_BUILD" -q index "$idx" "$WORK/releases-1.1" "${sign[@]}" || fail "adding 1.1"
duration=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.2f", e - s }')
echo "a whole run: $duration s"
new_sums=$(cat "$idx/SHA256SUMS")
[ "$new_sums" != "$old_sums" ] || fail "adding 1.1 changed nothing"
grep -q '  my-files-1.1-arm64.raw$' "$idx/SHA256SUMS" || fail "1.1 is not in the index"

states_old=0 states_new=0 states_between=0
check_after_kill() { # WHAT
    local what=$1 sums state
    sums=$(cat "$idx/SHA256SUMS") || fail "$what: no SHA256SUMS"
    if [ "$sums" = "$old_sums" ]; then
        state=old
    elif [ "$sums" = "$new_sums" ]; then
        state=new
    else
        fail "$what: SHA256SUMS is neither the old nor the new list: $sums"
    fi
    (cd "$idx" && sha256sum --strict --quiet -c SHA256SUMS) || fail "$what: a listed file does not have its bytes"
    if gpgv --keyring "$WORK/pubring.gpg" "$idx/SHA256SUMS.gpg" "$idx/SHA256SUMS" 2>/dev/null; then
        case $state in old) states_old=$((states_old + 1)) ;; new) states_new=$((states_new + 1)) ;; esac
    else
        [ "$state" = old ] || fail "$what: the new SHA256SUMS with a signature gpgv refuses"
        # Only the next list's signature may stand next to the old list.
        cp "$idx/SHA256SUMS.gpg" "$WORK/sig"
        printf '%s\n' "$new_sums" >"$WORK/new-sums"
        gpgv --keyring "$WORK/pubring.gpg" "$WORK/sig" "$WORK/new-sums" 2>/dev/null ||
            fail "$what: the old SHA256SUMS with a signature of neither list"
        states_between=$((states_between + 1))
    fi
    echo "$what: $state list, signature $(gpgv --keyring "$WORK/pubring.gpg" "$idx/SHA256SUMS.gpg" "$idx/SHA256SUMS" >/dev/null 2>&1 && echo good || echo "of the next list")," \
        "$(ls -A "$idx" | grep -c '^\.') temporaries"
}
# recover: the same command again leaves the new index, complete and signed, nothing else.
recover() {
    "$SYSEXT_BUILD" -q index "$idx" "$WORK/releases-1.1" "${sign[@]}" || fail "$1: the next run failed"
    [ "$(cat "$idx/SHA256SUMS")" = "$new_sums" ] || fail "$1: the next run did not make the new list"
    (cd "$idx" && sha256sum --strict --quiet -c SHA256SUMS) || fail "$1: after the next run, a listed file is wrong"
    gpgv --keyring "$WORK/pubring.gpg" "$idx/SHA256SUMS.gpg" "$idx/SHA256SUMS" 2>/dev/null ||
        fail "$1: after the next run, gpgv refuses the signature"
    [ "$(ls -A "$idx" | grep -c '^\.')" -eq 0 ] || fail "$1: the next run left temporaries: $(ls -A "$idx")"
    [ "$(ls "$idx" | wc -l)" -eq "$(($(wc -l <"$idx/SHA256SUMS") + 2))" ] ||
        fail "$1: files that SHA256SUMS does not list: $(ls "$idx")"
}
reset_index() {
    rm -rf "$idx"
    cp -a "$WORK/index-old" "$idx"
}
# The run, in the background as $! (exec: SIGKILL reaches sysext-build itself).
index_bg() {
    (exec "$SYSEXT_BUILD" -q index "$idx" "$WORK/releases-1.1" "${sign[@]}" 2>/dev/null) &
}

kill_after() { # DELAY
    reset_index
    index_bg
    local pid=$!
    sleep "$1"
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    check_after_kill "killed after $1 s"
    recover "killed after $1 s"
}
kill_when() { # GLOB: SIGKILL as soon as a path that was not there matches GLOB
    reset_index
    local before pid i
    before=$(compgen -G "$1" || true)
    index_bg
    pid=$!
    for i in $(seq 1 20000); do
        compgen -G "$1" | grep -vxF -e "${before:-/}" | grep -q . && break
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.001
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    check_after_kill "killed at ${1#"$idx"/}"
    recover "killed at ${1#"$idx"/}"
}
# kill_sig_changed: SIGKILL as soon as SHA256SUMS.gpg is another file (renamed
# into place), which is before SHA256SUMS is.
kill_sig_changed() {
    reset_index
    local ino pid i
    ino=$(stat -c %i "$idx/SHA256SUMS.gpg")
    index_bg
    pid=$!
    for i in $(seq 1 200000); do
        [ "$(stat -c %i "$idx/SHA256SUMS.gpg" 2>/dev/null)" = "$ino" ] || break
        kill -0 "$pid" 2>/dev/null || break
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    check_after_kill "killed at the signature's rename"
    recover "killed at the signature's rename"
}

step "SIGKILL at fractions of a whole run's time"
for fraction in 0.05 0.2 0.4 0.6 0.8 0.95; do
    kill_after "$(awk -v d="$duration" -v f="$fraction" 'BEGIN { printf "%.3f", d * f }')"
done
step "SIGKILL as each file appears"
for stage in "$idx/.my-files-1.1-arm64.raw.tmp-*" "$idx/.my-files-1.1-x86-64.raw.tmp-*" \
    "$idx/.SHA256SUMS.tmp-*" "$idx/.SHA256SUMS.gpg.tmp-*" "$idx/my-files-1.1-arm64.raw" \
    "$idx/my-files-1.1-x86-64.raw" "$idx/my-files-1.1-x86-64.manifest.json"; do
    kill_when "$stage"
done
kill_sig_changed
echo "states after the kills: $states_old old, $states_new new, $states_between with the next list's signature"
[ "$states_old" -gt 0 ] && [ "$states_new" -gt 0 ] || fail "the kills did not reach both sides of the change"
echo "ok"
