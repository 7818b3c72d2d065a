// A node restored from a backup asks its peers which cases it still owns,
// without a network: the peer is a function answering the queued question.
#include "services/case/ownership_check.h"

#include <future>

#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "services/case/test_fixture.h"

namespace reception::testing {
namespace {

using cases::v1::Case;
using federation::v1::CheckCaseOwnersRequest;
using federation::v1::CheckCaseOwnersResponse;

class OwnershipCheckTest : public CaseRegistryFixture {
 protected:
  void Reopen(Outbox::Deliver deliver) {
    registry_.reset();
    CaseRegistry::Deps deps = BaseDeps();
    deps.deliver_subtree_check = std::move(deliver);
    registry_ = std::make_unique<CaseRegistry>(std::move(deps));
    ASSERT_TRUE(registry_->status().ok()) << registry_->status();
  }
  absl::Status Classify(const std::string& name) {
    cases::v1::ClassifyCaseRequest r;
    r.set_name(name);
    r.set_within_competence(true);
    return Do(officer_, &CaseRegistry::ClassifyCase, r).status();
  }
  Case Get(const std::string& name) {
    cases::v1::GetCaseRequest g;
    g.set_name(name);
    auto c = registry_->GetCase(officer_, g);
    EXPECT_TRUE(c.ok()) << c.status();
    return c.ok() ? *c : Case();
  }
  // One pass of the question outbox, waiting for the answers to settle.
  void Pump() {
    registry_->check_outbox()->Pump();
    registry_->check_outbox()->Drain();
  }
};

TEST_F(OwnershipCheckTest, APeersAnswerFreezesWhatItHoldsNewerAndReleasesTheRest) {
  std::vector<CheckCaseOwnersRequest> asked;
  std::function<CheckCaseOwnersResponse(const CheckCaseOwnersRequest&)> reply;
  Reopen([&](const Outbox::Item& item, absl::AnyInvocable<void(Outbox::Answer)> answer) {
    CheckCaseOwnersRequest q;
    EXPECT_TRUE(q.ParseFromString(item.payload));
    EXPECT_EQ(item.peer, "48-1");
    asked.push_back(q);
    answer({Outbox::Verdict::kDelivered, "", reply(q).SerializeAsString()});
  });
  auto away = Create(Complaint("away"));
  auto back = Create(Complaint("back"));
  auto kept = Create(Complaint("kept"));
  ASSERT_TRUE(away.ok() && back.ok() && kept.ok());
  auto denounced = Create(MakeDenunciation("den"));
  ASSERT_TRUE(denounced.ok());

  auto marked = registry_->BeginOwnershipCheck("20261127T020000Z");
  ASSERT_TRUE(marked.ok()) << marked.status();
  EXPECT_EQ(*marked, 4);
  absl::Status waiting = Classify(kept->name());
  EXPECT_EQ(waiting.code(), absl::StatusCode::kUnavailable) << waiting;
  EXPECT_TRUE(absl::StrContains(waiting.message(), "restored from a backup")) << waiting;
  // A case registered after the restore is never held back.
  auto fresh = Create(Complaint("fresh"));
  ASSERT_TRUE(fresh.ok());
  EXPECT_TRUE(Classify(fresh->name()).ok());

  reply = [&](const CheckCaseOwnersRequest& q) {
    CheckCaseOwnersResponse r;
    r.set_checked_unit("48-1");
    auto add = [&](const std::string& name, const std::string& unit, int64_t epoch) {
      auto* n = r.add_newer();
      n->set_case_(name);
      n->set_owner_unit(unit);
      n->set_owner_epoch(epoch);
    };
    add(away->name(), "48-1", 1);
    add(denounced->name(), "48-1", 1);
    add(back->name(), "48", 2);     // handed away and back after the backup
    add(fresh->name(), "48-1", 1);  // never asked: not believed
    add(kept->name(), "48-1", 0);   // not newer: not believed
    (void)q;
    return r;
  };
  Pump();
  ASSERT_EQ(asked.size(), 1u);
  ASSERT_EQ(asked[0].claims_size(), 4);
  EXPECT_EQ(asked[0].claims(0).owner_epoch(), 0);

  Case frozen = Get(away->name());
  EXPECT_EQ(frozen.owner_unit(), "48-1");
  EXPECT_EQ(frozen.owner_epoch(), 1);
  EXPECT_EQ(frozen.state(), cases::v1::CASE_STATE_TRANSFERRED);
  EXPECT_EQ(frozen.version(), away->version());  // no event: the owner's history has it
  absl::Status not_owner = Classify(away->name());
  EXPECT_EQ(not_owner.code(), absl::StatusCode::kFailedPrecondition) << not_owner;
  EXPECT_TRUE(absl::StrContains(not_owner.message(), "owned by unit 48-1")) << not_owner;
  // The denouncer's identity left with the case: it cannot be revealed here.
  cases::v1::RevealDenouncerIdentityRequest reveal;
  reveal.set_name(denounced->name());
  reveal.set_reason("Kiểm tra sau khôi phục");
  auto revealed = Await<cases::v1::RevealDenouncerIdentityResponse>(
      [&](auto cb) { registry_->RevealDenouncerIdentity(head_, reveal, std::move(cb)); });
  EXPECT_FALSE(revealed.ok());
  // What nobody holds newer is this node's again; a case that came back
  // after the backup stays held back (its content since is lost here).
  EXPECT_TRUE(Classify(kept->name()).ok());
  EXPECT_EQ(Classify(back->name()).code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(Classify(fresh->name()).code(), absl::StatusCode::kFailedPrecondition);  // classified
  // The answer naming the fresh case (never asked of the peer) changed
  // nothing: it is still this node's, classified once.
  const Case still_here = Get(fresh->name());
  EXPECT_EQ(still_here.owner_unit(), "48");
  EXPECT_EQ(still_here.state(), cases::v1::CASE_STATE_CLASSIFIED);
  EXPECT_EQ(Get(kept->name()).owner_unit(), "48");
  EXPECT_TRUE(registry_->check_outbox()->List().empty());
}

TEST_F(OwnershipCheckTest, ARefusingPeerKeepsCasesWaitingUntilAnOperatorCancels) {
  Reopen([&](const Outbox::Item&, absl::AnyInvocable<void(Outbox::Answer)> answer) {
    answer({Outbox::Verdict::kRefused, "unit 48-1 does not know this method", ""});
  });
  auto c = Create(Complaint("c"));
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE(registry_->BeginOwnershipCheck("b").ok());
  Pump();
  auto items = registry_->check_outbox()->List("", /*dead_only=*/true);
  ASSERT_EQ(items.size(), 1u);
  EXPECT_TRUE(absl::StartsWith(items[0].key, "o/")) << items[0].key;
  EXPECT_EQ(Classify(c->name()).code(), absl::StatusCode::kUnavailable);
  std::promise<absl::Status> done;
  registry_->check_outbox()->Cancel(items[0].key, [&](absl::Status s) { done.set_value(s); });
  ASSERT_TRUE(done.get_future().get().ok());
  EXPECT_TRUE(Classify(c->name()).ok());
}

TEST_F(OwnershipCheckTest, WithoutPeersNothingIsHeldBack) {
  registry_.reset();
  CaseRegistry::Deps deps = BaseDeps();
  deps.peer_units.clear();
  registry_ = std::make_unique<CaseRegistry>(std::move(deps));
  auto c = Create(Complaint("c"));
  ASSERT_TRUE(c.ok());
  auto marked = registry_->BeginOwnershipCheck("b");
  ASSERT_TRUE(marked.ok());
  EXPECT_EQ(*marked, 0);
  EXPECT_TRUE(Classify(c->name()).ok());
}

// The answering side: configured peers only, every claim checked.
TEST_F(OwnershipCheckTest, ThePeerAnswersOnlyConfiguredPeersWithWhatItHoldsNewer) {
  auto c = Create(Complaint("c"));
  ASSERT_TRUE(c.ok());
  const OwnershipCheck& check = registry_->ownership_check();
  const Principal peer{"node:48-1", Role::kNode, "48-1"};
  CheckCaseOwnersRequest q;
  auto* claim = q.add_claims();
  claim->set_case_(c->name());
  claim->set_owner_epoch(0);
  auto a = check.Answer(peer, q);
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->checked_unit(), "48");
  EXPECT_EQ(a->newer_size(), 0);  // held here at the same epoch: nothing newer
  EXPECT_EQ(check.Answer(officer_, q).status().code(), absl::StatusCode::kPermissionDenied);
  const Principal stranger{"node:49", Role::kNode, "49"};
  EXPECT_EQ(check.Answer(stranger, q).status().code(), absl::StatusCode::kPermissionDenied);
  claim->set_owner_epoch(-1);
  EXPECT_EQ(check.Answer(peer, q).status().message(), "claims[0].owner_epoch must be at least 0");
  claim->set_owner_epoch(0);
  claim->set_case_("48-2026-000001");
  EXPECT_EQ(check.Answer(peer, q).status().message(),
            "claims[0].case must be a case name of the form cases/{number}");
  EXPECT_EQ(check.Answer(peer, CheckCaseOwnersRequest()).status().code(),
            absl::StatusCode::kInvalidArgument);
  CheckCaseOwnersRequest many;
  for (int i = 0; i < 501; ++i) many.add_claims()->set_case_(c->name());
  EXPECT_EQ(check.Answer(peer, many).status().message(), "claims must hold 1-500 claims");
}

}  // namespace
}  // namespace reception::testing
