#!/usr/bin/env bash
# Bad input to `sysext-build build PROFILE`: profile mistakes, hostile archives
# (made by python3's tarfile, GNU tar and zstd), device nodes, decompression
# bombs. Each must fail with an error naming FILE:LINE or the path and the cause,
# with a non-zero exit code, no image under the final name, an older image left
# as it was, and nothing written outside the output directory (bad_build in
# lib/build_env.sh checks all of it, into an empty and into a used directory).
# Debian archive failures (hash, signature) are in build_debian.sh.
source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/build_env.sh"
require_tool python3 tar zstd mknod truncate ar

good=$WORK/good
mkdir -p "$good/usr/bin"
echo "#!/bin/sh" >"$good/usr/bin/tool"
mkdir -p "$WORK/profiles"
# profile FILE SOURCE-JSON: a one-source profile named "bad".
profile() {
    cat >"$1" <<EOF
{
  "name": "bad",
  "targets": {
    "any": {
      "release": { "ID": "_any" },
      "sources": [$2]
    }
  }
}
EOF
}
profile "$WORK/profiles/good.json" '{ "type": "directory", "path": "../good" }'

step "the good profile builds (each case below fails for its own reason)"
build "$WORK/profiles/good.json" --set version=1 -o "$WORK/out-good" >/dev/null
[ -f "$WORK/out-good/bad.raw" ] || fail "the good profile did not build"

step "profile mistakes name FILE:LINE and suggest the nearest key"
p=$WORK/profiles/typo.json
sed 's/"release": { "ID"/"relase": { "ID"/' "$WORK/profiles/good.json" >"$p"
bad_build "3" bad "$p:5: unknown key \"relase\" (did you mean \"release\"?)" "$p" --set version=1
p=$WORK/profiles/srctypo.json
profile "$p" '{ "type": "directori", "path": "../good", "prefx": "opt/x" }'
bad_build "3" bad "$p:6: unknown key \"prefx\" (did you mean \"prefix\"?)
unknown source type \"directori\" (did you mean \"directory\"?)" "$p" --set version=1
p=$WORK/profiles/syntax.json
sed 's/"ID": "_any" }/"ID": "_any" },,/' "$WORK/profiles/good.json" >"$p"
bad_build "3" bad "$p:5: syntax error" "$p" --set version=1
p=$WORK/profiles/mode.json
python3 - "$WORK/profiles/good.json" "$p" <<'PY'
import json, sys
prof = json.load(open(sys.argv[1]))
prof["files"] = [{"path": "usr/share/x", "mode": "0789", "content": "x"},
                 {"path": "/usr/share/y", "content": "y"}]
json.dump(prof, open(sys.argv[2], "w"), indent=1)
PY
bad_build "3" bad "$p:$(grep -n '"0789"' "$p" | cut -d: -f1): mode \"0789\" is not octal
$p:$(grep -n '"/usr/share/y"' "$p" | cut -d: -f1): path \"/usr/share/y\" must be relative" "$p" --set version=1

step "unknown variables, missing --set, unknown targets and profiles"
p=$WORK/profiles/var.json
profile "$p" '{ "type": "directory", "path": "../good", "prefix": "opt/${verson}" }'
bad_build "3" bad "$p:6: unknown variable \${verson} (did you mean \${version}?)" "$p" --set version=1
bad_build "2 3" my-files 'needs --set root=VALUE' "$SOURCE_DIR/profiles/my-files.json" --set version=1
bad_build "2" bad '"nosuch" is not a target' "$WORK/profiles/good.json" --set version=1 --target nosuch
bad_build "2 3" bad 'cannot tell the version' "$WORK/profiles/good.json"
bad_build "3" bad "$WORK/profiles/absent.json: no such profile file" "$WORK/profiles/absent.json"
profile "$WORK/profiles/nodir.json" '{ "type": "directory", "path": "../no-such-dir" }'
bad_build "3 5" bad "no-such-dir" "$WORK/profiles/nodir.json" --set version=1

