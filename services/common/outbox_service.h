// reception.admin.v1.OutboxService: the operators' view of the outboxes of
// this process (outbox.h): list items, retry or cancel dead letters. Served
// by every binary for whatever outboxes its modules hold.
#ifndef RECEPTION_SERVICES_COMMON_OUTBOX_SERVICE_H_
#define RECEPTION_SERVICES_COMMON_OUTBOX_SERVICE_H_

#include "reception/admin/v1/outbox_service.grpc.pb.h"
#include "services/common/auth.h"
#include "services/common/work_pool.h"

namespace reception {

class OutboxGrpcService final : public admin::v1::OutboxService::CallbackService {
 public:
  explicit OutboxGrpcService(const Authenticator* auth) : auth_(auth) {}
  // Calls queued on its thread are answered before the thread is joined.
  using Ctx = grpc::CallbackServerContext;
  using Reactor = grpc::ServerUnaryReactor;

  Reactor* ListOutboxItems(Ctx*, const admin::v1::ListOutboxItemsRequest*,
                           admin::v1::ListOutboxItemsResponse*) override;
  Reactor* RetryOutboxItem(Ctx*, const admin::v1::RetryOutboxItemRequest*,
                           admin::v1::OutboxItem*) override;
  Reactor* CancelOutboxItem(Ctx*, const admin::v1::CancelOutboxItemRequest*,
                            admin::v1::CancelOutboxItemResponse*) override;

 private:
  const Authenticator* auth_;
  WorkPool pool_{1, "outbox-admin"};
};

}  // namespace reception

#endif  // RECEPTION_SERVICES_COMMON_OUTBOX_SERVICE_H_
