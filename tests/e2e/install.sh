#!/usr/bin/env bash
# `cmake --install` puts the executable and the profiles (with their base lists)
# where the installed executable looks for them: a build by profile name works
# from any directory, with no source tree around.
source "$(dirname "$0")/lib/common.sh"
require_tool cmake
build_dir=$(dirname "$SYSEXT_BUILD")
[ -f "$build_dir/cmake_install.cmake" ] || fail "$build_dir is not a CMake build directory"

step "cmake --install into a prefix"
cmake --install "$build_dir" --prefix "$WORK/prefix" >"$WORK/install.log" || { cat "$WORK/install.log"; fail "cmake --install"; }
exe=$WORK/prefix/bin/sysext-build
[ -x "$exe" ] || fail "no $exe"
for f in podman.json my-files.json base/debian-13-host.txt base/debian-13-host-amd64.files; do
    cmp "$SOURCE_DIR/profiles/$f" "$WORK/prefix/share/sysext-build/profiles/$f" || fail "profile file $f not installed"
done

step "the installed executable finds a profile by name, away from the source tree"
mkdir -p "$WORK/elsewhere" "$WORK/root/usr/share/demo"
echo hello >"$WORK/root/usr/share/demo/hello"
(cd "$WORK/elsewhere" && env -u SYSEXT_BUILD_PROFILES "$exe" -q build my-files --set root="$WORK/root" \
    --set version=1.0 -o out) || fail "installed sysext-build build my-files"
unsquashfs -cat "$WORK/elsewhere/out/my-files.raw" usr/share/demo/hello | grep -qx hello ||
    fail "the image lacks the tree's file"
echo "install: ok"
