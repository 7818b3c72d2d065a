#!/usr/bin/env python3
"""The shipped Prometheus rules hold together.

promtool checks the rules and runs their unit tests; this script adds what
promtool cannot know: every alert has a runbook entry its annotation links,
at least one unit test in which it fires, and every metric the rules read is
one the services export (a renamed metric would otherwise silence an alert
without a word).

usage: prometheus_rules_test.py SOURCE_DIR
"""
import pathlib
import re
import subprocess
import sys

import yaml


def main() -> int:
    root = pathlib.Path(sys.argv[1])
    rules_file = root / "deploy/prometheus/rules.yaml"
    tests_file = root / "deploy/prometheus/tests/alerts_test.yaml"
    runbook = (root / "deploy/RUNBOOK.md").read_text(encoding="utf-8")
    failures = []

    for args in (["check", "rules", str(rules_file)], ["test", "rules", str(tests_file)]):
        run = subprocess.run(["promtool", *args], capture_output=True, text=True)
        if run.returncode != 0:
            failures.append(f"promtool {' '.join(args)} failed:\n{run.stdout}{run.stderr}")

    rules = yaml.safe_load(rules_file.read_text(encoding="utf-8"))
    tests = yaml.safe_load(tests_file.read_text(encoding="utf-8"))
    fired = {
        case["alertname"]
        for test in tests["tests"]
        for case in test.get("alert_rule_test", [])
        if case.get("exp_alerts")
    }
    headings = set(re.findall(r"^## (\S+)\s*$", runbook, flags=re.M))

    exported = set()
    for path in (root / "services").rglob("*.cc"):
        exported.update(re.findall(r'"(reception_[a-z_]+)"', path.read_text(encoding="utf-8")))

    alerts = 0
    for group in rules["groups"]:
        for rule in group["rules"]:
            for metric in re.findall(r"(?<![:\w])(reception_[a-z_]+)", rule["expr"]):
                if metric not in exported:
                    failures.append(f"{rule.get('alert') or rule.get('record')}: reads {metric}, "
                                    "which no service exports")
            name = rule.get("alert")
            if not name:
                continue
            alerts += 1
            url = rule.get("annotations", {}).get("runbook_url", "")
            if url != f"deploy/RUNBOOK.md#{name.lower()}":
                failures.append(f"{name}: runbook_url is {url!r}, not its RUNBOOK.md entry")
            if name not in headings:
                failures.append(f"{name}: no '## {name}' entry in deploy/RUNBOOK.md")
            if name not in fired:
                failures.append(f"{name}: no unit test in which it fires")
            if rule.get("labels", {}).get("severity") not in ("warning", "critical"):
                failures.append(f"{name}: severity must be warning or critical")
    for heading in headings:
        if not any(r.get("alert") == heading for g in rules["groups"] for r in g["rules"]):
            failures.append(f"deploy/RUNBOOK.md: entry {heading} names no alert")

    for f in failures:
        print("FAIL:", f)
    print(f"{alerts} alerts, {len(fired)} tested, {len(headings)} runbook entries")
    return 1 if failures or alerts == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
