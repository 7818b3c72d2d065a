#!/usr/bin/python3
"""End-to-end test with a client not written in C++.

Generates Python stubs from our protos with the system protoc and
grpc_python_plugin, starts the real receptiond on 127.0.0.1:0 in a temp dir,
creates, lists and transitions a case through Debian's python3-grpcio, and
checks the live metrics endpoint with `promtool check metrics`.
"""
import argparse
import datetime
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request

ARGS = None


def generate_stubs(source, out):
    protos = [
        "reception/type/v1/types.proto",
        "reception/cases/v1/case.proto",
        "reception/cases/v1/case_service.proto",
        "reception/media/v1/media_service.proto",
    ]
    subprocess.run(
        ["protoc", "-I", os.path.join(source, "proto"), "-I",
         os.path.join(source, "third_party/googleapis"), f"--python_out={out}", f"--grpc_out={out}",
         "--plugin=protoc-gen-grpc=/usr/bin/grpc_python_plugin"] + protos, check=True)
    # google.rpc.Status and its details, as every error carries them, and
    # the field behaviour annotations the API's protos import.
    subprocess.run(
        ["protoc", "-I", os.path.join(source, "third_party/googleapis"), f"--python_out={out}",
         "google/rpc/status.proto", "google/rpc/error_details.proto",
         "google/api/field_behavior.proto"], check=True)
    # Make the generated folders importable as packages (not google/: it
    # joins the system's google package, which holds google.protobuf).
    for root, _, _ in os.walk(out):
        if os.path.relpath(root, out).split(os.sep)[0] != "google":
            open(os.path.join(root, "__init__.py"), "a").close()


def wait_for(condition, timeout):
    deadline = time.monotonic() + timeout
    pause = 0.01
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(pause)
        pause = min(pause * 2, 0.2)
    return condition()


class PythonClientTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="reception-py-")
        stubs = os.path.join(cls.tmp, "stubs")
        os.makedirs(stubs)
        generate_stubs(ARGS.source, stubs)
        sys.path.insert(0, stubs)
        global grpc, case_pb2, svc_pb2, svc_grpc, types_pb2
        import grpc  # noqa: E402
        from reception.cases.v1 import case_pb2, case_service_pb2 as svc_pb2  # noqa: E402
        from reception.cases.v1 import case_service_pb2_grpc as svc_grpc  # noqa: E402
        global status_pb2, error_details_pb2
        import google  # noqa: E402
        google.__path__.append(os.path.join(stubs, "google"))
        from google.rpc import status_pb2, error_details_pb2  # noqa: E402
        from reception.type.v1 import types_pb2  # noqa: E402

        config = os.path.join(cls.tmp, "node.yaml")
        with open(config, "w") as f:
            f.write(f"""unit_code: "48"
listen_address: 127.0.0.1:0
admin_address: 127.0.0.1:0
data_dir: {cls.tmp}/data
topology_file: {ARGS.source}/deploy/topology/da-nang-2025.yaml
rules_file: {ARGS.source}/deploy/rules/vn.yaml
calendar_file: {ARGS.source}/deploy/calendars/vn-2025-2026.yaml
media:
  backend: janus
  janus_url: http://127.0.0.1:9/janus
""")
        ready = os.path.join(cls.tmp, "ready")
        cls.log = open(os.path.join(cls.tmp, "node.log"), "w")
        cls.proc = subprocess.Popen([ARGS.receptiond, "--config", config, "--ready_file", ready],
                                    stdout=cls.log, stderr=subprocess.STDOUT)
        if not wait_for(lambda: os.path.exists(ready) or cls.proc.poll() is not None, 30):
            raise RuntimeError("receptiond did not start")
        with open(ready) as f:
            values = dict(line.split("=", 1) for line in f.read().split())
        cls.port, cls.admin_port = int(values["grpc_port"]), int(values["admin_port"])
        cls.channel = grpc.insecure_channel(f"127.0.0.1:{cls.port}")
        cls.stub = svc_grpc.CaseServiceStub(cls.channel)

        def serving():
            try:
                cls.stub.ListCases(svc_pb2.ListCasesRequest(page_size=1), timeout=1, metadata=(
                    ("x-reception-subject", "python"), ("x-reception-role", "viewer"),
                    ("x-reception-unit", "48")))
                return True
            except grpc.RpcError:
                return False
        if not wait_for(serving, 30):
            raise RuntimeError("receptiond never answered")

    @classmethod
    def tearDownClass(cls):
        cls.channel.close()
        if cls.proc.poll() is None:
            cls.proc.send_signal(signal.SIGTERM)
            cls.proc.wait(timeout=30)
        cls.log.close()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def md(self, role="officer"):
        return (("x-reception-subject", "python"), ("x-reception-role", role), ("x-reception-unit", "48"))

    def today(self):
        d = (datetime.datetime.utcnow() + datetime.timedelta(hours=7)).date()
        return types_pb2.Date(year=d.year, month=d.month, day=d.day)

    def new_case(self, request_id):
        return svc_pb2.CreateCaseRequest(
            request_id=request_id,
            case=case_pb2.Case(
                kind=case_pb2.CASE_KIND_COMPLAINT,
                complaint_round=case_pb2.COMPLAINT_ROUND_FIRST,
                channel=case_pb2.CHANNEL_PORTAL,
                petitioners=[types_pb2.Person(full_name="Nguyễn Văn An", citizen_id="049201001234",
                                              address="Hải Châu, Đà Nẵng")],
                respondent=case_pb2.Respondent(unit_code="48-1", official_name="Trần Văn Bình"),
                content="Khiếu nại quyết định thu hồi đất",
                received_date=self.today()))

    def test_1_create_list_and_transition(self):
        created = self.stub.CreateCase(self.new_case("py-1"), metadata=self.md())
        self.assertTrue(created.name.startswith("cases/48-"))
        self.assertEqual(created.state, case_pb2.CASE_STATE_RECEIVED)
        again = self.stub.CreateCase(self.new_case("py-1"), metadata=self.md())
        self.assertEqual(again.name, created.name, "a retry must not create a second case")

        found = self.stub.ListCases(svc_pb2.ListCasesRequest(query="nguyen van an"), metadata=self.md("viewer"))
        self.assertEqual([c.name for c in found.cases], [created.name])

        classified = self.stub.ClassifyCase(
            svc_pb2.ClassifyCaseRequest(name=created.name, etag=created.etag, within_competence=True),
            metadata=self.md())
        self.assertEqual(classified.state, case_pb2.CASE_STATE_CLASSIFIED)
        accepted = self.stub.AcceptCase(
            svc_pb2.AcceptCaseRequest(name=created.name, notice_reference="TL-PY-1"), metadata=self.md())
        self.assertEqual(accepted.state, case_pb2.CASE_STATE_ACCEPTED)

        history = self.stub.GetCaseHistory(svc_pb2.GetCaseHistoryRequest(name=created.name), metadata=self.md())
        self.assertEqual([e.action for e in history.events], ["CreateCase", "ClassifyCase", "AcceptCase"])
        verdict = self.stub.VerifyCaseHistory(svc_pb2.VerifyCaseHistoryRequest(name=created.name),
                                              metadata=self.md())
        self.assertTrue(verdict.valid)

    def test_2_errors_name_field_and_rule(self):
        bad = self.new_case("py-2")
        bad.case.petitioners[0].citizen_id = "123"
        with self.assertRaises(grpc.RpcError) as e:
            self.stub.CreateCase(bad, metadata=self.md())
        self.assertEqual(e.exception.code(), grpc.StatusCode.INVALID_ARGUMENT)
        self.assertEqual(e.exception.details(), "case.petitioners[0].citizen_id must be 12 digits")
        # What a program reads: the google.rpc.Status in grpc-status-details-bin.
        status, info, rest = self.details_of(e.exception)
        self.assertEqual(status.code, grpc.StatusCode.INVALID_ARGUMENT.value[0])
        self.assertEqual(info.reason, "INVALID_FIELD")
        self.assertEqual(info.domain, "reception.gov.vn")
        self.assertEqual(info.metadata["field"], "case.petitioners[0].citizen_id")
        bad_request = error_details_pb2.BadRequest()
        self.assertTrue(rest[0].Unpack(bad_request))
        self.assertEqual([(v.field, v.description) for v in bad_request.field_violations],
                         [("case.petitioners[0].citizen_id", "must be 12 digits")])
        with self.assertRaises(grpc.RpcError) as e:
            self.stub.CloseCase(svc_pb2.CloseCaseRequest(name="cases/48-2026-999999"), metadata=self.md())
        self.assertEqual(e.exception.code(), grpc.StatusCode.NOT_FOUND)
        _, info, rest = self.details_of(e.exception)
        self.assertEqual(info.reason, "CASE_NOT_FOUND")
        resource = error_details_pb2.ResourceInfo()
        self.assertTrue(rest[0].Unpack(resource))
        self.assertEqual((resource.resource_type, resource.resource_name),
                         ("reception.cases.v1.Case", "cases/48-2026-999999"))
        # A transition the state does not allow: the reason and the state.
        created = self.stub.CreateCase(self.new_case("py-2b"), metadata=self.md())
        with self.assertRaises(grpc.RpcError) as e:
            self.stub.AcceptCase(svc_pb2.AcceptCaseRequest(name=created.name, notice_reference="TL-1"),
                                 metadata=self.md())
        self.assertEqual(e.exception.code(), grpc.StatusCode.FAILED_PRECONDITION)
        _, info, rest = self.details_of(e.exception)
        self.assertEqual(info.reason, "TRANSITION_NOT_ALLOWED")
        failure = error_details_pb2.PreconditionFailure()
        self.assertTrue(rest[0].Unpack(failure))
        self.assertEqual((failure.violations[0].type, failure.violations[0].subject), ("STATE", "RECEIVED"))
        # The same request_id for different content: ALREADY_EXISTS.
        reused = self.new_case("py-2b")
        reused.case.content = "Nội dung khác hẳn"
        with self.assertRaises(grpc.RpcError) as e:
            self.stub.CreateCase(reused, metadata=self.md())
        self.assertEqual(e.exception.code(), grpc.StatusCode.ALREADY_EXISTS)
        _, info, rest = self.details_of(e.exception)
        self.assertEqual(info.reason, "ALREADY_EXISTS")
        self.assertTrue(rest[0].Unpack(error_details_pb2.ResourceInfo()))
        # A stale etag: ABORTED.
        classified = self.stub.ClassifyCase(
            svc_pb2.ClassifyCaseRequest(name=created.name, within_competence=True), metadata=self.md())
        with self.assertRaises(grpc.RpcError) as e:
            self.stub.AcceptCase(svc_pb2.AcceptCaseRequest(name=created.name, etag=created.etag,
                                                           notice_reference="TL-2"),
                                 metadata=self.md())
        self.assertEqual(e.exception.code(), grpc.StatusCode.ABORTED)
        self.assertEqual(self.details_of(e.exception)[1].reason, "ETAG_MISMATCH")
        # The role may not: PERMISSION_DENIED.
        with self.assertRaises(grpc.RpcError) as e:
            self.stub.AcceptCase(svc_pb2.AcceptCaseRequest(name=created.name, etag=classified.etag,
                                                           notice_reference="TL-3"),
                                 metadata=self.md("viewer"))
        self.assertEqual(e.exception.code(), grpc.StatusCode.PERMISSION_DENIED)
        self.assertEqual(self.details_of(e.exception)[1].reason, "ROLE_NOT_ALLOWED")
        with self.assertRaises(grpc.RpcError) as e:
            self.stub.GetCase(svc_pb2.GetCaseRequest(name="cases/x"))
        self.assertEqual(e.exception.code(), grpc.StatusCode.UNAUTHENTICATED)
        _, info, _ = self.details_of(e.exception)
        self.assertEqual(info.reason, "MISSING_METADATA")
        # Unavailable (this node's media server is down): when to retry.
        from reception.media.v1 import media_service_pb2 as media_pb2  # noqa: E402
        from reception.media.v1 import media_service_pb2_grpc as media_grpc  # noqa: E402
        rooms = media_grpc.MediaServiceStub(self.channel)
        room = rooms.CreateRoom(media_pb2.CreateRoomRequest(room_id="py-room"), metadata=self.md())
        with self.assertRaises(grpc.RpcError) as e:
            rooms.OpenRoom(media_pb2.OpenRoomRequest(name=room.name), metadata=self.md())
        self.assertEqual(e.exception.code(), grpc.StatusCode.UNAVAILABLE)
        _, info, rest = self.details_of(e.exception)
        self.assertEqual(info.reason, "UNAVAILABLE")
        retry = error_details_pb2.RetryInfo()
        self.assertTrue(rest[-1].Unpack(retry))
        self.assertGreaterEqual(retry.retry_delay.seconds, 1)

    def details_of(self, error):
        """The google.rpc.Status of a failed call: it, its ErrorInfo, the other details."""
        raw = dict(error.trailing_metadata() or ()).get("grpc-status-details-bin")
        self.assertIsNotNone(raw, "no grpc-status-details-bin on " + error.details())
        status = status_pb2.Status.FromString(raw)
        self.assertEqual(status.message, error.details())
        info = error_details_pb2.ErrorInfo()
        self.assertTrue(status.details[0].Unpack(info))
        return status, info, list(status.details[1:])

    def test_3_metrics_pass_promtool(self):
        body = urllib.request.urlopen(f"http://127.0.0.1:{self.admin_port}/metrics", timeout=10).read()
        text = body.decode()
        self.assertIn('reception_grpc_server_handled_total{grpc_code="OK",grpc_method="CreateCase"', text)
        self.assertIn("reception_store_commit_group_size_bucket", text)
        # What operators expect of any server: the build, the process, the stores.
        self.assertRegex(text, r'reception_build_info\{version="\d+\.\d+\.\d+",commit="([0-9a-f]{12}|unknown)"\} 1')
        for series in ("process_cpu_seconds_total", "process_resident_memory_bytes",
                       "process_open_fds", "process_max_fds", "process_start_time_seconds"):
            self.assertRegex(text, rf"(?m)^{series} [0-9.e+]+$")
        self.assertRegex(text, r'(?m)^reception_store_live_sst_bytes\{store="case"\} \d')
        self.assertRegex(text, r'(?m)^reception_store_pending_compaction_bytes\{store="case"\} \d')
        self.assertRegex(text, r'(?m)^reception_store_estimated_keys\{store="case"\} [1-9]')
        self.assertNotIn("Nguyễn", text)
        self.assertNotIn("049201001234", text)
        check = subprocess.run(["promtool", "check", "metrics"], input=body, capture_output=True)
        self.assertEqual(check.returncode, 0, check.stdout.decode() + check.stderr.decode())


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--receptiond", required=True)
    parser.add_argument("--source", required=True)
    ARGS, rest = parser.parse_known_args()
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=2)
