#!/usr/bin/env bash
# profiles/podman.json's flatcar target published: Flatcar's names in the
# release (flatcar-podman.raw, flatcar-podman.gz and, unsigned, its .gz.hash),
# no systemd-sysupdate transfer (Flatcar's own extensions follow the OS
# version), and a Butane snippet (PyYAML) that puts the image where Flatcar
# keeps its extensions, /etc/flatcar/sysext/flatcar-podman-OSVERSION.raw,
# linked from /etc/extensions/flatcar-podman.raw. sha256sum -c accepts
# SHA256SUMS. The stand-in SDK root is lib/flatcar_sdk_root.sh's.
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
echo "ok"
