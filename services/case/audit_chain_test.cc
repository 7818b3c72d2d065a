#include "services/case/audit_chain.h"

#include "gtest/gtest.h"

namespace reception {
namespace {

std::vector<cases::v1::CaseEvent> Chain(int n) {
  std::vector<cases::v1::CaseEvent> events;
  std::string prev;
  for (int i = 1; i <= n; ++i) {
    cases::v1::CaseEvent e;
    e.set_sequence(i);
    e.set_action(i == 1 ? "CreateCase" : "ClassifyCase");
    e.set_summary("step " + std::to_string(i));
    e.mutable_actor()->set_subject("officer");
    SealCaseEvent(prev, &e);
    prev = e.hash();
    events.push_back(e);
  }
  return events;
}

TEST(AuditChain, IntactChainVerifies) {
  auto events = Chain(5);
  auto check = CheckCaseChain(events, events.back().hash(), 5);
  EXPECT_TRUE(check.valid) << check.problem;
  EXPECT_EQ(check.head_hash, events.back().hash());
  EXPECT_EQ(events[0].hash().size(), 64u);
}

TEST(AuditChain, DetectsAlteredEvent) {
  auto events = Chain(5);
  const std::string head = events.back().hash();
  events[2].set_summary("rewritten");
  auto check = CheckCaseChain(events, head, 5);
  EXPECT_FALSE(check.valid);
  EXPECT_EQ(check.first_invalid_sequence, 3);
  EXPECT_NE(check.problem.find("altered"), std::string::npos);
}

TEST(AuditChain, DetectsRehashedEventBecauseTheNextLinkBreaks) {
  auto events = Chain(5);
  const std::string head = events.back().hash();
  events[1].set_summary("rewritten");
  events[1].set_hash(HashCaseEvent(events[1]));
  auto check = CheckCaseChain(events, head, 5);
  EXPECT_FALSE(check.valid);
  EXPECT_EQ(check.first_invalid_sequence, 3);
}

TEST(AuditChain, DetectsRemovedEvents) {
  auto events = Chain(5);
  const std::string head = events.back().hash();
  auto middle = events;
  middle.erase(middle.begin() + 2);
  EXPECT_FALSE(CheckCaseChain(middle, head, 5).valid);
  auto truncated = events;
  truncated.pop_back();
  auto check = CheckCaseChain(truncated, head, 5);
  EXPECT_FALSE(check.valid);
  EXPECT_NE(check.problem.find("removed"), std::string::npos);
}

}  // namespace
}  // namespace reception
