#include "services/common/outbox.h"

#include <algorithm>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "services/common/key_file.h"
#include "services/common/logging.h"
#include "services/common/outbox.pb.h"

namespace reception {
namespace {

// "q/{peer}/{sequence, big-endian}" -> OutboxEntry: the queue, in order per
// peer. "k/{key}" -> the queue key of the item queued under that key.
constexpr absl::string_view kQueuePrefix = "q/";
constexpr absl::string_view kKeyPrefix = "k/";

std::string QueueKey(const std::string& peer, int64_t sequence) {
  return absl::StrCat(kQueuePrefix, peer, "/", BigEndian64(static_cast<uint64_t>(sequence)));
}

std::string KeyIndex(const std::string& key) { return absl::StrCat(kKeyPrefix, key); }

Outbox::Item ItemFrom(absl::string_view slot, const common::OutboxEntry& entry) {
  Outbox::Item item;
  item.key = entry.key();
  item.peer = entry.peer();
  item.payload = entry.payload();
  item.sequence = static_cast<int64_t>(FromBigEndian64(slot.substr(slot.size() - 8)));
  item.queued = absl::FromUnixMicros(entry.queued_unix_micros());
  item.dead = entry.dead();
  item.last_error = entry.last_error();
  return item;
}

// The open outboxes of the process, for AllMetrics.
class AllOutboxes final : public prometheus::Collectable {
 public:
  void Add(const Outbox* box) {
    absl::MutexLock lock(&mu_);
    boxes_.insert(box);
  }
  void Remove(const Outbox* box) {
    absl::MutexLock lock(&mu_);
    boxes_.erase(box);
  }
  std::map<std::string, Outbox*> All() const {
    absl::MutexLock lock(&mu_);
    std::map<std::string, Outbox*> out;
    for (const Outbox* box : boxes_) out[box->name()] = const_cast<Outbox*>(box);
    return out;
  }
  std::vector<prometheus::MetricFamily> Collect() const override {
    absl::MutexLock lock(&mu_);
    std::vector<prometheus::MetricFamily> out;
    for (const Outbox* box : boxes_) {
      auto families = box->Collect();
      if (out.empty()) {
        out = std::move(families);
        continue;
      }
      for (size_t i = 0; i < families.size() && i < out.size(); ++i) {
        for (auto& m : families[i].metric) out[i].metric.push_back(std::move(m));
      }
    }
    return out;
  }

