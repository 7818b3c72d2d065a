// One durable outbox for everything a node owes another node (handoffs,
// session notices, registrations, ...): items are queued in the caller's own
// write transaction, so "the state changed" and "the peer must be told" are
// one durable fact; a worker delivers them per peer, oldest first, a bounded
// number in flight, backing off exponentially while the peer does not
// answer; each answer is classified (delivered / retry / refused for good);
// a refused item is parked as a dead letter an operator can list, retry or
// cancel, and the items behind it go on.
//
// Durable before visible: the worker reads the queue from the store's
// committed state only, so nothing is sent that a crash could take back.
// Time comes from an injected clock and the worker can be driven by hand
// (Pump), so every path is unit-tested without waiting.
#ifndef RECEPTION_SERVICES_COMMON_OUTBOX_H_
#define RECEPTION_SERVICES_COMMON_OUTBOX_H_

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "prometheus/collectable.h"
#include "prometheus/metric_family.h"
#include "services/common/clock.h"
#include "services/common/store.h"

namespace reception {

class Outbox final : public prometheus::Collectable {
 public:
  // What a delivery attempt came to.
  enum class Verdict {
    kDelivered,  // the peer has it (its answer is the acknowledgement)
    kRetry,      // not now (unreachable, busy): back off and try again
    kRefused,    // the peer will never take it: parked as a dead letter
  };
  // The detail of the answer Settle hears when an operator cancels an item.
  static constexpr char kCancelledDetail[] = "cancelled by an operator";
  struct Answer {
    Verdict verdict = Verdict::kRetry;
    std::string detail;    // why, for people (no personal data)
    std::string response;  // the peer's answer, serialized, for Settle
  };
  // One queued item.
  struct Item {
    std::string key;       // the caller's id for it; a new Put with the key replaces it
    std::string peer;      // the unit it goes to
    std::string payload;   // opaque here
    int64_t sequence = 0;  // queue order
    absl::Time queued;
    bool dead = false;  // refused for good; waits for an operator
    std::string last_error;
    int attempts = 0;  // since start (not kept across restarts)
  };
  // Sends one item and calls `answer` exactly once, from any thread.
  using Deliver = std::function<void(const Item& item, absl::AnyInvocable<void(Answer)> answer)>;
  // Runs in the same write that removes a delivered item (or parks a
  // refused one, or drops a cancelled one): the caller records the outcome
  // in its own state. An error leaves the item as it was (retried later).
  using Settle = std::function<absl::Status(const Item& item, const Answer& answer, WriteTxn& txn)>;

  struct Options {
    Store* store = nullptr;
    // The column family holding the queue (registered by the caller's store).
    std::string family = "outbox";
    const Clock* clock = nullptr;
    absl::Duration initial_backoff = absl::Milliseconds(200);
    absl::Duration max_backoff = absl::Seconds(30);
    // Items in flight to one peer at once. With 1 a peer receives its items
    // strictly in queue order; above 1, items may arrive in any order
    // within the window (for items that do not depend on each other, such
    // as handoffs of different cases).
    int window = 16;
    // Names the outbox in metrics ("handoffs", "scheduling").
    std::string name = "outbox";
    // How long the worker sleeps when nothing wakes it.
    absl::Duration idle = absl::Seconds(1);
    // Optional: runs once an answer's Settle write is durable (on the
    // store's completion thread; must not block), e.g. to refresh caches.
    std::function<void(const Item& item, const Answer& answer)> settled;
  };

  // Reads the queue (the next sequence number continues after it).
  static absl::StatusOr<std::unique_ptr<Outbox>> Open(Options options, Deliver deliver,
                                                      Settle settle);
  ~Outbox() override;  // stops the worker; waits for answers in flight

  // In the caller's mutation: queues `payload` for `peer` under `key`,
  // replacing an item queued under the same key (which is then never sent).
  // Writer thread only.
  void Put(WriteTxn& txn, const std::string& peer, const std::string& key,
           const std::string& payload);
  // In the caller's mutation: drops the item queued under `key`, if any.
  void Drop(WriteTxn& txn, const std::string& key);
  // In the caller's mutation: whether an item is queued under `key` (a
  // change made here that the peer has not acknowledged yet).
  bool Queued(WriteTxn& txn, const std::string& key) const;

