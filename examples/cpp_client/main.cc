// A department's C++ client, to copy from: register a case (retrying safely
// with the same request_id), page through the unit's cases, and read the
// machine-readable details of an error. Only gRPC, protobuf and the
// published protos (proto/, third_party/googleapis); nothing of the
// server's code.
//
//   example_client --server 127.0.0.1:50051 --unit 48
//       [--ca ca.crt --token-file token]   (a node in mTLS mode, a person's token)
//   (without --ca: a development node, loopback, identity by metadata)
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <string>

#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "grpcpp/grpcpp.h"
#include "reception/cases/v1/case_service.grpc.pb.h"

namespace v1 = reception::cases::v1;

namespace {

std::map<std::string, std::string> Flags(int argc, char** argv) {
  std::map<std::string, std::string> out;
  for (int i = 1; i + 1 < argc; i += 2) out[std::string(argv[i]).substr(2)] = argv[i + 1];
  return out;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  std::string text = s.str();
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  return text;
}

// Who calls: a bearer token (production), or development metadata.
void Identify(grpc::ClientContext* ctx, const std::map<std::string, std::string>& flags,
              const std::string& role) {
  if (flags.count("token-file")) {
    ctx->AddMetadata("authorization", "Bearer " + ReadFile(flags.at("token-file")));
  } else {
    ctx->AddMetadata("x-reception-subject", "example-client");
    ctx->AddMetadata("x-reception-role", role);
    ctx->AddMetadata("x-reception-unit", flags.at("unit"));
  }
  ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
}

// Prints what a program can act on in a failed call's google.rpc.Status.
void PrintDetails(const grpc::Status& s) {
  std::cout << "error " << s.error_code() << ": " << s.error_message() << "\n";
  google::rpc::Status status;
  if (!status.ParseFromString(s.error_details())) return;
  for (const auto& any : status.details()) {
    google::rpc::ErrorInfo info;
    google::rpc::BadRequest bad;
    google::rpc::PreconditionFailure failure;
    if (any.UnpackTo(&info)) {
      std::cout << "  reason " << info.reason() << " (" << info.domain() << ")\n";
    } else if (any.UnpackTo(&bad)) {
      for (const auto& v : bad.field_violations()) {
        std::cout << "  field " << v.field() << ": " << v.description() << "\n";
      }
    } else if (any.UnpackTo(&failure)) {
      for (const auto& v : failure.violations()) {
        std::cout << "  precondition " << v.type() << " " << v.subject() << ": " << v.description()
                  << "\n";
      }
    }
  }
}

v1::CreateCaseRequest NewComplaint(const std::string& request_id, const std::string& citizen_id) {
  v1::CreateCaseRequest r;
  r.set_request_id(request_id);  // a retry with the same id returns the same case
  v1::Case* c = r.mutable_case_();
  c->set_kind(v1::CASE_KIND_COMPLAINT);
  c->set_complaint_round(v1::COMPLAINT_ROUND_FIRST);
  c->set_channel(v1::CHANNEL_IN_PERSON);
  auto* p = c->add_petitioners();
  p->set_full_name("Phạm Thị Ví Dụ");
  p->set_citizen_id(citizen_id);
  c->mutable_respondent()->set_unit_code("48-1");
  c->set_content("Khiếu nại việc cấp giấy chứng nhận quyền sử dụng đất");
  const std::time_t now = std::time(nullptr) + 7 * 3600;  // Vietnam
  std::tm day{};
  gmtime_r(&now, &day);
  c->mutable_received_date()->set_year(day.tm_year + 1900);
  c->mutable_received_date()->set_month(day.tm_mon + 1);
  c->mutable_received_date()->set_day(day.tm_mday);
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  const auto flags = Flags(argc, argv);
  if (!flags.count("server") || !flags.count("unit")) {
    std::cerr
        << "usage: example_client --server HOST:PORT --unit CODE [--ca FILE --token-file FILE]\n";
    return 2;
  }
  std::shared_ptr<grpc::ChannelCredentials> creds = grpc::InsecureChannelCredentials();
  if (flags.count("ca")) {
    grpc::SslCredentialsOptions tls;
    tls.pem_root_certs = ReadFile(flags.at("ca"));
    creds = grpc::SslCredentials(tls);
  }
  auto stub = v1::CaseService::NewStub(grpc::CreateChannel(flags.at("server"), creds));

  // 1. Register a case; the retry (as after a timeout) gets the same case.
  v1::Case created, retried;
  for (v1::Case* out : {&created, &retried}) {
    grpc::ClientContext ctx;
    Identify(&ctx, flags, "officer");
    grpc::Status s = stub->CreateCase(&ctx, NewComplaint("example-1", "049201008888"), out);
    if (!s.ok()) {
      PrintDetails(s);
      return 1;
    }
  }
  std::cout << "created " << created.name() << "; retry returned " << retried.name() << "\n";
  if (created.name() != retried.name()) return 1;

  // 2. Page through the cases, until no next_page_token.
  v1::ListCasesRequest list;
  list.set_page_size(50);
  int total = 0;
  for (;;) {
    grpc::ClientContext ctx;
    Identify(&ctx, flags, "viewer");
    v1::ListCasesResponse page;
    grpc::Status s = stub->ListCases(&ctx, list, &page);
    if (!s.ok()) {
      PrintDetails(s);
      return 1;
    }
    total += page.cases_size();
    if (page.next_page_token().empty()) break;
    list.set_page_token(page.next_page_token());
  }
  std::cout << "listed " << total << " case(s)\n";

  // 3. An invalid field: the details say which and why.
  {
    grpc::ClientContext ctx;
    Identify(&ctx, flags, "officer");
    v1::Case ignored;
    grpc::Status s = stub->CreateCase(&ctx, NewComplaint("example-2", "123"), &ignored);
    if (s.ok()) return 1;
    PrintDetails(s);
  }
  // 4. A transition the case's state does not allow.
  {
    grpc::ClientContext ctx;
    Identify(&ctx, flags, "officer");
    v1::AcceptCaseRequest accept;
    accept.set_name(created.name());
    accept.set_notice_reference("TL-EX-1");
    v1::Case ignored;
    grpc::Status s = stub->AcceptCase(&ctx, accept, &ignored);
    if (s.ok()) return 1;
    PrintDetails(s);
  }
  return 0;
}
