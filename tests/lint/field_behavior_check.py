#!/usr/bin/env python3
"""Every field an integrator sends states its behaviour as an annotation.

AIP-203: google.api.field_behavior (REQUIRED, OPTIONAL, OUTPUT_ONLY,
IMMUTABLE, ...) on every field of every request message and of every message
a request carries (the resources and their parts, as far as a request can
set them; fields under an OUTPUT_ONLY field are the service's). Also: a
field is never both REQUIRED and OPTIONAL or both OUTPUT_ONLY and REQUIRED.
buf lint has no such rule; this check compiles the protos with protoc and
reads the annotations from the descriptors.

    field_behavior_check.py SOURCE_DIR
"""
import glob
import os
import subprocess
import sys
import tempfile

src = os.path.abspath(sys.argv[1])
tmp = tempfile.mkdtemp()
gapi = os.path.join(src, "third_party/googleapis")
protos = sorted(p for p in glob.glob(os.path.join(src, "proto/reception/*/v1/*.proto"))
                if "/config/" not in p)
subprocess.run(["protoc", f"-I{src}/proto", f"-I{gapi}", "--include_imports",
                f"--descriptor_set_out={tmp}/all.pb"] + protos, check=True)
subprocess.run(["protoc", f"-I{gapi}", f"--python_out={tmp}",
                os.path.join(gapi, "google/api/field_behavior.proto")], check=True)
sys.path.insert(0, tmp)
from google.protobuf import descriptor_pb2  # noqa: E402
from google.api import field_behavior_pb2 as fb  # noqa: E402

fds = descriptor_pb2.FileDescriptorSet()
with open(f"{tmp}/all.pb", "rb") as f:
    fds.ParseFromString(f.read())

messages = {}  # full name -> (DescriptorProto, file name)


def collect(prefix, msgs, fname):
    for m in msgs:
        full = f"{prefix}.{m.name}"
        messages[full] = (m, fname)
        collect(full, m.nested_type, fname)


for f in fds.file:
    collect(f".{f.package}", f.message_type, f.name)


def behaviours(field):
    return list(field.options.Extensions[fb.field_behavior])


# Messages a request can set: request messages, then what their settable
# fields carry, transitively. reception.type.v1.Date is a value type like
# google.type.Date: its year/month/day are described in its comment.
VALUE_TYPES = {".reception.type.v1.Date"}
todo = [n for n, (m, f) in messages.items()
        if n.endswith("Request") and n.startswith(".reception.")]
settable = set()
while todo:
    name = todo.pop()
    if name in settable or name in VALUE_TYPES or not name.startswith(".reception."):
        continue
    settable.add(name)
    for field in messages[name][0].field:
        if field.type == descriptor_pb2.FieldDescriptorProto.TYPE_MESSAGE:
            if fb.OUTPUT_ONLY in behaviours(field):
                continue
            todo.append(field.type_name)

problems = []
for name, (m, fname) in sorted(messages.items()):
    if not name.startswith(".reception."):
        continue
    for field in m.field:
        b = behaviours(field)
        where = f"{fname}: {name[1:]}.{field.name}"
        if name in settable and not b:
            problems.append(f"{where} has no google.api.field_behavior")
        if fb.REQUIRED in b and (fb.OPTIONAL in b or fb.OUTPUT_ONLY in b):
            problems.append(f"{where} is REQUIRED and OPTIONAL or OUTPUT_ONLY")
for p in problems:
    print(p)
if problems:
    print(f"{len(problems)} field(s) without a consistent behaviour annotation")
    sys.exit(1)
print(f"field behaviour: {len(settable)} messages a request can set, every field annotated")
