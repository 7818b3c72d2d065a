#include "services/routing/routing_engine.h"

#include "gtest/gtest.h"
#include "services/common/civil_date.h"
#include "services/common/test_support.h"

namespace reception {
namespace {

namespace v1 = cases::v1;
using routing::v1::ROUTING_ACTION_GUIDE;
using routing::v1::ROUTING_ACTION_HANDLE_HERE;
using routing::v1::ROUTING_ACTION_TRANSFER;

struct Row {
  const char* why;
  const char* node;
  v1::CaseKind kind;
  v1::ComplaintRound round;
  const char* respondent;
  bool head;
  routing::v1::RoutingAction action;
  const char* competent;
  const char* rule;
  bool over_level;
};

v1::Case MakeCase(const Row& r, const char* received = "2025-06-16") {
  v1::Case c;
  c.set_name("cases/x-2025-000001");
  c.set_kind(r.kind);
  c.set_complaint_round(r.round);
  c.mutable_respondent()->set_unit_code(r.respondent);
  c.mutable_respondent()->set_head_of_unit(r.head);
  *c.mutable_received_date() = ToProtoDate(*ParseDate(received));
  return c;
}

TEST(RoutingEngine, ThreeLevelQuangNam) {
  auto topology = Topology::LoadFile(testing::SourcePath("deploy/topology/quang-nam-2024.yaml"));
  ASSERT_TRUE(topology.ok());
  auto rules = RuleBook::LoadFile(testing::SourcePath("deploy/rules/vn.yaml"));
  ASSERT_TRUE(rules.ok()) << rules.status();
  constexpr auto C = v1::CASE_KIND_COMPLAINT;
  constexpr auto D = v1::CASE_KIND_DENUNCIATION;
  constexpr auto P = v1::CASE_KIND_PETITION;
  constexpr auto first = v1::COMPLAINT_ROUND_FIRST;
  constexpr auto second = v1::COMPLAINT_ROUND_SECOND;
  constexpr auto none = v1::COMPLAINT_ROUND_UNSPECIFIED;
  const Row rows[] = {
      {"a first complaint about Tam Kỳ's chairman's decision, received at a commune, goes to Tam "
       "Kỳ",
       "502-1", C, first, "502", true, ROUTING_ACTION_TRANSFER, "502", "complaint-first-author",
       false},
      {"a second complaint about a commune's decision goes to the district above", "502-1", C,
       second, "502-1", false, ROUTING_ACTION_TRANSFER, "502", "complaint-second-above", false},
      {"a denunciation of a provincial official goes to the province", "502-1", D, none, "49",
       false, ROUTING_ACTION_TRANSFER, "49", "denunciation-manager", false},
      {"a denunciation of the district chairman himself goes to the level above", "49", D, none,
       "502", true, ROUTING_ACTION_HANDLE_HERE, "49", "denunciation-manager", false},
      {"a denunciation of a district official stays with the district", "502", D, none, "502",
       false, ROUTING_ACTION_HANDLE_HERE, "502", "denunciation-manager", false},
      {"a first complaint about a commune act sent to the province is over level: down to the "
       "commune",
       "49", C, first, "502-1", false, ROUTING_ACTION_TRANSFER, "502-1", "complaint-first-author",
       true},
      {"a petition goes to the body in charge (the generic rule)", "49", P, none, "502", false,
       ROUTING_ACTION_TRANSFER, "502", "petition-in-charge", true},
      {"no node for the competent unit: guide the citizen once", "502-1", C, first, "503", false,
       ROUTING_ACTION_GUIDE, "503", "complaint-first-author", false},
  };
  for (const Row& r : rows) {
    SCOPED_TRACE(r.why);
    RoutingEngine engine(&*topology, &*rules, r.node, {"49", "502", "502-1"});
    auto d = engine.Decide(MakeCase(r));
    ASSERT_TRUE(d.ok()) << d.status();
    EXPECT_EQ(d->action(), r.action) << d->explanation();
    EXPECT_EQ(d->competent_unit(), r.competent);
    EXPECT_EQ(d->rule_id(), r.rule);
    EXPECT_EQ(d->rule_pack(), "vn-2020-12");
    EXPECT_EQ(d->over_level(), r.over_level);
    EXPECT_FALSE(d->explanation().empty());
  }
}

TEST(RoutingEngine, TwoLevelDaNangAndMassCases) {
  auto topology = Topology::LoadFile(testing::SourcePath("deploy/topology/da-nang-2025.yaml"));
  auto rules = RuleBook::LoadFile(testing::SourcePath("deploy/rules/vn.yaml"));
  ASSERT_TRUE(topology.ok() && rules.ok());
  RoutingEngine engine(&*topology, &*rules, "48-1", {"48"});
  Row r{"",     "48-1", v1::CASE_KIND_COMPLAINT, v1::COMPLAINT_ROUND_SECOND,
        "48-1", false,  ROUTING_ACTION_TRANSFER, "48",
        "",     false};
  v1::Case c = MakeCase(r, "2026-08-03");
  c.set_mass_case(true);
  auto d = engine.Decide(c);
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->action(), ROUTING_ACTION_TRANSFER);
  EXPECT_EQ(d->competent_unit(), "48");  // two levels: the commune's parent is the city
  EXPECT_EQ(d->rule_pack(), "vn-2026-07");
  EXPECT_EQ(d->notify_unit(), "48");
  EXPECT_NE(d->explanation().find("mass case"), std::string::npos);
  // A respondent unit that did not exist on the received date is an error
  // naming the field.
  c.mutable_respondent()->set_unit_code("502");
  EXPECT_FALSE(engine.Decide(c).ok());
}

// Guide once: a repeat of a matter already guided is archived instead.
TEST(RoutingEngine, ARepeatOfAGuidedMatterIsArchived) {
  auto topology = Topology::LoadFile(testing::SourcePath("deploy/topology/quang-nam-2024.yaml"));
  auto rules = RuleBook::LoadFile(testing::SourcePath("deploy/rules/vn.yaml"));
  ASSERT_TRUE(topology.ok() && rules.ok());
  RoutingEngine engine(&*topology, &*rules, "502-1", {"502"});
  Row r{"",    "502-1", v1::CASE_KIND_COMPLAINT, v1::COMPLAINT_ROUND_FIRST,
        "503", false,   ROUTING_ACTION_GUIDE,    "503",
        "",    false};
  v1::Case c = MakeCase(r);
  c.set_repeats_case("cases/502-1-2025-000007");
  auto first = engine.Decide(c, false);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->action(), ROUTING_ACTION_GUIDE);
  auto again = engine.Decide(c, true);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->action(), routing::v1::ROUTING_ACTION_ARCHIVE);
  EXPECT_EQ(again->archive_reason(), v1::ARCHIVE_REASON_ALREADY_GUIDED);
  EXPECT_NE(again->explanation().find("already guided as often as the rule pack allows"),
            std::string::npos)
      << again->explanation();
}

}  // namespace
}  // namespace reception
