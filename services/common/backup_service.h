// BackupService (reception.admin.v1): online backups of the stores this
// process holds (backup.h does the work, on the service's own thread).
#ifndef RECEPTION_SERVICES_COMMON_BACKUP_SERVICE_H_
#define RECEPTION_SERVICES_COMMON_BACKUP_SERVICE_H_

#include "reception/admin/v1/backup_service.grpc.pb.h"
#include "reception/config/v1/config.pb.h"
#include "services/common/auth.h"
#include "services/common/work_pool.h"

namespace reception {

class BackupGrpcService final : public admin::v1::BackupService::CallbackService {
 public:
  BackupGrpcService(const Authenticator* auth, const config::v1::NodeConfig* config)
      : auth_(auth), config_(config) {}

  grpc::ServerUnaryReactor* CreateBackup(grpc::CallbackServerContext* ctx,
                                         const admin::v1::CreateBackupRequest* req,
                                         admin::v1::Backup* resp) override;

 private:
  const Authenticator* auth_;
  const config::v1::NodeConfig* config_;
  // One backup at a time, off the gRPC threads.
  WorkPool pool_{1, "backup"};
};

}  // namespace reception

#endif  // RECEPTION_SERVICES_COMMON_BACKUP_SERVICE_H_
