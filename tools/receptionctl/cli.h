// receptionctl's shared parts: the parsed command line (every option known
// in advance), the client that calls a node, printing, and the exit codes.
// Each command group lives in its own file (cases.cc, handoffs.cc, rooms.cc,
// schedule.cc, offline.cc); main.cc dispatches.
#ifndef RECEPTION_TOOLS_RECEPTIONCTL_CLI_H_
#define RECEPTION_TOOLS_RECEPTIONCTL_CLI_H_

#include <cstdlib>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "grpcpp/grpcpp.h"
#include "reception/admin/v1/backup_service.grpc.pb.h"
#include "reception/admin/v1/outbox_service.grpc.pb.h"
#include "reception/cases/v1/case_service.grpc.pb.h"
#include "reception/cases/v1/handoff_service.grpc.pb.h"
#include "reception/media/v1/media_service.grpc.pb.h"
#include "reception/routing/v1/routing_service.grpc.pb.h"
#include "reception/scheduling/v1/scheduling_service.grpc.pb.h"
#include "reception/units/v1/unit_service.grpc.pb.h"
#include "services/common/credentials.h"

namespace receptionctl {

namespace v1 = reception::cases::v1;
using google::protobuf::Message;

// What the exit code says happened (also in `receptionctl --help`).
enum Exit : int {
  kOk = 0,
  kFailed = 1,       // any other error the node reported
  kUsage = 2,        // the command line is wrong; nothing was sent
  kNotFound = 3,     // NOT_FOUND
  kDenied = 4,       // UNAUTHENTICATED, PERMISSION_DENIED
  kInvalid = 5,      // INVALID_ARGUMENT, OUT_OF_RANGE: the node refused the input
  kConflict = 6,     // FAILED_PRECONDITION, ABORTED, ALREADY_EXISTS: read again
  kUnavailable = 7,  // UNAVAILABLE, DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED: retry
};
int ExitFor(grpc::StatusCode code);
// Prints "error: CODE: message" and returns the exit code for `s`.
int ReportError(const grpc::Status& s);

// The command line: the command, its positional arguments, options (each
// may repeat) and flags.
struct Args {
  std::string command;
  std::vector<std::string> positional;
  std::map<std::string, std::vector<std::string>> options;
  std::set<std::string> flags;

  std::optional<std::string> Get(const std::string& k) const {
    auto it = options.find(k);
    if (it == options.end() || it->second.empty()) return std::nullopt;
    return it->second.back();
  }
  std::string GetOr(const std::string& k, const std::string& d) const { return Get(k).value_or(d); }
  std::vector<std::string> All(const std::string& k) const {
    auto it = options.find(k);
    return it == options.end() ? std::vector<std::string>{} : it->second;
  }
  bool Has(const std::string& k) const { return flags.count(k) > 0; }
};

// Every option any command reads; anything else is refused before a
// command runs (a misspelt --etag must not silently skip the check).
extern const std::set<std::string> kBooleanFlags;
extern const std::set<std::string> kValueOptions;

[[noreturn]] void UsageError(const std::string& what);
Args Parse(int argc, char** argv);
std::string Env(const char* name, const std::string& fallback);

template <typename E>
E ParseEnum(const std::string& value, const std::string& prefix,
            bool (*parse)(const std::string&, E*), const std::string& option) {
  E e;
  if (parse(absl::StrCat(prefix, absl::AsciiStrToUpper(value)), &e) || parse(value, &e)) return e;
  UsageError(absl::StrCat("--", option, " \"", value, "\" is not a known value"));
}

reception::type::v1::Date ParseDateOption(const std::string& value, const std::string& option);
std::string CaseName(const Args& a);
std::string Short(const std::string& enum_name, const std::string& prefix);
std::string Date(const reception::type::v1::Date& d);
// A fresh request id per invocation unless --request-id pins one to retry.
std::string RequestId(const Args& a);
void PrintJson(const Message& m);
void Row(const std::string& k, const std::string& v);
void PrintCase(const v1::Case& c);

// A channel to --server (RECEPTION_SERVER): TLS when --ca is given, with
// --cert/--key as the client certificate (a node's own tools).
inline std::shared_ptr<grpc::Channel> ChannelFor(const Args& a) {
  std::shared_ptr<const reception::Credentials> credentials =
      reception::Credentials::FromConfig(reception::config::v1::AuthConfig());
  if (const std::string ca = a.GetOr("ca", Env("RECEPTION_CA", "")); !ca.empty()) {
    auto tls = reception::Credentials::ForClient(ca, a.GetOr("cert", Env("RECEPTION_CERT", "")),
                                                 a.GetOr("key", Env("RECEPTION_KEY", "")));
    if (!tls.ok()) UsageError(std::string(tls.status().message()));
    credentials = *tls;
  }
  return credentials->NewChannel(a.GetOr("server", Env("RECEPTION_SERVER", "127.0.0.1:50051")));
}

class Client {
 public:
  explicit Client(const Args& a) : args_(a) {
    server_ = a.GetOr("server", Env("RECEPTION_SERVER", "127.0.0.1:50051"));
    subject_ = a.GetOr("subject", Env("RECEPTION_SUBJECT", "cli"));
    role_ = a.GetOr("role", Env("RECEPTION_ROLE", "officer"));
    unit_ = a.GetOr("unit", Env("RECEPTION_UNIT", ""));
    token_ = a.GetOr("token", Env("RECEPTION_TOKEN", ""));
    if (const std::string file = a.GetOr("token-file", Env("RECEPTION_TOKEN_FILE", ""));
        token_.empty() && !file.empty()) {
      std::ifstream in(file);
      if (!in || !std::getline(in, token_))
        UsageError(absl::StrCat("cannot read a token from ", file));
    }
    if (unit_.empty() && token_.empty()) {
      UsageError("--unit (or RECEPTION_UNIT) must name your unit code, or --token carry it");
    }
    int seconds = 10;
    if (auto t = a.Get("timeout"); t && !absl::SimpleAtoi(*t, &seconds))
      UsageError("--timeout must be a number");
    timeout_ = seconds;
    auto channel = ChannelFor(a);
    stub_ = v1::CaseService::NewStub(channel);
    handoff_stub_ = v1::HandoffService::NewStub(channel);
    routing_stub_ = reception::routing::v1::RoutingService::NewStub(channel);
    media_stub_ = reception::media::v1::MediaService::NewStub(channel);
    scheduling_stub_ = reception::scheduling::v1::SchedulingService::NewStub(channel);
    outbox_stub_ = reception::admin::v1::OutboxService::NewStub(channel);
    backup_stub_ = reception::admin::v1::BackupService::NewStub(channel);
    units_stub_ = reception::units::v1::UnitService::NewStub(channel);
  }

