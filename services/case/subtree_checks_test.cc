// Province-wide duplicate detection in the case service, without a network:
// citizen hashes under the matching key leave a node in its feed (never the
// IDs, never for a protected identity), a follower indexes its replicas by
// them, the top node checks its own intake against its subtree, answers
// the nodes below (only them, only under the same key), and a node below
// records the answer it asked for through its outbox.
#include "services/case/subtree_checks.h"

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "services/case/test_fixture.h"

namespace reception::testing {
namespace {

using cases::v1::Case;
using cases::v1::SubtreeDuplicateCheck;
using federation::v1::CaseFeedPage;
using federation::v1::FindRelatedCasesRequest;
using federation::v1::FindRelatedCasesResponse;

const std::string kKey(32, '\x5a');
// The fixture's complainant.
constexpr char kCitizen[] = "049201001234";

class SubtreeChecksTest : public CaseRegistryFixture {
 protected:
  // This node with the matching key; `above`: the node it asks.
  void Reopen(const std::string& unit, const std::string& above = "",
              Outbox::Deliver deliver = nullptr) {
    registry_.reset();
    CaseRegistry::Deps deps = BaseDeps();
    deps.unit_code = unit;
    deps.matching_key = kKey;
    deps.subtree_check_unit = above;
    deps.deliver_subtree_check = std::move(deliver);
    registry_ = std::make_unique<CaseRegistry>(std::move(deps));
    ASSERT_TRUE(registry_->status().ok()) << registry_->status();
  }

  absl::StatusOr<int> Apply(const std::string& via, const CaseFeedPage& page) {
    return Await<int>([&](auto cb) { registry_->replicas().Apply(via, page, std::move(cb)); });
  }

  // A case of ward 48-1 for the fixture's complainant, as its feed carries
  // it: with the citizen's hash, without the ID.
  static void AddRemote(CaseFeedPage& page, int64_t seq, const std::string& number,
                        const std::string& content, const std::string& citizen = kCitizen) {
    auto* e = page.add_entries();
    e->set_sequence(seq);
    e->set_origin_unit("48-1");
    Case& c = *e->mutable_case_();
    c.set_name("cases/" + number);
    c.set_number(number);
    c.set_kind(cases::v1::CASE_KIND_COMPLAINT);
    c.set_state(cases::v1::CASE_STATE_RECEIVED);
    c.set_owner_unit("48-1");
    c.set_version(1);
    c.mutable_reception_unit()->set_code("48-1");
    *c.mutable_received_date() = D(2026, 11, 18);
    c.set_content(content);
    c.add_petitioners()->set_full_name("Nguyễn Văn An");
    e->add_citizen_keys(CaseDuplicates::MatchKey(kKey, citizen));
    page.set_last_sequence(seq);
    page.set_head_sequence(seq);
  }

  static FindRelatedCasesRequest Ask(const std::string& citizen = kCitizen) {
    FindRelatedCasesRequest r;
    r.set_case_("cases/48-2-2026-000009");
    r.add_citizen_keys(CaseDuplicates::MatchKey(kKey, citizen));
    *r.mutable_received_date() = D(2026, 11, 20);
    r.set_matching_key_id(SubtreeChecks::KeyId(kKey));
    return r;
  }

