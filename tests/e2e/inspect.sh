#!/usr/bin/env bash
# sysext-build inspect, judged by tools we did not write: --list against
# unsquashfs -lln, hard links and xattrs against the tree unsquashfs extracts,
# sizes and the signer against openssl and sfdisk. Signed images (sidecars and
# disk image) and payloads verify; a damaged verity tree, signature or payload,
# a wrong certificate, a release name that does not match, a bad release
# file or a host that would not merge the image exit 4 naming the reason; a
# file of no known kind exits 3.
source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/make_tree.sh"
require_tool unsquashfs openssl sfdisk python3 cmp
cd "$WORK"

# expect_exit CODE "text" cmd...: exit status CODE and the text on stderr.
# flip FILE OFFSET: xor one byte with 0x5a.
flip() {
    python3 -c 'import sys; f=open(sys.argv[1],"r+b"); o=int(sys.argv[2]); f.seek(o); b=f.read(1)[0]; f.seek(o); f.write(bytes([b^0x5a]))' "$1" "$2"
}

step "pack a tree holding every kind of entry"
make_tree tree
image=$(image_path default)
"$SYSEXT_BUILD" -q pack tree -o "$image" --name e2e --os-id _any --arch x86-64

step "--list agrees with unsquashfs -lln on paths, modes, owners, sizes and link targets"
"$SYSEXT_BUILD" inspect "$image" --list >got.list
unsquashfs -lln -UTC "$image" >unsquashfs.txt
python3 - unsquashfs.txt >want.list <<'PY' || fail "cannot normalise the unsquashfs listing"
import re, sys
rows = []
pat = re.compile(r"^(\S{10}) (\d+)/(\d+) +(\d+|\d+, *\d+) \d{4}-\d\d-\d\d \d\d:\d\d (squashfs-root.*)$")
for raw in open(sys.argv[1], "rb").read().decode("utf-8", "surrogateescape").splitlines():
    m = pat.match(raw)
    if not m:
        continue
    mode, uid, gid, size, rest = m.groups()
    target = None
    if mode[0] == "l":
        rest, target = rest.split(" -> ", 1)
    path = "." if rest == "squashfs-root" else rest[len("squashfs-root/"):]
    if mode[0] == "d":
        size = "0"  # unsquashfs shows the directory table's size; inspect lists file bytes only
    line = f"{mode} {uid}:{gid} {size.replace(' ', '')} {path}" + (f" -> {target}" if target is not None else "")
    key = b"" if path == "." else path.encode("utf-8", "surrogateescape")
    rows.append((key, line))
rows.sort()
sys.stdout.buffer.write("".join(l + "\n" for _, l in rows).encode("utf-8", "surrogateescape"))
PY
[ "$(wc -l <want.list)" -gt 40 ] || fail "too few entries from unsquashfs: $(cat unsquashfs.txt)"
diff -u want.list got.list || fail "inspect --list differs from unsquashfs -lln"
grep -q '^-rwsr-xr-x 0:0 5 usr/share/sysext-e2e/setuid$' got.list || fail "setuid line: $(grep setuid got.list)"

step "hard links, xattrs, totals and --usage agree with the tree unsquashfs extracts"
unsquashfs -q -n -d extracted "$image" >/dev/null
"$SYSEXT_BUILD" --json inspect "$image" --list --usage --depth 2 >full.json
python3 - full.json extracted <<'PY' || fail "inspect --json disagrees with the extracted tree"
import json, os, stat, sys
j = json.load(open(sys.argv[1]))
top = sys.argv[2]
entries = {e["path"]: e for e in j["entries"]}
walk = {"": top}
for d, dirs, files in os.walk(top):
    for n in dirs + files:
        p = os.path.join(d, n)
        walk[os.path.relpath(p, top)] = p
