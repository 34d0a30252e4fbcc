#!/usr/bin/env bash
# profiles/podman.json's flatcar target published: Flatcar's names in the
# release (flatcar-podman.raw, flatcar-podman.gz and, unsigned, its .gz.hash),
# no systemd-sysupdate transfer (Flatcar's own extensions follow the OS
# version), and a Butane snippet (PyYAML) that puts the image where Flatcar
# keeps its extensions, /etc/flatcar/sysext/flatcar-podman-OSVERSION.raw,
# linked from /etc/extensions/flatcar-podman.raw. sha256sum -c accepts
# SHA256SUMS. From Flatcar 4628 on the release holds the signed EROFS disk
# image (and its payload) the target makes, which verify accepts. The
# stand-in SDK root is lib/flatcar_sdk_root.sh's.
source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/flatcar_sdk_root.sh"
require_tool sha256sum python3
root=$WORK/sdk-root
make_flatcar_sdk_root "$root"

"$SYSEXT_BUILD" podman --target flatcar --set "root=$root" --set os_version=4593.2.5 \
    --set version=5.4.2 -o "$WORK/out" --release-dir "$WORK/rel" --base-url http://127.0.0.1:1/flatcar >/dev/null 2>"$WORK/err"
r=$WORK/rel/flatcar/flatcar-podman-5.4.2-x86-64
[ "$(ls "$r" | tr '\n' ' ')" = "SHA256SUMS components.txt contents.txt flatcar-podman.flatcar.bu flatcar-podman.gz flatcar-podman.gz.hash flatcar-podman.lock.json flatcar-podman.raw manifest.json usage.txt " ] ||
    fail "release files: $(ls "$r")"
(cd "$r" && sha256sum --strict -c SHA256SUMS >/dev/null) || fail "sha256sum -c"
grep -q "the update payload is unsigned" "$WORK/err" || fail "no warning about the unsigned payload: $(cat "$WORK/err")"
cmp "$WORK/out/flatcar-podman.gz" "$r/flatcar-podman.gz" || fail "the released payload differs"
python3 - "$r/flatcar-podman.flatcar.bu" <<'PY' || fail "flatcar-podman.flatcar.bu: $(cat "$r/flatcar-podman.flatcar.bu")"
import sys, yaml
doc = yaml.safe_load(open(sys.argv[1]))
assert doc["variant"] == "flatcar" and doc["version"] == "1.0.0", doc
files = doc["storage"]["files"]
assert len(files) == 1 and files[0]["path"] == "/etc/flatcar/sysext/flatcar-podman-4593.2.5.raw", files
assert files[0]["contents"]["source"] == "http://127.0.0.1:1/flatcar/flatcar-podman.raw", files
assert files[0]["contents"]["verification"]["hash"].startswith("sha512-"), files
assert doc["storage"]["links"] == [{"path": "/etc/extensions/flatcar-podman.raw",
                                    "target": "/etc/flatcar/sysext/flatcar-podman-4593.2.5.raw", "hard": False}], doc
assert doc["systemd"] == {"units": [{"name": "systemd-sysext.service", "enabled": True}]}, doc  # the merge at boot only
PY
step "Flatcar 4628: the release holds the signed EROFS disk image and its payload"
"$SYSEXT_BUILD" -q keygen -o "$WORK/keys"
"$SYSEXT_BUILD" podman --target flatcar --set "root=$root" --set os_version=4628.0.0 --set version=5.4.2 \
    -o "$WORK/out-e" --key "$WORK/keys/development.key" --cert "$WORK/keys/development.crt" \
    --release-dir "$WORK/rel-e" --base-url http://127.0.0.1:1/flatcar >/dev/null 2>"$WORK/err-e" ||
    fail "the 4628 release: $(cat "$WORK/err-e")"
r=$WORK/rel-e/flatcar/flatcar-podman-5.4.2-x86-64
cmp "$WORK/out-e/flatcar-podman.raw" "$r/flatcar-podman.raw" || fail "the released disk image differs"
cmp "$WORK/out-e/flatcar-podman.gz" "$r/flatcar-podman.gz" || fail "the released payload differs"
(cd "$r" && sha256sum --strict -c SHA256SUMS >/dev/null) || fail "sha256sum -c (4628)"
python3 - "$r/manifest.json" "$r/flatcar-podman.lock.json" <<'PY' || fail "manifest or lock: $(cat "$r/manifest.json")"
import json, sys
m = json.load(open(sys.argv[1]))
assert m["signature"]["format"] == "ddi" and len(m["signature"]["root_hash"]) == 64, m["signature"]
b = json.load(open(sys.argv[2]))["build"]
assert b["format"] == "erofs" and b["compression"] == "lz4hc:12" and b["erofs_pcluster"] == "65536", b
assert b["tail_packing"] == "yes", b
PY
grep -q "usr/bin/podman" "$r/contents.txt" || fail "contents.txt does not list the EROFS image's files"
"$SYSEXT_BUILD" -q verify "$r/flatcar-podman.raw" --cert "$WORK/keys/development.crt" ||
    fail "verify refuses the released EROFS disk image"
echo "ok"
