// The parts of the case service on their own: the stored records and the
// change feed (case_records.h), duplicate search and the guidance chain
// (case_duplicates.h), and the clocks applied to cases (case_clocks.h).
#include <vector>

#include "gtest/gtest.h"
#include "services/case/audit_chain.h"
#include "services/case/case_clocks.h"
#include "services/case/case_duplicates.h"
#include "services/case/case_records.h"
#include "services/case/test_fixture.h"
#include "services/common/status.h"

namespace reception::testing {
namespace {

using cases::storage::CaseRecord;
using cases::v1::Case;

class CasePartsTest : public CaseRegistryFixture {
 protected:
  void SetUp() override {
    CaseRegistryFixture::SetUp();
    deps_ = BaseDeps();
    records_ = std::make_unique<CaseRecords>(deps_);
  }

  // One write through CaseRecords: a case numbered `number` (new or loaded)
  // changed by `change`, with an audit event; returns the stored case.
  absl::StatusOr<Case> Write(const std::string& number, const std::function<void(Case&)>& change,
                             const std::string& owner = "48") {
    Case out;
    absl::Status s = store_->CommitAndWait([&](WriteTxn& txn) -> absl::Status {
      RECEPTION_ASSIGN_OR_RETURN(auto loaded, records_->Load(&txn, number));
      CaseRecord rec = loaded ? *loaded : CaseRecord();
      Case& c = *rec.mutable_case_();
      c.set_number(number);
      c.set_name("cases/" + number);
      c.set_owner_unit(owner);
      change(c);
      RECEPTION_RETURN_IF_ERROR(records_->AppendEvent(txn, rec, officer_, "Test", {"changed", {}}));
      out = rec.case_();
      return absl::OkStatus();
    });
    if (!s.ok()) return s;
    return out;
  }

  std::vector<cases::v1::CaseEvent> Events(const std::string& number) {
    std::vector<cases::v1::CaseEvent> events;
    auto it = store_->NewIterator(records_->families().events);
    for (it->Seek(number + "/"); it->Valid() && it->key().starts_with(number + "/"); it->Next()) {
      events.emplace_back().ParseFromString(it->value().ToString());
    }
    return events;
  }

  bool InDueIndex(const std::string& key) {
    auto v = store_->Get(records_->families().due, key);
    return v.ok() && v->has_value();
  }

  CaseDeps deps_;
  std::unique_ptr<CaseRecords> records_;
};

TEST_F(CasePartsTest, AppendEventVersionsChainsIndexesAndFeedsEveryWrite) {
  auto first = Write("48-2026-900001", [](Case& c) { *c.mutable_due_date() = D(2026, 12, 3); });
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->version(), 1);
  EXPECT_EQ(first->etag(), "v1");
  EXPECT_TRUE(first->has_create_time());
  EXPECT_TRUE(InDueIndex("20261203/48-2026-900001"));

  auto second = Write("48-2026-900001", [](Case& c) { *c.mutable_due_date() = D(2026, 12, 10); });
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(second->version(), 2);
  EXPECT_EQ(second->history_length(), 2);
  // The due index follows the case: the old key is gone.
  EXPECT_FALSE(InDueIndex("20261203/48-2026-900001"));
  EXPECT_TRUE(InDueIndex("20261210/48-2026-900001"));
  auto third = Write("48-2026-900001", [](Case& c) { c.clear_due_date(); });
  ASSERT_TRUE(third.ok());
  EXPECT_FALSE(InDueIndex("20261210/48-2026-900001"));

  const auto events = Events("48-2026-900001");
  ASSERT_EQ(events.size(), 3u);
  EXPECT_TRUE(CheckCaseChain(events, third->history_head_hash(), third->history_length()).valid);
  EXPECT_EQ(events[2].case_version(), 3);