assert set(entries) == set(walk), set(entries) ^ set(walk)
inode_of, files, file_bytes, seen = {}, 0, 0, set()
usage = {}
for rel, p in walk.items():
    st = os.lstat(p)
    e = entries[rel]
    if stat.S_ISREG(st.st_mode):
        files += 1
        assert e["size"] == st.st_size and e["nlink"] == st.st_nlink, (rel, e, st)
        # paths sharing an inode on disk share one in the image, and only they
        other = inode_of.setdefault(st.st_ino, e["inode"])
        assert other == e["inode"], (rel, e)
        if st.st_ino not in seen:
            seen.add(st.st_ino)
            file_bytes += st.st_size
            parts = rel.split("/")[:-1]
            for depth in range(0, min(len(parts), 2) + 1):
                d = "/".join(parts[:depth]) or "."
                usage[d] = usage.get(d, 0) + st.st_size
    if not stat.S_ISLNK(st.st_mode):
        want = {k: os.getxattr(p, k, follow_symlinks=False).hex() for k in os.listxattr(p, follow_symlinks=False)}
        assert e.get("xattrs", {}) == want, (rel, e.get("xattrs"), want)
assert len(set(e["inode"] for e in entries.values())) == len(set(inode_of.values())) + sum(
    1 for rel, p in walk.items() if not stat.S_ISREG(os.lstat(p).st_mode)), "inode numbers shared wrongly"
c = j["contents"]
assert c["files"] == files and c["file_bytes"] == file_bytes, (c, files, file_bytes)
for rel, p in walk.items():
    if os.path.isdir(p) and not os.path.islink(p) and (rel == "" or rel.count("/") < 2):
        usage.setdefault(rel or ".", 0)
got = {u["dir"]: u["bytes"] for u in j["usage"]}
assert got == usage, (got, usage)
hard = [e for e in entries.values() if e["path"].endswith(("hard-one", "hard-two"))]
assert len(hard) == 2 and hard[0]["inode"] == hard[1]["inode"] and hard[0]["nlink"] == 2, hard
assert "security.capability" in entries["usr/bin/sysext-e2e-cap"]["xattrs"]
PY

step "summary of an unsigned image: release, contents, no signature, exit 0"
"$SYSEXT_BUILD" inspect "$image" >summary.txt || fail "inspect failed: $(cat summary.txt)"
grep -q '^  release: extension-release.e2e$' summary.txt || fail "no release line: $(cat summary.txt)"
grep -q '^    ARCHITECTURE=x86-64$' summary.txt || fail "no ARCHITECTURE: $(cat summary.txt)"
grep -q '^  verity: none' summary.txt || fail "verity status: $(cat summary.txt)"
grep -q '^ok$' summary.txt || fail "not ok: $(cat summary.txt)"
"$SYSEXT_BUILD" --json inspect "$image" >plain.json
unsquashfs -s "$image" >super.txt
python3 - plain.json super.txt <<'PY' || fail "summary disagrees with unsquashfs -s: $(cat plain.json)"
import json, re, sys
j = json.load(open(sys.argv[1]))
s = open(sys.argv[2]).read()
assert j["kind"] == "squashfs" and j["ok"] and j["problems"] == [], j
assert j["release"] == {"ID": "_any", "ARCHITECTURE": "x86-64"}, j["release"]
assert j["release_file"] == "extension-release.e2e"
c = j["contents"]
assert c["compressor"] == re.search(r"Compression (\w+)", s).group(1), c
assert c["block_size"] == int(re.search(r"Block size (\d+)", s).group(1)), c
assert c["bytes_used"] == int(re.search(r"Filesystem size (\d+) bytes", s).group(1)), c
assert c["inodes"] == int(re.search(r"Number of inodes (\d+)", s).group(1)), c
assert c["top_level"] == ["opt/", "usr/"], c
assert c["largest_files"][0]["path"] == "usr/share/sysext-e2e/sparse.img", c
assert j["verity"]["status"] == "none" and j["signature"]["status"] == "none", j
PY

step "a signed image with sidecars: verity verified, signature trusted with --cert"
"$SYSEXT_BUILD" -q keygen -o keys
"$SYSEXT_BUILD" -q keygen -o other
stem=${image%.raw}
"$SYSEXT_BUILD" -q sign "$image" --key keys/development.key --cert keys/development.crt
"$SYSEXT_BUILD" --json inspect "$image" --cert keys/development.crt >signed.json ||
    fail "signed image not ok: $(cat signed.json)"
