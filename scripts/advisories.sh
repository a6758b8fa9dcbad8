#!/usr/bin/env bash
# Offline security-advisory check of Cargo.lock against a reviewed list kept in the repository.
#
#   scripts/advisories.sh check     reads Cargo.lock and deploy/advisories.tsv; fails (exit 1) on
#                                   any locked crate version an advisory affects unless that
#                                   advisory is marked `accepted` there with its reason. No network.
#   scripts/advisories.sh refresh   updates deploy/advisories.tsv from the RustSec advisory
#                                   database (a git clone of rustsec/advisory-db, or ADVISORY_DB=
#                                   a local checkout) for the crates in Cargo.lock, keeping every
#                                   review already written; commit the result.
#
# deploy/advisories.tsv: one advisory per line, tab-separated:
#   id  crate  safe  status  reason
# where `safe` lists the advisory's patched and unaffected versions (semver requirements,
# ";"-separated, "-" for none) and status is `open` (fails the check while a locked version is
# affected), `info` (RustSec's informational notices: unmaintained, unsound; printed, never
# failing, as cargo-audit does) or `accepted` (reviewed: the reason says why it cannot be
# reached or why it waits). A locked version is affected when it satisfies no `safe` requirement.
set -euo pipefail
cd "$(dirname "$0")/.."
LIST=deploy/advisories.tsv

case "${1:-check}" in
check)
  python3 - "$LIST" <<'PY'
import re, sys, tomllib

def version(text):
    core = re.split(r"[-+]", text.strip())[0]
    parts = [int(p) for p in core.split(".")]
    return tuple((parts + [0, 0, 0])[:3])

def satisfies(v, requirement):
    # Comma-separated comparators, as RustSec writes them: ">= 0.37.5", "^0.36.3", "< 0.2".
    for comparator in requirement.split(","):
        m = re.fullmatch(r"\s*(>=|<=|>|<|=|\^|~)?\s*([0-9][0-9A-Za-z.+-]*)\s*", comparator)
        if not m:
            raise SystemExit(f"advisories: cannot read the requirement {requirement!r}")
        op, bound = m.group(1) or "^", version(m.group(2))
        if op == ">=" and not v >= bound: return False
        if op == ">" and not v > bound: return False
        if op == "<=" and not v <= bound: return False
        if op == "<" and not v < bound: return False
        if op == "=" and v != bound: return False
        if op in ("^", "~"):
            # ^: same leftmost non-zero part; ~: same major.minor.
            if v < bound: return False
            if op == "~": limit = (bound[0], bound[1] + 1, 0)
            elif bound[0]: limit = (bound[0] + 1, 0, 0)
            elif bound[1]: limit = (0, bound[1] + 1, 0)
            else: limit = (0, 0, bound[2] + 1)
            if not v < limit: return False
    return True

with open("Cargo.lock", "rb") as f:
    locked = [(p["name"], p["version"]) for p in tomllib.load(f)["package"]]
problems, accepted = [], []
for number, line in enumerate(open(sys.argv[1], encoding="utf-8"), 1):
    if not line.strip() or line.startswith("#"):
        continue
    fields = line.rstrip("\n").split("\t")
    if len(fields) != 5:
        raise SystemExit(f"{sys.argv[1]}:{number}: expected 5 tab-separated fields")
    advisory, crate, patched, status, reason = fields
    requirements = [] if patched == "-" else patched.split(";")
    for name, v in locked:
        if name != crate or any(satisfies(version(v), r) for r in requirements):
            continue
        if status == "accepted" and reason.strip():
            accepted.append(f"{advisory} {crate} {v}: accepted: {reason}")
        elif status == "info":
            accepted.append(f"{advisory} {crate} {v}: notice: {reason}")
        else:
            problems.append(f"{advisory} {crate} {v}: affected (patched: {patched}); not reviewed")
for line in accepted:
    print(line)
for line in problems:
    print(line, file=sys.stderr)
print(f"advisories: {len(locked)} locked crate versions, {len(accepted)} reviewed or notices, {len(problems)} open")
sys.exit(1 if problems else 0)
PY
  ;;
refresh)
  db="${ADVISORY_DB:-}"
  if [[ -z $db ]]; then
    db="$(mktemp -d)/advisory-db"
    git clone --quiet --depth 1 https://github.com/rustsec/advisory-db "$db"
  fi
  python3 - "$LIST" "$db" <<'PY'
import os, re, sys, tomllib
out, db = sys.argv[1], sys.argv[2]
with open("Cargo.lock", "rb") as f:
    names = {p["name"] for p in tomllib.load(f)["package"]}
kept = {}
if os.path.exists(out):
    for line in open(out, encoding="utf-8"):
        if line.strip() and not line.startswith("#"):
            f = line.rstrip("\n").split("\t")
            kept[(f[0], f[1])] = f
rows = []
for crate in sorted(names):
    folder = os.path.join(db, "crates", crate)
    if not os.path.isdir(folder):
        continue
    for file in sorted(os.listdir(folder)):
        text = open(os.path.join(folder, file), encoding="utf-8").read()
        front = re.search(r"```toml\n(.*?)\n```", text, re.S)
        if not front:
            continue
        data = tomllib.loads(front.group(1))
        advisory = data.get("advisory", {})
        if advisory.get("withdrawn"):
            continue
        versions = data.get("versions", {})
        safe = versions.get("patched", []) + versions.get("unaffected", [])
        row = [advisory["id"], crate, ";".join(safe) or "-", "open", ""]
        if advisory.get("informational"):
            row[3], row[4] = "info", f"{advisory['informational']}: " + re.sub(r"\s+", " ", text.split("\n# ", 1)[-1].split("\n", 1)[0]).strip()
        old = kept.get((row[0], crate))
        if old and old[3] == "accepted":
            row[3], row[4] = old[3], old[4]
        rows.append(row)
with open(out, "w", encoding="utf-8") as f:
    f.write("# RustSec advisories for crates in Cargo.lock; refreshed by scripts/advisories.sh refresh.\n")
    f.write("# id\tcrate\tsafe\tstatus\treason\n")
    for row in rows:
        f.write("\t".join(row) + "\n")
print(f"{out}: {len(rows)} advisories for {len(names)} locked crates")
PY
  ;;
*)
  echo "usage: scripts/advisories.sh check|refresh" >&2
  exit 2
  ;;
esac
