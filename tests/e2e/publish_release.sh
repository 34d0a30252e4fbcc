#!/usr/bin/env bash
# `sysext-build build --release-dir`: the release directory, judged by outside
# tools. sha256sum -c accepts SHA256SUMS; python3's configparser reads the
# NAME.conf transfer with the keys sysupdate.d(5) makes mandatory and its MatchPattern
# names the image; PyYAML reads the Butane snippets (variant, version, files
# with source and sha512 verification computed by hashlib, the link, units);
# manifest.json's sizes and hashes match the files; contents.txt lists the
# paths unsquashfs lists. systemd-sysext merges the versioned image through
# the /etc/extensions/NAME.raw link sysupdate makes. Publishing again with the
# same bytes is accepted; other bytes are refused (exit 3) and the old release
# stays as it was.
source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/build_env.sh"
source "$(dirname "$0")/lib/sysext_root.sh"
require_tool sha256sum unsquashfs python3 systemd-sysext unshare cmp getfattr

tree=$WORK/tree
mkdir -p "$tree/usr/bin" "$tree/usr/share/mytool"
printf '#!/bin/sh\necho "mytool 1.0"\n' >"$tree/usr/bin/mytool"
chmod 0755 "$tree/usr/bin/mytool"
ln -s mytool "$tree/usr/bin/mt"
echo "some data" >"$tree/usr/share/mytool/data.txt"
profile=$SOURCE_DIR/profiles/my-files.json
base_url=http://127.0.0.1:8080/sysext/my-files
rel=$WORK/releases
release=$rel/any/my-files-1.0-x86-64
image=my-files-1.0-x86-64.raw

step "build with --release-dir and --base-url"
build "$profile" --set root="$tree" --set version=1.0 -o "$WORK/out" \
    --release-dir "$rel" --base-url "$base_url" >"$WORK/build.txt"
grep -qF "release $release  (" "$WORK/build.txt" || fail "the summary does not name the release: $(cat "$WORK/build.txt")"
[ -d "$release" ] || fail "no release directory $release: $(find "$rel")"
want="SHA256SUMS components.txt contents.txt manifest.json my-files-1.0-x86-64.lock.json $image my-files.fcos.bu my-files.conf my-files.flatcar.bu sysext-update-my-files.service sysext-update-my-files.timer usage.txt"
[ "$(ls -A "$release" | LC_ALL=C sort | tr '\n' ' ')" = "$(tr ' ' '\n' <<<"$want" | LC_ALL=C sort | tr '\n' ' ')" ] ||
    fail "release files: $(ls -A "$release")"
[ -z "$(ls -A "$rel/any" | grep -v '^my-files-1.0-x86-64$' || true)" ] || fail "left next to the release: $(ls -A "$rel/any")"
cmp "$WORK/out/my-files.raw" "$release/$image" || fail "the released image differs from the built one"

step "sha256sum -c SHA256SUMS"
(cd "$release" && sha256sum --strict -c SHA256SUMS >/dev/null) || fail "sha256sum -c SHA256SUMS failed"
[ "$(cut -d' ' -f3 "$release/SHA256SUMS" | tr '\n' ' ')" = "$(ls -A "$release" | grep -vx SHA256SUMS | LC_ALL=C sort | tr '\n' ' ')" ] ||
    fail "SHA256SUMS does not list every other file, sorted: $(cat "$release/SHA256SUMS")"

step "the transfer file NAME.conf (configparser) and its MatchPattern"
python3 - "$release/my-files.conf" "$image" "$base_url" <<'PY' || fail "my-files.conf: $(cat "$release/my-files.conf")"
import configparser, re, sys
c = configparser.ConfigParser(interpolation=None, strict=True)
c.optionxform = str
c.read_string(open(sys.argv[1]).read())
image, base = sys.argv[2], sys.argv[3]
assert c.sections() == ["Transfer", "Source", "Target"], c.sections()
src, tgt = c["Source"], c["Target"]
assert src["Type"] == "url-file" and src["Path"].rstrip("/") == base, dict(src)
assert tgt["Type"] == "regular-file" and tgt["Path"] == "/opt/extensions/my-files", dict(tgt)
assert tgt["CurrentSymlink"] == "/etc/extensions/my-files.raw", dict(tgt)
assert int(tgt["InstancesMax"]) >= 2, dict(tgt)
assert c["Transfer"]["Verify"] in ("no", "false", "0"), dict(c["Transfer"])
for pattern in (src["MatchPattern"], tgt["MatchPattern"]):
    assert "@v" in pattern, pattern
    # %a is the host's architecture (systemd's names), @v the version.
    assert pattern.replace("@v", "1.0").replace("%a", "x86-64") == image, pattern
    rx = "^" + re.escape(pattern).replace("@v", "(?P<v>.+)").replace("%a", "x86-64") + "$"
    m = re.match(rx, image)
    assert m and m.group("v") == "1.0", (rx, image)