fpr=$(openssl x509 -in keys/development.crt -noout -fingerprint -sha256 | sed 's/.*=//; s/://g' | tr A-F a-f)
subject=$(openssl x509 -in keys/development.crt -noout -subject -nameopt compat | sed 's/^subject=//')
python3 - signed.json "$(cat "$stem.roothash")" "$fpr" "$subject" <<'PY' || fail "signed: $(cat signed.json)"
import json, sys
j = json.load(open(sys.argv[1]))
assert j["ok"], j
assert j["verity"]["status"] == "verified" and j["verity"]["root_hash"] == sys.argv[2].strip(), j["verity"]
s = j["signature"]
assert s["status"] == "trusted" and s["fingerprint"] == sys.argv[3], s
assert s["subject"] == sys.argv[4].strip(), (s["subject"], sys.argv[4])
PY
"$SYSEXT_BUILD" --json inspect "$image" >untrusted.json || fail "no --cert: $(cat untrusted.json)"
grep -q '"status": "valid"' untrusted.json || fail "without --cert the signature is valid, not trusted"
expect_exit 4 "signature: " "$SYSEXT_BUILD" inspect "$image" --cert other/development.crt

step "damage to the verity tree, the signature or the data: exit 4 with the reason"
for f in "$stem.verity" "$stem.roothash.p7s" "$image"; do
    cp "$f" saved
    case $f in
    *.verity) flip "$f" 5000; want="verity: " ;;
    *.p7s) flip "$f" $(($(stat -c %s "$f") - 20)); want="signature: " ;;
    *) flip "$f" 300000; want="verity: $image: data block" ;;
    esac
    expect_exit 4 "$want" "$SYSEXT_BUILD" inspect "$image"
    cp saved "$f"
done
rm "$stem.verity"
expect_exit 4 "verity: no $stem.verity" "$SYSEXT_BUILD" inspect "$image"

step "a disk image: partitions as sfdisk shows them, verity and signature checked"
mkdir ddi
"$SYSEXT_BUILD" -q sign "$image" --key keys/development.key --cert keys/development.crt --ddi -o ddi/e2e.raw
"$SYSEXT_BUILD" --json inspect ddi/e2e.raw --cert keys/development.crt --list >ddi.json ||
    fail "disk image not ok: $(cat ddi.json)"
sfdisk --json ddi/e2e.raw >layout.json
python3 - ddi.json layout.json plain.json <<'PY' || fail "disk image: $(cat ddi.json)"
import json, sys
j = json.load(open(sys.argv[1]))
t = json.load(open(sys.argv[2]))["partitiontable"]["partitions"]
plain = json.load(open(sys.argv[3]))
assert j["kind"] == "disk-image" and j["ok"], j
got = [(p["type"], p["uuid"].upper(), p["offset"], p["size"], p["name"]) for p in j["partitions"]]
want = [(n, p["uuid"], p["start"] * 512, p["size"] * 512, p["name"])
        for n, p in zip(["root-x86-64", "root-x86-64-verity", "root-x86-64-verity-sig"], t)]
assert got == want, (got, want)
assert j["verity"]["status"] == "verified" and j["signature"]["status"] == "trusted", j
assert j["release"] == plain["release"] and j["contents"]["files"] == plain["contents"]["files"], j
PY
cp ddi/e2e.raw ddi/saved
verity_at=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["partitiontable"]["partitions"][1]["start"] * 512 + 4096 + 7)' layout.json)
flip ddi/e2e.raw "$verity_at"
expect_exit 4 "verity: " "$SYSEXT_BUILD" inspect ddi/e2e.raw
cp ddi/saved ddi/e2e.raw
expect_exit 4 "signature: " "$SYSEXT_BUILD" inspect ddi/e2e.raw --cert other/development.crt

step "an image whose release file does not match its file name, and bad release files"
cp "$image" renamed.raw
expect_exit 4 "systemd-sysext looks for usr/lib/extension-release.d/extension-release.renamed" \
    "$SYSEXT_BUILD" inspect renamed.raw
mkdir -p bad/usr/lib/extension-release.d bad/usr/share
printf 'ARCHITECTURE=amd64\n' >bad/usr/lib/extension-release.d/extension-release.bad
echo x >bad/usr/share/x
mksquashfs bad bad.raw -all-root -noappend -quiet >/dev/null
expect_exit 4 "ID is missing" "$SYSEXT_BUILD" inspect bad.raw
expect_exit 4 'unknown architecture "amd64" (did you mean "x86-64"?)' "$SYSEXT_BUILD" inspect bad.raw
rm bad/usr/lib/extension-release.d/extension-release.bad
mksquashfs bad bad.raw -all-root -noappend -quiet >/dev/null
expect_exit 4 "release: no usr/lib/extension-release.d/extension-release.bad in the image" \
    "$SYSEXT_BUILD" inspect bad.raw

