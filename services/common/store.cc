#include "services/common/store.h"

#include <chrono>
#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "prometheus/counter.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"
#include "rocksdb/cache.h"
#include "rocksdb/table.h"
#include "services/common/logging.h"

namespace reception {

Store::Store(Options options) : options_(std::move(options)) {}

absl::StatusOr<std::unique_ptr<Store>> Store::Open(Options options) {
  std::unique_ptr<Store> store(new Store(std::move(options)));
  const Options& o = store->options_;

  rocksdb::BlockBasedTableOptions table;
  table.block_cache = rocksdb::NewLRUCache(o.block_cache_bytes);
  table.cache_index_and_filter_blocks = true;
  rocksdb::ColumnFamilyOptions cf_options;
  cf_options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  cf_options.compression = rocksdb::kNoCompression;

  rocksdb::DBOptions db_options;
  db_options.create_if_missing = true;
  db_options.create_missing_column_families = true;
  db_options.max_background_jobs = 2;
  db_options.keep_log_file_num = 5;
  db_options.info_log_level = rocksdb::InfoLogLevel::WARN_LEVEL;

  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  descriptors.emplace_back(rocksdb::kDefaultColumnFamilyName, cf_options);
  for (const auto& name : o.column_families) descriptors.emplace_back(name, cf_options);

  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(db_options, o.path, descriptors,
                                        &store->handles_, &raw);
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
                       .Help("Mutations committed by one write-ahead-log sync")
                       .Register(*o.metrics);
    store->group_size_ = &groups.Add(
        {{"store", o.name}},
        prometheus::Histogram::BucketBoundaries{1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024});
    auto& sync = prometheus::BuildHistogram()
                     .Name("reception_store_commit_seconds")
                     .Help("Time to apply and sync one commit group")
                     .Register(*o.metrics);
    store->sync_seconds_ = &sync.Add(
        {{"store", o.name}},
        prometheus::Histogram::BucketBoundaries{0.0001, 0.0005, 0.001, 0.002, 0.005,
                                                0.01, 0.02, 0.05, 0.1, 0.5, 1});
    auto& failures = prometheus::BuildCounter()
                         .Name("reception_store_sync_failures_total")
                         .Help("Write-ahead-log syncs that failed")
                         .Register(*o.metrics);
    store->sync_failures_ = &failures.Add({{"store", o.name}});
  }

  store->writer_ = std::thread([s = store.get()] { s->WriterLoop(); });
  return store;
}

Store::~Store() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (writer_.joinable()) writer_.join();
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

absl::StatusOr<std::optional<std::string>> Store::Get(
    rocksdb::ColumnFamilyHandle* family, absl::string_view key) const {
  std::string value;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), family,
                               rocksdb::Slice(key.data(), key.size()), &value);
  if (s.IsNotFound()) return std::nullopt;
  if (!s.ok()) {
    Log()->error("event=store_read_failed store={} error=\"{}\"", options_.name, s.ToString());
    return absl::InternalError("the store could not be read");
  }
  return value;
}

std::unique_ptr<rocksdb::Iterator> Store::NewIterator(
    rocksdb::ColumnFamilyHandle* family) const {
  return std::unique_ptr<rocksdb::Iterator>(db_->NewIterator(rocksdb::ReadOptions(), family));
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

void Store::WriterLoop() {
  rocksdb::WriteOptions no_sync;
  no_sync.sync = false;
  std::vector<Pending> group;
  std::vector<absl::Status> results;
  rocksdb::WriteBatch batch;
  for (;;) {
    group.clear();
    {
      absl::MutexLock lock(&mu_);
      auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return stopping_ || !queue_.empty();
      };
      mu_.Await(absl::Condition(&ready));
      if (queue_.empty() && stopping_) return;
      while (!queue_.empty() && static_cast<int>(group.size()) < options_.max_group_size) {
        group.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    const auto start = std::chrono::steady_clock::now();
    results.assign(group.size(), absl::OkStatus());
    bool wrote = false;
    for (size_t i = 0; i < group.size(); ++i) {
      if (!healthy_.load()) {
        results[i] = absl::UnavailableError(
            "the store stopped accepting writes after a disk failure; the node must be restarted");
        continue;
      }
      batch.Clear();
      absl::Status st = group[i].mutation(batch);
      if (!st.ok()) {
        results[i] = std::move(st);
        continue;
      }
      if (batch.Count() == 0) continue;
      rocksdb::Status ws = db_->Write(no_sync, &batch);
      if (!ws.ok()) {
        Log()->error("event=store_write_failed store={} error=\"{}\"", options_.name, ws.ToString());
        results[i] = absl::UnavailableError("the store could not write; retry later");
        continue;
      }
      wrote = true;
    }
    if (wrote && options_.sync) {
      rocksdb::Status ss = db_->SyncWAL();
      if (!ss.ok()) {
        // After a failed fsync the page cache may not match the disk: stop
        // acknowledging anything (the safe reaction, as databases do).
        Log()->critical("event=store_sync_failed store={} error=\"{}\"", options_.name, ss.ToString());
        healthy_.store(false);
        if (sync_failures_) sync_failures_->Increment();
        for (auto& r : results) {
          if (r.ok()) r = absl::UnavailableError("the store could not make the write durable; retry later");
        }
      }
    }
    if (group_size_) group_size_->Observe(static_cast<double>(group.size()));
    if (sync_seconds_) {
      sync_seconds_->Observe(std::chrono::duration<double>(
          std::chrono::steady_clock::now() - start).count());
    }
    for (size_t i = 0; i < group.size(); ++i) {
      if (group[i].done) group[i].done(std::move(results[i]));
    }
  }
}

}  // namespace reception
