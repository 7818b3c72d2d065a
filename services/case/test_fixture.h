// A CaseRegistry on a real store in a temp dir, with a fake clock and the
// shipped topology and rule packs, for the case service's unit tests.
#ifndef RECEPTION_SERVICES_CASE_TEST_FIXTURE_H_
#define RECEPTION_SERVICES_CASE_TEST_FIXTURE_H_

#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"
#include "prometheus/registry.h"
#include "services/case/case_registry.h"
#include "services/common/civil_date.h"
#include "services/common/test_support.h"

namespace reception::testing {

inline type::v1::Date D(int y, int m, int d) { return ToProtoDate(absl::CivilDay(y, m, d)); }

class CaseRegistryFixture : public ::testing::Test {
 public:
  static cases::v1::CreateCaseRequest Complaint(const std::string& request_id);
  static cases::v1::CreateCaseRequest Denunciation(const std::string& request_id);

 protected:
  // Đà Nẵng city node (two-level topology), today 2026-11-27 in Vietnam.
  void SetUp() override { Open(); }

  void Open() {
    registry_.reset();
    store_.reset();
    auto topology = Topology::LoadFile(SourcePath("deploy/topology/da-nang-2025.yaml"));
    ASSERT_TRUE(topology.ok()) << topology.status();
    topology_ = std::make_unique<Topology>(*std::move(topology));
    auto rules = RuleBook::LoadFile(SourcePath("deploy/rules/vn.yaml"));
    ASSERT_TRUE(rules.ok()) << rules.status();
    rules_ = std::make_unique<RuleBook>(*std::move(rules));
    auto calendar = WorkingCalendar::LoadFile(SourcePath("deploy/calendars/vn-2025-2026.yaml"));
    ASSERT_TRUE(calendar.ok()) << calendar.status();
    calendar_ = std::make_unique<WorkingCalendar>(*std::move(calendar));
    deadlines_ = std::make_unique<DeadlineEngine>(calendar_.get(), rules_.get());
    Store::Options o;
    o.path = dir_.Join("case");
    o.column_families = CaseRegistry::ColumnFamilies();
    o.prefix_lengths = CaseRegistry::PrefixLengths();
    o.sync = false;
    o.metrics = &metrics_;
    auto store = Store::Open(o);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
    auto vault = IdentityVault::Open(dir_.Join("identity.keys"), true);
    ASSERT_TRUE(vault.ok()) << vault.status();
    vault_ = *std::move(vault);
    registry_ = std::make_unique<CaseRegistry>(BaseDeps());
  }

  // The registry's dependencies on this fixture's store, vault, data and clock.
  CaseRegistry::Deps BaseDeps() {
    CaseRegistry::Deps deps;
    deps.store = store_.get();
    deps.vault = vault_.get();
    deps.topology = topology_.get();
    deps.rules = rules_.get();
    deps.deadlines = deadlines_.get();
    deps.clock = &clock_;
    deps.unit_code = "48";
    deps.peer_units = {"48-1"};
    return deps;
  }

  static cases::v1::CreateCaseRequest MakeComplaint(const std::string& request_id) {
    cases::v1::CreateCaseRequest r;
    r.set_request_id(request_id);
    auto* c = r.mutable_case_();
    c->set_kind(cases::v1::CASE_KIND_COMPLAINT);
    c->set_complaint_round(cases::v1::COMPLAINT_ROUND_FIRST);
    c->set_channel(cases::v1::CHANNEL_IN_PERSON);
    auto* p = c->add_petitioners();
    p->set_full_name("Nguyễn Văn An");
    p->set_citizen_id("049201001234");
    p->set_address("12 Trần Phú, Hải Châu");
    c->mutable_respondent()->set_unit_code("48-1");
    c->mutable_respondent()->set_official_name("Trần Văn Bình");
    c->set_content("Khiếu nại quyết định thu hồi đất số 123/QĐ-UBND");
    *c->mutable_received_date() = D(2026, 11, 20);
    return r;
  }

  static cases::v1::CreateCaseRequest MakeDenunciation(const std::string& request_id) {
    cases::v1::CreateCaseRequest r = MakeComplaint(request_id);
    auto* c = r.mutable_case_();
    c->set_kind(cases::v1::CASE_KIND_DENUNCIATION);
    c->set_complaint_round(cases::v1::COMPLAINT_ROUND_UNSPECIFIED);
    c->mutable_petitioners(0)->set_full_name("Lê Thị Cúc");
    c->mutable_petitioners(0)->set_citizen_id("049301009999");
    c->set_content("Tố cáo cán bộ địa chính nhận tiền");
    return r;
  }

  // Runs a registry mutation and waits for its answer.
  template <typename Req, typename Method>
  absl::StatusOr<cases::v1::Case> Do(const Principal& p, Method method, const Req& r) {
    return Await<cases::v1::Case>(
        [&](auto cb) { (registry_.get()->*method)(p, r, std::move(cb)); });
  }

  // The case's audit trail as "Action: summary" lines.
  std::string Trail(const std::string& name) {
    cases::v1::GetCaseHistoryRequest r;
    r.set_name(name);
    auto h = registry_->GetCaseHistory(officer_, r);
    std::string all;
    if (!h.ok()) return h.status().ToString();
    for (const auto& e : h->events()) absl::StrAppend(&all, e.action(), ": ", e.summary(), "\n");
    return all;
  }

  absl::StatusOr<cases::v1::Case> Create(const cases::v1::CreateCaseRequest& r) {
    return Await<cases::v1::Case>(
        [&](auto cb) { registry_->CreateCase(officer_, r, std::move(cb)); });
  }

  TempDir dir_;
  FakeClock clock_{absl::FromCivil(absl::CivilSecond(2026, 11, 27, 9, 0, 0), VietnamTimeZone())};
  prometheus::Registry metrics_;
  std::unique_ptr<Topology> topology_;
  std::unique_ptr<RuleBook> rules_;
  std::unique_ptr<WorkingCalendar> calendar_;
  std::unique_ptr<DeadlineEngine> deadlines_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<IdentityVault> vault_;
  std::unique_ptr<CaseRegistry> registry_;
  Principal officer_{"officer.lan", Role::kReceptionOfficer, "48"};
  Principal inspector_{"inspector.hung", Role::kInspector, "48"};
  Principal head_{"chairman", Role::kHead, "48"};
};

inline cases::v1::CreateCaseRequest CaseRegistryFixture::Complaint(const std::string& id) {
  return MakeComplaint(id);
}
inline cases::v1::CreateCaseRequest CaseRegistryFixture::Denunciation(const std::string& id) {
  return MakeDenunciation(id);
}

}  // namespace reception::testing

#endif  // RECEPTION_SERVICES_CASE_TEST_FIXTURE_H_
