#!/usr/bin/env bash
# The GitHub workflows: every file under .github/workflows parses as YAML
# (PyYAML) with jobs whose steps run or use something; every `sysext-build`
# subcommand a `run:` step calls exists (`SUB --help` exits 0) and knows every
# flag the step gives it (also those passed through a bash array); every
# `tools/` script called exists, is executable and names its flags. The release
# workflow takes its matrix from `sysext-build matrix` and publishes SHA256SUMS.
source "$(dirname "$0")/lib/common.sh"
require_tool python3

workflows=$SOURCE_DIR/.github/workflows
[ -f "$workflows/ci.yml" ] && [ -f "$workflows/release.yml" ] || fail "ci.yml and release.yml must exist"

step "parse the workflows, list the commands their run steps call"
python3 - "$workflows" "$WORK/calls" <<'PY' || fail "workflows"
import os, re, sys, yaml
wdir, out = sys.argv[1], sys.argv[2]
calls = []
for name in sorted(os.listdir(wdir)):
    if not name.endswith((".yml", ".yaml")):
        continue
    doc = yaml.safe_load(open(os.path.join(wdir, name)))
    on = doc.get("on", doc.get(True))  # YAML 1.1 reads the key `on` as true
    assert doc.get("name") and on and doc.get("jobs"), f"{name}: needs name, on, jobs"
    for job_name, job in doc["jobs"].items():
        assert "runs-on" in job and job.get("steps"), f"{name}: job {job_name}: runs-on and steps"
        for step in job["steps"]:
            assert ("run" in step) != ("uses" in step), f"{name}: {job_name}: a step runs or uses: {step}"
            if "run" not in step:
                continue
            text = re.sub(r"\\\n\s*", " ", step["run"])  # join continued lines
            arrays = {}
            for m in re.finditer(r"\b([A-Za-z_]\w*)\+?=\(([^)]*)\)", text):
                arrays.setdefault(m.group(1), []).extend(re.findall(r"(?<![\w-])--[a-z][a-z0-9-]*", m.group(2)))
            for line in text.splitlines():
                for m in re.finditer(r"(?:^|[\s(;|&$])(?:\./)?(build/sysext-build|tools/[a-z0-9-]+)((?:\s+[^\s;|&)]+)*)", line):
                    prog, rest = m.group(1), m.group(2)
                    words = rest.split()
                    flags = set(re.findall(r"(?<![\w-])--[a-z][a-z0-9-]*", rest))
                    for arr in re.findall(r"\$\{([A-Za-z_]\w*)\[@\]\}", rest):
                        flags.update(arrays.get(arr, []))
                    if prog == "build/sysext-build":
                        sub = next((w for w in words if not w.startswith("-")), "")
                        calls.append(("sysext-build", sub, sorted(flags), f"{name}: {job_name}"))
                    else:
                        calls.append(("tool", prog, sorted(flags), f"{name}: {job_name}"))
with open(out, "w") as f:
    for kind, what, flags, where in calls:
        f.write(f"{kind}|{what}|{' '.join(flags)}|{where}\n")
subs = {c[1] for c in calls if c[0] == "sysext-build"}
assert {"matrix", "build"} <= subs, subs
PY
cat "$WORK/calls"

step "each command exists and knows its flags"
"$SYSEXT_BUILD" --help >"$WORK/global.help"
while IFS='|' read -r kind what flags where; do
    if [ "$kind" = sysext-build ]; then
        "$SYSEXT_BUILD" "$what" --help >"$WORK/help" 2>&1 || fail "$where: sysext-build $what --help failed: $(cat "$WORK/help")"
        cat "$WORK/global.help" >>"$WORK/help"
        label="sysext-build $what"
    else
        # Scripts are not run (tools/test would run everything): their flags
        # must appear in their text (usage and argument parsing).
        [ -x "$SOURCE_DIR/$what" ] || fail "$where: $what is not an executable script"
        cp "$SOURCE_DIR/$what" "$WORK/help"
        label=$what
    fi
    for flag in $flags; do
        grep -qE -- "(^|[^a-z-])$flag([^a-z-]|$)" "$WORK/help" || fail "$where: $label does not know $flag"
    done
    echo "ok: $label ${flags:-}"
done <"$WORK/calls"

step "the release workflow: matrix from sysext-build matrix, publish with SHA256SUMS"
python3 - "$workflows/release.yml" <<'PY' || fail "release.yml"
import sys, yaml
jobs = yaml.safe_load(open(sys.argv[1]))["jobs"]
assert jobs["build"]["strategy"]["matrix"] == "${{ fromJSON(needs.matrix.outputs.builds) }}", jobs["build"]["strategy"]
assert "matrix" in jobs["build"]["needs"] and "build" in jobs["publish"]["needs"], jobs
run = " ".join(s.get("run", "") for s in jobs["matrix"]["steps"])
assert "sysext-build matrix" in run and "arm64" in run and "x86-64" in run, run
run = " ".join(s.get("run", "") for s in jobs["publish"]["steps"])
assert "sha256sum --strict -c SHA256SUMS" in run and "sysext-build index" in run, run
assert jobs["publish"]["permissions"]["contents"] == "write", jobs["publish"]
text = open(sys.argv[1]).read()
assert "http://" not in text and "https://" not in text, "a URL in the workflow; use repository variables"
PY
echo "ok"
