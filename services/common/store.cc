#include "services/common/store.h"

#include <pthread.h>

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
                       .Help("Mutations committed by one group write (one WAL append and fsync)")
                       .Register(*o.metrics);
    store->group_size_ = &groups.Add(
        {{"store", o.name}},
        prometheus::Histogram::BucketBoundaries{1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024});
    auto& sync = prometheus::BuildHistogram()
                     .Name("reception_store_commit_seconds")
                     .Help("Time to run, write and sync one commit group")
                     .Register(*o.metrics);
    store->sync_seconds_ = &sync.Add(
        {{"store", o.name}},
        prometheus::Histogram::BucketBoundaries{0.0001, 0.0005, 0.001, 0.002, 0.005,
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
  return store;
}

Store::~Store() {
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

void WriteTxn::Put(rocksdb::ColumnFamilyHandle* family, absl::string_view key,
                   absl::string_view value) {
  batch_->Put(family, rocksdb::Slice(key.data(), key.size()),
              rocksdb::Slice(value.data(), value.size()));
  ++writes_;
}

void WriteTxn::Delete(rocksdb::ColumnFamilyHandle* family, absl::string_view key) {
  batch_->Delete(family, rocksdb::Slice(key.data(), key.size()));
  ++writes_;
}

absl::StatusOr<std::optional<std::string>> WriteTxn::Get(rocksdb::ColumnFamilyHandle* family,
                                                         absl::string_view key) const {
  std::string value;
  rocksdb::Status s = batch_->GetFromBatchAndDB(store_->db_.get(), rocksdb::ReadOptions(), family,
                                                rocksdb::Slice(key.data(), key.size()), &value);
  if (s.IsNotFound()) return std::nullopt;
  if (!s.ok()) {
    Log()->error("event=store_read_failed store={} error=\"{}\"", store_->options_.name, s.ToString());
    return absl::InternalError("the store could not be read");
  }
  return value;
}

void Store::WriterLoop() {
  rocksdb::WriteOptions write_options;
  write_options.sync = options_.sync;
  std::vector<Pending> group;
  std::vector<absl::Status> results;
  // overwrite_key: a later write to a key in the group replaces the earlier
  // one, so reads through the batch see the latest value.
  rocksdb::WriteBatchWithIndex batch(rocksdb::BytewiseComparator(), 0, /*overwrite_key=*/true);
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
    batch.Clear();
    bool wrote = false;
    for (size_t i = 0; i < group.size(); ++i) {
      if (!healthy_.load()) {
        results[i] = absl::UnavailableError(
            "the store stopped accepting writes after a disk failure; the node must be restarted");
        continue;
      }
      batch.SetSavePoint();
      WriteTxn txn(this, &batch);
      absl::Status st = group[i].mutation(txn);
      if (!st.ok()) {
        batch.RollbackToSavePoint();
        results[i] = std::move(st);
        continue;
      }
      batch.PopSavePoint();
      wrote = wrote || txn.writes() > 0;
    }
    if (wrote) {
      // One WAL append and, with sync, one fsync for the whole group.
      rocksdb::Status ws = db_->Write(write_options, batch.GetWriteBatch());
      if (!ws.ok()) {
        // After a failed write or fsync the page cache may not match the
        // disk: stop acknowledging anything (the safe reaction, as databases
        // do) and let the operator restart the node.
        Log()->critical("event=store_write_failed store={} error=\"{}\"", options_.name, ws.ToString());
        healthy_.store(false);
        if (write_failures_) write_failures_->Increment();
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
    absl::MutexLock lock(&done_mu_);
    for (size_t i = 0; i < group.size(); ++i) {
      if (group[i].done) done_queue_.emplace_back(std::move(group[i].done), std::move(results[i]));
    }
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
