// The embedded store of one service: RocksDB with named column families and
// one write path.
//
// Every mutation runs on a single writer thread, in submission order, against
// the current state, and produces one WriteBatch (entity, indexes, audit
// event, change-feed entry, outbox, all together). The writer drains whatever
// is queued, applies the batches, syncs the WAL once for the whole group, and
// only then completes each mutation. So: acknowledged means durable, many
// concurrent requests share one fsync, and read-modify-write needs no locks.
#ifndef RECEPTION_SERVICES_COMMON_STORE_H_
#define RECEPTION_SERVICES_COMMON_STORE_H_

#include <atomic>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "rocksdb/db.h"
#include "rocksdb/write_batch.h"

namespace prometheus {
class Registry;
class Histogram;
class Counter;
}  // namespace prometheus

namespace reception {

class Store {
 public:
  struct Options {
    // Directory of the database; created if missing.
    std::string path;
    // Column families besides "default": the service's registry of families.
    std::vector<std::string> column_families;
    // Sync the WAL before acknowledging a group (survives power loss).
    bool sync = true;
    // Most mutations committed by one WAL sync.
    int max_group_size = 1024;
    // Shared block cache for all families.
    size_t block_cache_bytes = 64 << 20;
    // Optional: where to register the store's metrics.
    prometheus::Registry* metrics = nullptr;
    // Label value naming the store in metrics ("case").
    std::string name = "store";
  };

  // Builds the mutation's batch from the current state. Runs on the writer
  // thread; reads through the Store see every earlier mutation. Returning an
  // error discards the batch.
  using Mutation = absl::AnyInvocable<absl::Status(rocksdb::WriteBatch& batch)>;
  // Called once on the writer thread after the group is durable (or failed).
  // Must not block.
  using Done = absl::AnyInvocable<void(absl::Status)>;

  static absl::StatusOr<std::unique_ptr<Store>> Open(Options options);

  // Completes every queued mutation, stops the writer and closes the database.
  ~Store();

  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // The handle of a registered family. Asking for an unregistered family is a
  // programming error and aborts.
  rocksdb::ColumnFamilyHandle* Family(absl::string_view name) const;

  // Point read. std::nullopt when absent; storage errors are INTERNAL.
  absl::StatusOr<std::optional<std::string>> Get(rocksdb::ColumnFamilyHandle* family,
                                                 absl::string_view key) const;

  // An iterator over a family; see rocksdb::Iterator.
  std::unique_ptr<rocksdb::Iterator> NewIterator(rocksdb::ColumnFamilyHandle* family) const;

  // Queues a mutation. Thread-safe and non-blocking.
  void Submit(Mutation mutation, Done done);

  // Submits and waits: for tools, tests and start-up, never on a gRPC thread.
  absl::Status CommitAndWait(Mutation mutation);

  // False after a WAL sync failed: nothing more is acknowledged (the state on
  // disk is unknown, so the process should be restarted).
  bool healthy() const { return healthy_.load(); }

  rocksdb::DB* db() const { return db_.get(); }

 private:
  struct Pending {
    Mutation mutation;
    Done done;
  };

  explicit Store(Options options);
  void WriterLoop();

  Options options_;
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
  absl::flat_hash_map<std::string, rocksdb::ColumnFamilyHandle*> families_;

  absl::Mutex mu_;
  std::deque<Pending> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread writer_;
  std::atomic<bool> healthy_{true};

  prometheus::Histogram* group_size_ = nullptr;
  prometheus::Histogram* sync_seconds_ = nullptr;
  prometheus::Counter* sync_failures_ = nullptr;
};

}  // namespace reception

#endif  // RECEPTION_SERVICES_COMMON_STORE_H_
