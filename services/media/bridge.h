// A bridge point's side of federated rooms. A citizen at a commune bridge
// talks only to the commune's node; for each room hosted elsewhere that the
// unit takes part in (ConnectBridge), the node keeps a link to the host:
// it joins the host's room as the site (node identity), holds a WatchRoom
// stream naming that participant (the host counts the site present while
// the stream is open), mirrors the room and its events for local readers,
// and relays its local participants' calls. When the host cannot be reached
// the room shows UNREACHABLE and the link retries with backoff, rejoining
// when the host answers again. The list of bridged rooms is durable.
#ifndef RECEPTION_SERVICES_MEDIA_BRIDGE_H_
#define RECEPTION_SERVICES_MEDIA_BRIDGE_H_

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "reception/media/v1/media_service.grpc.pb.h"
#include "services/common/clock.h"
#include "services/common/credentials.h"
#include "services/common/store.h"
#include "services/media/room_service.h"
#include "services/media/room_watch.h"

namespace reception::media {

class BridgeLinks {
 public:
  struct Options {
    std::string unit_code;                           // this node's unit (the bridge site)
    std::map<std::string, std::string> peers;        // host unit -> address
    std::shared_ptr<const Credentials> credentials;  // the node's channel factory
    absl::Duration retry_initial = absl::Milliseconds(200);
    absl::Duration retry_max = absl::Seconds(30);
    Store* store = nullptr;  // holds the "bridged_rooms" family
    RoomWatchers* watchers = nullptr;
    const Clock* clock = nullptr;
    // A host that falls silent (frozen, the link cut without a reset) is
    // noticed within about this long: media.heartbeat_timeout_seconds.
    absl::Duration liveness = absl::Seconds(30);
  };
  static std::vector<std::string> ColumnFamilies();
  // Loads the bridged rooms and starts their links.
  static absl::StatusOr<std::unique_ptr<BridgeLinks>> Open(Options options);
  ~BridgeLinks();

  bool IsBridged(const std::string& room) const;
  // Records the room (durably) and starts its link; `first` runs with the
  // room once the link's first attempt has joined or failed.
  void Connect(const std::string& room, const std::string& host_unit,
               std::function<void(absl::StatusOr<v1::Room>)> first);
  // The room as last seen from the host, with the link's state.
  absl::StatusOr<v1::Room> Snapshot(const std::string& room) const;
  // Mirrored events after `after`.
  absl::StatusOr<EventBatch> Events(const std::string& room, int64_t after, int limit) const;
  // The host's stub for relaying a local participant's call (nullptr when
  // the room is not bridged), and the host's unit.
  v1::MediaService::Stub* HostStub(const std::string& room, std::string* host_unit) const;
  // How long until the link to the room's host is tried again (zero while
  // it is connected or about to be): what a relayed call that failed tells
  // its caller to wait (google.rpc.RetryInfo).
  absl::Duration RetryIn(const std::string& room) const;
  // Links by host unit and state (for the metrics).
  std::map<std::pair<std::string, v1::LinkState>, int> LinkCounts() const;
  // A relayed call returned the room: keep the fresher copy.
  void Update(const std::string& room, const v1::Room& snapshot);

 private:
  struct Link;
  explicit BridgeLinks(Options options);
  void Start(const std::string& room, const std::string& host_unit,
             std::function<void(absl::StatusOr<v1::Room>)> first);
  void Run(Link* link);
  // One connection: join (when open), watch, mirror. OK when the room closed.
  absl::Status Session(Link* link, bool* ended);

  Options o_;
  mutable absl::Mutex mu_;
  std::map<std::string, std::unique_ptr<Link>> links_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace reception::media

#endif  // RECEPTION_SERVICES_MEDIA_BRIDGE_H_
