// Scheduling benchmark: a year of reception calendars for a province with
// 250 communes. Measures, in one run:
//   1. in process, on the shipped calendar and rule packs: generating each
//      commune's planned days for 2026 (regular days and two periodic days a
//      month, moved off days off) and judging its compliance for 12 months
//      and 4 reporting quarters, against a bare walk of the same days
//      through the working calendar (the floor any plan generation pays);
//   2. through a real receptiond holding one commune's year (its plan and
//      its periodic sessions recorded): ListPlannedDays for the year and
//      GetComplianceReport for a quarter, against GetReceptionPlan (a read
//      of one small record) in the same run.
// Prints a Markdown section; with --write FILE replaces the section between
// its markers in FILE (BENCHMARKS.md).
//   scheduling_bench RECEPTIOND [--communes 250] [--rounds 5] [--calls 200] [--write BENCHMARKS.md]
#include <iostream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "reception/scheduling/v1/scheduling_service.grpc.pb.h"
#include "services/common/civil_date.h"
#include "services/common/test_support.h"
#include "services/scheduling/schedule_rules.h"
#include "tests/integration/node_process.h"
#include "tools/bench/bench_report.h"

namespace reception::testing {
namespace {

namespace sv = scheduling::v1;
using bench::Percentile;

template <typename Req, typename Resp>
double Timed(sv::SchedulingService::Stub* stub,
             grpc::Status (sv::SchedulingService::Stub::*m)(grpc::ClientContext*, const Req&,
                                                            Resp*),
             const Req& req, const std::string& role = "officer") {
  grpc::ClientContext ctx;
  AddPrincipal(&ctx, role, "48-29", "officer.bench");
  Resp out;
  const absl::Time t0 = absl::Now();
  grpc::Status s = (stub->*m)(&ctx, req, &out);
  const double ms = absl::ToDoubleMilliseconds(absl::Now() - t0);
  if (!s.ok()) {
    std::cerr << "error: " << s.error_message() << "\n";
    std::exit(1);
  }
  return ms;
}

int Main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: scheduling_bench RECEPTIOND [--communes N] [--rounds N] [--calls N] "
                 "[--write FILE]\n";
    return 2;
  }
  int communes = 250, rounds = 5, calls = 200;
  std::string write;
  for (int i = 2; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    if (k == "--communes") (void)absl::SimpleAtoi(v, &communes);
    if (k == "--rounds") (void)absl::SimpleAtoi(v, &rounds);
    if (k == "--calls") (void)absl::SimpleAtoi(v, &calls);
    if (k == "--write") write = v;
  }
  auto calendar = WorkingCalendar::LoadFile(SourcePath("deploy/calendars/vn-2025-2026.yaml"));
  auto rules = RuleBook::LoadFile(SourcePath("deploy/rules/vn.yaml"));
  if (!calendar.ok() || !rules.ok()) {
    std::cerr << "cannot load the shipped calendar or rules\n";
    return 1;
  }
  const absl::CivilDay first(2026, 1, 1), last(2026, 12, 31);

  // 1. In process: per round, every commune's year, and the bare walk.
  std::vector<double> walk_ms, plan_ms, report_ms;
  size_t planned_days = 0, spans = 0, gaps = 0;
  for (int round = 0; round < rounds; ++round) {
    absl::Time t0 = absl::Now();
    size_t working = 0;
    for (int c = 0; c < communes; ++c) {
      for (absl::CivilDay d = first; d <= last; ++d) working += *calendar->IsWorkingDay(d);
    }
    walk_ms.push_back(absl::ToDoubleMilliseconds(absl::Now() - t0));
    std::vector<std::vector<scheduling::PlannedDay>> plans(communes);
    t0 = absl::Now();
    for (int c = 0; c < communes; ++c) {
      sv::ReceptionPlan plan;
      plan.set_opens("07:30");
      plan.set_closes("17:00");
      plan.add_periodic_days()->set_day_of_month(1 + c % 14);
      plan.add_periodic_days()->set_day_of_month(15 + c % 14);
      plans[c] = *scheduling::PlannedDays(plan, *calendar, first, last);
    }
    plan_ms.push_back(absl::ToDoubleMilliseconds(absl::Now() - t0));
    planned_days = 0;
    for (const auto& p : plans) planned_days += p.size();
    t0 = absl::Now();
    spans = gaps = 0;
    for (int c = 0; c < communes; ++c) {
      std::vector<scheduling::HeldDay> held;
      int k = 0;
      for (const auto& d : plans[c]) {
        // Nine in ten planned periodic days are held.
        if (d.kind == sv::DAY_KIND_PERIODIC && ++k % 10 != 0)
          held.push_back({d.day, "Chủ tịch", sv::PRESIDING_ROLE_HEAD});
      }
      const std::string unit = absl::StrCat("49-", c + 1);
      for (int m = 1; m <= 12; ++m) {
        auto range = scheduling::ReportRange(sv::REPORT_PERIOD_MONTH, 2026, m, *rules);
        auto r = scheduling::Compliance(unit, type::v1::UNIT_LEVEL_COMMUNE, range->first,
                                        range->second, held, plans[c], *rules);
        spans += r->spans_size();
        gaps += r->gaps();
      }
      for (int q = 1; q <= 4; ++q) {
        auto range = scheduling::ReportRange(sv::REPORT_PERIOD_QUARTER, 2026, q, *rules);
        auto r = scheduling::Compliance(unit, type::v1::UNIT_LEVEL_COMMUNE, range->first,
                                        range->second, held, plans[c], *rules);
        spans += r->spans_size();
      }
    }
    report_ms.push_back(absl::ToDoubleMilliseconds(absl::Now() - t0));
    if (working == 0) return 1;
  }