  Principal ward_node_{"node:48-2", Role::kNode, "48-2"};
};

TEST_F(SubtreeChecksTest, OnlyHashesLeaveAndNeverForAProtectedIdentity) {
  Reopen("48");
  auto complaint = Create(MakeComplaint("k-1"));
  auto denunciation = Create(MakeDenunciation("k-2"));
  ASSERT_TRUE(complaint.ok() && denunciation.ok());
  auto page = registry_->replicas().ReadPage(0, 100);
  ASSERT_TRUE(page.ok()) << page.status();
  ASSERT_EQ(page->entries_size(), 2);
  ASSERT_EQ(page->entries(0).citizen_keys_size(), 1);
  EXPECT_EQ(page->entries(0).citizen_keys(0), CaseDuplicates::MatchKey(kKey, kCitizen));
  EXPECT_EQ(page->entries(1).citizen_keys_size(), 0);  // the denouncer is never hashed out
  const std::string bytes = page->SerializeAsString();
  EXPECT_FALSE(absl::StrContains(bytes, kCitizen));
  EXPECT_FALSE(absl::StrContains(bytes, "049301009999"));
  // Another key hashes the same ID to something else.
  EXPECT_NE(CaseDuplicates::MatchKey(std::string(32, '\x01'), kCitizen),
            CaseDuplicates::MatchKey(kKey, kCitizen));
  EXPECT_EQ(SubtreeChecks::KeyId(kKey).size(), 16u);
}

// A province checks its own intake against its whole subtree at once: the
// replica of ward 48-1's case of the same citizen and matter is found, a
// different matter or citizen is not.
TEST_F(SubtreeChecksTest, TheTopNodeChecksItsIntakeAgainstItsSubtree) {
  Reopen("48");
  const std::string content = MakeComplaint("x").case_().content();
  CaseFeedPage page;
  AddRemote(page, 1, "48-1-2026-000001", content);
  AddRemote(page, 2, "48-1-2026-000002", "Kiến nghị sửa chữa đường giao thông nông thôn");
  AddRemote(page, 3, "48-1-2026-000003", content, "049201005555");
  ASSERT_EQ(*Apply("48-1", page), 3);
  auto rep = registry_->replicas().Load(nullptr, "48-1-2026-000001");
  ASSERT_TRUE(rep.ok() && rep->has_value());
  EXPECT_EQ((*rep)->citizen_keys_size(), 1);

  auto c = Create(MakeComplaint("t-1"));
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->subtree_check().state(), SubtreeDuplicateCheck::STATE_DONE);
  EXPECT_EQ(c->subtree_check().checked_unit(), "48");
  ASSERT_EQ(c->subtree_check().possible_duplicates_size(), 1);
  EXPECT_EQ(c->subtree_check().possible_duplicates(0), "cases/48-1-2026-000001");
  // The second case of the same citizen here: the first is a local repeat
  // (possible_duplicates), the ward's stays in the subtree check.
  auto again = Create(MakeComplaint("t-2"));
  ASSERT_TRUE(again.ok());
  ASSERT_EQ(again->possible_duplicates_size(), 1);
  EXPECT_EQ(again->possible_duplicates(0), c->name());
  ASSERT_EQ(again->subtree_check().possible_duplicates_size(), 1);
  EXPECT_EQ(again->subtree_check().possible_duplicates(0), "cases/48-1-2026-000001");
  auto denunciation = Create(MakeDenunciation("t-3"));
  ASSERT_TRUE(denunciation.ok());
  EXPECT_EQ(denunciation->subtree_check().state(), SubtreeDuplicateCheck::STATE_UNSPECIFIED);

  // The ward corrects the citizen's ID: the old hash no longer finds it.
  CaseFeedPage corrected;
  AddRemote(corrected, 4, "48-1-2026-000001", content, "049201007777");
  corrected.mutable_entries(0)->mutable_case_()->set_version(2);
  ASSERT_EQ(*Apply("48-1", corrected), 1);
  auto after = Create(MakeComplaint("t-4"));
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->subtree_check().possible_duplicates_size(), 0);
}

TEST_F(SubtreeChecksTest, ThePageIsCheckedForItsHashes) {
  Reopen("48");
  CaseFeedPage page;
  AddRemote(page, 1, "48-1-2026-000001", "Khiếu nại");
  page.mutable_entries(0)->set_citizen_keys(0, "short");
  auto bad = Apply("48-1", page);
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(bad.status().message(), "entries[0].citizen_keys[0]"))
      << bad.status();
  CaseFeedPage protected_page;
  AddRemote(protected_page, 1, "48-1-2026-000001", "Tố cáo");
  protected_page.mutable_entries(0)->mutable_case_()->set_identity_protected(true);
  protected_page.mutable_entries(0)->mutable_case_()->clear_petitioners();
  bad = Apply("48-1", protected_page);
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(bad.status().message(), "protected")) << bad.status();
}

