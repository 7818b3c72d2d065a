// The embedded store of one service: RocksDB with named column families and
// one write path.
//
// Every mutation runs on a single writer thread, in submission order, against
// the current state, and writes through a WriteTxn (entity, indexes, audit
// event, change-feed entry, outbox, all together). The writer drains whatever
// is queued into one indexed batch (a commit group): each mutation reads the
// state including every earlier mutation, and a failing mutation rolls back
// only its own writes. The writer then writes the group with one synced write
// and only then is each mutation completed, in order, on a completion thread.
// While it waits for the disk, new mutations queue up and form the next
// group. So: acknowledged means durable, readers never see a write before it
// is durable, many concurrent requests share one WAL append and one fsync,
// and read-modify-write needs no locks.
//
// Until 2026-11-29 a separate committer thread wrote each group while the
// writer already ran the next one. Under load that made more, smaller groups
// and a thread hand-off per group: on 2 cores, CreateCase cost 10-25 % more
// server CPU that way (BENCHMARKS.md).
#ifndef RECEPTION_SERVICES_COMMON_STORE_H_
#define RECEPTION_SERVICES_COMMON_STORE_H_

#include <atomic>
#include <deque>
#include <functional>
#include <map>
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
#include "prometheus/collectable.h"
#include "rocksdb/cache.h"
#include "rocksdb/db.h"
#include "rocksdb/write_batch.h"
#include "rocksdb/write_buffer_manager.h"

namespace prometheus {
class Registry;
class Histogram;
class Counter;
}  // namespace prometheus

namespace reception {

class Store;

namespace store_internal {
// Where the latest write of a key stands in a group's batch: the value's
// bytes (the last ones of a Put record), or a delete.
struct Written {
  size_t offset = 0;
  size_t size = 0;
  bool deleted = false;
};
// Family id and key -> its latest write.
using Overlay = absl::flat_hash_map<std::string, Written>;
// A coalesced write not yet in the batch (see WriteTxn::PutCoalesced).
struct Coalesced {
  rocksdb::ColumnFamilyHandle* family = nullptr;
  std::string value;
};
// One commit group: its batch, the overlay that reads see it through, and
// the mutations it holds.
struct Group;
}  // namespace store_internal

// The writes of one mutation, and reads that see every earlier mutation.
// Only valid inside the mutation it was passed to.
class WriteTxn {
 public:
  void Put(rocksdb::ColumnFamilyHandle* family, absl::string_view key, absl::string_view value);
  void Delete(rocksdb::ColumnFamilyHandle* family, absl::string_view key);
  // A Put of which only the group's last value is written: for keys every
  // mutation rewrites, such as counters. The group's batch is written
  // atomically, so no reader, and no crash, ever sees the values in
  // between; a group of N mutations makes one write instead of N. Reads
  // through any WriteTxn see the latest value at once. A key is written
  // either with PutCoalesced or with Put/Delete, never both.
  void PutCoalesced(rocksdb::ColumnFamilyHandle* family, absl::string_view key,
                    absl::string_view value);
  // The committed state overlaid with the group's writes so far.
  absl::StatusOr<std::optional<std::string>> Get(rocksdb::ColumnFamilyHandle* family,
                                                 absl::string_view key) const;
  int writes() const { return writes_; }
  // Durable before visible, the one rule for in-memory state kept beside
  // the store: `fn` runs on the completion thread once this mutation's
  // group commit is durable (before its Done), in commit order; never when
  // the mutation or the commit fails. A mutation changes what readers see
  // only through this.
  void OnDurable(absl::AnyInvocable<void()> fn) { on_durable_.push_back(std::move(fn)); }

 private:
  friend class Store;
  WriteTxn(const Store* store, store_internal::Group* current) : store_(store), current_(current) {}
  const Store* store_;
  store_internal::Group* current_;
  // What this mutation's writes replaced in the group's overlays, undone
  // (newest first) when the mutation fails, with its batch records.
  struct Undo {
    std::string key;
    bool coalesced = false;
    std::optional<store_internal::Written> written;
    std::optional<store_internal::Coalesced> value;
  };
  // Points the group's overlay at a write just added to the batch.
  void Record(rocksdb::ColumnFamilyHandle* family, absl::string_view key,
              store_internal::Written w);
  void Rollback();
  std::vector<Undo> undo_;
  std::vector<absl::AnyInvocable<void()>> on_durable_;
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
    // Families whose keys start with a fixed-length prefix that iterators
    // seek (name -> prefix length): a prefix bloom filter in the memtable and
    // the files lets a seek for an absent prefix skip them.
    std::map<std::string, size_t> prefix_lengths;
    // Most mutations committed by one WAL sync.
    int max_group_size = 1024;
    // Block cache for all families: `block_cache` when given (one cache
    // shared by every store of a node), else a new one of this size.
    size_t block_cache_bytes = 64 << 20;
    std::shared_ptr<rocksdb::Cache> block_cache;
    // Memtable budget: `write_buffer_manager` when given (one budget shared
    // by every store of a node), else one of this size for this store. A
    // family flushes at half of it, and the store's write-ahead log is kept
    // under four times it (RocksDB flushes the families that pin the oldest
    // log), so neither memory nor the log nor the replay after a crash grows
    // with the time since a rarely written family last flushed.
    size_t write_buffer_bytes = 128 << 20;
    std::shared_ptr<rocksdb::WriteBufferManager> write_buffer_manager;
    // Optional: where to register the store's metrics.
    prometheus::Registry* metrics = nullptr;
    // Label value naming the store in metrics ("case").
    std::string name = "store";
    // Test seam: runs on the writer thread before each group is written.
    std::function<void()> before_commit;
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
  // An iterator that stays within the prefix of the key it is sought to
  // (a family of Options::prefix_lengths; elsewhere like NewIterator).
  std::unique_ptr<rocksdb::Iterator> NewPrefixIterator(rocksdb::ColumnFamilyHandle* family) const;

  // Queues a mutation. Thread-safe and non-blocking.
  void Submit(Mutation mutation, Done done);

  // Submits and waits: for tools, tests and start-up, never on a gRPC thread.
  absl::Status CommitAndWait(Mutation mutation);

  // False after a WAL sync failed: nothing more is acknowledged (the state on
  // disk is unknown, so the process should be restarted).
  bool healthy() const { return healthy_.load(); }

  rocksdb::DB* db() const { return db_.get(); }
  // Options::name and Options::path.
  const std::string& name() const { return options_.name; }
  const std::string& path() const { return options_.path; }

  // A consistent copy of the store as of now, in `dir` (which must not
  // exist): every durable write is in it. SST files are hard-linked when
  // `dir` is on the store's file system. Returns the copy's last sequence
  // number. Thread-safe; writes go on meanwhile.
  absl::StatusOr<uint64_t> Checkpoint(const std::string& dir) const;

  // Every open store of the process, by name.
  static std::map<std::string, const Store*> All();

  // Sizes of every open store of the process, by `store` label, computed
  // when scraped (register with the metrics exposer).
  static std::shared_ptr<prometheus::Collectable> AllMetrics();

 private:
  friend class WriteTxn;
  struct Pending {
    Mutation mutation;
    Done done;
  };

  explicit Store(Options options);
  void WriterLoop();
  // Writes the group with one synced write and queues its completions.
  void Commit(store_internal::Group& group);
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