 private:
  mutable absl::Mutex mu_;
  std::set<const Outbox*> boxes_ ABSL_GUARDED_BY(mu_);
};

std::shared_ptr<AllOutboxes>& Everyone() {
  static auto* all = new std::shared_ptr<AllOutboxes>(std::make_shared<AllOutboxes>());
  return *all;
}

}  // namespace

std::shared_ptr<prometheus::Collectable> Outbox::AllMetrics() { return Everyone(); }

std::map<std::string, Outbox*> Outbox::All() { return Everyone()->All(); }

Outbox::Outbox(Options options, Deliver deliver, Settle settle)
    : o_(std::move(options)),
      deliver_(std::move(deliver)),
      settle_(std::move(settle)),
      family_(o_.store->Family(o_.family)) {}

absl::StatusOr<std::unique_ptr<Outbox>> Outbox::Open(Options options, Deliver deliver,
                                                     Settle settle) {
  if (options.store == nullptr || options.clock == nullptr || !deliver || !settle) {
    return absl::InvalidArgumentError("an outbox needs a store, a clock, Deliver and Settle");
  }
  options.window = std::max(1, options.window);
  std::unique_ptr<Outbox> box(
      new Outbox(std::move(options), std::move(deliver), std::move(settle)));
  auto items = box->ReadQueue();
  if (!items.ok()) return items.status();
  int64_t last = 0;
  {
    absl::MutexLock lock(&box->mu_);
    for (const auto& item : *items) {
      last = std::max(last, item.sequence);
      box->known_peers_.insert(item.peer);
    }
  }
  box->next_sequence_ = last + 1;
  Everyone()->Add(box.get());
  return box;
}

Outbox::~Outbox() {
  Everyone()->Remove(this);
  Stop();
  Drain();
}

void Outbox::Put(WriteTxn& txn, const std::string& peer, const std::string& key,
                 const std::string& payload) {
  Drop(txn, key);
  const int64_t sequence = next_sequence_.fetch_add(1);
  common::OutboxEntry entry;
  entry.set_key(key);
  entry.set_peer(peer);
  entry.set_payload(payload);
  entry.set_queued_unix_micros(absl::ToUnixMicros(o_.clock->Now()));
  const std::string slot = QueueKey(peer, sequence);
  txn.Put(family_, slot, entry.SerializeAsString());
  txn.Put(family_, KeyIndex(key), slot);
  absl::MutexLock lock(&mu_);
  known_peers_.insert(peer);  // a name only: harmless if this write fails
}

void Outbox::Drop(WriteTxn& txn, const std::string& key) {
  auto old = txn.Get(family_, KeyIndex(key));
  if (old.ok() && old->has_value()) {
    txn.Delete(family_, **old);
    txn.Delete(family_, KeyIndex(key));
  }
}

bool Outbox::Queued(WriteTxn& txn, const std::string& key) const {
  auto slot = txn.Get(family_, KeyIndex(key));
  return slot.ok() && slot->has_value();
}

absl::StatusOr<std::vector<Outbox::Item>> Outbox::ReadQueue() const {
  std::vector<Item> out;
  auto it = o_.store->NewIterator(family_);
  for (it->Seek(rocksdb::Slice(kQueuePrefix.data(), kQueuePrefix.size()));
       it->Valid() &&
       it->key().starts_with(rocksdb::Slice(kQueuePrefix.data(), kQueuePrefix.size()));
       it->Next()) {
    common::OutboxEntry entry;
    if (!entry.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      return absl::DataLossError(absl::StrCat("outbox ", o_.name, ": an item does not parse"));
    }
    out.push_back(ItemFrom(absl::string_view(it->key().data(), it->key().size()), entry));
  }
  if (!it->status().ok()) return absl::InternalError(it->status().ToString());
  // Queue order: by peer, then sequence (the keys' order already).
  return out;
}

int Outbox::Pump(const std::string& only) {
  // Each peer's queue is read from its floor (the oldest item still there
  // when last looked; every item below it is gone, and new ones come after
  // it), up to its window, and not at all while it is backing off: a
  // delivered backlog of thousands leaves tombstones no pass reads again.
  const absl::Time now = o_.clock->Now();
  std::vector<std::pair<std::string, int64_t>> peers;
  {
    absl::MutexLock lock(&mu_);
    if (stop_) return 0;
    for (const auto& peer : known_peers_) {
      if (!only.empty() && peer != only) continue;
      const Backoff& b = peers_[peer];
      if (now < b.next || b.in_flight >= o_.window) continue;
      peers.emplace_back(peer, b.floor);
    }
  }
  std::vector<Item> to_send;
  auto it = o_.store->NewIterator(family_);
  for (const auto& [peer, floor] : peers) {
    const std::string prefix = absl::StrCat(kQueuePrefix, peer, "/");
    bool first = true;
    for (it->Seek(QueueKey(peer, floor)); it->Valid() && it->key().starts_with(prefix);
         it->Next()) {
      const absl::string_view slot(it->key().data(), it->key().size());
      common::OutboxEntry entry;
      if (!entry.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) continue;
      Item item = ItemFrom(slot, entry);
      absl::MutexLock lock(&mu_);
      Backoff& b = peers_[peer];
      if (first) {
        b.floor = std::max(b.floor, item.sequence);
        first = false;
      }
      if (b.in_flight >= o_.window) break;
      if (item.dead || in_flight_.count(std::string(slot))) continue;
      ++b.in_flight;
      in_flight_[std::string(slot)] = peer;
      item.attempts = ++attempts_[std::string(slot)];
      to_send.push_back(std::move(item));
    }
  }
  if (!it->status().ok()) {
    Log()->error("event=outbox_read_failed outbox={} error={}", o_.name,
                 LogValue(it->status().ToString()));
  }
  for (const auto& item : to_send) {
    deliver_(item, [this, item](Answer answer) { Answered(item, std::move(answer)); });
  }
  return static_cast<int>(to_send.size());
}

void Outbox::Answered(const Item& item, Answer answer) {
  const std::string slot = QueueKey(item.peer, item.sequence);
  const absl::Time now = o_.clock->Now();
  {
    absl::MutexLock lock(&mu_);
    Backoff& b = peers_[item.peer];
    --b.in_flight;
    if (answer.verdict == Verdict::kRetry) {
      b.reachable = false;
      b.last_error = answer.detail;
      b.delay = b.delay == absl::ZeroDuration() ? o_.initial_backoff
                                                : std::min(b.delay * 2, o_.max_backoff);
      b.next = now + b.delay;
      in_flight_.erase(slot);
      return;
    }
    // The peer answered: it is there, whatever it said.
    b.reachable = true;
    b.last_contact = now;
    b.delay = absl::ZeroDuration();
    b.next = absl::InfinitePast();
    if (answer.verdict == Verdict::kDelivered) {
      b.last_error.clear();
      ++b.delivered;
    } else {
      b.last_error = answer.detail;
    }
    ++settling_;
  }
  if (answer.verdict == Verdict::kRefused) {
    Log()->warn("event=outbox_dead_letter outbox={} peer={} key={} error={}", o_.name, item.peer,
                LogValue(item.key), LogValue(answer.detail));
  }
  auto shared = std::make_shared<Answer>(std::move(answer));
  o_.store->Submit(
      [this, item, slot, shared](WriteTxn& txn) -> absl::Status {
        auto stored = txn.Get(family_, slot);
        if (!stored.ok()) return stored.status();
        // Replaced or cancelled meanwhile: the newer state goes out on its own.
        if (!stored->has_value()) return absl::OkStatus();
        if (auto s = settle_(item, *shared, txn); !s.ok()) return s;
        if (shared->verdict == Verdict::kDelivered) {
          txn.Delete(family_, slot);
          auto index = txn.Get(family_, KeyIndex(item.key));
          if (index.ok() && index->has_value() && **index == slot) {
            txn.Delete(family_, KeyIndex(item.key));
          }
          return absl::OkStatus();
        }
        common::OutboxEntry entry;
        if (!entry.ParseFromString(**stored))
          return absl::DataLossError("an outbox item does not parse");
        entry.set_dead(true);
        entry.set_last_error(shared->detail.substr(0, 500));
        txn.Put(family_, slot, entry.SerializeAsString());
        return absl::OkStatus();
      },
      [this, item, slot, shared](absl::Status s) {
        if (!s.ok()) {
          Log()->error("event=outbox_settle_failed outbox={} key={} error={}", o_.name,
                       LogValue(item.key), LogValue(s.message()));
        } else if (o_.settled) {
          o_.settled(item, *shared);
        }
        absl::MutexLock lock(&mu_);
        in_flight_.erase(slot);
        --settling_;
        kicked_ = true;  // the next item of that peer may go
      });
}

void Outbox::Start() {
  absl::MutexLock lock(&mu_);
  if (worker_.joinable() || stop_) return;
  worker_ = std::thread([this] { Loop(); });
}

void Outbox::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  if (worker_.joinable()) worker_.join();
}

