#include "services/common/store.h"

#include <pthread.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "prometheus/counter.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"
#include "rocksdb/cache.h"
#include "rocksdb/filter_policy.h"
#include "rocksdb/slice_transform.h"
#include "rocksdb/table.h"
#include "rocksdb/utilities/checkpoint.h"
#include "services/common/logging.h"

namespace reception {

namespace {

// The open stores of the process, for AllMetrics.
class AllStores final : public prometheus::Collectable {
 public:
  void Add(const Store* s) {
    absl::MutexLock lock(&mu_);
    stores_.insert(s);
  }
  void Remove(const Store* s) {
    absl::MutexLock lock(&mu_);
    stores_.erase(s);
  }
  std::map<std::string, const Store*> All() const {
    absl::MutexLock lock(&mu_);
    std::map<std::string, const Store*> out;
    for (const Store* s : stores_) out[s->name()] = s;
    return out;
  }
  std::vector<prometheus::MetricFamily> Collect() const override {
    struct Property {
      const std::string& rocksdb_name;
      const char* name;
      const char* help;
    };
    const Property properties[] = {
        {rocksdb::DB::Properties::kLiveSstFilesSize, "reception_store_live_sst_bytes",
         "Bytes of the SST files of the store's current version"},
        {rocksdb::DB::Properties::kTotalSstFilesSize, "reception_store_sst_bytes",
         "Bytes of all the store's SST files, obsolete ones not yet deleted included"},
        {rocksdb::DB::Properties::kCurSizeAllMemTables, "reception_store_memtable_bytes",
         "Bytes of the store's memtables"},
        {rocksdb::DB::Properties::kEstimatePendingCompactionBytes,
         "reception_store_pending_compaction_bytes",
         "Bytes RocksDB estimates compaction has to rewrite"},
        {rocksdb::DB::Properties::kEstimateNumKeys, "reception_store_estimated_keys",
         "Keys in the store, estimated by RocksDB"},
    };
    std::vector<prometheus::MetricFamily> out;
    for (const auto& p : properties) {
      out.push_back({p.name, p.help, prometheus::MetricType::Gauge, {}});
    }
    absl::MutexLock lock(&mu_);
    for (const Store* s : stores_) {
      for (size_t i = 0; i < std::size(properties); ++i) {
        uint64_t v = 0;
        if (!s->db()->GetAggregatedIntProperty(properties[i].rocksdb_name, &v)) continue;
        prometheus::ClientMetric m;
        m.label = {{"store", s->name()}};
        m.gauge.value = static_cast<double>(v);
        out[i].metric.push_back(std::move(m));
      }
    }
    return out;
  }

