// receptionctl: operating a node: its health, online backups and their
// offline restore.
#include <iostream>

#include "absl/strings/str_cat.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "reception/admin/v1/backup_service.grpc.pb.h"
#include "services/common/backup.h"
#include "services/common/node_config.h"
#include "tools/receptionctl/cli.h"

namespace receptionctl {

// `health [--service NAME]`: grpc.health.v1 Check, no identity needed. Exit
// 0 when SERVING, 7 otherwise (for probes and container health checks).
int HealthCommand(const Args& a) {
  auto stub = grpc::health::v1::Health::NewStub(ChannelFor(a));
  grpc::ClientContext ctx;
  int seconds = 5;
  if (auto t = a.Get("timeout"); t && !absl::SimpleAtoi(*t, &seconds)) {
    UsageError("--timeout must be a number");
  }
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(seconds));
  grpc::health::v1::HealthCheckRequest req;
  req.set_service(a.GetOr("service", ""));
  grpc::health::v1::HealthCheckResponse resp;
  grpc::Status s = stub->Check(&ctx, req, &resp);
  if (!s.ok()) return ReportError(s);
  const std::string status =
      grpc::health::v1::HealthCheckResponse::ServingStatus_Name(resp.status());
  std::cout << status << "\n";
  return resp.status() == grpc::health::v1::HealthCheckResponse::SERVING ? kOk : kUnavailable;
}

// `admin backup [--label L]` (online) and `admin restore --backup DIR
// --config FILE` (offline: the node stopped).
int AdminCommand(const Args& a) {
  const std::string sub = a.positional.empty() ? "" : a.positional[0];
  if (sub == "restore") {
    const std::string backup = a.GetOr("backup", "");
    const std::string config_file = a.GetOr("config", "");
    if (backup.empty() || config_file.empty()) {
      UsageError("admin restore needs --backup DIR and --config FILE (the node's configuration)");
    }
    auto config = reception::LoadNodeConfig(config_file, {});
    if (!config.ok()) {
      std::cerr << "error: " << config.status().message() << "\n";
      return kUsage;
    }
    auto done = reception::RestoreBackup(backup, *config);
    if (!done.ok()) {
      std::cerr << "error: " << absl::StatusCodeToString(done.status().code()) << ": "
                << done.status().message() << "\n";
      return done.status().code() == absl::StatusCode::kFailedPrecondition ? kConflict : kFailed;
    }
    for (const auto& line : *done) std::cout << "restored " << line << "\n";
    std::cout << "start the node; peers redeliver what they owe it\n";
    return kOk;
  }
  if (sub != "backup") UsageError("admin needs backup or restore");
  Client client(a);
  reception::admin::v1::CreateBackupRequest req;
  req.set_label(a.GetOr("label", ""));
  auto b = client.Call(&reception::admin::v1::BackupService::Stub::CreateBackup, req);
  if (a.Has("json")) {
    PrintJson(b);
    return kOk;
  }
  Row("backup", b.name());
  Row("path", b.path());
  for (const auto& s : b.stores()) {
    Row("store", absl::StrCat(s.store(), " at sequence ", s.sequence(), ", ", s.bytes(), " bytes"));
  }
  for (const auto& f : b.files()) Row("file", f.backup_path());
  return kOk;
}

// `units list [--parent CODE] [--level L] [--as-of D] [--all]` and `units
// get CODE [--as-of D]`: the administrative units (UnitService).
int UnitsCommand(const Args& a) {
  namespace u1 = reception::units::v1;
  const std::string sub = a.positional.empty() ? "" : a.positional[0];
  Client client(a);
  auto line = [](const u1::Unit& u) {
    std::cout << u.code() << "\t" << u.display_name() << "\t"
              << absl::AsciiStrToLower(
                     Short(reception::type::v1::UnitLevel_Name(u.level()), "UNIT_LEVEL_"))
              << (u.in_force() ? "" : "\t(not in force)")
              << (u.successor().empty() ? "" : absl::StrCat("\t-> ", u.successor().substr(6)))
              << (u.federated() ? "\t(node)" : "") << "\n";
  };
  if (sub == "get") {
    if (a.positional.size() != 2) UsageError("units get needs a unit code");
    u1::GetUnitRequest req;
    req.set_name(absl::StrCat("units/", a.positional[1]));
    if (auto d = a.Get("as-of")) *req.mutable_as_of() = ParseDateOption(*d, "as-of");
    auto unit = client.Call(&u1::UnitService::Stub::GetUnit, req);
    if (a.Has("json")) {
      PrintJson(unit);
    } else {
      line(unit);
    }
    return kOk;
  }
  if (sub != "list") UsageError("units needs list or get");
  u1::ListUnitsRequest req;
  if (auto p = a.Get("parent")) req.set_parent(absl::StrCat("units/", *p));
  if (auto l = a.Get("level")) {
    req.set_level(ParseEnum<reception::type::v1::UnitLevel>(
        *l, "UNIT_LEVEL_", &reception::type::v1::UnitLevel_Parse, "level"));
  }
  if (auto d = a.Get("as-of")) *req.mutable_as_of() = ParseDateOption(*d, "as-of");
  req.set_show_dissolved(a.Has("all"));
  req.set_page_size(1000);
  for (;;) {
    auto page = client.Call(&u1::UnitService::Stub::ListUnits, req);
    for (const auto& u : page.units()) {
      if (a.Has("json")) {
        PrintJson(u);
      } else {
        line(u);
      }
    }
    if (page.next_page_token().empty()) return kOk;
    req.set_page_token(page.next_page_token());
  }
}

}  // namespace receptionctl
