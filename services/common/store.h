// The embedded store of one service: RocksDB with named column families and
// one write path.
//
// Every mutation runs on a single writer thread, in submission order, against
// the current state, and writes through a WriteTxn (entity, indexes, audit
// event, change-feed entry, outbox, all together). The writer drains whatever
// is queued into one indexed batch: each mutation reads the state including
// the group's earlier mutations, and a failing mutation rolls back only its
// own writes. The group is then written with one synced write, and only then
// is each mutation completed. So: acknowledged means durable, readers never
// see a write before it is durable, many concurrent requests share one WAL
// append and one fsync, and read-modify-write needs no locks.
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
#include "rocksdb/utilities/write_batch_with_index.h"

namespace prometheus {
class Registry;
class Histogram;
class Counter;
}  // namespace prometheus

namespace reception {

class Store;

// The writes of one mutation, and reads that see the current commit group.
// Only valid inside the mutation it was passed to.
class WriteTxn {
 public:
  void Put(rocksdb::ColumnFamilyHandle* family, absl::string_view key, absl::string_view value);
  void Delete(rocksdb::ColumnFamilyHandle* family, absl::string_view key);
  // Reads the committed state overlaid with the group's writes so far.
  absl::StatusOr<std::optional<std::string>> Get(rocksdb::ColumnFamilyHandle* family,
                                                 absl::string_view key) const;
  int writes() const { return writes_; }

 private:
  friend class Store;
  WriteTxn(const Store* store, rocksdb::WriteBatchWithIndex* batch) : store_(store), batch_(batch) {}
  const Store* store_;
  rocksdb::WriteBatchWithIndex* batch_;
  int writes_ = 0;
};

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

  // Makes the mutation's writes. Runs on the writer thread; reads through
  // the WriteTxn see every earlier mutation. Returning an error discards this
  // mutation's writes (and only them).
  using Mutation = absl::AnyInvocable<absl::Status(WriteTxn& txn)>;
  // Called once, on the store's completion thread, after the mutation's
  // group is durable (or failed). Runs in commit order. Must not block.
  using Done = absl::AnyInvocable<void(absl::Status)>;

  static absl::StatusOr<std::unique_ptr<Store>> Open(Options options);

  // Completes every queued mutation, stops the writer and closes the database.
  ~Store();

  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // The handle of a registered family. Asking for an unregistered family is a
  // programming error and aborts.
  rocksdb::ColumnFamilyHandle* Family(absl::string_view name) const;

  // Point read of committed (durable) state. std::nullopt when absent;
  // storage errors are INTERNAL.
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
  friend class WriteTxn;
  struct Pending {
    Mutation mutation;
    Done done;
  };

  explicit Store(Options options);
  void WriterLoop();
  void CompleterLoop();

  Options options_;
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
  absl::flat_hash_map<std::string, rocksdb::ColumnFamilyHandle*> families_;

  absl::Mutex mu_;
  std::deque<Pending> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread writer_;
  // Completions run on their own thread: answering an RPC may write to a
  // socket, which must not delay the next commit group.
  absl::Mutex done_mu_;
  std::deque<std::pair<Done, absl::Status>> done_queue_ ABSL_GUARDED_BY(done_mu_);
  bool writer_finished_ ABSL_GUARDED_BY(done_mu_) = false;
  std::thread completer_;
  std::atomic<bool> healthy_{true};

  prometheus::Histogram* group_size_ = nullptr;
  prometheus::Histogram* sync_seconds_ = nullptr;
  prometheus::Counter* write_failures_ = nullptr;
};

}  // namespace reception

#endif  // RECEPTION_SERVICES_COMMON_STORE_H_
