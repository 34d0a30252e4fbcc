#!/usr/bin/env bash
# A profile's layout keys land as written: move with etc_defaults (tmpfiles C
# rules, then run by systemd-tmpfiles on a scratch root: a host's own file is
# kept, missing ones are copied), exclude, modes, generated files, symlinks, and
# components that must exist ("FILE:LINE: component ..."). Judged by
# unsquashfs and systemd-tmpfiles.
source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/build_env.sh"
require_tool unsquashfs systemd-tmpfiles python3

step "a source tree with /etc defaults, docs, a libtool file and a binary without x bits"
src=$WORK/src
mkdir -p "$src/etc/lay/sub" "$src/usr/bin" "$src/usr/lib/lay" "$src/usr/share/doc/lay" "$src/usr/libexec/lay"
echo "option = vendor" >"$src/etc/lay/lay.conf"
echo "other = vendor" >"$src/etc/lay/sub/other.conf"
printf '#!/bin/sh\necho lay\n' >"$src/usr/bin/lay"
printf '#!/bin/sh\necho helper\n' >"$src/usr/libexec/lay/helper"
echo "libtool" >"$src/usr/lib/lay/liblay.la"
echo "lib" >"$src/usr/lib/lay/liblay.so.1"
echo "docs" >"$src/usr/share/doc/lay/README"
find "$src" -type f -exec chmod 0644 {} +
find "$src" -type d -exec chmod 0755 {} +

mkdir -p "$WORK/profiles"
cat >"$WORK/profiles/lay.json" <<'EOF'
{
  "name": "lay",
  "release": { "EXTENSION_RELOAD_MANAGER": "1" },
  "targets": {
    "any": { "release": { "ID": "_any" }, "sources": [{ "type": "directory", "path": "${src}" }] }
  },
  "move": [{ "from": "etc/lay", "to": "usr/share/${name}/etc/lay", "etc_defaults": true }],
  "exclude": ["etc/**", "usr/share/doc/**", "**/*.la"],
  "modes": [
    { "path": "usr/bin/*", "mode": "0755" },
    { "path": "usr/libexec/lay/helper", "mode": "0750" }
  ],
  "files": [
    { "path": "usr/lib/systemd/system/lay.service",
      "lines": ["[Unit]", "Description=Lay ${version}", "[Service]",
                "ExecStart=/usr/bin/lay $${HOME}"] },
    { "path": "usr/share/${name}/etc/lay/policy.json", "content": "{\"default\": []}\n" },
    { "path": "usr/libexec/lay/setup", "mode": "0700", "content": "#!/bin/sh\n" }
  ],
  "symlinks": [
    { "path": "usr/lib/systemd/system/multi-user.target.wants/lay.service", "target": "../lay.service" },
    { "path": "usr/bin/lay-again", "target": "lay" }
  ],
  "components": [
    { "name": "lay", "paths": ["usr/bin/lay", "usr/share/lay/etc/lay/*.conf"] }
  ]
}
EOF
build "$WORK/profiles/lay.json" --set src="$src" --set version=3.1 -o "$WORK/out" >/dev/null
image=$WORK/out/lay.raw

step "every entry lands as the profile says"
diff -u - <(listing "$image") <<'EOF' || fail "the image's entries differ from the profile's layout"
drwxr-xr-x 0/0 usr
drwxr-xr-x 0/0 usr/bin
-rwxr-xr-x 0/0 usr/bin/lay
lrwxrwxrwx 0/0 usr/bin/lay-again -> lay
drwxr-xr-x 0/0 usr/lib
drwxr-xr-x 0/0 usr/lib/extension-release.d
-rw-r--r-- 0/0 usr/lib/extension-release.d/extension-release.lay
drwxr-xr-x 0/0 usr/lib/lay
-rw-r--r-- 0/0 usr/lib/lay/liblay.so.1
drwxr-xr-x 0/0 usr/lib/systemd
drwxr-xr-x 0/0 usr/lib/systemd/system
-rw-r--r-- 0/0 usr/lib/systemd/system/lay.service
drwxr-xr-x 0/0 usr/lib/systemd/system/multi-user.target.wants
lrwxrwxrwx 0/0 usr/lib/systemd/system/multi-user.target.wants/lay.service -> ../lay.service
drwxr-xr-x 0/0 usr/lib/tmpfiles.d
-rw-r--r-- 0/0 usr/lib/tmpfiles.d/lay-etc-defaults.conf
drwxr-xr-x 0/0 usr/libexec
drwxr-xr-x 0/0 usr/libexec/lay
-rwxr-x--- 0/0 usr/libexec/lay/helper
-rwx------ 0/0 usr/libexec/lay/setup
drwxr-xr-x 0/0 usr/share
drwxr-xr-x 0/0 usr/share/lay
drwxr-xr-x 0/0 usr/share/lay/etc
drwxr-xr-x 0/0 usr/share/lay/etc/lay
-rw-r--r-- 0/0 usr/share/lay/etc/lay/lay.conf
-rw-r--r-- 0/0 usr/share/lay/etc/lay/policy.json
drwxr-xr-x 0/0 usr/share/lay/etc/lay/sub
-rw-r--r-- 0/0 usr/share/lay/etc/lay/sub/other.conf
EOF
printf '[Unit]\nDescription=Lay 3.1\n[Service]\nExecStart=/usr/bin/lay ${HOME}\n' |
    cmp - <(image_file "$image" usr/lib/systemd/system/lay.service) || fail "lay.service: lines, \${version}, \$\$"
