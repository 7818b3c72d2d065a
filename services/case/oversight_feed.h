// Oversight, the gRPC side: the WatchCaseFeed stream a node serves to the
// node above it, and the follower that keeps this node's replicas of the
// nodes below it up to date (one stream per followed node, resumed from
// the durable checkpoint after any failure, with backoff; a stream silent
// for three heartbeats is dropped and reopened). What is applied and how is
// CaseReplicas' business (case_replicas.h).
#ifndef RECEPTION_SERVICES_CASE_OVERSIGHT_FEED_H_
#define RECEPTION_SERVICES_CASE_OVERSIGHT_FEED_H_

#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "grpcpp/grpcpp.h"
#include "reception/cases/v1/handoff_service.pb.h"
#include "reception/config/v1/config.pb.h"
#include "reception/federation/v1/case_federation.grpc.pb.h"
#include "services/case/case_replicas.h"
#include "services/common/credentials.h"
#include "services/common/sequence_watch.h"
#include "services/common/topology.h"
#include "services/common/work_pool.h"

namespace prometheus {
class Registry;
template <typename T>
class Family;
class Gauge;
}  // namespace prometheus

namespace reception {

// The stream of one WatchCaseFeed call (the caller already authorised):
// pages from `after`, read on `pool`, then each change once durable, and a
// page at least every `heartbeat`. Once caught up, a change is sent when a
// full page is there or `batch` after it arrived, whichever comes first.
grpc::ServerWriteReactor<federation::v1::CaseFeedPage>* NewFeedWatch(
    const CaseReplicas* replicas, SequenceWatch* watch, WorkPool* pool, uint64_t after,
    int page_size, absl::Duration heartbeat, absl::Duration batch);

class FeedFollower {
 public:
  struct Child {
    std::string unit_code;
    std::string address;
  };
  // The peers a node of `unit` follows: those whose unit lies below it
  // with no other peer between them.
  static std::vector<Child> ChildrenToFollow(const Topology& topology, const std::string& unit,
                                             const config::v1::FederationConfig& config);

  FeedFollower(const CaseReplicas* replicas, std::string unit_code, std::vector<Child> children,
               config::v1::FederationConfig config, std::shared_ptr<const Credentials> credentials,
               prometheus::Registry* metrics);
  // Stops every stream and joins the threads (before the store closes).
  ~FeedFollower();
  FeedFollower(const FeedFollower&) = delete;
  FeedFollower& operator=(const FeedFollower&) = delete;

  std::vector<cases::v1::FollowStatus> Status() const;

 private:
  struct State {
    Child child;
    std::unique_ptr<federation::v1::CaseFederationService::Stub> stub;
    cases::v1::FollowStatus status;
    grpc::ClientContext* open = nullptr;  // the stream in progress
    absl::Time last_contact = absl::InfinitePast();
    prometheus::Gauge* lag = nullptr;
    prometheus::Gauge* reachable = nullptr;
  };
  void Follow(State* s);
  void Watchdog();
  // One stream until it fails; the error.
  std::string Stream(State* s);

  const CaseReplicas* replicas_;
  const std::string unit_code_;
  const config::v1::FederationConfig config_;
  mutable absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::unique_ptr<State>> states_;
  std::vector<std::thread> threads_;
};

}  // namespace reception

#endif  // RECEPTION_SERVICES_CASE_OVERSIGHT_FEED_H_