TEST_F(SubtreeChecksTest, TheTopAnswersOnlyTheNodesBelowUnderItsOwnKey) {
  Reopen("48");
  const std::string content = MakeComplaint("x").case_().content();
  CaseFeedPage page;
  AddRemote(page, 1, "48-1-2026-000001", content);
  ASSERT_EQ(*Apply("48-1", page), 1);
  // The asking case itself, already followed from ward 48-2: left out.
  CaseFeedPage asking;
  AddRemote(asking, 1, "48-2-2026-000009", content);
  asking.mutable_entries(0)->set_origin_unit("48-2");
  asking.mutable_entries(0)->mutable_case_()->set_owner_unit("48-2");
  ASSERT_EQ(*Apply("48-2", asking), 1);
  auto own = Create(MakeComplaint("a-1"));
  ASSERT_TRUE(own.ok());
  const SubtreeChecks& checks = registry_->subtree_checks();

  FindRelatedCasesRequest r = Ask();
  for (uint32_t t : CaseDuplicates::ContentTokens(content)) r.add_content_tokens(t);
  auto answer = checks.Answer(ward_node_, r);
  ASSERT_TRUE(answer.ok()) << answer.status();
  EXPECT_EQ(answer->checked_unit(), "48");
  ASSERT_EQ(answer->cases_size(), 2);  // ward 48-1's and the city's own, by number
  EXPECT_EQ(answer->cases(0).case_(), "cases/48-1-2026-000001");
  EXPECT_EQ(answer->cases(0).owner_unit(), "48-1");
  EXPECT_EQ(answer->cases(1).case_(), own->name());
  EXPECT_EQ(answer->cases(1).owner_unit(), "48");
  // Another matter of the same citizen: nothing.
  FindRelatedCasesRequest other = Ask();
  for (uint32_t t : CaseDuplicates::ContentTokens("Kiến nghị lắp đèn chiếu sáng")) {
    other.add_content_tokens(t);
  }
  EXPECT_EQ(checks.Answer(ward_node_, other)->cases_size(), 0);

  // Who may ask: the node of a unit below, nobody else.
  for (const Principal& p : {officer_, Principal{"node:48", Role::kNode, "48"},
                             Principal{"officer", Role::kReceptionOfficer, "48-2"}}) {
    EXPECT_EQ(checks.Answer(p, r).status().code(), absl::StatusCode::kPermissionDenied)
        << p.subject;
  }
  // Under another key: refused, saying so.
  FindRelatedCasesRequest wrong = r;
  wrong.set_matching_key_id(SubtreeChecks::KeyId(std::string(32, '\x01')));
  auto refused = checks.Answer(ward_node_, wrong);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(absl::StrContains(refused.status().message(), "one matching key"))
      << refused.status();
  // Checked as strictly as intake, naming the field.
  struct Bad {
    std::function<void(FindRelatedCasesRequest&)> spoil;
    std::string field;
  };
  for (const Bad& bad : std::vector<Bad>{
           {[](auto& q) { q.set_case_("48-2-2026-000009"); }, "case"},
           {[](auto& q) { q.clear_citizen_keys(); }, "citizen_keys"},
           {[](auto& q) { q.set_citizen_keys(0, "0123456789"); }, "citizen_keys[0]"},
           {[](auto& q) { q.clear_received_date(); }, "received_date"},
           {[](auto& q) {
              for (int i = 0; i < 5000; ++i) q.add_content_tokens(i);
            },
            "content_tokens"},
       }) {
    FindRelatedCasesRequest q = r;
    bad.spoil(q);
    auto s = checks.Answer(ward_node_, q);
    EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument) << bad.field;
    EXPECT_TRUE(absl::StartsWith(s.status().message(), bad.field)) << s.status();
  }
}

