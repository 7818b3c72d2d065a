// The YAML loaders a node reads at start: topology, rule packs, working
// calendar and node configuration, with hostile files.
//
// Input: byte 0 picks the loader; the rest is the file. Invariants: no crash,
// hang or sanitizer report; what a loader accepts answers its queries (every
// unit found, every unit's ancestors reachable without a cycle, the pack in
// force on each pack's first day, working days on each listed year).
#include <cstdint>
#include <string>

#include "services/calendar/working_calendar.h"
#include "services/common/civil_date.h"
#include "services/common/node_config.h"
#include "services/common/rule_book.h"
#include "services/common/topology.h"
#include "services/common/yaml_proto.h"
#include "tests/fuzz/fuzz_world.h"

namespace {

using reception::fuzz::Require;

void FuzzTopology(const std::string& text) {
  reception::config::v1::Topology proto;
  if (!reception::ParseYaml(text, "fuzz.yaml", &proto).ok()) return;
  auto t = reception::Topology::FromProto(std::move(proto), "fuzz.yaml");
  if (!t.ok()) return;
  const absl::CivilDay day(2026, 11, 27);
  for (const auto& u : t->units()) {
    Require(t->Find(u.code()) != nullptr, "every unit is found by its code");
    Require(t->IsWithin(u.code(), u.code()), "a unit is within itself");
    (void)t->InForce(u.code(), day);
    (void)t->Children(u.code());
    if (!t->units().empty()) (void)t->CommonAncestor(u.code(), t->units().Get(0).code(), day);
  }
}

void FuzzRules(const std::string& text) {
  reception::config::v1::RuleSet proto;
  if (!reception::ParseYaml(text, "fuzz.yaml", &proto).ok()) return;
  const reception::config::v1::RuleSet copy = proto;
  auto book = reception::RuleBook::FromProto(std::move(proto), "fuzz.yaml");
  if (!book.ok()) return;
  for (const auto& pack : copy.packs()) {
    Require(book->FindPack(pack.id()) != nullptr, "every accepted pack is found by its id");
    auto first = reception::ToCivilDay(pack.effective_from(), "effective_from");
    Require(first.ok(), "an accepted pack has a real first day", first.status());
    auto on = book->PackOn(*first);
    Require(on.ok(), "a pack is in force on its first day", on.status());
  }
}

void FuzzCalendar(const std::string& text) {
  reception::config::v1::WorkingCalendarFile proto;
  if (!reception::ParseYaml(text, "fuzz.yaml", &proto).ok()) return;
  auto cal = reception::WorkingCalendar::FromProto(std::move(proto), "fuzz.yaml");
  if (!cal.ok()) return;
  for (int year = 2024; year <= 2028; ++year) {
    (void)cal->DeriveYear(year);
    auto next = cal->OnOrNextWorkingDay(absl::CivilDay(year, 1, 1));
    if (next.ok()) {
      auto working = cal->IsWorkingDay(*next);
      Require(!working.ok() || *working, "the next working day is a working day");
    }
  }
}

void FuzzNodeConfig(const std::string& text) {
  static reception::testing::TempDir dir;
  const std::string path = dir.Join("node.yaml");
  reception::testing::WriteFile(path, text);
  (void)reception::LoadNodeConfig(path, {});
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1 || size > 64 * 1024) return 0;
  const std::string text(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 4) {
    case 0:
      FuzzTopology(text);
      break;
    case 1:
      FuzzRules(text);
      break;
    case 2:
      FuzzCalendar(text);
      break;
    default:
      FuzzNodeConfig(text);
      break;
  }
  return 0;
}
