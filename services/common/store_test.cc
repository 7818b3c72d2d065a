#include "services/common/store.h"

#include <atomic>
#include <filesystem>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"
#include "prometheus/registry.h"
#include "services/common/test_support.h"

namespace reception {
namespace {

Store::Options Opts(const std::string& path, prometheus::Registry* metrics = nullptr) {
  Store::Options o;
  o.path = path;
  o.column_families = {"things"};
  o.metrics = metrics;
  o.name = "test";
  return o;
}

TEST(Store, CommitIsVisibleAndSurvivesReopen) {
  testing::TempDir dir;
  {
    auto store = Store::Open(Opts(dir.Join("db")));
    ASSERT_TRUE(store.ok()) << store.status();
    auto* f = (*store)->Family("things");
    ASSERT_TRUE((*store)
                    ->CommitAndWait([f](WriteTxn& b) {
                      b.Put(f, "k", "v");
                      return absl::OkStatus();
                    })
                    .ok());
    auto v = (*store)->Get(f, "k");
    ASSERT_TRUE(v.ok() && v->has_value());
    EXPECT_EQ(**v, "v");
    auto missing = (*store)->Get(f, "nope");
    ASSERT_TRUE(missing.ok());
    EXPECT_FALSE(missing->has_value());
  }
  auto store = Store::Open(Opts(dir.Join("db")));
  ASSERT_TRUE(store.ok());
  auto v = (*store)->Get((*store)->Family("things"), "k");
  ASSERT_TRUE(v.ok() && v->has_value());
  EXPECT_EQ(**v, "v");
}

TEST(Store, FailedMutationWritesNothing) {
  testing::TempDir dir;
  auto store = Store::Open(Opts(dir.Join("db")));
  ASSERT_TRUE(store.ok());
  auto* f = (*store)->Family("things");
  auto s = (*store)->CommitAndWait([f](WriteTxn& b) {
    b.Put(f, "k", "v");
    return absl::FailedPreconditionError("no");
  });
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_FALSE((*store)->Get(f, "k")->has_value());
}

// What a mutation publishes to memory (OnDurable) appears only once its
// group commit is durable, before its Done, and never for a failed one.
TEST(Store, OnDurableRunsAfterTheCommitAndNeverOnFailure) {
  testing::TempDir dir;
  absl::Notification entered, release;
  std::atomic<bool> block{false};
  Store::Options o = Opts(dir.Join("db"));
  o.before_commit = [&] {
    if (!block.load()) return;
    entered.Notify();
    release.WaitForNotification();
  };
  auto store = Store::Open(o);
  ASSERT_TRUE(store.ok());
  auto* f = (*store)->Family("things");
  std::atomic<int> published{0};
  std::atomic<bool> done_saw_published{false};
  absl::Notification done;
  block = true;
  (*store)->Submit(
      [&](WriteTxn& txn) {
        txn.Put(f, "k", "v");
        txn.OnDurable([&] { published = 1; });
        return absl::OkStatus();
      },
      [&](absl::Status s) {
        EXPECT_TRUE(s.ok()) << s;
        done_saw_published = published.load() == 1;
        done.Notify();
      });
  entered.WaitForNotification();  // written to the batch, not yet durable
  EXPECT_EQ(published.load(), 0);
  block = false;
  release.Notify();
  done.WaitForNotification();
  EXPECT_TRUE(done_saw_published.load());
  auto failed = (*store)->CommitAndWait([&](WriteTxn& txn) {
    txn.OnDurable([&] { published = 2; });
    return absl::FailedPreconditionError("no");
  });
  EXPECT_EQ(failed.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(published.load(), 1);
}

// Read-modify-write from many threads needs no locks: mutations run one at a
// time on the writer, each seeing all earlier ones.
TEST(Store, MutationsAreSerialised) {
  testing::TempDir dir;
  auto store = Store::Open(Opts(dir.Join("db")));
  ASSERT_TRUE(store.ok());
  Store* s = store->get();
  auto* f = s->Family("things");
  constexpr int kThreads = 8, kEach = 200;
  std::atomic<int> done{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kEach; ++i) {
        s->Submit(
            [s, f](WriteTxn& b) {
              auto cur = b.Get(f, "counter");
              int n = 0;
              if (cur.ok() && cur->has_value()) (void)absl::SimpleAtoi(**cur, &n);
              b.Put(f, "counter", absl::StrCat(n + 1));
              return absl::OkStatus();
            },
            [&](absl::Status st) {
              if (st.ok()) ++done;
            });
      }
    });
  }
  for (auto& t : threads) t.join();
  ASSERT_TRUE(testing::WaitFor([&] { return done.load() == kThreads * kEach; }, absl::Seconds(60)));
  EXPECT_EQ(**s->Get(f, "counter"), absl::StrCat(kThreads * kEach));
}

