#include "services/common/backup_service.h"

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "services/common/backup.h"
#include "services/common/grpc_status.h"

namespace reception {

grpc::ServerUnaryReactor* BackupGrpcService::CreateBackup(grpc::CallbackServerContext* ctx,
                                                          const admin::v1::CreateBackupRequest* req,
                                                          admin::v1::Backup* resp) {
  auto* reactor = ctx->DefaultReactor();
  auto p = auth_->Authenticate(*ctx);
  if (!p.ok()) {
    reactor->Finish(ToGrpcStatus(p.status()));
    return reactor;
  }
  // A node certificate may back up only its own node.
  if (p->role == Role::kNode && p->unit_code != config_->unit_code()) {
    reactor->Finish(ToGrpcStatus(absl::PermissionDeniedError(absl::StrCat(
        "CreateBackup: a node may back up only itself; the caller is the node of unit ",
        p->unit_code.substr(0, 32)))));
    return reactor;
  }
  if (auto id = BackupId(absl::Now(), req->label()); !id.ok()) {
    reactor->Finish(ToGrpcStatus(id.status()));
    return reactor;
  }
  pool_.Post([this, req, resp, reactor] {
    auto backup = TakeBackup(*config_, req->label(), absl::Now());
    if (backup.ok()) *resp = *std::move(backup);
    reactor->Finish(ToGrpcStatus(backup.status()));
  });
  return reactor;
}

}  // namespace reception
