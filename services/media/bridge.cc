#include "services/media/bridge.h"

#include <deque>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "grpcpp/grpcpp.h"
#include "services/common/auth.h"
#include "services/common/logging.h"
#include "services/media/room_ops.pb.h"

namespace reception::media {
namespace {

constexpr char kBridged[] = "bridged_rooms";  // room name -> BridgedRoom
constexpr size_t kKeptEvents = 10000;

void SetTime(absl::Time t, google::protobuf::Timestamp* ts) {
  ts->set_seconds(absl::ToUnixSeconds(t));
}

absl::Status FromGrpc(const grpc::Status& s) {
  return absl::Status(static_cast<absl::StatusCode>(s.error_code()), s.error_message());
}

}  // namespace

struct BridgeLinks::Link {
  std::string room, host_unit;
  std::unique_ptr<v1::MediaService::Stub> stub;
  std::thread thread;
  // Guarded by BridgeLinks::mu_.
  v1::Room snapshot;
  std::deque<v1::RoomEvent> events;
  int64_t last_sequence = 0;
  grpc::ClientContext* stream = nullptr;  // the open WatchRoom, to cancel on shutdown
  std::function<void(absl::StatusOr<v1::Room>)> first;
  absl::Time next_attempt = absl::InfinitePast();  // the link's backoff
};

BridgeLinks::BridgeLinks(Options options) : o_(std::move(options)) {}

std::vector<std::string> BridgeLinks::ColumnFamilies() { return {kBridged}; }

absl::StatusOr<std::unique_ptr<BridgeLinks>> BridgeLinks::Open(Options options) {
  std::unique_ptr<BridgeLinks> links(new BridgeLinks(std::move(options)));
  auto it = links->o_.store->NewIterator(links->o_.store->Family(kBridged));
  internal::BridgedRoom b;
  std::vector<internal::BridgedRoom> rooms;
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    if (!b.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      return absl::DataLossError("a stored bridged room does not parse");
    }
    rooms.push_back(b);
  }
  if (!it->status().ok()) return absl::InternalError(it->status().ToString());
  for (const auto& r : rooms) links->Start(r.room(), r.host_unit(), nullptr);
  return links;
}

BridgeLinks::~BridgeLinks() {
  std::vector<Link*> all;
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    for (auto& [name, link] : links_) {
      if (link->stream) link->stream->TryCancel();
      all.push_back(link.get());
    }
  }
  for (Link* l : all) {
    if (l->thread.joinable()) l->thread.join();
  }
}

bool BridgeLinks::IsBridged(const std::string& room) const {
  absl::MutexLock lock(&mu_);
  return links_.count(room) > 0;
}

void BridgeLinks::Connect(const std::string& room, const std::string& host_unit,
                          std::function<void(absl::StatusOr<v1::Room>)> first) {
  if (!o_.peers.count(host_unit)) {
    return first(absl::InvalidArgumentError(
        absl::StrCat("host_unit ", host_unit.substr(0, 32),
                     " is not a federation peer of this node (federation.peers)")));
  }
  v1::Room snapshot;
  bool known = false;
  {
    absl::MutexLock lock(&mu_);
    auto it = links_.find(room);
    if (it != links_.end()) {
      snapshot = it->second->snapshot;
      known = true;  // the snapshot's link names its host
    }
  }
  if (known && snapshot.link().host_unit() != host_unit) {
    return first(absl::AlreadyExistsError(
        absl::StrCat(room, " is already bridged to unit ", snapshot.link().host_unit())));
  }
  if (known) return first(snapshot);
  internal::BridgedRoom b;
  b.set_room(room);
  b.set_host_unit(host_unit);
  o_.store->Submit(
      [this, b](WriteTxn& txn) -> absl::Status {
        txn.Put(o_.store->Family(kBridged), b.room(), b.SerializeAsString());
        return absl::OkStatus();
      },
      [this, b, first = std::move(first)](absl::Status s) mutable {
        if (!s.ok()) return first(s);
        Log()->info("event=bridge_connect room={} host={}", b.room(), b.host_unit());
        Start(b.room(), b.host_unit(), std::move(first));
      });
}