 private:
  mutable absl::Mutex mu_;
  absl::flat_hash_set<const Store*> stores_ ABSL_GUARDED_BY(mu_);
};

AllStores& Stores() {
  static auto* all = new AllStores();
  return *all;
}

}  // namespace

std::shared_ptr<prometheus::Collectable> Store::AllMetrics() {
  // The collectable lives as long as the process; the exposer holds it.
  return std::shared_ptr<prometheus::Collectable>(&Stores(), [](prometheus::Collectable*) {});
}

std::map<std::string, const Store*> Store::All() { return Stores().All(); }

absl::StatusOr<uint64_t> Store::Checkpoint(const std::string& dir) const {
  rocksdb::Checkpoint* raw = nullptr;
  rocksdb::Status s = rocksdb::Checkpoint::Create(db_.get(), &raw);
  std::unique_ptr<rocksdb::Checkpoint> checkpoint(raw);
  uint64_t sequence = 0;
  // log_size_for_flush 0: the memtables are flushed first, so the copy is
  // SST files only (no WAL to replay) and holds every acknowledged write.
  if (s.ok()) s = checkpoint->CreateCheckpoint(dir, 0, &sequence);
  if (!s.ok()) {
    return absl::InternalError(
        absl::StrCat("checkpoint of store ", options_.name, " failed: ", s.ToString()));
  }
  return sequence;
}

Store::Store(Options options) : options_(std::move(options)) {}

absl::StatusOr<std::unique_ptr<Store>> Store::Open(Options options) {
  std::unique_ptr<Store> store(new Store(std::move(options)));
  const Options& o = store->options_;

  rocksdb::BlockBasedTableOptions table;
  table.block_cache = o.block_cache ? o.block_cache : rocksdb::NewLRUCache(o.block_cache_bytes);
  table.cache_index_and_filter_blocks = true;
  // Point reads (GetCase, idempotency and counter lookups) dominate: a bloom
  // filter per file skips files that cannot hold the key, and level-0
  // filters and indexes stay pinned in the cache.
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  table.pin_l0_filter_and_index_blocks_in_cache = true;
  rocksdb::ColumnFamilyOptions cf_options;
  cf_options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  cf_options.compression = rocksdb::kNoCompression;
  cf_options.write_buffer_size = std::max<size_t>(o.write_buffer_bytes / 2, 1 << 20);

  rocksdb::DBOptions db_options;
  db_options.create_if_missing = true;
  db_options.create_missing_column_families = true;
  db_options.max_background_jobs = 2;
  db_options.keep_log_file_num = 5;
  db_options.info_log_level = rocksdb::InfoLogLevel::WARN_LEVEL;
  db_options.write_buffer_manager =
      o.write_buffer_manager ? o.write_buffer_manager
                             : std::make_shared<rocksdb::WriteBufferManager>(o.write_buffer_bytes);
  db_options.max_total_wal_size = 4 * o.write_buffer_bytes;

  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  descriptors.emplace_back(rocksdb::kDefaultColumnFamilyName, cf_options);
  for (const auto& name : o.column_families) {
    rocksdb::ColumnFamilyOptions family = cf_options;
    if (auto it = o.prefix_lengths.find(name); it != o.prefix_lengths.end()) {
      family.prefix_extractor.reset(rocksdb::NewFixedPrefixTransform(it->second));
      family.memtable_prefix_bloom_size_ratio = 0.05;
    }
    descriptors.emplace_back(name, family);
  }

  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(db_options, o.path, descriptors, &store->handles_, &raw);
  if (!s.ok()) {
    // The path is the operator's; the RocksDB text helps them and never
    // reaches a gRPC client (this runs at start-up).
    return absl::UnavailableError(
        absl::StrCat("cannot open the store at ", o.path, ": ", s.ToString()));
  }
  store->db_.reset(raw);
  for (size_t i = 0; i < descriptors.size(); ++i) {
    store->families_[descriptors[i].name] = store->handles_[i];
  }

  if (o.metrics != nullptr) {
    auto& groups = prometheus::BuildHistogram()
                       .Name("reception_store_commit_group_size")
                       .Help("Mutations committed by one group write (one WAL append and fsync)")
                       .Register(*o.metrics);
    store->group_size_ = &groups.Add(
        {{"store", o.name}},
        prometheus::Histogram::BucketBoundaries{1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024});
    auto& sync = prometheus::BuildHistogram()
                     .Name("reception_store_commit_seconds")
                     .Help("Time to write and sync one commit group")
                     .Register(*o.metrics);
    store->sync_seconds_ = &sync.Add({{"store", o.name}}, prometheus::Histogram::BucketBoundaries{
                                                              0.0001, 0.0005, 0.001, 0.002, 0.005,
                                                              0.01, 0.02, 0.05, 0.1, 0.5, 1});
    auto& failures = prometheus::BuildCounter()
                         .Name("reception_store_write_failures_total")
                         .Help("Group writes (or their fsync) that failed; the store then stops")
                         .Register(*o.metrics);
    store->write_failures_ = &failures.Add({{"store", o.name}});
  }

  store->writer_ = std::thread([s = store.get()] {
    pthread_setname_np(pthread_self(), (s->options_.name + "-writer").substr(0, 15).c_str());
    s->WriterLoop();
  });
  store->completer_ = std::thread([s = store.get()] {
    pthread_setname_np(pthread_self(), (s->options_.name + "-done").substr(0, 15).c_str());
    s->CompleterLoop();
  });
  Stores().Add(store.get());
  return store;
}

Store::~Store() {
  Stores().Remove(this);
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (writer_.joinable()) writer_.join();
  {
    absl::MutexLock lock(&done_mu_);
    writer_finished_ = true;
  }
  if (completer_.joinable()) completer_.join();
  for (auto* h : handles_) db_->DestroyColumnFamilyHandle(h);
  handles_.clear();
  if (db_) db_->Close();
}

rocksdb::ColumnFamilyHandle* Store::Family(absl::string_view name) const {
  auto it = families_.find(name);
  if (it == families_.end()) {
    Log()->critical("event=unknown_column_family family={}", name);
    std::abort();
  }
  return it->second;
}

absl::StatusOr<std::optional<std::string>> Store::Get(rocksdb::ColumnFamilyHandle* family,
                                                      absl::string_view key) const {
  std::string value;
  rocksdb::Status s =
      db_->Get(rocksdb::ReadOptions(), family, rocksdb::Slice(key.data(), key.size()), &value);
  if (s.IsNotFound()) return std::nullopt;
  if (!s.ok()) {
    Log()->error("event=store_read_failed store={} error={}", options_.name,
                 LogValue(s.ToString()));
    return absl::InternalError("the store could not be read");
  }
  return value;
}

std::unique_ptr<rocksdb::Iterator> Store::NewIterator(rocksdb::ColumnFamilyHandle* family) const {
  return std::unique_ptr<rocksdb::Iterator>(db_->NewIterator(rocksdb::ReadOptions(), family));
}

std::unique_ptr<rocksdb::Iterator> Store::NewPrefixIterator(
    rocksdb::ColumnFamilyHandle* family) const {
  rocksdb::ReadOptions read;
  read.prefix_same_as_start = true;
  return std::unique_ptr<rocksdb::Iterator>(db_->NewIterator(read, family));
}

void Store::Submit(Mutation mutation, Done done) {
  absl::MutexLock lock(&mu_);
  queue_.push_back(Pending{std::move(mutation), std::move(done)});
}

absl::Status Store::CommitAndWait(Mutation mutation) {
  absl::Mutex mu;
  bool finished = false;
  absl::Status result;
  Submit(std::move(mutation), [&](absl::Status s) {
    absl::MutexLock lock(&mu);
    result = std::move(s);
    finished = true;
  });
  absl::MutexLock lock(&mu);
  mu.Await(absl::Condition(&finished));
  return result;
}

namespace store_internal {

struct Group {
  void Reset() {
    batch.Clear();
    overlay.clear();
    coalesced.clear();
    done.clear();
    results.clear();
    wrote = false;
  }
  // A plain batch and a hash overlay of where each key's latest write
  // stands in it: cheaper on the single writer than an indexed batch (no
  // ordered index to keep), and reads need only the latest write of a key.
  rocksdb::WriteBatch batch;
  Overlay overlay;
  // Coalesced writes (overlay key -> value), appended to the batch once the
  // group is complete, before it is committed.
  absl::flat_hash_map<std::string, Coalesced> coalesced;
  std::vector<Store::Done> done;
  std::vector<absl::Status> results;
  bool wrote = false;
};

}  // namespace store_internal

namespace {

std::string OverlayKey(rocksdb::ColumnFamilyHandle* family, absl::string_view key) {
  const uint32_t id = family->GetID();
  std::string out(reinterpret_cast<const char*>(&id), sizeof id);
  out.append(key.data(), key.size());
  return out;
}

// The value `w` names in `batch`, or nullopt for a delete.
std::optional<std::string> ValueOf(const rocksdb::WriteBatch& batch,
                                   const store_internal::Written& w) {
  if (w.deleted) return std::nullopt;
  return std::string(batch.Data().data() + w.offset, w.size);
}

}  // namespace

void WriteTxn::Record(rocksdb::ColumnFamilyHandle* family, absl::string_view key,
                      store_internal::Written w) {
  std::string k = OverlayKey(family, key);
  auto [it, inserted] = current_->overlay.try_emplace(k, w);
  undo_.push_back({std::move(k), false,
                   inserted ? std::nullopt : std::optional<store_internal::Written>(it->second),
                   std::nullopt});
  if (!inserted) it->second = w;
  ++writes_;
}

void WriteTxn::Put(rocksdb::ColumnFamilyHandle* family, absl::string_view key,
                   absl::string_view value) {
  current_->batch.Put(family, rocksdb::Slice(key.data(), key.size()),
                      rocksdb::Slice(value.data(), value.size()));
  // A Put record ends with the value's bytes.
  Record(family, key, {current_->batch.Data().size() - value.size(), value.size(), false});
}

void WriteTxn::Delete(rocksdb::ColumnFamilyHandle* family, absl::string_view key) {
  current_->batch.Delete(family, rocksdb::Slice(key.data(), key.size()));
  Record(family, key, {0, 0, true});
}

void WriteTxn::PutCoalesced(rocksdb::ColumnFamilyHandle* family, absl::string_view key,
                            absl::string_view value) {
  std::string k = OverlayKey(family, key);
  auto [it, inserted] = current_->coalesced.try_emplace(k);
  undo_.push_back({std::move(k), true, std::nullopt,
                   inserted ? std::nullopt : std::optional<store_internal::Coalesced>(it->second)});
  it->second = store_internal::Coalesced{family, std::string(value)};
  ++writes_;
}

void WriteTxn::Rollback() {
  for (auto u = undo_.rbegin(); u != undo_.rend(); ++u) {
    if (u->coalesced) {
      if (u->value) {
        current_->coalesced.insert_or_assign(u->key, *std::move(u->value));
      } else {
        current_->coalesced.erase(u->key);
      }
    } else if (u->written) {
      current_->overlay.insert_or_assign(u->key, *u->written);
    } else {
      current_->overlay.erase(u->key);
    }
  }
  undo_.clear();
}

absl::StatusOr<std::optional<std::string>> WriteTxn::Get(rocksdb::ColumnFamilyHandle* family,
                                                         absl::string_view key) const {
  // Newest first: this group (this mutation's writes included), then the
  // database (every earlier group is in it).
  const std::string k = OverlayKey(family, key);
  if (auto it = current_->coalesced.find(k); it != current_->coalesced.end()) {
    return it->second.value;
  }
  if (auto it = current_->overlay.find(k); it != current_->overlay.end()) {
    return ValueOf(current_->batch, it->second);
  }
  std::string value;
  rocksdb::Status s = store_->db_->Get(rocksdb::ReadOptions(), family,
                                       rocksdb::Slice(key.data(), key.size()), &value);
  if (s.IsNotFound()) return std::nullopt;
  if (!s.ok()) {
    Log()->error("event=store_read_failed store={} error={}", store_->options_.name,
                 LogValue(s.ToString()));
    return absl::InternalError("the store could not be read");
  }
  return value;
}

void Store::WriterLoop() {
  std::vector<Pending> items;
  store_internal::Group group;
  for (;;) {
    items.clear();
    {
      absl::MutexLock lock(&mu_);
      auto ready = [this]()
                       ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stopping_ || !queue_.empty(); };
      mu_.Await(absl::Condition(&ready));
      if (queue_.empty() && stopping_) break;
      while (!queue_.empty() && static_cast<int>(items.size()) < options_.max_group_size) {
        items.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    group.Reset();
    for (auto& item : items) {
      absl::Status st;
      if (!healthy_.load()) {
        st = absl::UnavailableError(
            "the store stopped accepting writes after a disk failure; the node must be restarted");
      } else {
        group.batch.SetSavePoint();
        WriteTxn txn(this, &group);
        st = item.mutation(txn);
        if (st.ok()) {
          (void)group.batch.PopSavePoint();
          group.wrote = group.wrote || txn.writes() > 0;
          if (!txn.on_durable_.empty()) {
            item.done = [hooks = std::move(txn.on_durable_),
                         done = std::move(item.done)](absl::Status s) mutable {
              if (s.ok()) {
                for (auto& hook : hooks) hook();
              }
              if (done) done(std::move(s));
            };
          }
        } else {
          (void)group.batch.RollbackToSavePoint();
          txn.Rollback();
        }
      }
      group.results.push_back(std::move(st));
      group.done.push_back(std::move(item.done));
    }
    // The coalesced writes, once each.
    for (auto& [key, c] : group.coalesced) {
      const absl::string_view k = absl::string_view(key).substr(sizeof(uint32_t));
      group.batch.Put(c.family, rocksdb::Slice(k.data(), k.size()),
                      rocksdb::Slice(c.value.data(), c.value.size()));
      group.wrote = true;
    }
    Commit(group);
  }
}

void Store::Commit(store_internal::Group& group) {
  if (options_.before_commit) options_.before_commit();
  const auto start = std::chrono::steady_clock::now();
  auto fail_all = [&](absl::string_view why) {
    for (auto& r : group.results) {
      if (r.ok()) r = absl::UnavailableError(why);
    }
  };
  if (!healthy_.load()) {
    // An earlier group failed; this one may have read its writes.
    fail_all("the store stopped accepting writes after a disk failure; the node must be restarted");
  } else if (group.wrote) {
    // One WAL append and, with sync, one fsync for the whole group.
    rocksdb::WriteOptions write_options;
    write_options.sync = options_.sync;
    rocksdb::Status ws = db_->Write(write_options, &group.batch);
    if (!ws.ok()) {
      // After a failed write or fsync the page cache may not match the
      // disk: stop acknowledging anything (the safe reaction, as databases
      // do) and let the operator restart the node.
      Log()->critical("event=store_write_failed store={} error={}", options_.name,
                      LogValue(ws.ToString()));
      healthy_.store(false);
      if (write_failures_) write_failures_->Increment();
      fail_all("the store could not make the write durable; retry later");
    }
  }
  if (group_size_) group_size_->Observe(static_cast<double>(group.done.size()));
  if (sync_seconds_) {
    sync_seconds_->Observe(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  absl::MutexLock lock(&done_mu_);
  for (size_t i = 0; i < group.done.size(); ++i) {
    if (group.done[i])
      done_queue_.emplace_back(std::move(group.done[i]), std::move(group.results[i]));
  }
}

void Store::CompleterLoop() {
  std::deque<std::pair<Done, absl::Status>> batch;
  for (;;) {
    {
      absl::MutexLock lock(&done_mu_);
      auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(done_mu_) {
        return writer_finished_ || !done_queue_.empty();
      };
      done_mu_.Await(absl::Condition(&ready));
      if (done_queue_.empty() && writer_finished_) return;
      batch.swap(done_queue_);
    }
    for (auto& [done, status] : batch) done(std::move(status));
    batch.clear();
  }
}

}  // namespace reception
