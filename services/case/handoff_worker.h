// Delivers handoffs for the shared outbox (services/common/outbox.h): for
// one queued handoff, fetches the destination's node key (once per peer),
// builds the offer with the protected identity sealed for that key, offers
// it, and classifies the answer. The outbox keeps the order per peer, the
// window, the backoff and the dead letters; the destination's answer is the
// acknowledgement (its import is durable), and a retry after a lost answer
// is recognised there by handoff id and owner epoch. Also reports what the
// node knows of each peer.
#ifndef RECEPTION_SERVICES_CASE_HANDOFF_WORKER_H_
#define RECEPTION_SERVICES_CASE_HANDOFF_WORKER_H_

#include <map>
#include <memory>
#include <string>

#include "absl/synchronization/mutex.h"
#include "reception/cases/v1/handoff_service.pb.h"
#include "reception/config/v1/config.pb.h"
#include "reception/federation/v1/case_federation.grpc.pb.h"
#include "services/case/case_registry.h"
#include "services/common/credentials.h"
#include "services/common/outbox.h"

namespace reception {

class HandoffWorker final {
 public:
  // `credentials` makes the channels to peers (plaintext when null).
  HandoffWorker(CaseRegistry* registry, std::string unit_code, config::v1::FederationConfig config,
                std::shared_ptr<const Credentials> credentials = nullptr);

  // The outbox's Deliver for "h/{handoff id}" items.
  void Deliver(const Outbox::Item& item, absl::AnyInvocable<void(Outbox::Answer)> answer);
  // The ancestor-question outbox's Deliver: asks the peer FindRelatedCases
  // ("c/" keys) or CheckFirstComplaint ("p/" keys) with the queued request;
  // the answer carries its response.
  void DeliverSubtreeCheck(const Outbox::Item& item,
                           absl::AnyInvocable<void(Outbox::Answer)> answer);

  cases::v1::FederationStatus Status() const;

 private:
  struct Peer {
    std::string address;
    std::unique_ptr<federation::v1::CaseFederationService::Stub> stub;
    std::string public_key;  // cached GetNodeKey answer
  };

  CaseRegistry* registry_;
  const std::string unit_code_;
  const config::v1::FederationConfig config_;
  mutable absl::Mutex mu_;
  std::map<std::string, Peer> peers_ ABSL_GUARDED_BY(mu_);
};

}  // namespace reception

#endif  // RECEPTION_SERVICES_CASE_HANDOFF_WORKER_H_