void BridgeLinks::Start(const std::string& room, const std::string& host_unit,
                        std::function<void(absl::StatusOr<v1::Room>)> first) {
  auto link = std::make_unique<Link>();
  link->room = room;
  link->host_unit = host_unit;
  grpc::ChannelArguments args;
  // A silently cut link (no RST) is noticed within about `liveness`: a
  // ping after two thirds of it, answered within the last third (at least
  // a second each; servers accept pings that often, server_host.cc).
  const int64_t live_ms = absl::ToInt64Milliseconds(o_.liveness);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS,
              static_cast<int>(std::max<int64_t>(1000, live_ms * 2 / 3)));
  args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS,
              static_cast<int>(std::max<int64_t>(1000, live_ms / 3)));
  // Keep pinging while the room is quiet (by default gRPC stops after two
  // pings without data, and a host frozen then would never be noticed).
  args.SetInt(GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, 0);
  args.SetInt(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  const auto credentials =
      o_.credentials ? o_.credentials : Credentials::FromConfig(config::v1::AuthConfig());
  link->stub =
      v1::MediaService::NewStub(credentials->NewChannelTo(o_.peers.at(host_unit), host_unit, args));
  link->snapshot.set_name(room);
  link->snapshot.set_host_unit(host_unit);
  link->snapshot.mutable_link()->set_host_unit(host_unit);
  link->snapshot.mutable_link()->set_state(v1::LINK_STATE_UNREACHABLE);
  link->snapshot.mutable_link()->set_error("connecting");
  SetTime(o_.clock->Now(), link->snapshot.mutable_link()->mutable_state_time());
  Link* raw = link.get();
  v1::Room existing;
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) return;
    auto it = links_.find(room);
    if (it == links_.end()) {
      link->first = std::move(first);
      links_[room] = std::move(link);
      raw->thread = std::thread([this, raw] { Run(raw); });
      return;
    }
    existing = it->second->snapshot;  // two ConnectBridge calls raced: one link
  }
  if (first) first(existing);
}

void BridgeLinks::Run(Link* link) {
  absl::Duration backoff = o_.retry_initial;
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      if (stopping_) return;
    }
    bool ended = false;
    const absl::Status s = Session(link, &ended);
    std::function<void(absl::StatusOr<v1::Room>)> first;
    v1::Room snapshot;
    bool was_connected = false;
    {
      absl::MutexLock lock(&mu_);
      auto* l = link->snapshot.mutable_link();
      was_connected = l->state() == v1::LINK_STATE_CONNECTED;
      if (ended) {
        l->set_state(v1::LINK_STATE_ENDED);
        l->clear_error();
        SetTime(o_.clock->Now(), l->mutable_state_time());
      } else if (s.code() != absl::StatusCode::kAborted) {
        if (l->state() != v1::LINK_STATE_UNREACHABLE)
          SetTime(o_.clock->Now(), l->mutable_state_time());
        l->set_state(v1::LINK_STATE_UNREACHABLE);
        l->set_error(std::string(s.message().substr(0, 300)));
      }
      first.swap(link->first);
      snapshot = link->snapshot;
      if (stopping_) ended = true;
    }
    if (first) first(snapshot);
    o_.watchers->Notify(link->room);
    if (ended) return;
    if (s.code() == absl::StatusCode::kAborted)
      continue;  // reconnecting on purpose (the room opened)
    if (was_connected) {
      Log()->warn("event=bridge_link_lost room={} host={} error={}", link->room, link->host_unit,
                  LogValue(s.message()));
      backoff = o_.retry_initial;
    }
    absl::MutexLock lock(&mu_);
    link->next_attempt = o_.clock->Now() + backoff;
    mu_.AwaitWithTimeout(absl::Condition(&stopping_), backoff);
    backoff = std::min(backoff * 2, o_.retry_max);
  }
}

