// The jurisdiction engine behind RouteCase, with hostile cases.
//
// Input: byte 0 picks the node (Quảng Nam's province, a district or a
// commune, or Đà Nẵng's city or a ward) and whether the case repeats a
// matter already guided; the rest is a Case's wire bytes merged into a valid
// first-time complaint (or parsed alone). Invariants: no crash or sanitizer
// report; a refusal is never INTERNAL, UNKNOWN or DATA_LOSS; a decision
// names a competent unit of the topology.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>

#include "services/common/civil_date.h"
#include "services/routing/routing_engine.h"
#include "tests/fuzz/fuzz_world.h"

namespace reception::fuzz {
namespace {

struct Node {
  const Topology* topology;
  std::unique_ptr<RoutingEngine> engine;
  std::string respondent;  // a unit below the node, in force on `received`
  absl::CivilDay received;
};

struct World {
  std::vector<Node> nodes;
};

World& Get() {
  static World* w = [] {
    auto* w = new World;
    const Shipped& data = ShippedData();
    auto add = [&](const Topology* t, const std::string& unit, std::set<std::string> peers,
                   const std::string& respondent, absl::CivilDay received) {
      w->nodes.push_back(
          {t, std::make_unique<RoutingEngine>(t, data.rules.get(), unit, std::move(peers)),
           respondent, received});
    };
    // Quảng Nam before the 2025 reorganisation (three levels), Đà Nẵng after.
    const absl::CivilDay before(2025, 3, 10), after(2026, 11, 20);
    add(data.quang_nam.get(), "49", {"502", "503"}, "502-1", before);
    add(data.quang_nam.get(), "502", {"49", "502-1"}, "502-1", before);
    add(data.quang_nam.get(), "502-1", {"502"}, "502-1", before);
    add(data.da_nang.get(), "48", {"48-1"}, "48-1", after);
    add(data.da_nang.get(), "48-1", {"48"}, "48-1", after);
    return w;
  }();
  return *w;
}

}  // namespace
}  // namespace reception::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace reception;
  using namespace reception::fuzz;
  if (size < 1) return 0;
  World& w = Get();
  const Node& node = w.nodes[data[0] % w.nodes.size()];
  const bool repeats_guided = (data[0] >> 4) & 1;
  cases::v1::Case c = ValidCase("routing", false).case_();
  c.set_name("cases/49-2026-000001");
  c.set_number("49-2026-000001");
  c.mutable_respondent()->set_unit_code(node.respondent);
  *c.mutable_received_date() = ToProtoDate(node.received);
  if ((data[0] >> 5) & 1) c.Clear();
  if (!c.MergeFromString(std::string(reinterpret_cast<const char*>(data) + 1, size - 1))) return 0;
  auto d = node.engine->Decide(c, repeats_guided);
  RequireClientError(d.status(), "Decide");
  Verbose(d.ok() ? routing::v1::RoutingAction_Name(d->action()).c_str() : "Decide", d.status());
  if (!d.ok()) return 0;
  if (!d->competent_unit().empty()) {
    Require(node.topology->Find(d->competent_unit()) != nullptr,
            "the competent unit is a unit of the topology");
  }
  return 0;
}