// A ward asks the city through its outbox in the write that registers the
// case; the answer is recorded on the case (a bad answer and a refusal too).
TEST_F(SubtreeChecksTest, ANodeBelowAsksThroughItsOutboxAndRecordsTheAnswer) {
  std::vector<FindRelatedCasesRequest> asked;
  std::function<Outbox::Answer(const FindRelatedCasesRequest&)> reply;
  Reopen("48-2", "48",
         [&](const Outbox::Item& item, absl::AnyInvocable<void(Outbox::Answer)> answer) {
           FindRelatedCasesRequest q;
           ASSERT_TRUE(q.ParseFromString(item.payload));
           EXPECT_EQ(item.peer, "48");
           asked.push_back(q);
           answer(reply(q));
         });
  const Principal officer{"officer.hoa", Role::kReceptionOfficer, "48-2"};
  auto create = [&](const std::string& id) {
    cases::v1::CreateCaseRequest r = MakeComplaint(id);
    r.mutable_case_()->mutable_respondent()->set_unit_code("48-2");
    return Await<Case>([&](auto cb) { registry_->CreateCase(officer, r, std::move(cb)); });
  };
  auto get = [&](const std::string& name) {
    cases::v1::GetCaseRequest g;
    g.set_name(name);
    auto c = registry_->GetCase(officer, g);
    EXPECT_TRUE(c.ok()) << c.status();
    return c.ok() ? *c : Case();
  };
  auto c = create("w-1");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->subtree_check().state(), SubtreeDuplicateCheck::STATE_PENDING);
  EXPECT_EQ(c->subtree_check().checked_unit(), "48");
  ASSERT_EQ(registry_->check_outbox()->List().size(), 1u);

  reply = [](const FindRelatedCasesRequest& q) {
    FindRelatedCasesResponse r;
    r.set_checked_unit("48");
    auto* found = r.add_cases();
    found->set_case_("cases/48-1-2026-000001");
    found->set_owner_unit("48-1");
    found = r.add_cases();
    found->set_case_(q.case_());  // the asking case, if the city already follows it
    found->set_owner_unit("48-2");
    return Outbox::Answer{Outbox::Verdict::kDelivered, "", r.SerializeAsString()};
  };
  EXPECT_EQ(registry_->check_outbox()->Pump(), 1);
  registry_->check_outbox()->Drain();
  ASSERT_EQ(asked.size(), 1u);
  EXPECT_EQ(asked[0].case_(), c->name());
  EXPECT_EQ(asked[0].citizen_keys(0), CaseDuplicates::MatchKey(kKey, kCitizen));
  EXPECT_EQ(asked[0].content_tokens_size(),
            static_cast<int>(CaseDuplicates::ContentTokens(c->content()).size()));
  EXPECT_EQ(asked[0].matching_key_id(), SubtreeChecks::KeyId(kKey));
  EXPECT_FALSE(absl::StrContains(asked[0].SerializeAsString(), kCitizen));
  ASSERT_TRUE(
      WaitFor([&] { return registry_->check_outbox()->List().empty(); }, absl::Seconds(10)));
  Case done = get(c->name());
  EXPECT_EQ(done.subtree_check().state(), SubtreeDuplicateCheck::STATE_DONE);
  ASSERT_EQ(done.subtree_check().possible_duplicates_size(), 1);
  EXPECT_EQ(done.subtree_check().possible_duplicates(0), "cases/48-1-2026-000001");
  EXPECT_TRUE(done.subtree_check().has_check_time());
  EXPECT_EQ(done.version(), c->version());  // output only: no new version

  // An answer naming a case outside the city's subtree is not believed.
  auto second = create("w-2");
  ASSERT_TRUE(second.ok());
  reply = [](const FindRelatedCasesRequest&) {
    FindRelatedCasesResponse r;
    r.set_checked_unit("48");
    auto* found = r.add_cases();
    found->set_case_("cases/49-2026-000001");
    found->set_owner_unit("49");
    return Outbox::Answer{Outbox::Verdict::kDelivered, "", r.SerializeAsString()};
  };
  registry_->check_outbox()->Pump();
  registry_->check_outbox()->Drain();
  ASSERT_TRUE(
      WaitFor([&] { return registry_->check_outbox()->List().empty(); }, absl::Seconds(10)));
  Case bad = get(second->name());
  EXPECT_EQ(bad.subtree_check().state(), SubtreeDuplicateCheck::STATE_REFUSED);
  EXPECT_TRUE(absl::StrContains(bad.subtree_check().detail(), "not a case of the subtree"))
      << bad.subtree_check().detail();
  EXPECT_EQ(bad.subtree_check().possible_duplicates_size(), 0);

  // A refusal: recorded, and parked for an operator.
  auto third = create("w-3");
  ASSERT_TRUE(third.ok());
  reply = [](const FindRelatedCasesRequest&) {
    return Outbox::Answer{Outbox::Verdict::kRefused, "code 9: every node must share one key", ""};
  };
  registry_->check_outbox()->Pump();
  registry_->check_outbox()->Drain();
  ASSERT_TRUE(WaitFor(
      [&] {
        return get(third->name()).subtree_check().state() == SubtreeDuplicateCheck::STATE_REFUSED;
      },
      absl::Seconds(10)));
  EXPECT_EQ(registry_->check_outbox()->List("", /*dead_only=*/true).size(), 1u);
}

TEST_F(SubtreeChecksTest, OwnCasesEnterTheSubtreeIndexWhenTheKeyIsFirstSet) {
  // Cases registered before the key was configured.
  auto before = Create(MakeComplaint("b-1"));
  ASSERT_TRUE(before.ok());
  Reopen("48");
  auto after = Create(MakeComplaint("b-2"));
  ASSERT_TRUE(after.ok());
  // Found locally (possible_duplicates), so not repeated in the subtree
  // check; but the ward's question finds it.
  EXPECT_EQ(after->possible_duplicates_size(), 1);
  FindRelatedCasesRequest r = Ask();
  for (uint32_t t : CaseDuplicates::ContentTokens(before->content())) r.add_content_tokens(t);
  auto answer = registry_->subtree_checks().Answer(ward_node_, r);
  ASSERT_TRUE(answer.ok()) << answer.status();
  ASSERT_EQ(answer->cases_size(), 2);
  EXPECT_EQ(answer->cases(0).case_(), before->name());
}

}  // namespace
}  // namespace reception::testing
