// Delivers queued handoffs to the destination nodes: the oldest first, one
// peer at a time, with exponential backoff per peer while it is unreachable.
// A delivery is complete only when the destination has answered OfferHandoff
// (its import is durable); a crash anywhere leaves the handoff in the outbox
// and it is offered again, which the destination recognises by handoff id and
// owner epoch. Also tracks what the node knows of each peer.
#ifndef RECEPTION_SERVICES_CASE_HANDOFF_WORKER_H_
#define RECEPTION_SERVICES_CASE_HANDOFF_WORKER_H_

#include <map>
#include <memory>
#include <string>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "prometheus/collectable.h"
#include "reception/cases/v1/handoff_service.pb.h"
#include "reception/federation/v1/case_federation.grpc.pb.h"
#include "reception/config/v1/config.pb.h"
#include "services/case/case_registry.h"
#include "services/common/credentials.h"

namespace reception {

class HandoffWorker final : public prometheus::Collectable {
 public:
  // `credentials` makes the channels to peers (plaintext when null).
  HandoffWorker(CaseRegistry* registry, std::string unit_code, config::v1::FederationConfig config,
                std::shared_ptr<const Credentials> credentials = nullptr);
  ~HandoffWorker() override;  // stops the thread

  void Start();
  void Stop();
  // Something was queued: look now.
  void Kick();

  cases::v1::FederationStatus Status() const;
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  struct Peer {
    std::string address;
    std::unique_ptr<federation::v1::CaseFederationService::Stub> stub;
    std::string public_key;  // cached GetNodeKey answer
    bool reachable = false;
    absl::Time last_contact = absl::InfinitePast();
    std::string last_error;
    absl::Duration backoff;
    absl::Time next_attempt = absl::InfinitePast();
    int64_t delivered = 0;
  };
  void Loop();
  // Offers every pending handoff for `unit` in order; stops at the first
  // failure (the peer is then backed off).
  void DeliverTo(const std::string& unit, const std::vector<cases::v1::Handoff>& pending);
  void Prepare(grpc::ClientContext* ctx) const;
  void MarkFailure(const std::string& unit, const std::string& error);

  CaseRegistry* registry_;
  const std::string unit_code_;
  const config::v1::FederationConfig config_;
  mutable absl::Mutex mu_;
  std::map<std::string, Peer> peers_ ABSL_GUARDED_BY(mu_);
  std::vector<cases::v1::Handoff> pending_ ABSL_GUARDED_BY(mu_);  // last seen, for status
  bool kicked_ ABSL_GUARDED_BY(mu_) = false;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace reception

#endif  // RECEPTION_SERVICES_CASE_HANDOFF_WORKER_H_