  ASSERT_TRUE(Write("48-2026-900002", [](Case&) {}).ok());
  auto feed = records_->ReadFeed(0, 10);
  ASSERT_TRUE(feed.ok()) << feed.status();
  ASSERT_EQ(feed->size(), 4u);
  for (size_t i = 0; i < feed->size(); ++i) EXPECT_EQ((*feed)[i].sequence, i + 1);
  EXPECT_EQ((*feed)[2].number, "48-2026-900001");
  EXPECT_EQ((*feed)[2].version, 3);
  EXPECT_EQ((*feed)[3].number, "48-2026-900002");
  // From a cursor, bounded.
  auto rest = records_->ReadFeed(2, 1);
  ASSERT_TRUE(rest.ok());
  ASSERT_EQ(rest->size(), 1u);
  EXPECT_EQ((*rest)[0].sequence, 3u);
  EXPECT_TRUE(records_->ReadFeed(4, 10)->empty());
}

TEST_F(CasePartsTest, LoadOwnedNamesTheOwnerOfACaseHeldElsewhere) {
  ASSERT_TRUE(Write(
                  "48-2026-900003", [](Case&) {}, "48-1")
                  .ok());
  absl::Status s = store_->CommitAndWait([&](WriteTxn& txn) -> absl::Status {
    EXPECT_EQ(records_->LoadOwned(txn, "48-2026-999999").status().code(),
              absl::StatusCode::kNotFound);
    auto held = records_->LoadOwned(txn, "48-2026-900003");
    EXPECT_EQ(held.status().code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_NE(held.status().message().find("owned by unit 48-1"), std::string::npos);
    return absl::OkStatus();
  });
  EXPECT_TRUE(s.ok());
}

TEST_F(CasePartsTest, TheRegistryFeedShowsEachCommittedVersionOfACase) {
  auto c = Create(Complaint("feed-1"));
  ASSERT_TRUE(c.ok()) << c.status();
  cases::v1::ClassifyCaseRequest classify;
  classify.set_name(c->name());
  classify.set_within_competence(true);
  ASSERT_TRUE(Do(officer_, &CaseRegistry::ClassifyCase, classify).ok());
  auto feed = registry_->ReadFeed(0, 100);
  ASSERT_TRUE(feed.ok());
  std::vector<int64_t> versions;
  for (const auto& e : *feed) {
    if (e.number == c->number()) versions.push_back(e.version);
  }
  EXPECT_EQ(versions, (std::vector<int64_t>{1, 2}));
}

TEST_F(CasePartsTest, DuplicatesAreTheSameCitizenWithSimilarContentWithinTheWindow) {
  auto earlier = Create(Complaint("dup-1"));
  ASSERT_TRUE(earlier.ok()) << earlier.status();
  CaseDuplicates duplicates(deps_, *records_);
  auto find = [&](const Case& c) {
    return duplicates.Find(duplicates.ProfileOf(c, false), DayOf(c.received_date()));
  };

  Case probe = Complaint("probe").case_();
  auto found = find(probe);
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(*found, std::vector<std::string>{earlier->name()});

  Case other_matter = probe;
  other_matter.set_content("Đề nghị cấp giấy phép xây dựng nhà ở riêng lẻ");
  EXPECT_TRUE(find(other_matter)->empty());

  Case other_citizen = probe;
  other_citizen.mutable_petitioners(0)->set_citizen_id("049201005555");
  EXPECT_TRUE(find(other_citizen)->empty());

  Case much_later = probe;
  *much_later.mutable_received_date() = D(2027, 11, 20);  // past the 180-day window
  EXPECT_TRUE(find(much_later)->empty());

  // An index entry written before it carried the comparison (an empty
  // value): the case is loaded instead, with the same answer.
  ASSERT_TRUE(store_
                  ->CommitAndWait([&](WriteTxn& txn) -> absl::Status {
                    auto it = store_->NewIterator(records_->families().citizens);
                    for (it->SeekToFirst(); it->Valid(); it->Next()) {
                      txn.Put(records_->families().citizens, it->key().ToString(), "");
                    }
                    return absl::OkStatus();
                  })
                  .ok());
  EXPECT_EQ(*find(probe), std::vector<std::string>{earlier->name()});
  EXPECT_TRUE(find(other_matter)->empty());
}

TEST_F(CasePartsTest, GuidancesAreCountedAlongTheWholeChainOfRepeats) {
  auto first = Create(Complaint("chain-1"));
  ASSERT_TRUE(first.ok());
  cases::v1::ClassifyCaseRequest classify;
  classify.set_name(first->name());
  classify.set_within_competence(false);
  ASSERT_TRUE(Do(officer_, &CaseRegistry::ClassifyCase, classify).ok());
  cases::v1::GuideCaseRequest guide;
  guide.set_name(first->name());
  guide.set_competent_body("Ủy ban nhân dân phường Hải Châu");
  ASSERT_TRUE(Do(officer_, &CaseRegistry::GuideCase, guide).ok());
  auto second_req = Complaint("chain-2");
  second_req.mutable_case_()->set_repeats_case(first->name());
  auto second = Create(second_req);
  ASSERT_TRUE(second.ok()) << second.status();
  Case third = Complaint("chain-3").case_();
  third.set_repeats_case(second->name());

  CaseDuplicates duplicates(deps_, *records_);
  absl::Status s = store_->CommitAndWait([&](WriteTxn& txn) -> absl::Status {
    auto count = duplicates.GuidancesOnMatter(&txn, third);
    EXPECT_TRUE(count.ok());
    EXPECT_EQ(*count, 1);  // the first case, two links back
    return absl::OkStatus();
  });
  EXPECT_TRUE(s.ok());
}

TEST_F(CasePartsTest, ClocksStartFromTheFactsOfTheCaseAndDecorateWhenServed) {
  DeadlineBoard board(&clock_);
  CaseClocks clocks(deps_, *records_, board);
  Case c = Complaint("clocks").case_();
  c.set_owner_unit("48");
  ASSERT_TRUE(clocks.Start(c, ClockTrigger::kReceived, absl::CivilDay(2026, 11, 20)).ok());
  ASSERT_GT(c.clocks_size(), 0);
  ASSERT_TRUE(c.has_due_date());
  EXPECT_FALSE(c.overdue());
  // Served after its due date, the same case shows overdue.
  const absl::CivilDay due(c.due_date().year(), c.due_date().month(), c.due_date().day());
  clocks.Decorate(c, due + 1);
  EXPECT_TRUE(c.overdue());
  clocks.Decorate(c, due);
  EXPECT_FALSE(c.overdue());
}

}  // namespace
}  // namespace reception::testing