[ "$(image_file "$image" usr/share/lay/etc/lay/lay.conf)" = "option = vendor" ] || fail "moved lay.conf content"
image_file "$image" usr/lib/extension-release.d/extension-release.lay | grep -qx EXTENSION_RELOAD_MANAGER=1 ||
    fail "profile-wide release keys missing"

step "etc_defaults: one tmpfiles C rule per relocated file, generated ones included"
diff -u - <(image_file "$image" usr/lib/tmpfiles.d/lay-etc-defaults.conf | grep -v '^#') <<'EOF' || fail "tmpfiles rules"
C /etc/lay/lay.conf - - - - /usr/share/lay/etc/lay/lay.conf
C /etc/lay/policy.json - - - - /usr/share/lay/etc/lay/policy.json
C /etc/lay/sub/other.conf - - - - /usr/share/lay/etc/lay/sub/other.conf
EOF
# systemd-tmpfiles itself applies them: what the host has stays, the rest is copied.
root=$WORK/root
unsquashfs -no-progress -d "$root" "$image" >/dev/null
mkdir -p "$root/etc/lay"
echo "option = mine" >"$root/etc/lay/lay.conf"
systemd-tmpfiles --root="$root" --create lay-etc-defaults.conf 2>"$WORK/tmpfiles.err" ||
    fail "systemd-tmpfiles refused the rules: $(cat "$WORK/tmpfiles.err")"
[ "$(cat "$root/etc/lay/lay.conf")" = "option = mine" ] || fail "the host's own lay.conf was overwritten"
[ "$(cat "$root/etc/lay/policy.json")" = '{"default": []}' ] || fail "policy.json was not copied to /etc"
[ "$(cat "$root/etc/lay/sub/other.conf")" = "other = vendor" ] || fail "sub/other.conf was not copied to /etc"
systemd-tmpfiles --root="$root" --create lay-etc-defaults.conf 2>/dev/null || fail "a second run failed"
[ "$(cat "$root/etc/lay/lay.conf")" = "option = mine" ] || fail "a second run overwrote lay.conf"

step "components and mode rules that find nothing name the profile's line"
line_of() { grep -n -- "$1" "$2" | head -n1 | cut -d: -f1; }
sed 's|"usr/bin/lay", "usr/share|"usr/bin/nope", "usr/share|' "$WORK/profiles/lay.json" >"$WORK/profiles/nocomp.json"
bad_build "3" lay "$WORK/profiles/nocomp.json:$(line_of '"name": "lay", "paths"' "$WORK/profiles/nocomp.json"): component \"lay\": nothing at \"usr/bin/nope\" in the extension" \
    "$WORK/profiles/nocomp.json" --set src="$src" --set version=3.1
sed 's|"usr/libexec/lay/helper", "mode"|"usr/libexec/lay/helpr", "mode"|' "$WORK/profiles/lay.json" >"$WORK/profiles/nomode.json"
bad_build "3" lay "$WORK/profiles/nomode.json:$(line_of 'helpr' "$WORK/profiles/nomode.json"): mode rule \"usr/libexec/lay/helpr\" matches nothing" \
    "$WORK/profiles/nomode.json" --set src="$src" --set version=3.1
# Without the exclude of etc/**, what is left in /etc cannot be merged.
python3 - "$WORK/profiles/lay.json" "$WORK/profiles/keepetc.json" <<'PY'
import json, sys
p = json.load(open(sys.argv[1]))
p["exclude"] = ["usr/share/doc/**", "**/*.la"]
p["move"] = []
json.dump(p, open(sys.argv[2], "w"), indent=1)
PY
bad_build "3" lay "etc: only usr/ and opt/ are merged by systemd-sysext" \
    "$WORK/profiles/keepetc.json" --set src="$src" --set version=3.1
echo "PASS"
