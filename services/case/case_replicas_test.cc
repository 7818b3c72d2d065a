// Oversight in the case service, without a network: what of a case leaves
// the node (the projection), the feed as pages, and replicas applied from a
// followed node's pages (checked like intake, idempotent, the newest
// winning), then listed and read at the parent.
#include "services/case/case_replicas.h"

#include <map>

#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "prometheus/metric_family.h"
#include "services/case/report_view.pb.h"
#include "services/case/test_fixture.h"

namespace reception::testing {
namespace {

using cases::v1::Case;
using federation::v1::CaseFeedPage;

class CaseReplicasTest : public CaseRegistryFixture {
 protected:
  const CaseReplicas& replicas() { return registry_->replicas(); }

  absl::StatusOr<int> Apply(const std::string& via, const CaseFeedPage& page) {
    return Await<int>([&](auto cb) { replicas().Apply(via, page, std::move(cb)); });
  }

  // A case as the node of 48-1 would publish it.
  static Case Remote(const std::string& number, int64_t version, int64_t epoch = 0,
                     const std::string& owner = "48-1") {
    Case c;
    c.set_name("cases/" + number);
    c.set_number(number);
    c.set_kind(cases::v1::CASE_KIND_COMPLAINT);
    c.set_state(cases::v1::CASE_STATE_RECEIVED);
    c.set_owner_unit(owner);
    c.set_owner_epoch(epoch);
    c.set_version(version);
    c.mutable_reception_unit()->set_code("48-1");
    *c.mutable_received_date() = D(2026, 11, 20);
    c.set_content("Khiếu nại việc cấp giấy chứng nhận quyền sử dụng đất");
    auto* p = c.add_petitioners();
    p->set_full_name("Phạm Văn Dũng");
    p->set_citizen_id("048099000111");  // a careless sender: redacted on receipt
    p->set_phone("0905123456");
    return c;
  }

  static void Add(CaseFeedPage& page, int64_t seq, const Case& c,
                  const std::string& origin = "48-1") {
    auto* e = page.add_entries();
    e->set_sequence(seq);
    e->set_origin_unit(origin);
    *e->mutable_case_() = c;
    page.set_last_sequence(seq);
    page.set_head_sequence(std::max(page.head_sequence(), seq));
  }