absl::Status BridgeLinks::Session(Link* link, bool* ended) {
  const std::string& name = link->room;
  auto call = [&](auto method, const auto& req, auto* resp) -> absl::Status {
    grpc::ClientContext ctx;
    AddNodeIdentity(o_.unit_code, "", &ctx, absl::Seconds(5));
    return FromGrpc((link->stub.get()->*method)(&ctx, req, resp));
  };
  v1::GetRoomRequest get;
  get.set_name(name);
  v1::Room room;
  if (auto s = call(&v1::MediaService::Stub::GetRoom, get, &room); !s.ok()) return s;
  Update(name, room);
  std::string site;
  if (room.state() == v1::ROOM_STATE_OPEN) {
    v1::IssueJoinTokenRequest issue;
    issue.set_name(name);
    issue.set_role("site");
    issue.set_unit(o_.unit_code);
    issue.set_subject(absl::StrCat("node:", o_.unit_code));
    v1::JoinToken token;
    if (auto s = call(&v1::MediaService::Stub::IssueJoinToken, issue, &token); !s.ok()) return s;
    v1::JoinRoomRequest join;
    join.set_name(name);
    join.set_join_token(token.token());
    v1::JoinRoomResponse joined;
    if (auto s = call(&v1::MediaService::Stub::JoinRoom, join, &joined); !s.ok()) return s;
    site = joined.participant();
    Update(name, joined.room());
  }
  std::function<void(absl::StatusOr<v1::Room>)> first;
  v1::Room snapshot;
  grpc::ClientContext ctx;
  v1::WatchRoomRequest watch;
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) return absl::CancelledError("stopping");
    auto* l = link->snapshot.mutable_link();
    if (l->state() != v1::LINK_STATE_CONNECTED) SetTime(o_.clock->Now(), l->mutable_state_time());
    l->set_state(v1::LINK_STATE_CONNECTED);
    l->clear_error();
    l->set_site_participant(site);
    first.swap(link->first);
    snapshot = link->snapshot;
    link->stream = &ctx;
    watch.set_after_sequence(link->last_sequence);
  }
  if (first) first(snapshot);
  o_.watchers->Notify(name);
  Log()->info("event=bridge_linked room={} host={} site={}", name, link->host_unit, site);
  AddNodeIdentity(o_.unit_code, "", &ctx, absl::InfiniteDuration());
  watch.set_name(name);
  watch.set_participant(site);
  auto reader = link->stub->WatchRoom(&ctx, watch);
  v1::RoomEvent event;
  bool reopen = false;
  while (reader->Read(&event)) {
    {
      absl::MutexLock lock(&mu_);
      if (event.sequence() > link->last_sequence) {
        link->last_sequence = event.sequence();
        link->events.push_back(event);
        if (link->events.size() > kKeptEvents) link->events.pop_front();
      }
    }
    // The room's state after the event (floor, hands, presence): one read.
    v1::Room fresh;
    if (call(&v1::MediaService::Stub::GetRoom, get, &fresh).ok()) Update(name, fresh);
    o_.watchers->Notify(name);
    if (event.kind() == "opened" && site.empty()) {
      reopen = true;  // join now that the room is open
      ctx.TryCancel();
    }
  }
  const grpc::Status finished = reader->Finish();
  {
    absl::MutexLock lock(&mu_);
    link->stream = nullptr;
  }
  if (reopen) return absl::AbortedError("the room opened: joining");
  if (finished.ok()) {
    *ended = true;
    return absl::OkStatus();
  }
  if (finished.error_code() == grpc::StatusCode::OUT_OF_RANGE) {
    // The host no longer keeps the events after ours: carry on from its end.
    absl::MutexLock lock(&mu_);
    link->last_sequence = link->snapshot.last_event_sequence();
  }
  return FromGrpc(finished);
}

absl::StatusOr<v1::Room> BridgeLinks::Snapshot(const std::string& room) const {
  absl::MutexLock lock(&mu_);
  auto it = links_.find(room);
  if (it == links_.end()) return absl::NotFoundError(absl::StrCat(room, " is not bridged here"));
  return it->second->snapshot;
}

absl::StatusOr<EventBatch> BridgeLinks::Events(const std::string& room, int64_t after,
                                               int limit) const {
  absl::MutexLock lock(&mu_);
  auto it = links_.find(room);
  if (it == links_.end()) return absl::NotFoundError(absl::StrCat(room, " is not bridged here"));
  const Link& l = *it->second;
  if (!l.events.empty() && after + 1 < l.events.front().sequence()) {
    return absl::OutOfRangeError(absl::StrCat("events after ", after,
                                              " are no longer kept; the oldest is ",
                                              l.events.front().sequence()));
  }
  EventBatch out;
  for (const auto& e : l.events) {
    if (e.sequence() <= after) continue;
    if (static_cast<int>(out.events.size()) == limit) break;
    out.events.push_back(e);
  }
  out.ended = out.events.empty() && l.snapshot.link().state() == v1::LINK_STATE_ENDED;
  return out;
}

v1::MediaService::Stub* BridgeLinks::HostStub(const std::string& room,
                                              std::string* host_unit) const {
  absl::MutexLock lock(&mu_);
  auto it = links_.find(room);
  if (it == links_.end()) return nullptr;
  *host_unit = it->second->host_unit;
  return it->second->stub.get();
}

absl::Duration BridgeLinks::RetryIn(const std::string& room) const {
  absl::MutexLock lock(&mu_);
  auto it = links_.find(room);
  if (it == links_.end()) return absl::ZeroDuration();
  return std::max(absl::ZeroDuration(), it->second->next_attempt - o_.clock->Now());
}

std::map<std::pair<std::string, v1::LinkState>, int> BridgeLinks::LinkCounts() const {
  absl::MutexLock lock(&mu_);
  std::map<std::pair<std::string, v1::LinkState>, int> out;
  for (const auto& [name, link] : links_) ++out[{link->host_unit, link->snapshot.link().state()}];
  return out;
}

void BridgeLinks::Update(const std::string& room, const v1::Room& snapshot) {
  absl::MutexLock lock(&mu_);
  auto it = links_.find(room);
  if (it == links_.end()) return;
  v1::Room& s = it->second->snapshot;
  if (snapshot.last_event_sequence() < s.last_event_sequence()) return;
  v1::BridgeLink link = s.link();
  s = snapshot;
  *s.mutable_link() = std::move(link);
}

}  // namespace reception::media
