#!/usr/bin/env python3
"""Sanity checks for tests/eval/labelled.json (run: python3 tests/eval/check_labelled.py)."""
import json
import re
import sys
from collections import Counter
from datetime import date, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
AREAS = {"accountability": 6, "credibility": 6, "autonomy": 6, "team-building": 8, "leadership": 8, "technical": 7}
IDS = {f"{area}-{n}" for area, count in AREAS.items() for n in range(1, count + 1)}
KINDS = {"merge_request", "review", "issue", "epic", "incident", "oncall_shift", "interview"}
ROLES = {"author", "reviewer", "approver", "commenter", "assignee", "participant", "oncall", "interviewer"}
SOURCE_OF = {"merge_request": "merge_requests", "review": "reviews", "issue": "issues", "incident": "incidents",
             "epic": "epics", "oncall_shift": "oncall_shifts", "interview": "interviews"}
DATE_FIELDS = ["created_at", "updated_at", "merged_at", "closed_at", "starts_at", "ends_at"]


def main(path):
    errors = []
    snap = json.loads(Path(path).read_text())
    assert len(IDS) == 41
    if snap.get("format") != "gl-evidence/snapshot" or snap.get("version") != 1:
        errors.append("format/version")
    period_from = date.fromisoformat(snap["period"]["from"])
    period_to = date.fromisoformat(snap["period"]["to"])
    items = snap["items"]
    subjects = {s["username"] for s in snap["subjects"]}

    seen_ids, seen_urls = set(), set()
    must_count, acc_count = Counter(), Counter()
    for n, it in enumerate(items):
        where = f"item {n} ({it.get('title')!r})"
        if it["kind"] not in KINDS or it["role"] not in ROLES:
            errors.append(f"{where}: kind/role {it['kind']}/{it['role']}")
        if it["subject"] not in subjects:
            errors.append(f"{where}: unknown subject")
        if "competencies" in it:
            errors.append(f"{where}: must be unclassified")
        if it["id"] in seen_ids:
            errors.append(f"{where}: duplicate id {it['id']}")
        seen_ids.add(it["id"])
        if not it["id"].startswith("gid://gitlab/"):
            errors.append(f"{where}: id is not a global id")
        if it["kind"] != "oncall_shift":
            if it["web_url"] in seen_urls:
                errors.append(f"{where}: duplicate web_url")
            seen_urls.add(it["web_url"])
        if it.get("project") and it["kind"] != "epic" and not it["web_url"].startswith(
                f"{snap['gitlab_url']}/{it['project']}/-/"):
            errors.append(f"{where}: web_url does not match project")
        if it["kind"] == "epic" and not it["web_url"].startswith(f"{snap['gitlab_url']}/groups/{it['group']}/-/epics/"):
            errors.append(f"{where}: epic web_url does not match group")
        m = re.search(r"/-/(?:merge_requests|issues|epics)/(\d+)$", it["web_url"])
        if it["kind"] != "oncall_shift" and not m:
            errors.append(f"{where}: web_url has no iid")
        for f in DATE_FIELDS:
            if f in it:
                d = datetime.fromisoformat(it[f].replace("Z", "+00:00")).date()
                if not period_from <= d <= period_to:
                    errors.append(f"{where}: {f} {d} outside the period")
        if "created_at" in it and "updated_at" in it and it["updated_at"] < it["created_at"]:
            errors.append(f"{where}: updated before created")
        if it["kind"] == "review" and ("comments" not in it or "approved" not in it):
            errors.append(f"{where}: review without comments/approved")
        if it["kind"] == "incident" and it.get("severity") not in (1, 2, 3, 4):
            errors.append(f"{where}: incident severity")
        if it["kind"] == "epic" and "child_count" not in it:
            errors.append(f"{where}: epic without child_count")
        if it["kind"] == "oncall_shift":
            for f in ("starts_at", "ends_at", "duration_hours", "project"):
                if f not in it:
                    errors.append(f"{where}: shift without {f}")
            s = datetime.fromisoformat(it["starts_at"].replace("Z", "+00:00"))
            e = datetime.fromisoformat(it["ends_at"].replace("Z", "+00:00"))
            if abs((e - s).total_seconds() / 3600 - it["duration_hours"]) > 1e-6:
                errors.append(f"{where}: duration_hours does not match")
        exp = it.get("expect")
        if not isinstance(exp, dict) or set(exp) != {"must", "acceptable", "why"}:
            errors.append(f"{where}: expect must have must, acceptable, why")
            continue
        for key in ("must", "acceptable"):
            for cid in exp[key]:
                if cid not in IDS:
                    errors.append(f"{where}: unknown competency {cid!r} in {key}")
            if len(set(exp[key])) != len(exp[key]):
                errors.append(f"{where}: repeated id in {key}")
        if set(exp["must"]) & set(exp["acceptable"]):
            errors.append(f"{where}: an id is both must and acceptable")
        if not exp["why"].strip():
            errors.append(f"{where}: empty why")
        must_count.update(exp["must"])
        acc_count.update(exp["acceptable"])

    kinds = Counter(it["kind"] for it in items)
    for src in snap["sources"]:
        kind = {v: k for k, v in SOURCE_OF.items()}.get(src["name"])
        if kind is None:
            errors.append(f"source {src['name']}: unknown")
        elif src["items"] != kinds.get(kind, 0):
            errors.append(f"source {src['name']}: items {src['items']} != {kinds.get(kind, 0)}")
    if {s["name"] for s in snap["sources"]} != set(SOURCE_OF.values()):
        errors.append("sources: want exactly one per kind")

    missing = sorted(IDS - set(must_count))
    if missing:
        errors.append(f"competencies in no item's must: {missing}")
    if len(items) < 120:
        errors.append(f"only {len(items)} items")

    trivial = sum(1 for it in items if not it["expect"]["must"] and not it["expect"]["acceptable"])
    ambiguous = sum(1 for it in items if not it["expect"]["must"] and it["expect"]["acceptable"])
    print(f"{len(items)} items: " + ", ".join(f"{k} {kinds[k]}" for k in SOURCE_OF))
    print(f"trivial (nothing credited): {trivial}; must empty but something acceptable: {ambiguous}")
    print(f"must labels: {sum(must_count.values())}; acceptable labels: {sum(acc_count.values())}")
    order = [f"{a}-{n}" for a, c in AREAS.items() for n in range(1, c + 1)]
    print("per competency (must / acceptable):")
    for cid in order:
        print(f"  {cid:18} {must_count[cid]:3} / {acc_count[cid]:3}")
    if errors:
        print("\nERRORS:")
        for e in errors:
            print("  " + e)
        return 1
    print("\nOK")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else HERE / "labelled.json"))