  // The worker thread: pumps whenever kicked, when a backoff ends, and
  // every `idle` otherwise.
  void Start();
  void Stop();
  // Something was queued (call once the mutation is durable).
  void Kick();
  // One pass, on the calling thread: for every peer not backing off (or
  // only `peer`), sends the oldest live items up to the window. Returns how
  // many were sent. Tests call it directly with a fake clock.
  int Pump(const std::string& peer = "");
  // Waits until no delivery is in flight.
  void Drain();

  // Operators. Items (all, or of one peer; dead letters only), queue order.
  std::vector<Item> List(const std::string& peer = "", bool dead_only = false) const;
  // The item queued under `key` (committed state; two point reads), or
  // nothing. For point lookups on request paths, where List would scan.
  std::optional<Item> Find(const std::string& key) const;
  // Why the last attempt for `peer` failed ("" when it was answered).
  std::string LastError(const std::string& peer) const;
  // A dead letter goes back in line (its peer's backoff is reset). `done`
  // runs once that is durable: NOT_FOUND, FAILED_PRECONDITION (not dead).
  void Retry(const std::string& key, absl::AnyInvocable<void(absl::Status)> done);
  // An item is dropped for good; Settle hears of it with kRefused and detail
  // "cancelled by an operator". FAILED_PRECONDITION while it is in flight.
  void Cancel(const std::string& key, absl::AnyInvocable<void(absl::Status)> done);

  struct PeerState {
    int depth = 0;           // live items
    int dead = 0;            // dead letters
    absl::Duration oldest;   // age of the oldest live item
    bool reachable = false;  // the last attempt was answered
    absl::Time last_contact = absl::InfinitePast();
    std::string last_error;
    absl::Time next_attempt = absl::InfinitePast();
    int64_t delivered = 0;  // since start
  };
  std::map<std::string, PeerState> Peers() const;

  // reception_outbox_depth / _dead / _oldest_seconds{outbox, peer},
  // reception_outbox_delivered_total{outbox, peer}: this outbox's series.
  std::vector<prometheus::MetricFamily> Collect() const override;
  // Every open outbox of the process in one collectable (a metric family
  // may be exposed once): what modules hand to the metrics endpoint.
  static std::shared_ptr<prometheus::Collectable> AllMetrics();
  // The open outboxes of the process by name (for the operators' service,
  // which the server stops before the modules that own them go).
  static std::map<std::string, Outbox*> All();
  const std::string& name() const { return o_.name; }

 private:
  struct Backoff {
    absl::Duration delay;
    absl::Time next = absl::InfinitePast();
    bool reachable = false;
    absl::Time last_contact = absl::InfinitePast();
    std::string last_error;
    int64_t delivered = 0;
    int in_flight = 0;
    int64_t floor = 0;  // no item of the peer has a lower sequence
  };
  Outbox(Options options, Deliver deliver, Settle settle);
  absl::StatusOr<std::vector<Item>> ReadQueue() const;
  // Records the answer: removes, parks or keeps the item (and backs off).
  void Answered(const Item& item, Answer answer);
  void Loop();

  const Options o_;
  const Deliver deliver_;
  const Settle settle_;
  rocksdb::ColumnFamilyHandle* family_;
  std::atomic<int64_t> next_sequence_{1};

  mutable absl::Mutex mu_;
  std::map<std::string, Backoff> peers_ ABSL_GUARDED_BY(mu_);
  std::set<std::string> known_peers_ ABSL_GUARDED_BY(mu_);             // every peer ever queued for
  std::map<std::string, int> attempts_ ABSL_GUARDED_BY(mu_);           // by item key
  std::map<std::string, std::string> in_flight_ ABSL_GUARDED_BY(mu_);  // queue key -> peer
  int settling_ ABSL_GUARDED_BY(mu_) = 0;  // answers whose write is queued
  bool kicked_ ABSL_GUARDED_BY(mu_) = false;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::thread worker_;
};

}  // namespace reception

#endif  // RECEPTION_SERVICES_COMMON_OUTBOX_H_