  void Identify(grpc::ClientContext* ctx) const {
    if (!token_.empty()) {
      ctx->AddMetadata("authorization", absl::StrCat("Bearer ", token_));
      return;
    }
    ctx->AddMetadata("x-reception-subject", subject_);
    ctx->AddMetadata("x-reception-role", role_);
    ctx->AddMetadata("x-reception-unit", unit_);
  }

  void Prepare(grpc::ClientContext* ctx) const {
    Identify(ctx);
    ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(timeout_));
  }

  // Follows a WatchRoom stream (no deadline) until it ends; the exit code.
  int Watch(const reception::media::v1::WatchRoomRequest& req,
            const std::function<void(const reception::media::v1::RoomEvent&)>& each) {
    grpc::ClientContext ctx;
    Identify(&ctx);
    auto reader = media_stub_->WatchRoom(&ctx, req);
    reception::media::v1::RoomEvent e;
    while (reader->Read(&e)) each(e);
    grpc::Status s = reader->Finish();
    return s.ok() ? kOk : ReportError(s);
  }

  template <typename Stub, typename Req, typename Resp>
  Resp Call(grpc::Status (Stub::*method)(grpc::ClientContext*, const Req&, Resp*), const Req& req) {
    grpc::ClientContext ctx;
    Prepare(&ctx);
    Resp resp;
    Stub* stub;
    if constexpr (std::is_same_v<Stub, v1::HandoffService::Stub>) {
      stub = handoff_stub_.get();
    } else if constexpr (std::is_same_v<Stub, reception::routing::v1::RoutingService::Stub>) {
      stub = routing_stub_.get();
    } else if constexpr (std::is_same_v<Stub, reception::media::v1::MediaService::Stub>) {
      stub = media_stub_.get();
    } else if constexpr (std::is_same_v<Stub, reception::scheduling::v1::SchedulingService::Stub>) {
      stub = scheduling_stub_.get();
    } else if constexpr (std::is_same_v<Stub, reception::admin::v1::OutboxService::Stub>) {
      stub = outbox_stub_.get();
    } else if constexpr (std::is_same_v<Stub, reception::admin::v1::BackupService::Stub>) {
      stub = backup_stub_.get();
    } else if constexpr (std::is_same_v<Stub, reception::units::v1::UnitService::Stub>) {
      stub = units_stub_.get();
    } else {
      stub = stub_.get();
    }
    grpc::Status s = (stub->*method)(&ctx, req, &resp);
    if (!s.ok()) std::exit(ReportError(s));
    return resp;
  }

 private:
  const Args& args_;
  std::string server_, subject_, role_, unit_, token_;
  int timeout_ = 10;
  std::unique_ptr<v1::CaseService::Stub> stub_;
  std::unique_ptr<v1::HandoffService::Stub> handoff_stub_;
  std::unique_ptr<reception::routing::v1::RoutingService::Stub> routing_stub_;
  std::unique_ptr<reception::media::v1::MediaService::Stub> media_stub_;
  std::unique_ptr<reception::scheduling::v1::SchedulingService::Stub> scheduling_stub_;
  std::unique_ptr<reception::admin::v1::OutboxService::Stub> outbox_stub_;
  std::unique_ptr<reception::admin::v1::BackupService::Stub> backup_stub_;
  std::unique_ptr<reception::units::v1::UnitService::Stub> units_stub_;
};

// The command groups: each runs the commands it owns (Args::command).
int CasesCommand(const Args& a);
int HandoffsCommand(const Args& a);
int RoomsCommand(const Args& a);
int ScheduleCommand(const Args& a);
int TokenCommand(const Args& a);
int CalendarCommand(const Args& a);
int HealthCommand(const Args& a);
int AdminCommand(const Args& a);
int UnitsCommand(const Args& a);

}  // namespace receptionctl

#endif  // RECEPTION_TOOLS_RECEPTIONCTL_CLI_H_
