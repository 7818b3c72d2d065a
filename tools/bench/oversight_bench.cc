// Oversight benchmarks (issue 14), one run each, written to BENCHMARKS.md:
//  1. catch-up: a ward registers N cases while its district is down; the
//     district restarts; seconds until the province's report counts all N;
//  2. steady-state lag: a ward's acknowledged CreateCase until the province's
//     GetCase finds the replica, p50/p99 over sequential cases;
//  3. CreateCase throughput at a followed node against an unfollowed one,
//     alternated in the same run;
//  4. a subtree ListCases page and a quarter's report over M replicas,
//     in process on one store (the same code the node serves, without gRPC).
//   oversight_bench RECEPTIOND [--backlog 10000] [--samples 200]
//                   [--replicas 1000000] [--in-process-only] [--create-only]
//                   [--write BENCHMARKS.md]
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <iostream>
#include <iterator>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/notification.h"
#include "reception/cases/v1/case_service.grpc.pb.h"
#include "services/calendar/deadline_engine.h"
#include "services/case/case_registry.h"
#include "services/common/civil_date.h"
#include "services/common/clock.h"
#include "services/common/identity_vault.h"
#include "services/common/test_support.h"
#include "tests/integration/federation_harness.h"
#include "tools/bench/bench_report.h"