step "names that are not UTF-8 or hold a newline: --list escapes them, --json stays valid"
mkdir -p odd/usr/share odd/usr/lib/extension-release.d
printf 'ID=_any\n' >odd/usr/lib/extension-release.d/extension-release.odd
printf x >"odd/usr/share/$(printf 'caf\351')"
printf x >"odd/usr/share/$(printf 'a\nb')"
mksquashfs odd odd.raw -all-root -noappend -quiet >/dev/null
"$SYSEXT_BUILD" inspect odd.raw --list >odd.list || fail "odd names: $(cat odd.list)"
grep -qxF -- '-rw-r--r-- 0:0 1 usr/share/a\x0ab' odd.list || fail "newline not escaped: $(cat odd.list)"
[ "$(wc -l <odd.list)" -eq 8 ] || fail "one line per entry expected: $(cat odd.list)"
"$SYSEXT_BUILD" --json inspect odd.raw --list >odd.json || fail "odd names in JSON"
python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); assert "usr/share/caf\ufffd" in [e["path"] for e in j["entries"]], j' odd.json ||
    fail "invalid UTF-8 not replaced: $(cat odd.json)"

step "--os-release: whether a host would merge the image, and why not"
printf 'ID=debian\nVERSION_ID="13"\n' >debian-os-release
mkdir -p fedora
"$SYSEXT_BUILD" -q pack tree -o fedora/e2e.raw --name e2e --os-id fedora --os-version-id 40
expect_exit 4 "host: debian-os-release: ID=fedora, but the host is ID=debian" \
    "$SYSEXT_BUILD" inspect fedora/e2e.raw --os-release debian-os-release
mkdir -p anyhost
cp "$image" anyhost/e2e.raw # without the sidecars, some damaged above
"$SYSEXT_BUILD" inspect anyhost/e2e.raw --os-release debian-os-release --host-arch x86-64 >host.txt ||
    fail "an ID=_any image is refused: $(cat host.txt)"
grep -q '^  host: merges it: ID=_any matches every host$' host.txt || fail "host line: $(cat host.txt)"
expect_exit 4 "ARCHITECTURE=x86-64, but the host is arm64" \
    "$SYSEXT_BUILD" inspect anyhost/e2e.raw --os-release debian-os-release --host-arch arm64

step "a payload: described; verified with its key, exit 4 with another or after damage"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out k1.pem 2>/dev/null
openssl pkey -in k1.pem -pubout -out k1.pub
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out k2.pem 2>/dev/null
openssl pkey -in k2.pem -pubout -out k2.pub
"$SYSEXT_BUILD" -q payload create "$image" -o payload.gz --key k1.pem
"$SYSEXT_BUILD" --json inspect payload.gz >payload.json || fail "payload: $(cat payload.json)"
grep -q '"kind": "payload"' payload.json || fail "not a payload: $(cat payload.json)"
grep -q '"status": "structure checked"' payload.json || fail "without a key: $(cat payload.json)"
"$SYSEXT_BUILD" --json inspect payload.gz --public-key k1.pub >payload-ok.json ||
    fail "payload does not verify: $(cat payload-ok.json)"
grep -q '"status": "verified"' payload-ok.json || fail "payload not verified: $(cat payload-ok.json)"
expect_exit 4 "payload: " "$SYSEXT_BUILD" inspect payload.gz --public-key k2.pub
flip payload.gz $(($(stat -c %s payload.gz) / 2))
expect_exit 4 "payload: " "$SYSEXT_BUILD" inspect payload.gz --public-key k1.pub

step "files of no known kind: exit 3 naming the file and its first bytes"
printf 'ELF? no, just text\n' >notes.txt
expect_exit 3 "notes.txt: not a squashfs or EROFS image, GPT disk image or Flatcar update payload (it starts with 45 4c 46" \
    "$SYSEXT_BUILD" inspect notes.txt
: >empty.raw
expect_exit 3 "empty.raw: not a squashfs or EROFS image, GPT disk image or Flatcar update payload (the file is empty)" \
    "$SYSEXT_BUILD" inspect empty.raw
expect_fail "missing.raw: " "$SYSEXT_BUILD" inspect missing.raw
echo PASS