void Outbox::Kick() {
  absl::MutexLock lock(&mu_);
  kicked_ = true;
}

void Outbox::Drain() {
  absl::MutexLock lock(&mu_);
  auto idle = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return in_flight_.empty() && settling_ == 0;
  };
  mu_.Await(absl::Condition(&idle));
}

void Outbox::Loop() {
  for (;;) {
    Pump();
    absl::MutexLock lock(&mu_);
    if (stop_) return;
    // Wake for a kick, at the end of the nearest backoff, or after `idle`.
    absl::Time wake = o_.clock->Now() + o_.idle;
    for (const auto& [peer, b] : peers_) {
      if (b.next > o_.clock->Now()) wake = std::min(wake, b.next);
    }
    auto woken = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return kicked_ || stop_; };
    mu_.AwaitWithTimeout(absl::Condition(&woken),
                         std::max(absl::Milliseconds(1), wake - o_.clock->Now()));
    kicked_ = false;
    if (stop_) return;
  }
}

std::vector<Outbox::Item> Outbox::List(const std::string& peer, bool dead_only) const {
  auto items = ReadQueue();
  std::vector<Item> out;
  if (!items.ok()) return out;
  absl::MutexLock lock(&mu_);
  for (auto& item : *items) {
    if (!peer.empty() && item.peer != peer) continue;
    if (dead_only && !item.dead) continue;
    auto a = attempts_.find(QueueKey(item.peer, item.sequence));
    item.attempts = a == attempts_.end() ? 0 : a->second;
    out.push_back(std::move(item));
  }
  return out;
}

std::optional<Outbox::Item> Outbox::Find(const std::string& key) const {
  auto slot = o_.store->Get(family_, KeyIndex(key));
  if (!slot.ok() || !slot->has_value()) return std::nullopt;
  auto stored = o_.store->Get(family_, **slot);
  common::OutboxEntry entry;
  if (!stored.ok() || !stored->has_value() || !entry.ParseFromString(**stored)) return std::nullopt;
  Item item = ItemFrom(**slot, entry);
  absl::MutexLock lock(&mu_);
  auto a = attempts_.find(**slot);
  item.attempts = a == attempts_.end() ? 0 : a->second;
  return item;
}

std::string Outbox::LastError(const std::string& peer) const {
  absl::MutexLock lock(&mu_);
  auto it = peers_.find(peer);
  return it == peers_.end() ? "" : it->second.last_error;
}

