// Micro-benchmark of the store's write path: one durable commit at a time
// versus many concurrent submitters sharing group commits.
#include <atomic>

#include "absl/strings/str_cat.h"
#include "benchmark/benchmark.h"
#include "services/common/store.h"

namespace reception {
namespace {

void BM_DurableCommit(benchmark::State& state) {
  char tmpl[] = "/tmp/reception-bench-XXXXXX";
  std::string dir = mkdtemp(tmpl);
  Store::Options o;
  o.path = dir + "/db";
  o.column_families = {"things"};
  auto store = Store::Open(o);
  auto* f = (*store)->Family("things");
  const std::string value(1024, 'x');
  const int inflight = static_cast<int>(state.range(0));
  int64_t n = 0;
  for (auto _ : state) {
    std::atomic<int> done{0};
    for (int i = 0; i < inflight; ++i) {
      (*store)->Submit(
          [&, k = n++](WriteTxn& b) {
            b.Put(f, absl::StrCat(k), value);
            return absl::OkStatus();
          },
          [&](absl::Status) { ++done; });
    }
    while (done.load() < inflight) {
    }
  }
  state.SetItemsProcessed(n);
  store->reset();
  std::system(absl::StrCat("rm -rf ", dir).c_str());
}
BENCHMARK(BM_DurableCommit)->Arg(1)->Arg(16)->Arg(64)->UseRealTime();

}  // namespace
}  // namespace reception

BENCHMARK_MAIN();