# Hostile archives, written by python3's tarfile: each holds a good file and one bad entry.
# evil_tar FILE KIND: KIND says what the bad entry is.
evil_tar() {
    python3 - "$1" "$2" <<'PY'
import io, sys, tarfile
path, kind = sys.argv[1:]
def member(name, data=b"x\n", **kw):
    info = tarfile.TarInfo(name)
    for k, v in kw.items():
        setattr(info, k, v)
    if info.type == tarfile.REGTYPE:
        info.size = len(data)
        return info, io.BytesIO(data)
    return info, None
entries = [member("usr/bin/good", b"#!/bin/sh\n", mode=0o755)]
if kind == "dotdot":
    entries.append(member("usr/../../escaped"))
elif kind == "absolute":
    entries.append(member("/usr/bin/absolute"))
elif kind == "symlink":
    entries.append(member("usr/bin/out", type=tarfile.SYMTYPE, linkname="../../../etc/shadow"))
elif kind == "duplicate":
    entries.append(member("usr/share/twice", b"first\n"))
    entries.append(member("usr/share/twice", b"second\n"))
elif kind == "device":
    entries.append(member("usr/share/null", type=tarfile.CHRTYPE, devmajor=1, devminor=3))
elif kind == "hardlink-out":
    entries.append(member("usr/bin/hl", type=tarfile.LNKTYPE, linkname="../../etc/passwd"))
with tarfile.open(path, "w", format=tarfile.GNU_FORMAT) as t:
    for info, data in entries:
        t.addfile(info, data)
PY
}
archive_case() { # archive_case KIND "TEXT": a tar.zst with that bad entry, as a package source
    local tar=$WORK/evil-$1.tar
    evil_tar "$tar" "$1"
    zstd -q -f "$tar" -o "$tar.zst"
    profile "$WORK/profiles/evil-$1.json" "{ \"type\": \"package\", \"path\": \"$tar.zst\" }"
    bad_build "3" bad "$2" "$WORK/profiles/evil-$1.json" --set version=1
}

step "archive entries that leave the tree, are absolute, link out, repeat, or are devices"
archive_case dotdot "$WORK/evil-dotdot.tar.zst: usr/../../escaped: path leaves the tree"
archive_case absolute "$WORK/evil-absolute.tar.zst: /usr/bin/absolute: absolute path"
archive_case symlink "usr/bin/out: symbolic link to \"../../../etc/shadow\" leads out of the tree"
archive_case duplicate "$WORK/evil-duplicate.tar.zst: usr/share/twice: \"usr/share/twice\" appears twice"
archive_case device "usr/share/null: character device: device nodes cannot be in an extension"
archive_case hardlink-out "usr/bin/hl: hard link to \"../../etc/passwd\""
[ ! -e "$WORK/escaped" ] && [ ! -e "$WORK/../escaped" ] || fail "an entry escaped"

step "the same path from two sources with different content"
mkdir -p "$WORK/other/usr/bin"
echo "#!/bin/sh other" >"$WORK/other/usr/bin/tool"
p=$WORK/profiles/clash.json
profile "$p" '{ "type": "directory", "path": "../good" }, { "type": "directory", "path": "../other" }'
bad_build "3" bad "usr/bin/tool\" is already in the tree" "$p" --set version=1
one_tar() { # one_tar FILE CONTENT: a tar holding usr/share/twice
    python3 - "$1" "$2" <<'PY'
import io, sys, tarfile
with tarfile.open(sys.argv[1], "w") as t:
    info = tarfile.TarInfo("usr/share/twice"); data = sys.argv[2].encode(); info.size = len(data)
    t.addfile(info, io.BytesIO(data))
PY
}
one_tar "$WORK/one.tar" "one"
one_tar "$WORK/three.tar" "three"
profile "$p" "{ \"type\": \"package\", \"path\": \"$WORK/one.tar\" }, { \"type\": \"directory\", \"path\": \"../good\" }, { \"type\": \"url\", \"url\": \"file://$WORK/three.tar\", \"sha256\": \"$(sha256sum <"$WORK/three.tar" | cut -d' ' -f1)\" }"
bad_build "3" bad "usr/share/twice" "$p" --set version=1
# Messages name the URL, not the download cache entry.
bad_build "3" bad "file://$WORK/three.tar" "$p" --set version=1

step "a device node in a directory source"
mkdir -p "$WORK/devtree/usr/share"
mknod "$WORK/devtree/usr/share/zero" c 1 5
profile "$WORK/profiles/devdir.json" '{ "type": "directory", "path": "../devtree" }'
bad_build "3" bad "usr/share/zero: character device: device nodes cannot be in an extension" \
    "$WORK/profiles/devdir.json" --set version=1