PY

step "the Butane snippets (PyYAML, hashlib)"
for variant in flatcar fcos; do
    python3 - "$release/my-files.$variant.bu" "$variant" "$release/$image" "$image" "$base_url" "$release/my-files.conf" "$release/sysext-update-my-files.service" <<'PY' ||
import hashlib, sys, yaml
doc = yaml.safe_load(open(sys.argv[1]))
variant, image_path, image, base, transfer, service = sys.argv[2:8]
assert doc["variant"] == variant, doc
assert doc["version"] == {"flatcar": "1.0.0", "fcos": "1.5.0"}[variant], doc
files = doc["storage"]["files"]
path = "/opt/extensions/my-files/" + image
assert files[0]["path"] == path, files[0]
assert files[0]["mode"] == 0o644, files[0]
assert files[0]["contents"]["source"] == base + "/" + image, files[0]
want = "sha512-" + hashlib.sha512(open(image_path, "rb").read()).hexdigest()
assert files[0]["contents"]["verification"]["hash"] == want, files[0]
assert files[1]["path"] == "/etc/sysupdate.my-files.d/my-files.conf", files[1]
assert files[1]["contents"]["inline"] == open(transfer).read(), files[1]["contents"]["inline"]
link = doc["storage"]["links"][0]
assert link["path"] == "/etc/extensions/my-files.raw" and link["target"] == path and link["hard"] is False, link
units = {u["name"]: u for u in doc["systemd"]["units"]}
assert units["systemd-sysext.service"]["enabled"] is True, units  # the merge at boot
# The component's own update; systemd-sysupdate.service (the host's) is left alone.
assert units["sysext-update-my-files.timer"]["enabled"] is True, units
assert units["sysext-update-my-files.service"]["contents"] == open(service).read(), units
assert "systemd-sysupdate -C my-files update" in open(service).read()
assert not any(n.startswith("systemd-sysupdate") for n in units), units
PY
        fail "my-files.$variant.bu: $(cat "$release/my-files.$variant.bu")"
done

step "manifest.json: every output's size and SHA-256, the profile's"
python3 - "$release" "$profile" "$image" <<'PY' || fail "manifest.json: $(cat "$release/manifest.json")"
import hashlib, json, os, sys
rel, profile, image = sys.argv[1:4]
m = json.load(open(os.path.join(rel, "manifest.json")))
assert (m["name"], m["version"], m["architecture"], m["target"], m["image"]) == ("my-files", "1.0", "x86-64", "any", image), m
outputs = {o["name"]: o for o in m["outputs"]}
assert set(outputs) == set(os.listdir(rel)) - {"manifest.json", "SHA256SUMS"}, sorted(outputs)
for name, o in outputs.items():
    data = open(os.path.join(rel, name), "rb").read()
    assert o["size"] == len(data) and o["sha256"] == hashlib.sha256(data).hexdigest(), o
assert m["profile"]["sha256"] == hashlib.sha256(open(profile, "rb").read()).hexdigest(), m["profile"]
assert m["inputs"][0]["kind"] == "profile", m["inputs"]
assert m["extension_release"]["ID"] == "_any" and m["extension_release"]["ARCHITECTURE"] == "x86-64", m
assert m["signature"] is None, m
assert m["deployment"]["sysupdate_transfers"] == "my-files.conf", m
assert m["deployment"]["update_units"] == "sysext-update-my-files.service sysext-update-my-files.timer", m
assert open(os.path.join(rel, "manifest.json")).read() == json.dumps(m, indent=2, sort_keys=True, ensure_ascii=False) + "\n", "keys not sorted"
PY

step "contents.txt lists what unsquashfs lists"
diff -u <(unsquashfs -lln "$release/$image" | sed -n 's|^.* squashfs-root/\([^ ]*\).*$|\1|p' | LC_ALL=C sort) \
    <(grep -v '^#' "$release/contents.txt" | awk '{print $4}' | grep -vx '\.' | LC_ALL=C sort) ||
    fail "contents.txt and unsquashfs disagree"