// Requests queued while a sync is in progress share the next sync.
TEST(Store, QueuedMutationsShareOneSync) {
  testing::TempDir dir;
  prometheus::Registry registry;
  auto store = Store::Open(Opts(dir.Join("db"), &registry));
  ASSERT_TRUE(store.ok());
  Store* s = store->get();
  auto* f = s->Family("things");
  absl::Notification release;
  std::atomic<int> done{0};
  // The first mutation holds the writer until every other one is queued.
  s->Submit(
      [&](WriteTxn& b) {
        release.WaitForNotification();
        b.Put(f, "first", "1");
        return absl::OkStatus();
      },
      [&](absl::Status) { ++done; });
  constexpr int kQueued = 500;
  for (int i = 0; i < kQueued; ++i) {
    s->Submit(
        [f, i](WriteTxn& b) {
          b.Put(f, absl::StrCat("k", i), "v");
          return absl::OkStatus();
        },
        [&](absl::Status st) {
          if (st.ok()) ++done;
        });
  }
  release.Notify();
  ASSERT_TRUE(testing::WaitFor([&] { return done.load() == kQueued + 1; }, absl::Seconds(60)));
  uint64_t groups = 0;
  double committed = 0;
  for (const auto& family : registry.Collect()) {
    if (family.name == "reception_store_commit_group_size") {
      groups = family.metric.at(0).histogram.sample_count;
      committed = family.metric.at(0).histogram.sample_sum;
    }
  }
  // The first mutation's group (possibly with early arrivals), then at most
  // one more for everything that queued behind it: not one sync per write.
  EXPECT_EQ(committed, kQueued + 1);
  EXPECT_GE(groups, 1u);
  EXPECT_LE(groups, 2u);
  EXPECT_TRUE(s->Get(f, absl::StrCat("k", kQueued - 1))->has_value());
}

// Within one group a failing mutation rolls back only its own writes, and
// later mutations see the earlier ones' writes before anything is durable.
TEST(Store, FailedMutationInAGroupRollsBackAlone) {
  testing::TempDir dir;
  auto store = Store::Open(Opts(dir.Join("db")));
  ASSERT_TRUE(store.ok());
  Store* s = store->get();
  auto* f = s->Family("things");
  absl::Notification release;
  std::vector<absl::Status> results(4);
  std::atomic<int> done{0};
  s->Submit(
      [&](WriteTxn&) {
        release.WaitForNotification();
        return absl::OkStatus();
      },
      [&](absl::Status st) {
        results[0] = st;
        ++done;
      });
  s->Submit(
      [f](WriteTxn& b) {
        b.Put(f, "a", "1");
        return absl::OkStatus();
      },
      [&](absl::Status st) {
        results[1] = st;
        ++done;
      });
  s->Submit(
      [f](WriteTxn& b) {
        b.Put(f, "a", "overwritten");
        b.Put(f, "b", "2");
        return absl::AbortedError("changed my mind");
      },
      [&](absl::Status st) {
        results[2] = st;
        ++done;
      });
  s->Submit(
      [f](WriteTxn& b) {
        auto a = b.Get(f, "a");
        if (!a.ok() || !a->has_value() || **a != "1") return absl::InternalError("did not see a=1");
        if (b.Get(f, "b")->has_value()) return absl::InternalError("saw a rolled-back write");
        b.Put(f, "c", "3");
        return absl::OkStatus();
      },
      [&](absl::Status st) {
        results[3] = st;
        ++done;
      });
  release.Notify();
  ASSERT_TRUE(testing::WaitFor([&] { return done.load() == 4; }, absl::Seconds(30)));
  EXPECT_TRUE(results[1].ok());
  EXPECT_EQ(results[2].code(), absl::StatusCode::kAborted);
  EXPECT_TRUE(results[3].ok()) << results[3];
  EXPECT_EQ(**s->Get(f, "a"), "1");
  EXPECT_FALSE(s->Get(f, "b")->has_value());
  EXPECT_EQ(**s->Get(f, "c"), "3");
}