step "the ELF check of the assembled tree"
mkdir -p "$WORK/elftree/usr/bin"
cp /bin/true "$WORK/elftree/usr/bin/true-arm64"
printf '\xb7\x00' | dd of="$WORK/elftree/usr/bin/true-arm64" bs=1 seek=18 conv=notrunc 2>/dev/null # EM_AARCH64
profile "$WORK/profiles/elf.json" '{ "type": "directory", "path": "../elftree" }'
bad_build "3" bad "usr/bin/true-arm64" "$WORK/profiles/elf.json" --set version=1 --base-root /
mkdir -p "$WORK/elftree2/usr/bin" "$WORK/elfroot/usr/lib"
cp /bin/true "$WORK/elftree2/usr/bin/true"
profile "$WORK/profiles/elf2.json" '{ "type": "directory", "path": "../elftree2" }'
bad_build "3" bad "libc.so.6" "$WORK/profiles/elf2.json" --set version=1 --base-root "$WORK/elfroot"

step "decompression bombs are refused before they are expanded"
# A 4 GiB sparse file, stored by GNU tar as a sparse entry: a few hundred bytes of tar.zst.
mkdir -p "$WORK/bomb/usr/share"
truncate -s 4G "$WORK/bomb/usr/share/zeros"
tar -C "$WORK/bomb" --sparse --format=posix -cf - usr | zstd -q >"$WORK/bomb.tar.zst"
rm -rf "$WORK/bomb"
echo "bomb.tar.zst: $(stat -c %s "$WORK/bomb.tar.zst") bytes"
# The same bomb as the data.tar.zst of a .deb, put together by ar as deb(5) says.
mkdir -p "$WORK/bombdeb"
printf 'Package: bomb\nVersion: 1\nArchitecture: all\nMaintainer: T <t@127.0.0.1>\nDescription: bomb\n' \
    >"$WORK/bombdeb/control"
echo "2.0" >"$WORK/bombdeb/debian-binary"
tar -C "$WORK/bombdeb" -cJf "$WORK/bombdeb/control.tar.xz" control
cp "$WORK/bomb.tar.zst" "$WORK/bombdeb/data.tar.zst"
(cd "$WORK/bombdeb" && ar rc "$WORK/bomb.deb" debian-binary control.tar.xz data.tar.zst)
profile "$WORK/profiles/bombdeb.json" "{ \"type\": \"package\", \"path\": \"$WORK/bomb.deb\" }"
start=$(date +%s)
bad_build "3" bad "bomb.deb: data.tar.zst: usr/share/zeros: the archive expands to more than 1.07 GB" \
    "$WORK/profiles/bombdeb.json" --set version=1
[ $(($(date +%s) - start)) -lt 20 ] || fail "the .deb bomb took $(($(date +%s) - start)) s to refuse"
profile "$WORK/profiles/bomb.json" "{ \"type\": \"package\", \"path\": \"$WORK/bomb.tar.zst\" }"
start=$(date +%s)
bad_build "3" bad "bomb.tar.zst: usr/share/zeros: the archive expands to more than 1.07 GB
refusing a possible decompression bomb" "$WORK/profiles/bomb.json" --set version=1
[ $(($(date +%s) - start)) -lt 20 ] || fail "the 4 GiB bomb took $(($(date +%s) - start)) s to refuse"
# Many entries, each small, together above the limit.
mkdir -p "$WORK/bombs/usr/share"
for i in $(seq 1 40); do truncate -s 30M "$WORK/bombs/usr/share/zeros-$i"; done
tar -C "$WORK/bombs" --sparse --format=posix -cf - usr | zstd -q >"$WORK/bombs.tar.zst"
rm -rf "$WORK/bombs"
profile "$WORK/profiles/bombs.json" "{ \"type\": \"package\", \"path\": \"$WORK/bombs.tar.zst\" }"
start=$(date +%s)
bad_build "3" bad "bombs.tar.zst: usr/share/zeros-
the archive expands to more than 1.07 GB" "$WORK/profiles/bombs.json" --set version=1
[ $(($(date +%s) - start)) -lt 20 ] || fail "the many-entry bomb took $(($(date +%s) - start)) s to refuse"
echo "PASS"
