// The deadline engine on random calendars and dates.
//
// Input (FuzzedDataProvider): how the shipped calendar is changed (its
// published years dropped so the statutes derive them, wire bytes merged
// into it), the facts of a matter, the day of the event, then pauses and
// extensions. Invariants: no crash or sanitizer report; every clock the
// engine could count starts on the event and is due on a working day after
// it; a pause never brings a due date earlier; a granted extension moves it
// later.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstdint>
#include <string>

#include "services/calendar/deadline_engine.h"
#include "services/common/civil_date.h"
#include "services/common/yaml_proto.h"
#include "tests/fuzz/fuzz_world.h"

namespace {

using reception::fuzz::Require;
using namespace reception;

// The shipped calendar as a file, to change before it is validated.
const config::v1::WorkingCalendarFile& CalendarFile() {
  static const auto* file = [] {
    auto* f = new config::v1::WorkingCalendarFile;
    auto st = LoadYamlFile(testing::SourcePath("deploy/calendars/vn-2025-2026.yaml"), f);
    Require(st.ok(), "the shipped calendar", st);
    return f;
  }();
  return *file;
}

absl::CivilDay Due(const cases::v1::DeadlineClock& c) {
  auto d = ToCivilDay(c.due_date(), "due_date");
  Require(d.ok(), "a counted clock has a real due date", d.status());
  return *d;
}

void CheckClock(const WorkingCalendar& cal, const cases::v1::DeadlineClock& c,
                absl::CivilDay event) {
  if (!c.problem().empty() || c.state() != cases::v1::CLOCK_STATE_RUNNING) return;
  const absl::CivilDay due = Due(c);
  Require(due > event, "due after the event");
  auto working = cal.IsWorkingDay(due);
  Require(!working.ok() || *working, "due on a working day");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  config::v1::WorkingCalendarFile file = CalendarFile();
  if (in.ConsumeBool()) file.clear_years();
  if (in.ConsumeBool() && !file.MergeFromString(in.ConsumeRandomLengthString(256))) return 0;
  auto cal = WorkingCalendar::FromProto(std::move(file), "fuzz");
  if (!cal.ok()) return 0;
  const DeadlineEngine engine(&*cal, reception::fuzz::ShippedData().rules.get());
  ClockFacts facts;
  facts.kind = static_cast<cases::v1::CaseKind>(in.ConsumeIntegralInRange<int>(0, 4));
  facts.round = static_cast<cases::v1::ComplaintRound>(in.ConsumeIntegralInRange<int>(0, 3));
  facts.remote_area = in.ConsumeBool();
  facts.complexity = static_cast<cases::v1::Complexity>(in.ConsumeIntegralInRange<int>(0, 4));
  const absl::CivilDay event =
      absl::CivilDay(2024, 1, 1) + in.ConsumeIntegralInRange<int>(0, 365 * 12);
  const auto trigger = static_cast<ClockTrigger>(in.ConsumeIntegralInRange<int>(0, 4));
  auto clocks = engine.Start(trigger, facts, event);
  if (!clocks.ok()) return 0;
  for (auto& c : *clocks) {
    CheckClock(*cal, c, event);
    if (!c.problem().empty() || c.state() != cases::v1::CLOCK_STATE_RUNNING) continue;
    const absl::CivilDay before = Due(c);
    if (in.ConsumeBool()) {
      const absl::CivilDay first = event + in.ConsumeIntegralInRange<int>(0, 60);
      const absl::CivilDay resumed = first + in.ConsumeIntegralInRange<int>(0, 60);
      engine.Pause(c, first, facts);
      engine.Resume(c, resumed, facts);
      if (c.problem().empty() && c.state() == cases::v1::CLOCK_STATE_RUNNING) {
        Require(Due(c) >= before, "a pause never brings the due date earlier");
        CheckClock(*cal, c, event);
      }
    }
    if (in.ConsumeBool() && c.problem().empty() && c.state() == cases::v1::CLOCK_STATE_RUNNING) {
      const absl::CivilDay was = Due(c);
      const int days = in.ConsumeIntegralInRange<int>(-5, 90);
      auto st =
          engine.Extend(c, facts, "1/QĐ", event + in.ConsumeIntegralInRange<int>(0, 90), days);
      if (st.ok() && c.problem().empty()) {
        Require(days > 0 && Due(c) > was, "an extension moves the due date later");
        CheckClock(*cal, c, event);
      }
    }
  }
  std::optional<absl::CivilDay> accepted;
  if (in.ConsumeBool()) accepted = event + in.ConsumeIntegralInRange<int>(0, 30);
  auto preview = engine.Preview(facts, event, accepted);
  (void)preview;
  return 0;
}
