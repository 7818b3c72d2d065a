#!/usr/bin/env python3
"""Every ErrorInfo.reason the code can send is documented in the proto.

AIP-193: reasons are a stable, documented set. The set is
reception.type.v1.ErrorReason (proto/reception/type/v1/types.proto), one
value per reason with its meaning. This check finds every reason the code
names (the literal last argument of each WithReason(...) call, the reason
words the authenticator refuses with, and the defaults of
services/common/grpc_status.cc) and fails on any that the enum lacks, or on
an enum value nothing sends.

    error_reasons_check.py SOURCE_DIR
"""
import glob
import os
import re
import sys

src = os.path.abspath(sys.argv[1])
proto = open(os.path.join(src, "proto/reception/type/v1/types.proto")).read()
body = proto[proto.index("enum ErrorReason {"):]
body = body[:body.index("\n}")]
documented = set(re.findall(r"ERROR_REASON_([A-Z_]+) = \d+;", body)) - {"UNSPECIFIED"}

sent = {}  # reason -> where


def calls(text, name):
    """The argument text of each call `name(...)`, parentheses balanced."""
    for m in re.finditer(re.escape(name) + r"\(", text):
        depth, i = 1, m.end()
        in_str = False
        while i < len(text) and depth:
            ch = text[i]
            if in_str:
                if ch == "\\":
                    i += 1
                elif ch == '"':
                    in_str = False
            elif ch == '"':
                in_str = True
            elif ch == "(":
                depth += 1
            elif ch == ")":
                depth -= 1
            i += 1
        yield text[m.end():i - 1], text.count("\n", 0, m.start()) + 1


for path in glob.glob(os.path.join(src, "services/**/*.cc"), recursive=True):
    if path.endswith("_test.cc"):
        continue
    text = open(path).read()
    rel = os.path.relpath(path, src)
    for args, line in calls(text, "WithReason"):
        m = re.search(r',\s*"([A-Z][A-Z_]*)"\s*$', args)
        if m:
            sent.setdefault(m.group(1), f"{rel}:{line}")
    # The authenticator's and the token verifier's refusals: lower-case
    # words, sent upper-cased.
    for name in ("Refuse", "Refused"):
        for args, line in calls(text, name):
            m = re.match(r'\s*\w+,\s*"([a-z_]+)"', args)
            if m:
                sent.setdefault(m.group(1).upper(), f"{rel}:{line}")
grpc_status = open(os.path.join(src, "services/common/grpc_status.cc")).read()
for reason in re.findall(r'return "([A-Z_]+)";', grpc_status) + re.findall(
        r'set_reason\("([A-Z_]+)"\)', grpc_status):
    sent.setdefault(reason, "services/common/grpc_status.cc")

problems = [f"{where}: reason {r} is not in reception.type.v1.ErrorReason"
            for r, where in sorted(sent.items()) if r not in documented]
problems += [f"types.proto: ERROR_REASON_{r} is documented but nothing sends it"
             for r in sorted(documented - set(sent))]
for p in problems:
    print(p)
if problems:
    sys.exit(1)
print(f"error reasons: {len(sent)} sent, every one documented in ErrorReason")