// Nobody outside the writer sees a group before it is durable; mutations
// that arrive meanwhile wait, then read it; deletes and rolled-back deletes
// in a group are read right.
TEST(Store, ReadersNeverSeeAGroupBeforeItIsDurable) {
  testing::TempDir dir;
  absl::Notification first_commit_started, release_first_commit;
  std::atomic<int> commits{0};
  Store::Options o = Opts(dir.Join("db"));
  o.before_commit = [&] {
    if (commits.fetch_add(1) == 0) {
      first_commit_started.Notify();
      release_first_commit.WaitForNotification();
    }
  };
  auto store = Store::Open(o);
  ASSERT_TRUE(store.ok());
  Store* s = store->get();
  auto* f = s->Family("things");
  std::atomic<int> done{0};
  std::vector<absl::Status> results(4);
  auto record = [&](int i) {
    return [&, i](absl::Status st) {
      results[i] = st;
      ++done;
    };
  };
  s->Submit(
      [f](WriteTxn& b) {
        b.Put(f, "a", "1");
        b.Put(f, "gone", "x");
        return absl::OkStatus();
      },
      record(0));
  first_commit_started.WaitForNotification();
  // Group 1 is held in its commit: not visible outside yet.
  EXPECT_FALSE(s->Get(f, "a")->has_value());
  s->Submit(
      [f](WriteTxn& b) {
        auto a = b.Get(f, "a");
        if (!a.ok() || !a->has_value()) return absl::InternalError("did not read the last group");
        b.Put(f, "b", **a + "+1");
        b.Delete(f, "gone");
        return absl::OkStatus();
      },
      record(1));
  s->Submit(
      [f](WriteTxn& b) {
        if (b.Get(f, "gone")->has_value())
          return absl::InternalError("saw a key deleted earlier in the group");
        b.Delete(f, "a");
        return absl::AbortedError("roll back my delete");
      },
      record(2));
  s->Submit(
      [f](WriteTxn& b) {
        auto a = b.Get(f, "a");
        if (!a.ok() || !a->has_value())
          return absl::InternalError("a rolled-back delete hid a key");
        return absl::OkStatus();
      },
      record(3));
  // Group 1 is still not durable, so nothing is answered and nothing shows.
  EXPECT_EQ(done.load(), 0);
  EXPECT_FALSE(s->Get(f, "a")->has_value());
  release_first_commit.Notify();
  ASSERT_TRUE(testing::WaitFor([&] { return done.load() == 4; }, absl::Seconds(30)));
  EXPECT_TRUE(results[0].ok());
  EXPECT_TRUE(results[1].ok()) << results[1];
  EXPECT_EQ(results[2].code(), absl::StatusCode::kAborted) << results[2];
  EXPECT_TRUE(results[3].ok()) << results[3];
  EXPECT_EQ(**s->Get(f, "b"), "1+1");
  EXPECT_FALSE(s->Get(f, "gone")->has_value());
  EXPECT_EQ(**s->Get(f, "a"), "1");
}

// Within one mutation and across a group, a read sees the latest write of
// the key (a put after a put, a delete after a put, a put after a delete).
TEST(Store, ReadsSeeTheLatestWriteOfAKey) {
  testing::TempDir dir;
  auto store = Store::Open(Opts(dir.Join("db")));
  ASSERT_TRUE(store.ok());
  Store* s = store->get();
  auto* f = s->Family("things");
  ASSERT_TRUE(s->CommitAndWait([f](WriteTxn& b) -> absl::Status {
                 b.Put(f, "k", "one");
                 b.Put(f, "k", std::string(5000, 'x'));  // the batch grows past its first block
                 if (**b.Get(f, "k") != std::string(5000, 'x')) return absl::InternalError("put");
                 b.Delete(f, "k");
                 if (b.Get(f, "k")->has_value()) return absl::InternalError("delete");
                 b.Put(f, "k", "three");
                 if (**b.Get(f, "k") != "three") return absl::InternalError("put after delete");
                 b.Put(f, "other", "");
                 auto empty = b.Get(f, "other");
                 if (!empty->has_value() || !(*empty)->empty()) return absl::InternalError("empty");
                 return absl::OkStatus();
               }).ok());
  EXPECT_EQ(**s->Get(f, "k"), "three");
  EXPECT_EQ(**s->Get(f, "other"), "");
}