  // 2. Through a real node: one commune's year.
  TempDir dir;
  WriteFile(dir.Join("today"), "2026-12-31\n");
  NodeProcess::Options o;
  o.binary = argv[1];
  o.unit_code = "48-29";
  o.work_dir = dir.path();
  o.extra_args = {"--clock_file", dir.Join("today")};
  NodeProcess node(o);
  if (auto s = node.Start(); !s.ok()) {
    std::cerr << s << "\n" << ReadFile(node.log_path());
    return 1;
  }
  auto stub = sv::SchedulingService::NewStub(node.NewChannel());
  sv::SetReceptionPlanRequest set;
  set.mutable_plan()->set_opens("07:30");
  set.mutable_plan()->set_closes("17:00");
  set.mutable_plan()->add_periodic_days()->set_day_of_month(5);
  set.mutable_plan()->add_periodic_days()->set_day_of_month(20);
  Timed(stub.get(), &sv::SchedulingService::Stub::SetReceptionPlan, set);
  auto year = scheduling::PlannedDays(set.plan(), *calendar, first, last);
  int sessions = 0;
  for (const auto& d : *year) {
    if (d.kind != sv::DAY_KIND_PERIODIC) continue;
    sv::CreateSessionRequest create;
    auto* x = create.mutable_session();
    x->set_kind(sv::SESSION_KIND_PERIODIC);
    *x->mutable_date() = ToProtoDate(d.day);
    x->set_start("07:30");
    x->set_end("11:00");
    x->set_presiding("Chủ tịch UBND xã");
    grpc::ClientContext ctx;
    AddPrincipal(&ctx, "officer", "48-29", "officer.bench");
    sv::Session s;
    if (!stub->CreateSession(&ctx, create, &s).ok()) continue;
    sv::RecordSessionRequest rec;
    rec.set_name(s.name());
    rec.mutable_record()->set_presided_by("Chủ tịch");
    rec.mutable_record()->set_presiding_role(sv::PRESIDING_ROLE_HEAD);
    rec.mutable_record()->set_citizens(4);
    Timed(stub.get(), &sv::SchedulingService::Stub::RecordSession, rec, "head");
    ++sessions;
  }
  std::vector<double> get_plan, list_days, report;
  sv::ListPlannedDaysRequest days;
  *days.mutable_from() = ToProtoDate(first);
  *days.mutable_to() = ToProtoDate(last);
  sv::GetComplianceReportRequest quarter;
  quarter.set_period(sv::REPORT_PERIOD_QUARTER);
  quarter.set_year(2026);
  quarter.set_number(3);
  for (int i = 0; i < calls; ++i) {
    get_plan.push_back(Timed(stub.get(), &sv::SchedulingService::Stub::GetReceptionPlan,
                             sv::GetReceptionPlanRequest()));
    list_days.push_back(Timed(stub.get(), &sv::SchedulingService::Stub::ListPlannedDays, days));
    report.push_back(Timed(stub.get(), &sv::SchedulingService::Stub::GetComplianceReport, quarter));
  }
  node.Stop();

  const double walk = Percentile(walk_ms, 0.5), plan = Percentile(plan_ms, 0.5),
               rep = Percentile(report_ms, 0.5);
  std::string md = absl::StrFormat(
      "## Reception calendars for a province of %d communes (%s, commit %s)\n\n"
      "One run of `scheduling_bench` (tools/bench/scheduling_bench.cc) on this machine.\n\n"
      "In process, on the shipped 2025-2026 calendar and rule packs, median of %d rounds: each "
      "commune's "
      "2026 plan (regular reception on working days, two periodic days a month moved off days off; "
      "%zu planned "
      "days in all) and its compliance judged for 12 months and 4 reporting quarters (%zu spans, "
      "%zu gaps, "
      "nine in ten planned days held), against a bare walk of the same days through the working "
      "calendar.\n\n"
      "| work, %d communes x one year | ms | per commune ms | vs the calendar walk "
      "|\n|---|---|---|---|\n"
      "| calendar walk (365 lookups each) | %.2f | %.4f | 1x |\n"
      "| plan generation | %.2f | %.4f | %.1fx |\n"
      "| compliance, 12 months + 4 quarters | %.2f | %.4f | %.1fx |\n\n"
      "Through a real receptiond holding one commune's year (its plan and %d periodic sessions "
      "recorded), "
      "%d sequential calls each, compared with GetReceptionPlan (one small record) in the same "
      "run:\n\n"
      "| call | p50 ms | p99 ms | p50 vs GetReceptionPlan |\n|---|---|---|---|\n"
      "| GetReceptionPlan | %.3f | %.3f | 1x |\n"
      "| ListPlannedDays, a whole year | %.3f | %.3f | %.1fx |\n"
      "| GetComplianceReport, a quarter | %.3f | %.3f | %.1fx |\n",
      communes, bench::Today(), bench::GitCommit(RECEPTION_SOURCE_DIR), rounds, planned_days, spans,
      gaps, communes, walk, walk / communes, plan, plan / communes, plan / walk, rep,
      rep / communes, rep / walk, sessions, calls, Percentile(get_plan, 0.5),
      Percentile(get_plan, 0.99), Percentile(list_days, 0.5), Percentile(list_days, 0.99),
      Percentile(list_days, 0.5) / Percentile(get_plan, 0.5), Percentile(report, 0.5),
      Percentile(report, 0.99), Percentile(report, 0.5) / Percentile(get_plan, 0.5));
  std::cout << md;
  if (!write.empty()) bench::WriteSection(write, "scheduling", md);
  return 0;
}

}  // namespace
}  // namespace reception::testing

int main(int argc, char** argv) { return reception::testing::Main(argc, argv); }
