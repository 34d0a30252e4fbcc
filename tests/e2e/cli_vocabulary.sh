#!/usr/bin/env bash
# The command line as a new user meets it: `help [COMMAND]`, "did you mean"
# for a mistyped command or flag (exit 2, the exact message), and --quiet
# keeping only errors (no warnings).
source "$(dirname "$0")/lib/common.sh"

exit_of() { local rc=0; "$@" >/dev/null 2>&1 || rc=$?; echo "$rc"; }

step "help and help COMMAND"
"$SYSEXT_BUILD" help | grep -q "^Usage: sysext-build \[OPTIONS\] SUBCOMMAND" || fail "help: $("$SYSEXT_BUILD" help 2>&1 | head -3)"
"$SYSEXT_BUILD" help pack | grep -q "^Usage: sysext-build pack \[OPTIONS\] SOURCE" || fail "help pack"
[ "$(exit_of "$SYSEXT_BUILD" help inspect)" = 0 ] || fail "help inspect did not exit 0"

step "a mistyped command: exit 2, the nearest command named"
err=$("$SYSEXT_BUILD" biuld podman 2>&1 >/dev/null) && fail "biuld succeeded"
[ "$err" = 'sysext-build: error: unknown command "biuld" (did you mean "build"?); see sysext-build help' ] ||
    fail "biuld: $err"
[ "$(exit_of "$SYSEXT_BUILD" biuld podman)" = 2 ] || fail "biuld: not exit 2"

step "a mistyped flag: the nearest flag of that command"
mkdir -p "$WORK/t/usr/bin"
echo x >"$WORK/t/usr/bin/x"
expect_fail "(did you mean --compression?) (see sysext-build help pack)" \
    "$SYSEXT_BUILD" pack "$WORK/t" -o "$WORK/x.raw" --compresion xz
[ "$(exit_of "$SYSEXT_BUILD" pack "$WORK/t" -o "$WORK/x.raw" --compresion xz)" = 2 ] || fail "not exit 2"

step "--quiet: no warnings"
"$SYSEXT_BUILD" build "$SOURCE_DIR/profiles/my-files.json" --set root="$WORK/t" --set version=1 -o "$WORK/o1" \
    2>"$WORK/loud" >/dev/null
grep -q "warning: ELF check of libraries skipped" "$WORK/loud" || fail "the test expects a warning without --quiet: $(cat "$WORK/loud")"
"$SYSEXT_BUILD" --quiet build "$SOURCE_DIR/profiles/my-files.json" --set root="$WORK/t" --set version=1 -o "$WORK/o2" \
    2>"$WORK/quiet" >/dev/null
[ ! -s "$WORK/quiet" ] || fail "--quiet printed: $(cat "$WORK/quiet")"
echo PASS