// A counter every mutation bumps is written once per group, not once per
// mutation; reads see each bump at once, a failed mutation's bump is undone,
// and the last value is what is durable.
TEST(Store, CoalescedWritesAreWrittenOncePerGroup) {
  testing::TempDir dir;
  prometheus::Registry registry;
  uint64_t entries = 0;
  {
    auto store = Store::Open(Opts(dir.Join("db"), &registry));
    ASSERT_TRUE(store.ok());
    Store* s = store->get();
    auto* f = s->Family("things");
    auto bump = [f](WriteTxn& b) -> absl::StatusOr<int> {
      auto v = b.Get(f, "counter");
      if (!v.ok()) return v.status();
      int n = 0;
      if (v->has_value() && !absl::SimpleAtoi(**v, &n)) return absl::InternalError("parse");
      b.PutCoalesced(f, "counter", absl::StrCat(n + 1));
      return n + 1;
    };
    absl::Notification release;
    std::atomic<int> done{0}, failed{0};
    s->Submit(
        [&](WriteTxn&) {
          release.WaitForNotification();
          return absl::OkStatus();
        },
        [&](absl::Status) { ++done; });
    constexpr int kQueued = 300;
    for (int i = 0; i < kQueued; ++i) {
      s->Submit(
          [&, i](WriteTxn& b) -> absl::Status {
            auto n = bump(b);
            if (!n.ok()) return n.status();
            // Every 10th mutation fails after its bump: the bump is undone.
            if (i % 10 == 9) return absl::AbortedError("undo my bump");
            b.Put(f, absl::StrCat("case/", *n), "");
            return absl::OkStatus();
          },
          [&](absl::Status st) {
            if (!st.ok()) ++failed;
            ++done;
          });
    }
    release.Notify();
    ASSERT_TRUE(testing::WaitFor([&] { return done.load() == kQueued + 1; }, absl::Seconds(60)));
    EXPECT_EQ(failed.load(), kQueued / 10);
    const int kept = kQueued - kQueued / 10;
    // The numbers handed out have no gaps: each failure's bump was undone.
    EXPECT_EQ(**s->Get(f, "counter"), absl::StrCat(kept));
    EXPECT_TRUE(s->Get(f, absl::StrCat("case/", kept))->has_value());
    EXPECT_FALSE(s->Get(f, absl::StrCat("case/", kept + 1))->has_value());
    uint64_t groups = 0;
    for (const auto& family : registry.Collect()) {
      if (family.name == "reception_store_commit_group_size") {
        groups = family.metric.at(0).histogram.sample_count;
      }
    }
    ASSERT_TRUE(s->db()->GetIntProperty(f, "rocksdb.num-entries-active-mem-table", &entries));
    // One case key per kept mutation, and the counter once per group that
    // bumped it (at most two groups: the held one and the rest).
    EXPECT_LE(groups, 2u);
    EXPECT_GE(entries, static_cast<uint64_t>(kept) + 1);
    EXPECT_LE(entries, static_cast<uint64_t>(kept) + groups);
  }
  auto store = Store::Open(Opts(dir.Join("db")));
  ASSERT_TRUE(store.ok());
  EXPECT_EQ(**(*store)->Get((*store)->Family("things"), "counter"), "270");
}

// A family written once and never again must not keep every later write's
// log alive: RocksDB deletes a log only once every family with data in it
// has flushed. The store's log stays under four times its memtable budget
// (here 16 MiB while 48 MiB are written), the memtables under the budget,
// and the rarely written value survives.
uint64_t LogBytes(const std::string& path) {
  uint64_t total = 0;
  for (const auto& e : std::filesystem::directory_iterator(path)) {
    if (e.path().extension() == ".log") total += e.file_size();
  }
  return total;
}

TEST(Store, TheLogAndTheMemtablesStayWithinTheBudget) {
  testing::TempDir dir;
  Store::Options o = Opts(dir.Join("db"));
  o.column_families = {"things", "rare"};
  o.sync = false;
  o.write_buffer_bytes = 4 << 20;
  {
    auto store = Store::Open(o);
    ASSERT_TRUE(store.ok()) << store.status();
    auto* things = (*store)->Family("things");
    auto* rare = (*store)->Family("rare");
    ASSERT_TRUE((*store)
                    ->CommitAndWait([rare](WriteTxn& b) {
                      b.Put(rare, "once", "kept");
                      return absl::OkStatus();
                    })
                    .ok());
    const std::string value(48 << 10, 'x');
    for (int i = 0; i < 1024; ++i) {
      ASSERT_TRUE((*store)
                      ->CommitAndWait([&, i](WriteTxn& b) {
                        b.Put(things, absl::StrCat("k", i), value);
                        return absl::OkStatus();
                      })
                      .ok());
    }
    // Flushes run in the background: wait until they have caught up.
    const uint64_t bound = 4 * o.write_buffer_bytes;
    auto memtables = [&] {
      uint64_t bytes = 0;
      (*store)->db()->GetAggregatedIntProperty(rocksdb::DB::Properties::kCurSizeAllMemTables,
                                               &bytes);
      return bytes;
    };
    EXPECT_TRUE(testing::WaitFor(
        [&] { return LogBytes(o.path) <= bound && memtables() <= o.write_buffer_bytes; },
        absl::Seconds(30)))
        << LogBytes(o.path) << " bytes of log (bound " << bound << "), " << memtables()
        << " bytes of memtables (budget " << o.write_buffer_bytes << ")";
  }
  auto store = Store::Open(o);
  ASSERT_TRUE(store.ok());
  EXPECT_EQ(**(*store)->Get((*store)->Family("rare"), "once"), "kept");
  EXPECT_EQ((**(*store)->Get((*store)->Family("things"), "k1023")).size(), 48u << 10);
}

TEST(Store, OpenFailsClearlyOnABadPath) {
  testing::TempDir dir;
  testing::WriteFile(dir.Join("file"), "x");
  auto store = Store::Open(Opts(dir.Join("file/db")));
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace reception