  cases::v1::ListCasesResponse List(cases::v1::ListScope scope, const std::string& within = "") {
    cases::v1::ListCasesRequest r;
    r.set_scope(scope);
    r.set_within_unit(within);
    auto out = registry_->ListCases(officer_, r);
    EXPECT_TRUE(out.ok()) << out.status();
    return out.ok() ? *out : cases::v1::ListCasesResponse();
  }
};

TEST_F(CaseReplicasTest, TheFeedLeavesOutIdentitiesAndSupersededPositions) {
  auto complaint = Create(MakeComplaint("rep-1"));
  auto denunciation = Create(MakeDenunciation("rep-2"));
  ASSERT_TRUE(complaint.ok() && denunciation.ok());
  ASSERT_TRUE(denunciation->identity_protected());
  cases::v1::ClassifyCaseRequest classify;
  classify.set_name(complaint->name());
  classify.set_within_competence(true);
  ASSERT_TRUE(Do(officer_, &CaseRegistry::ClassifyCase, classify).ok());

  auto page = replicas().ReadPage(0, 100);
  ASSERT_TRUE(page.ok()) << page.status();
  // Three positions: the complaint's first version is left out.
  ASSERT_EQ(page->entries_size(), 2);
  EXPECT_EQ(page->last_sequence(), 3);
  EXPECT_EQ(page->head_sequence(), 3);
  EXPECT_EQ(page->entries(0).case_().number(), denunciation->number());
  EXPECT_EQ(page->entries(0).sequence(), 2);
  EXPECT_EQ(page->entries(1).case_().version(), 2);
  EXPECT_EQ(page->entries(1).origin_unit(), "48");
  const Case& c = page->entries(1).case_();
  ASSERT_EQ(c.petitioners_size(), 1);
  EXPECT_EQ(c.petitioners(0).full_name(), "Nguyễn Văn An");
  EXPECT_TRUE(c.petitioners(0).citizen_id().empty());
  EXPECT_TRUE(c.petitioners(0).address().empty());
  EXPECT_EQ(page->entries(0).case_().petitioners_size(), 0);
  const std::string bytes = page->SerializeAsString();
  for (const char* secret : {"049201001234", "049301009999", "Lê Thị Cúc", "12 Trần Phú"}) {
    EXPECT_FALSE(absl::StrContains(bytes, secret)) << secret;
  }
  auto rest = replicas().ReadPage(3, 100);
  ASSERT_TRUE(rest.ok());
  EXPECT_EQ(rest->entries_size(), 0);
  EXPECT_EQ(rest->last_sequence(), 3);
}

// Compaction removes only positions whose case moved on: the pages read
// from any position before and after are the same, and the feed ends with
// one position per case (the bootstrap snapshot).
TEST_F(CaseReplicasTest, CompactionKeepsEveryPageTheSame) {
  auto own = Create(MakeComplaint("cmp-1"));
  ASSERT_TRUE(own.ok());
  cases::v1::ClassifyCaseRequest classify;
  classify.set_name(own->name());
  classify.set_within_competence(true);
  ASSERT_TRUE(Do(officer_, &CaseRegistry::ClassifyCase, classify).ok());
  ASSERT_TRUE(Create(MakeDenunciation("cmp-2")).ok());
  CaseFeedPage page;
  Add(page, 1, Remote("48-1-2026-000041", 1));
  Add(page, 2, Remote("48-1-2026-000041", 2));
  Add(page, 3, Remote("48-1-2026-000042", 1));
  ASSERT_EQ(*Apply("48-1", page), 3);
  auto entries = [&](uint64_t after) {
    std::vector<std::string> out;
    auto p = replicas().ReadPage(after, 1000);
    EXPECT_TRUE(p.ok());
    for (const auto& e : p->entries()) {
      out.push_back(absl::StrCat(e.sequence(), " ", e.case_().number(), " v", e.case_().version()));
    }
    return out;
  };
  std::vector<std::vector<std::string>> before;
  for (uint64_t after = 0; after <= 6; ++after) before.push_back(entries(after));
  ASSERT_EQ(registry_->ReadFeed(0, 100)->size(), 6u);
  auto done = replicas().CompactFeed(0, 1000);
  ASSERT_TRUE(done.ok()) << done.status();
  EXPECT_EQ(done->removed, 2);  // the complaint's v1, the replica's v1
  EXPECT_EQ(done->last, 6u);
  for (uint64_t after = 0; after <= 6; ++after) EXPECT_EQ(entries(after), before[after]) << after;
  EXPECT_EQ(registry_->ReadFeed(0, 100)->size(), 4u);  // one per case
  EXPECT_EQ(replicas().CompactFeed(0, 1000)->removed, 0);
}

// A page ends once it holds about a megabyte, so it always fits a gRPC
// message; the next page goes on from where it stopped.
TEST_F(CaseReplicasTest, APageStaysUnderTheMessageLimit) {
  std::string content;
  while (content.size() < 19000) content += "Khiếu nại về việc bồi thường đất đai. ";
  for (int i = 0; i < 80; ++i) {
    auto r = MakeComplaint(absl::StrCat("big-", i));
    r.mutable_case_()->set_content(absl::StrCat(content, i));
    ASSERT_TRUE(Create(r).ok());
  }
  auto first = replicas().ReadPage(0, 1000);
  ASSERT_TRUE(first.ok());
  EXPECT_LT(first->entries_size(), 80);
  EXPECT_GT(first->entries_size(), 10);
  EXPECT_LT(first->ByteSizeLong(), 2u << 20);
  EXPECT_EQ(first->last_sequence(), first->entries(first->entries_size() - 1).sequence());
  int total = first->entries_size();
  for (int64_t after = first->last_sequence(); after < 80;) {
    auto next = replicas().ReadPage(static_cast<uint64_t>(after), 1000);
    ASSERT_TRUE(next.ok());
    total += next->entries_size();
    ASSERT_GT(next->last_sequence(), after);
    after = next->last_sequence();
  }
  EXPECT_EQ(total, 80);
}

TEST_F(CaseReplicasTest, OnlyTheNodeOfAUnitAboveReadsTheFeed) {
  EXPECT_EQ(replicas().CheckFollower(officer_).code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(replicas().CheckFollower({"node:48", Role::kNode, "48"}).code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(replicas().CheckFollower({"node:48-1", Role::kNode, "48-1"}).code(),
            absl::StatusCode::kPermissionDenied);  // a child, not a parent
}

TEST_F(CaseReplicasTest, ApplyingIsCheckedIdempotentAndTheNewestWins) {
  const std::string a = "48-1-2026-000001";
  CaseFeedPage first;
  Add(first, 1, Remote(a, 1));
  ASSERT_EQ(*Apply("48-1", first), 1);
  auto rep = replicas().Load(nullptr, a);
  ASSERT_TRUE(rep.ok() && rep->has_value());
  const Case& held = (*rep)->case_();
  EXPECT_TRUE(held.petitioners(0).citizen_id().empty());
  EXPECT_TRUE(held.petitioners(0).phone().empty());
  EXPECT_EQ(held.replica().origin_unit(), "48-1");
  EXPECT_EQ(held.replica().via_unit(), "48-1");
  auto cp = replicas().Checkpoint("48-1");
  ASSERT_TRUE(cp.ok());
  EXPECT_EQ(cp->applied_sequence(), 1);

  // The same page again: positions not after the checkpoint are refused.
  EXPECT_EQ(Apply("48-1", first).status().code(), absl::StatusCode::kInvalidArgument);
  // A repeat of the same version, a newer one, then an older one.
  CaseFeedPage more;
  Add(more, 2, Remote(a, 1));
  Add(more, 3, Remote(a, 3));
  Add(more, 4, Remote(a, 2));
  ASSERT_EQ(*Apply("48-1", more), 1);
  rep = replicas().Load(nullptr, a);
  EXPECT_EQ((*rep)->case_().version(), 3);
  // A higher owner epoch wins over a higher version.
  CaseFeedPage handed;
  Add(handed, 5, Remote(a, 2, /*epoch=*/1, /*owner=*/"48-2"));
  ASSERT_EQ(*Apply("48-1", handed), 1);
  rep = replicas().Load(nullptr, a);
  EXPECT_EQ((*rep)->case_().owner_unit(), "48-2");
  EXPECT_EQ(replicas().Checkpoint("48-1")->applied_sequence(), 5);

  // What was applied is republished in this node's feed, origin kept, and
  // only the newest position of the replica is served.
  auto page = replicas().ReadPage(0, 100);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->entries_size(), 1);
  EXPECT_EQ(page->entries(0).origin_unit(), "48-1");
  EXPECT_EQ(page->entries(0).case_().owner_epoch(), 1);
  EXPECT_FALSE(page->entries(0).case_().has_replica());
}

// A node below cannot make this node hold a case it says this node owns:
// this node's own records are the truth of what it owns.
TEST_F(CaseReplicasTest, AClaimThatThisNodeOwnsACaseItDoesNotHoldIsNotKept) {
  CaseFeedPage page;
  Add(page, 1, Remote("48-1-2026-000051", 2, 1, /*owner=*/"48"));
  Add(page, 2, Remote("48-1-2026-000052", 1));
  ASSERT_EQ(*Apply("48-1", page), 1);
  EXPECT_FALSE(replicas().Load(nullptr, "48-1-2026-000051")->has_value());
  EXPECT_TRUE(replicas().Load(nullptr, "48-1-2026-000052")->has_value());
  EXPECT_EQ(replicas().Checkpoint("48-1")->applied_sequence(), 2);
}

TEST_F(CaseReplicasTest, APageThatDoesNotCheckOutChangesNothing) {
  CaseFeedPage outside;
  Add(outside, 1, Remote("48-2-2026-000001", 1), /*origin=*/"48-2");
  auto r = Apply("48-1", outside);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(r.status().message(), "entries[0].origin_unit")) << r.status();

  CaseFeedPage renamed;
  Case c = Remote("48-1-2026-000002", 1);
  c.set_number("48-1-2026-000003");
  Add(renamed, 1, c);
  r = Apply("48-1", renamed);
  EXPECT_TRUE(absl::StrContains(r.status().message(), "entries[0].case.number")) << r.status();

  CaseFeedPage backwards;
  Add(backwards, 2, Remote("48-1-2026-000004", 1));
  backwards.mutable_entries(0)->set_sequence(3);
  r = Apply("48-1", backwards);
  EXPECT_TRUE(absl::StrContains(r.status().message(), "entries[0].sequence")) << r.status();

  EXPECT_FALSE(replicas().Load(nullptr, "48-1-2026-000002")->has_value());
  EXPECT_EQ(replicas().Checkpoint("48-1")->applied_sequence(), 0);
  auto page = replicas().ReadPage(0, 100);
  EXPECT_EQ(page->entries_size(), 0);
}

TEST_F(CaseReplicasTest, TheSubtreeListsEachCaseOnceAndReadsReplicas) {
  auto own = Create(MakeComplaint("rep-own"));
  ASSERT_TRUE(own.ok());
  CaseFeedPage page;
  Add(page, 1, Remote("48-1-2026-000007", 1));
  // A stale copy of this node's own case, as a child last saw it.
  Case stale = Remote(own->number(), 1);
  stale.set_owner_unit("48");
  Add(page, 2, stale);
  ASSERT_EQ(*Apply("48-1", page), 2);

  auto node = List(cases::v1::LIST_SCOPE_UNSPECIFIED);
  ASSERT_EQ(node.cases_size(), 1);
  EXPECT_FALSE(node.cases(0).has_replica());
  auto subtree = List(cases::v1::LIST_SCOPE_SUBTREE);
  ASSERT_EQ(subtree.cases_size(), 2);
  EXPECT_EQ(subtree.cases(0).number(), "48-1-2026-000007");
  EXPECT_TRUE(subtree.cases(0).has_replica());
  EXPECT_EQ(subtree.cases(1).number(), own->number());
  EXPECT_FALSE(subtree.cases(1).has_replica());  // this node's own record wins
  EXPECT_EQ(List(cases::v1::LIST_SCOPE_SUBTREE, "48-1").cases_size(), 1);
  EXPECT_EQ(List(cases::v1::LIST_SCOPE_SUBTREE, "48-2").cases_size(), 0);

  cases::v1::GetCaseRequest get;
  get.set_name("cases/48-1-2026-000007");
  auto got = registry_->GetCase(officer_, get);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->replica().via_unit(), "48-1");
  cases::v1::GetCaseHistoryRequest history;
  history.set_name(get.name());
  EXPECT_EQ(registry_->GetCaseHistory(officer_, history).status().code(),
            absl::StatusCode::kFailedPrecondition);
  // A replica is never written through: transitions find no case here.
  cases::v1::ClassifyCaseRequest classify;
  classify.set_name(get.name());
  classify.set_within_competence(true);
  EXPECT_FALSE(Do(officer_, &CaseRegistry::ClassifyCase, classify).ok());
}

// Every count of the report, in every row and the total, opens onto
// exactly that many cases through ListCases (the report's own predicate),
// over this node's cases and the replicas it follows.
TEST_F(CaseReplicasTest, EveryReportCountOpensOntoItsCases) {
  auto own = Create(MakeComplaint("rep-r1"));
  ASSERT_TRUE(own.ok());
  cases::v1::ClassifyCaseRequest classify;
  classify.set_name(own->name());
  classify.set_within_competence(true);
  ASSERT_TRUE(Do(officer_, &CaseRegistry::ClassifyCase, classify).ok());
  cases::v1::AcceptCaseRequest accept;
  accept.set_name(own->name());
  accept.set_notice_reference("TL-9/2026");
  ASSERT_TRUE(Do(officer_, &CaseRegistry::AcceptCase, accept).ok());

  CaseFeedPage page;
  Case late = Remote("48-1-2026-000011", 5);
  late.mutable_classification()->set_within_competence(true);
  *late.mutable_acceptance()->mutable_date() = D(2026, 11, 2);
  auto* clock = late.add_clocks();
  clock->set_step(cases::v1::DEADLINE_STEP_SETTLE);
  *clock->mutable_due_date() = D(2026, 11, 10);
  *late.mutable_decision()->mutable_date() = D(2026, 11, 12);
  *late.mutable_received_date() = D(2026, 11, 1);
  Add(page, 1, late);
  Case online = Remote("48-1-2026-000012", 1);
  online.set_channel(cases::v1::CHANNEL_ONLINE_SESSION);
  online.set_mass_case(true);
  Add(page, 2, online);
  Case moved = Remote("48-1-2026-000013", 2, 1, "48-2");  // received at 48-1, now at 48-2
  Add(page, 3, moved);
  Case october = Remote("48-1-2026-000014", 1);
  *october.mutable_received_date() = D(2026, 10, 30);
  Add(page, 4, october);
  ASSERT_EQ(*Apply("48-1", page), 4);

  cases::v1::GetCaseReportRequest r;
  r.set_period(cases::v1::CASE_REPORT_PERIOD_MONTH);
  r.set_year(2026);
  r.set_number(11);
  r.set_csv(true);
  auto report = registry_->GetCaseReport(officer_, r);
  ASSERT_TRUE(report.ok()) << report.status();
  auto total = [&](cases::v1::ReportFigure f) {
    for (const auto& c : report->total().counts()) {
      if (c.figure() == f && c.kind() == 0 && c.channel() == 0) return c.count();
    }
    return int64_t{-1};
  };
  EXPECT_EQ(total(cases::v1::REPORT_FIGURE_RECEIVED), 4);  // not October's
  EXPECT_EQ(total(cases::v1::REPORT_FIGURE_ACCEPTED), 2);
  EXPECT_EQ(total(cases::v1::REPORT_FIGURE_SETTLED_LATE), 1);
  EXPECT_EQ(total(cases::v1::REPORT_FIGURE_PENDING_WITHIN_TIME), 1);
  EXPECT_EQ(total(cases::v1::REPORT_FIGURE_MASS_CASE), 1);
  EXPECT_EQ(total(cases::v1::REPORT_FIGURE_RECEIVED_ONLINE), 1);
  EXPECT_EQ(total(cases::v1::REPORT_FIGURE_TRANSFERRED_OUT), 0);  // still in the city
  EXPECT_DOUBLE_EQ(report->total().on_time_percent(), 0.0);
  int checked = 0;
  auto check_row = [&](const cases::v1::CaseReportRow& row) {
    int64_t out_48_1 = -1, in_48_2 = -1;
    for (const auto& c : row.counts()) {
      cases::v1::ListCasesRequest lr = row.list_request();
      lr.set_report_figure(c.figure());
      lr.set_kind(c.kind());
      lr.set_channel(c.channel());
      auto listed = registry_->ListCases(officer_, lr);
      ASSERT_TRUE(listed.ok()) << listed.status();
      EXPECT_EQ(listed->cases_size(), c.count())
          << row.unit() << " " << cases::v1::ReportFigure_Name(c.figure()) << " kind " << c.kind()
          << " channel " << c.channel();
      ++checked;
      if (c.kind() || c.channel()) continue;
      if (c.figure() == cases::v1::REPORT_FIGURE_TRANSFERRED_OUT && row.unit() == "48-1")
        out_48_1 = c.count();
      if (c.figure() == cases::v1::REPORT_FIGURE_TRANSFERRED_IN && row.unit() == "48-2")
        in_48_2 = c.count();
    }
    if (row.unit() == "48-1") EXPECT_EQ(out_48_1, 1);
    if (row.unit() == "48-2") EXPECT_EQ(in_48_2, 1);
  };
  for (const auto& row : report->rows()) check_row(row);
  check_row(report->total());
  EXPECT_GT(checked, 40);
  EXPECT_NE(report->csv().find("48-1,"), std::string::npos);
  EXPECT_NE(report->csv().find("48 (total)"), std::string::npos);
  // A unit outside the node's subtree, and a bad period, are refused.
  r.set_unit("49");
  EXPECT_EQ(registry_->GetCaseReport(officer_, r).status().code(),
            absl::StatusCode::kInvalidArgument);
  r.clear_unit();
  r.set_number(13);
  EXPECT_NE(registry_->GetCaseReport(officer_, r).status().message().find("number"),
            std::string::npos);
}

// A store written before report facts existed gets them at start.
TEST_F(CaseReplicasTest, ReportFactsAreBackfilledForAnOlderStore) {
  ASSERT_TRUE(Create(MakeComplaint("old-1")).ok());
  ASSERT_TRUE(Create(MakeDenunciation("old-2")).ok());
  CaseFeedPage page;
  Add(page, 1, Remote("48-1-2026-000031", 1));
  ASSERT_EQ(*Apply("48-1", page), 1);
  cases::v1::GetCaseReportRequest r;
  r.set_period(cases::v1::CASE_REPORT_PERIOD_MONTH);
  r.set_year(2026);
  r.set_number(11);
  auto received = [&] {
    auto rep = registry_->GetCaseReport(officer_, r);
    EXPECT_TRUE(rep.ok()) << rep.status();
    return rep.ok() ? rep->total().counts(0).count() : -1;
  };
  EXPECT_EQ(received(), 3);
  // As an older version left it: no facts, no marker.
  auto* facts = store_->Family("report_facts");
  ASSERT_TRUE(store_
                  ->CommitAndWait([&](WriteTxn& txn) {
                    auto it = store_->NewIterator(facts);
                    for (it->SeekToFirst(); it->Valid(); it->Next()) {
                      txn.Delete(facts, it->key().ToString());
                    }
                    txn.Delete(store_->Family("meta"), "report_facts_version");
                    return absl::OkStatus();
                  })
                  .ok());
  EXPECT_EQ(received(), 0);
  Open();
  ASSERT_TRUE(registry_->status().ok()) << registry_->status();
  EXPECT_EQ(received(), 3);
}

// The report's view reads from a stored record exactly the fields of Case
// it names (same numbers, same wire types), whatever else the case holds.
TEST(ReportViewTest, TheViewReadsTheFieldsOfAStoredCase) {
  Case c;
  c.set_name("cases/48-1-2026-000001");
  c.set_number("48-1-2026-000001");
  c.set_kind(cases::v1::CASE_KIND_DENUNCIATION);
  c.set_channel(cases::v1::CHANNEL_ONLINE_SESSION);
  c.set_mass_case(true);
  c.mutable_reception_unit()->set_code("48-1");
  c.mutable_reception_unit()->set_name("Phường Hải Châu");
  *c.mutable_received_date() = D(2026, 3, 2);
  c.set_owner_unit("48-2");
  c.set_owner_epoch(4);
  c.mutable_classification()->set_within_competence(true);
  c.mutable_classification()->set_note("ghi chú");
  *c.mutable_acceptance()->mutable_date() = D(2026, 3, 5);
  c.mutable_acceptance()->set_notice_reference("TL-1");
  *c.mutable_guidance()->mutable_date() = D(2026, 3, 6);
  c.mutable_guidance()->set_competent_body("Sở Tài nguyên");
  *c.mutable_decision()->mutable_date() = D(2026, 4, 1);
  c.mutable_decision()->set_summary("Kết luận");
  auto* w = c.add_withdrawals();
  w->set_partial(true);
  *w->mutable_date() = D(2026, 3, 20);
  c.set_version(9);
  auto* k = c.add_clocks();
  k->set_step(cases::v1::DEADLINE_STEP_SETTLE);
  k->set_source("Luật Tố cáo 2018, Điều 30");
  *k->mutable_due_date() = D(2026, 4, 3);
  k->set_state(cases::v1::CLOCK_STATE_MET);
  c.set_content("Nội dung dài không được đọc");
  c.add_petitioners()->set_full_name("Không đọc");
  for (const bool replica : {false, true}) {
    std::string bytes;
    if (replica) {
      cases::storage::ReplicaRecord r;
      *r.mutable_case_() = c;
      r.set_search_text("x");
      bytes = r.SerializeAsString();
    } else {
      cases::storage::CaseRecord r;
      *r.mutable_case_() = c;
      r.set_due_key("20260403/48-1-2026-000001");
      bytes = r.SerializeAsString();
    }
    cases::storage::view::RecordReportView view;
    ASSERT_TRUE(view.ParseFromString(bytes));
    const auto& v = view.case_();
    EXPECT_EQ(v.number(), c.number());
    EXPECT_EQ(v.kind(), c.kind());
    EXPECT_EQ(v.channel(), c.channel());
    EXPECT_TRUE(v.mass_case());
    EXPECT_EQ(v.reception_unit().code(), "48-1");
    EXPECT_EQ(v.received_date().day(), 2);
    EXPECT_EQ(v.owner_unit(), "48-2");
    EXPECT_EQ(v.owner_epoch(), 4);
    EXPECT_TRUE(v.classification().within_competence());
    EXPECT_EQ(v.acceptance().date().day(), 5);
    EXPECT_EQ(v.guidance().date().day(), 6);
    EXPECT_EQ(v.decision().date().month(), 4);
    ASSERT_EQ(v.withdrawals_size(), 1);
    EXPECT_TRUE(v.withdrawals(0).partial());
    EXPECT_EQ(v.withdrawals(0).date().day(), 20);
    EXPECT_EQ(v.version(), 9);
    ASSERT_EQ(v.clocks_size(), 1);
    EXPECT_EQ(v.clocks(0).step(), cases::v1::DEADLINE_STEP_SETTLE);
    EXPECT_EQ(v.clocks(0).due_date().day(), 3);
    EXPECT_EQ(v.clocks(0).state(), cases::v1::CLOCK_STATE_MET);
  }
}

// The board a parent's gauges and page read: per owner unit the open,
// overdue and at-risk cases; per holder the handoffs not yet taken up.
TEST_F(CaseReplicasTest, TheSubtreeBoardCountsPerUnitOnce) {
  auto running = [](Case c, absl::CivilDay due) {
    auto* k = c.add_clocks();
    k->set_step(cases::v1::DEADLINE_STEP_SETTLE);
    k->set_state(cases::v1::CLOCK_STATE_RUNNING);
    *k->mutable_due_date() = ToProtoDate(due);
    *c.mutable_due_date() = ToProtoDate(due);
    return c;
  };
  CaseFeedPage page;
  Add(page, 1, running(Remote("48-1-2026-000021", 3), absl::CivilDay(2026, 11, 20)));
  Add(page, 2, running(Remote("48-1-2026-000022", 3), absl::CivilDay(2026, 11, 30)));
  Case handed = Remote("48-1-2026-000023", 4, 1, "48-2");
  handed.mutable_update_time()->set_seconds(absl::ToUnixSeconds(clock_.Now()) - 3600);
  Add(page, 3, handed);
  ASSERT_EQ(*Apply("48-1", page), 3);
  auto counts = [&] {
    std::map<std::string, SubtreeBoard::UnitCounts> out;
    for (auto& u : registry_->subtree_board()->Counts()) out[u.unit] = u;
    return out;
  };
  auto c = counts();
  EXPECT_EQ(c["48-1"].open, 2);
  EXPECT_EQ(c["48-1"].overdue, 1);
  EXPECT_EQ(c["48-1"].at_risk, 1);
  EXPECT_EQ(c["48-1"].pending_handoffs, 1);
  EXPECT_GE(c["48-1"].oldest_pending_handoff_seconds, 3600);
  // The destination publishes its import: no longer pending.
  CaseFeedPage taken;
  Case imported = Remote("48-1-2026-000023", 5, 1, "48-2");
  Add(taken, 1, imported, "48-2");
  ASSERT_EQ(*Apply("48-2", taken), 1);
  c = counts();
  EXPECT_EQ(c["48-1"].pending_handoffs, 0);
  // Scraped without personal data: only unit labels.
  bool seen = false;
  for (const auto& family : registry_->subtree_board()->Collect()) {
    for (const auto& m : family.metric) {
      ASSERT_EQ(m.label.size(), 1u);
      EXPECT_EQ(m.label[0].name, "unit");
      seen = true;
    }
  }
  EXPECT_TRUE(seen);
}

}  // namespace
}  // namespace reception::testing