void Outbox::Retry(const std::string& key, absl::AnyInvocable<void(absl::Status)> done) {
  auto peer = std::make_shared<std::string>();
  o_.store->Submit(
      [this, key, peer](WriteTxn& txn) -> absl::Status {
        auto slot = txn.Get(family_, KeyIndex(key));
        if (!slot.ok()) return slot.status();
        if (!slot->has_value()) {
          return absl::NotFoundError(absl::StrCat("nothing is queued under ", key.substr(0, 120)));
        }
        auto stored = txn.Get(family_, **slot);
        if (!stored.ok()) return stored.status();
        common::OutboxEntry entry;
        if (!stored->has_value() || !entry.ParseFromString(**stored)) {
          return absl::DataLossError("the outbox item does not parse");
        }
        if (!entry.dead()) {
          return absl::FailedPreconditionError(
              absl::StrCat(key.substr(0, 120), " is not a dead letter: it is being delivered"));
        }
        entry.set_dead(false);
        txn.Put(family_, **slot, entry.SerializeAsString());
        *peer = entry.peer();
        return absl::OkStatus();
      },
      [this, peer, done = std::move(done)](absl::Status s) mutable {
        if (s.ok()) {
          absl::MutexLock lock(&mu_);
          Backoff& b = peers_[*peer];
          b.delay = absl::ZeroDuration();
          b.next = absl::InfinitePast();
          kicked_ = true;
        }
        done(s);
      });
}

void Outbox::Cancel(const std::string& key, absl::AnyInvocable<void(absl::Status)> done) {
  o_.store->Submit(
      [this, key](WriteTxn& txn) -> absl::Status {
        auto slot = txn.Get(family_, KeyIndex(key));
        if (!slot.ok()) return slot.status();
        if (!slot->has_value()) {
          return absl::NotFoundError(absl::StrCat("nothing is queued under ", key.substr(0, 120)));
        }
        {
          absl::MutexLock lock(&mu_);
          if (in_flight_.count(**slot)) {
            return absl::FailedPreconditionError(
                absl::StrCat(key.substr(0, 120), " is being delivered now; try again"));
          }
        }
        auto stored = txn.Get(family_, **slot);
        if (!stored.ok()) return stored.status();
        common::OutboxEntry entry;
        if (!stored->has_value() || !entry.ParseFromString(**stored)) {
          return absl::DataLossError("the outbox item does not parse");
        }
        const Item item = ItemFrom(**slot, entry);
        Answer cancelled{Verdict::kRefused, kCancelledDetail, ""};
        if (auto settled = settle_(item, cancelled, txn); !settled.ok()) return settled;
        txn.Delete(family_, **slot);
        txn.Delete(family_, KeyIndex(key));
        return absl::OkStatus();
      },
      std::move(done));
}

std::map<std::string, Outbox::PeerState> Outbox::Peers() const {
  std::map<std::string, PeerState> out;
  auto items = ReadQueue();
  const absl::Time now = o_.clock->Now();
  if (items.ok()) {
    for (const auto& item : *items) {
      PeerState& p = out[item.peer];
      if (item.dead) {
        ++p.dead;
        continue;
      }
      ++p.depth;
      p.oldest = std::max(p.oldest, now - item.queued);
    }
  }
  absl::MutexLock lock(&mu_);
  for (const auto& [peer, b] : peers_) {
    PeerState& p = out[peer];
    p.reachable = b.reachable;
    p.last_contact = b.last_contact;
    p.last_error = b.last_error;
    p.next_attempt = b.next;
    p.delivered = b.delivered;
  }
  return out;
}

std::vector<prometheus::MetricFamily> Outbox::Collect() const {
  prometheus::MetricFamily depth{
      "reception_outbox_depth", "Items queued for a peer", prometheus::MetricType::Gauge, {}};
  prometheus::MetricFamily dead{"reception_outbox_dead_letters",
                                "Items a peer refused for good, waiting for an operator",
                                prometheus::MetricType::Gauge,
                                {}};
  prometheus::MetricFamily oldest{"reception_outbox_oldest_seconds",
                                  "Age of the oldest item queued for a peer",
                                  prometheus::MetricType::Gauge,
                                  {}};
  prometheus::MetricFamily up{"reception_outbox_peer_reachable",
                              "1 when the peer answered the last attempt",
                              prometheus::MetricType::Gauge,
                              {}};
  prometheus::MetricFamily delivered{"reception_outbox_delivered_total",
                                     "Items a peer acknowledged since start",
                                     prometheus::MetricType::Counter,
                                     {}};
  for (const auto& [peer, p] : Peers()) {
    auto add = [&, peer = peer](prometheus::MetricFamily& f, double v) {
      prometheus::ClientMetric m;
      m.label = {{"outbox", o_.name}, {"peer", peer}};
      if (f.type == prometheus::MetricType::Counter) {
        m.counter.value = v;
      } else {
        m.gauge.value = v;
      }
      f.metric.push_back(std::move(m));
    };
    add(depth, p.depth);
    add(dead, p.dead);
    add(oldest, absl::ToDoubleSeconds(p.oldest));
    add(up, p.reachable ? 1 : 0);
    add(delivered, static_cast<double>(p.delivered));
  }
  return {std::move(depth), std::move(dead), std::move(oldest), std::move(up),
          std::move(delivered)};
}

}  // namespace reception