grep -q '^-rwxr-xr-x 0:0 [0-9]* usr/bin/mytool$' "$release/contents.txt" || fail "contents.txt: $(cat "$release/contents.txt")"
grep -q '^lrwxrwxrwx 0:0 6 usr/bin/mt -> mytool$' "$release/contents.txt" || fail "contents.txt: no link target"
grep -q "$(printf '^[0-9]*\tusr/share$')" "$release/usage.txt" || fail "usage.txt: $(cat "$release/usage.txt")"

step "systemd-sysext merges the image under its versioned name (user.extension-release.strict=0)"
# Hosts reach the image through the /etc/extensions/NAME.raw link sysupdate
# makes, and systemd checks the release file against the name of the file the
# link resolves to (Debian 12's systemd 252 does): NAME-VERSION-ARCH.
unsquashfs -q -d "$WORK/unpacked" "$release/$image" usr/lib/extension-release.d >/dev/null
[ "$(getfattr --only-values -n user.extension-release.strict "$WORK/unpacked/usr/lib/extension-release.d/extension-release.my-files" 2>/dev/null)" = 0 ] ||
    fail "extension-release.my-files does not carry user.extension-release.strict=0"
root=$WORK/root
make_root "$root" "$release/$image" ID=debian VERSION_ID=13
[ "$(merges "$root" usr/share/mytool/data.txt)" = merged ] || fail "$image not merged under its versioned name"
# The control: without the attribute (--no-xattrs) the versioned name is refused.
build "$profile" --set root="$tree" --set version=1.0 -o "$WORK/out-strict" --no-xattrs >/dev/null 2>"$WORK/strict.err"
grep -q "loses user.extension-release.strict=0" "$WORK/strict.err" || fail "no warning for --no-xattrs: $(cat "$WORK/strict.err")"
root=$WORK/root-strict
make_root "$root" "$WORK/out-strict/my-files.raw" ID=debian VERSION_ID=13
mv "$root/var/lib/extensions/my-files.raw" "$root/var/lib/extensions/$image"
[ "$(merges "$root" usr/share/mytool/data.txt)" = refused ] ||
    fail "merged under the versioned name without the attribute: the name check this relies on is gone"

step "publishing the same bytes again is accepted, the release untouched"
snapshot() { (cd "$1" && find . -printf '%p %s %T@ %i\n' | LC_ALL=C sort && sha256sum $(find . -type f | LC_ALL=C sort)); }
snapshot "$release" >"$WORK/before"
"$SYSEXT_BUILD" --json build --download-cache "$BUILD_CACHE" "$profile" --set root="$tree" --set version=1.0 \
    -o "$WORK/out" --release-dir "$rel" --base-url "$base_url" >"$WORK/again.json" || fail "republishing identical bytes failed"
python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["release"]; assert r["already_published"] is True, r' "$WORK/again.json" ||
    fail "--json does not say already published: $(cat "$WORK/again.json")"
snapshot "$release" | diff -u "$WORK/before" - || fail "an identical republish changed the release"

step "other bytes under the same version are refused (exit 3), the release untouched"
echo "other data" >"$tree/usr/share/mytool/data.txt"
rc=0
err=$(build "$profile" --set root="$tree" --set version=1.0 -o "$WORK/out" --release-dir "$rel" \
    --base-url "$base_url" 2>&1 >/dev/null) || rc=$?
[ "$rc" -eq 3 ] || fail "republishing other bytes: exit $rc, want 3: $err"
case $err in
*"$release: already published with other contents"*"$image (different bytes)"*) ;;
*) fail "the refusal does not name the release and the image: $err" ;;
esac
snapshot "$release" | diff -u "$WORK/before" - || fail "a refused republish changed the release"
[ -z "$(ls -A "$rel/any" | grep -v '^my-files-1.0-x86-64$' || true)" ] || fail "a refused publish left: $(ls -A "$rel/any")"

step "a new version is a new release next to the old one"
build "$profile" --set root="$tree" --set version=1.1 -o "$WORK/out" --release-dir "$rel" >"$WORK/new.txt" 2>"$WORK/new.err"
grep -q "no --base-url" "$WORK/new.err" || fail "no warning about the missing --base-url: $(cat "$WORK/new.err")"
(cd "$rel/any/my-files-1.1-x86-64" && sha256sum --strict -c SHA256SUMS >/dev/null) || fail "1.1: sha256sum -c"
grep -qx 'Path=@BASE_URL@/' "$rel/any/my-files-1.1-x86-64/my-files.conf" || fail "no placeholder in the transfer"
snapshot "$release" | diff -u "$WORK/before" - || fail "publishing 1.1 changed the 1.0 release"
echo "ok"