namespace reception::testing {
namespace {

constexpr char kFollow[] =
    "federation:\n  retry_initial_millis: 100\n  retry_max_millis: 1000\n"
    "  follow:\n    heartbeat_millis: 500\n";

int64_t Received(Client& c) {
  v1::GetCaseReportRequest r;
  r.set_period(v1::CASE_REPORT_PERIOD_MONTH);
  r.set_year(2025);
  r.set_number(6);
  auto rep = c.Call(c.cases(), &v1::CaseService::Stub::GetCaseReport, r, "viewer");
  if (!rep.ok()) return -1;
  for (const auto& n : rep->total().counts()) {
    if (n.figure() == v1::REPORT_FIGURE_RECEIVED && !n.kind() && !n.channel()) return n.count();
  }
  return -1;
}

// A distinct petitioner per case (one citizen's thousands of cases would
// make duplicate detection, not following, the cost being measured).
std::atomic<int> g_citizen{0};

// Calls that failed in CreateMany (reported beside the rates).
std::atomic<int> g_failed{0};

// `n` CreateCase calls on `threads` threads; returns the successful calls
// per second.
double CreateMany(NodeProcess& node, const std::string& unit, const std::string& prefix, int n,
                  int threads) {
  std::atomic<int> next{0}, failed{0}, ok{0};
  const absl::Time start = absl::Now();
  std::vector<std::thread> ts;
  for (int t = 0; t < threads; ++t) {
    ts.emplace_back([&] {
      Client c(node, unit);
      for (int i; (i = next++) < n;) {
        auto r = SampleCase(v1::CASE_KIND_PETITION, absl::StrCat(prefix, i), unit,
                            absl::CivilDay(2025, 6, 16), absl::StrCat("Kiến nghị số ", i));
        r.mutable_case_()->mutable_petitioners(0)->set_citizen_id(
            absl::StrFormat("049%09d", g_citizen++));
        auto out = c.Call(c.cases(), &v1::CaseService::Stub::CreateCase, r);
        if (out.ok()) {
          ++ok;
        } else if (failed++ == 0) {
          std::cerr << "create failed: " << out.status() << "\n";
        }
      }
    });
  }
  for (auto& t : ts) t.join();
  g_failed += failed;
  return ok / absl::ToDoubleSeconds(absl::Now() - start);
}

// CPU seconds (user + system) process `pid` has used so far.
double CpuSeconds(pid_t pid) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/stat"));
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // Fields after the command name (which may hold spaces) end at ')'.
  const size_t close = stat.rfind(')');
  if (close == std::string::npos) return 0;
  std::vector<std::string> fields = absl::StrSplit(stat.substr(close + 2), ' ');
  // utime and stime are fields 14 and 15 of the line, 12 and 13 here.
  long utime = 0, stime = 0;
  if (fields.size() < 13 || !absl::SimpleAtoi(fields[11], &utime) ||
      !absl::SimpleAtoi(fields[12], &stime)) {
    return 0;
  }
  return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

struct InProcess {
  double list_ms = 0, list_overdue_ms = 0, report_ms = 0, apply_s = 0;
};

// M replicas applied to one registry's store, then listed and reported.
InProcess OneMillion(int m) {
  InProcess out;
  TempDir dir;
  auto topology = *Topology::LoadFile(SourcePath("deploy/topology/da-nang-2025.yaml"));
  auto rules = *RuleBook::LoadFile(SourcePath("deploy/rules/vn.yaml"));
  auto calendar = *WorkingCalendar::LoadFile(SourcePath("deploy/calendars/vn-2025-2026.yaml"));
  DeadlineEngine deadlines(&calendar, &rules);
  Store::Options o;
  o.path = dir.Join("case");
  o.column_families = CaseRegistry::ColumnFamilies();
  o.prefix_lengths = CaseRegistry::PrefixLengths();
  auto store = *Store::Open(o);
  auto vault = *IdentityVault::Open(dir.Join("identity.keys"), true);
  FakeClock clock(absl::FromCivil(absl::CivilSecond(2026, 11, 27, 9, 0, 0), VietnamTimeZone()));
  CaseRegistry::Deps deps;
  deps.store = store.get();
  deps.vault = vault.get();
  deps.topology = &topology;
  deps.rules = &rules;
  deps.deadlines = &deadlines;
  deps.clock = &clock;
  deps.unit_code = "48";
  CaseRegistry registry(deps);
  const absl::Time start = absl::Now();
  // Thirty wards, each followed directly (its own feed and checkpoint).
  const int kPage = 1000, kWards = 30;
  for (int ward = 1; ward <= kWards; ++ward) {
    const std::string unit = absl::StrCat("48-", ward);
    const int count = m / kWards;
    for (int base = 0; base < count; base += kPage) {
      federation::v1::CaseFeedPage page;
      for (int j = base; j < std::min(count, base + kPage); ++j) {
        const int i = j * kWards + ward;
        const std::string number = absl::StrFormat("%s-2026-%06d", unit, j + 1);
        auto* e = page.add_entries();
        e->set_sequence(j + 1);
        e->set_origin_unit(unit);
        v1::Case& c = *e->mutable_case_();
        c.set_name("cases/" + number);
        c.set_number(number);
        c.set_kind(i % 3 == 0 ? v1::CASE_KIND_COMPLAINT : v1::CASE_KIND_PETITION);
        c.set_channel(i % 5 == 0 ? v1::CHANNEL_ONLINE_SESSION : v1::CHANNEL_IN_PERSON);
        c.set_state(v1::CASE_STATE_ACCEPTED);
        c.set_owner_unit(unit);
        c.set_version(3);
        c.mutable_reception_unit()->set_code(unit);
        const absl::CivilDay received = absl::CivilDay(2026, 1, 1) + i % 330;
        *c.mutable_received_date() = ToProtoDate(received);
        *c.mutable_acceptance()->mutable_date() = ToProtoDate(received + 3);
        auto* k = c.add_clocks();
        k->set_step(v1::DEADLINE_STEP_SETTLE);
        k->set_state(v1::CLOCK_STATE_RUNNING);
        *k->mutable_due_date() = ToProtoDate(received + 45);
        *c.mutable_due_date() = ToProtoDate(received + 45);
        c.set_content(absl::StrCat("Kiến nghị về việc cấp phép xây dựng số ", i));
        c.add_petitioners()->set_full_name("Nguyễn Văn Bình");
      }
      page.set_last_sequence(std::min(count, base + kPage));
      page.set_head_sequence(count);
      absl::Notification done;
      registry.replicas().Apply(unit, page, [&](absl::StatusOr<int> n) {
        if (!n.ok()) std::cerr << n.status() << "\n";
        done.Notify();
      });
      done.WaitForNotification();
    }
  }
  out.apply_s = absl::ToDoubleSeconds(absl::Now() - start);
  Principal viewer{"bench", Role::kViewer, "48"};
  auto time_ms = [](const std::function<void()>& fn) {
    std::vector<double> v;
    for (int i = 0; i < 7; ++i) {
      const absl::Time t = absl::Now();
      fn();
      v.push_back(absl::ToDoubleMilliseconds(absl::Now() - t));
    }
    return bench::Percentile(v, 0.5);
  };
  v1::ListCasesRequest list;
  list.set_scope(v1::LIST_SCOPE_SUBTREE);
  list.set_page_size(50);
  out.list_ms = time_ms([&] { (void)registry.ListCases(viewer, list); });
  list.set_overdue(true);
  out.list_overdue_ms = time_ms([&] { (void)registry.ListCases(viewer, list); });
  v1::GetCaseReportRequest report;
  report.set_period(v1::CASE_REPORT_PERIOD_QUARTER);
  report.set_year(2026);
  report.set_number(2);
  out.report_ms = time_ms([&] { (void)registry.GetCaseReport(viewer, report); });
  return out;
}

int Main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: oversight_bench RECEPTIOND [--backlog N] [--samples N] [--replicas N] "
                 "[--write FILE]\n";
    return 2;
  }
  const std::string receptiond = argv[1];
  int backlog = 10000, samples = 200, replicas = 1000000;
  std::string write;
  bool nodes = true;  // --in-process-only: the million-replica part alone
  for (int i = 2; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    if (k == "--backlog") (void)absl::SimpleAtoi(v, &backlog);
    if (k == "--samples") (void)absl::SimpleAtoi(v, &samples);
    if (k == "--replicas") (void)absl::SimpleAtoi(v, &replicas);
    if (k == "--write") write = v;
  }
  bool create_only = false;  // --create-only: part 3 alone, printed, never written
  for (int i = 2; i < argc; ++i) {
    nodes = nodes && std::string(argv[i]) != "--in-process-only";
    create_only = create_only || std::string(argv[i]) == "--create-only";
  }
  if (create_only) write.clear();
  std::string md;
  if (nodes && !create_only) {
    Federation f(receptiond, {"49", "502", "502-1"}, "2025-06-16",
                 "deploy/topology/quang-nam-2024.yaml", kFollow);
    f.StartAll();
    Client ward(f.node("502-1"), "502-1");
    Client province(f.node("49"), "49");
    // 2. Steady-state lag, link up.
    std::vector<double> lag_ms;
    for (int i = 0; i < samples; ++i) {
      auto r = SampleCase(v1::CASE_KIND_PETITION, absl::StrCat("lag-", i), "502-1",
                          absl::CivilDay(2025, 6, 16), "Kiến nghị về đường giao thông");
      auto c = ward.Call(ward.cases(), &v1::CaseService::Stub::CreateCase, r);
      if (!c.ok()) continue;
      const absl::Time acked = absl::Now();
      while (!province.Get(c->name()).ok()) absl::SleepFor(absl::Milliseconds(2));
      lag_ms.push_back(absl::ToDoubleMilliseconds(absl::Now() - acked));
    }
    // 1. Catch-up through the district.
    f.node("502").Stop();
    const double rate = CreateMany(f.node("502-1"), "502-1", "backlog-", backlog, 8);
    const int64_t expected = samples + backlog;
    (void)f.node("502").Start();
    const absl::Time back = absl::Now();
    while (Received(province) < expected && absl::Now() - back < absl::Minutes(5)) {
      absl::SleepFor(absl::Milliseconds(50));
    }
    const double catch_up_s = absl::ToDoubleSeconds(absl::Now() - back);
    const int64_t got = Received(province);
    absl::StrAppend(
        &md, "Catch-up (three levels of Quảng Nam, mTLS, one machine): ward 502-1 registered ",
        backlog, " cases while its district was down (", absl::StrFormat("%.0f", rate),
        " creates/s); from the district's restart until the province's report counted all ",
        expected, ": **", absl::StrFormat("%.2f s", catch_up_s), "** (target < 10 s; counted ", got,
        ").\n\n",
        "Steady-state lag, ward's acknowledged CreateCase -> province's GetCase finds it, ",
        lag_ms.size(), " sequential cases: p50 **",
        absl::StrFormat("%.1f ms", bench::Percentile(lag_ms, 0.5)), "**, p99 **",
        absl::StrFormat("%.1f ms", bench::Percentile(lag_ms, 0.99)), "** (target p99 < 1 s).\n\n");
  }
  if (nodes) {
    // 3. CreateCase at a followed ward (its district follows it) against an
    // unfollowed one (the same two processes, the district's following
    // turned off), alternated. On one machine the district's applying
    // shares the cores with the ward being measured.
    Federation followed(receptiond, {"502", "502-1"}, "2025-06-16",
                        "deploy/topology/quang-nam-2024.yaml", kFollow);
    followed.StartAll();
    Federation alone(receptiond, {"502", "502-1"}, "2025-06-16",
                     "deploy/topology/quang-nam-2024.yaml",
                     absl::StrCat(kFollow, "    disabled: true\n"));
    alone.StartAll();
    std::vector<double> ratios, cpu_ratios;
    std::string rounds, cpu_rounds;
    const pid_t ward_alone = alone.node("502-1").pid(), ward = followed.node("502-1").pid();
    const pid_t district = followed.node("502").pid();
    std::cerr << "pids: followed ward " << ward << ", unfollowed ward " << ward_alone
              << ", following district " << district << "\n";
    for (int round = 0; round < 5; ++round) {
      constexpr int kCalls = 5000;
      double cpu0 = CpuSeconds(ward_alone);
      const double a =
          CreateMany(alone.node("502-1"), "502-1", absl::StrCat("u", round, "-"), kCalls, 16);
      const double cpu_alone = CpuSeconds(ward_alone) - cpu0;
      cpu0 = CpuSeconds(ward);
      const double district0 = CpuSeconds(district);
      const double b =
          CreateMany(followed.node("502-1"), "502-1", absl::StrCat("f", round, "-"), kCalls, 16);
      const double cpu_followed = CpuSeconds(ward) - cpu0;
      const double cpu_district = CpuSeconds(district) - district0;
      ratios.push_back(b / a);
      absl::StrAppend(&rounds, absl::StrFormat(" %.0f vs %.0f (%.2f);", b, a, b / a));
      // Calls per CPU-second of the ward itself: what being followed costs
      // the followed node, wherever its follower runs.
      const double us_followed = 1e6 * cpu_followed / kCalls;
      const double us_alone = 1e6 * cpu_alone / kCalls;
      cpu_ratios.push_back(us_alone / us_followed);
      absl::StrAppend(&cpu_rounds, absl::StrFormat(" %.0f vs %.0f us (%.2f; the district %.0f us);",
                                                   us_followed, us_alone, us_alone / us_followed,
                                                   1e6 * cpu_district / kCalls));
    }
    absl::StrAppend(
        &md,
        "CreateCase at a followed ward against an unfollowed one (16 concurrent clients, 5 rounds "
        "of 5000 calls, alternated). The ward's own CPU per call, followed vs unfollowed (the cost "
        "of "
        "being followed, wherever the follower runs; the district's CPU per ward call in "
        "brackets):",
        cpu_rounds, " median **", absl::StrFormat("%.2fx", bench::Percentile(cpu_ratios, 0.5)),
        "** calls per ward CPU-second (target >= 0.95x). Calls/s on these 2 shared cores, where "
        "the district's applying competes with the ward:",
        rounds, " median **", absl::StrFormat("%.2fx", bench::Percentile(ratios, 0.5)), "**; ",
        g_failed.load(), " calls failed.\n\n");
  }
  if (create_only) {
    std::cout << md;
    return 0;
  }
  const InProcess big = OneMillion(replicas);
  absl::StrAppend(&md, "Over ", replicas,
                  " followed cases in one store (in process, the node's code without gRPC; "
                  "applied in pages of 1000 in ",
                  absl::StrFormat("%.0f s", big.apply_s),
                  "), median of 7: a subtree ListCases "
                  "page of 50 **",
                  absl::StrFormat("%.2f ms", big.list_ms), "**, with overdue **",
                  absl::StrFormat("%.2f ms", big.list_overdue_ms),
                  "** (target < 50 ms); a quarter's report **",
                  absl::StrFormat("%.0f ms", big.report_ms), "** (target < 1 s).\n");
  const std::string section = absl::StrCat("### Oversight (", bench::Today(), ", commit ",
                                           bench::GitCommit(RECEPTION_SOURCE_DIR), ")\n\n", md);
  std::cout << section;
  if (!write.empty()) bench::WriteSection(write, "oversight", section);
  return 0;
}

}  // namespace
}  // namespace reception::testing

int main(int argc, char** argv) { return reception::testing::Main(argc, argv); }
