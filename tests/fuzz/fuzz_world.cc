#include "tests/fuzz/fuzz_world.h"

#include <cstdio>
#include <cstdlib>

#include "services/common/civil_date.h"
#include "services/common/logging.h"

namespace reception::fuzz {

namespace {

template <typename T>
std::unique_ptr<T> OrDie(absl::StatusOr<T> v, const char* what) {
  Require(v.ok(), what, v.status());
  return std::make_unique<T>(*std::move(v));
}

// Millions of calls: only warnings and errors reach the log.
const bool kQuiet = [] {
  (void)SetLogLevel("warn");
  return true;
}();

}  // namespace

const Shipped& ShippedData() {
  static const Shipped* shipped = [] {
    using reception::testing::SourcePath;
    auto* s = new Shipped;
    s->da_nang =
        OrDie(Topology::LoadFile(SourcePath("deploy/topology/da-nang-2025.yaml")), "topology");
    s->quang_nam =
        OrDie(Topology::LoadFile(SourcePath("deploy/topology/quang-nam-2024.yaml")), "topology");
    s->rules = OrDie(RuleBook::LoadFile(SourcePath("deploy/rules/vn.yaml")), "rules");
    s->calendar = OrDie(WorkingCalendar::LoadFile(SourcePath("deploy/calendars/vn-2025-2026.yaml")),
                        "calendar");
    s->forms = OrDie(documents::FormBook::LoadFile(SourcePath("deploy/forms/vn.yaml")), "forms");
    return s;
  }();
  return *shipped;
}

void Verbose(const char* what, const absl::Status& s) {
  static const bool verbose = std::getenv("FUZZ_VERBOSE") != nullptr;
  if (verbose) std::fprintf(stderr, "%s: %s\n", what, s.ToString().c_str());
}

CaseNode::CaseNode(const std::string& unit, std::vector<std::string> peers)
    : clock_(absl::FromCivil(absl::CivilSecond(2026, 11, 27, 9, 0, 0), VietnamTimeZone())) {
  const Shipped& data = ShippedData();
  deadlines_ = std::make_unique<DeadlineEngine>(data.calendar.get(), data.rules.get());
  Store::Options o;
  o.path = dir_.Join("case");
  o.column_families = CaseRegistry::ColumnFamilies();
  o.prefix_lengths = CaseRegistry::PrefixLengths();
  o.sync = false;
  auto store = Store::Open(o);
  Require(store.ok(), "store", store.status());
  store_ = *std::move(store);
  auto vault = IdentityVault::Open(dir_.Join("identity.keys"), true);
  Require(vault.ok(), "vault", vault.status());
  vault_ = *std::move(vault);
  auto key = NodeKey::Open(dir_.Join("node.key"));
  Require(key.ok(), "node key", key.status());
  node_key_ = *std::move(key);
  CaseRegistry::Deps deps;
  deps.store = store_.get();
  deps.vault = vault_.get();
  deps.topology = data.da_nang.get();
  deps.rules = data.rules.get();
  deps.deadlines = deadlines_.get();
  deps.clock = &clock_;
  deps.unit_code = unit;
  deps.peer_units = std::move(peers);
  deps.node_key = node_key_.get();
  deps.forms = data.forms.get();
  registry_ = std::make_unique<CaseRegistry>(std::move(deps));
  Require(registry_->status().ok(), "registry", registry_->status());
}

CaseNode::~CaseNode() {
  registry_.reset();
  store_.reset();
}

cases::v1::CreateCaseRequest ValidCase(const std::string& request_id, bool denunciation) {
  cases::v1::CreateCaseRequest r;
  r.set_request_id(request_id);
  auto* c = r.mutable_case_();
  c->set_kind(denunciation ? cases::v1::CASE_KIND_DENUNCIATION : cases::v1::CASE_KIND_COMPLAINT);
  if (!denunciation) c->set_complaint_round(cases::v1::COMPLAINT_ROUND_FIRST);
  c->set_channel(cases::v1::CHANNEL_IN_PERSON);
  auto* p = c->add_petitioners();
  p->set_full_name(denunciation ? "Lê Thị Cúc" : "Nguyễn Văn An");
  p->set_citizen_id(denunciation ? "049301009999" : "049201001234");
  p->set_address("12 Trần Phú, Hải Châu");
  c->mutable_respondent()->set_unit_code("48-1");
  c->mutable_respondent()->set_official_name("Trần Văn Bình");
  c->set_content(denunciation ? "Tố cáo cán bộ địa chính nhận tiền"
                              : "Khiếu nại quyết định thu hồi đất số 123/QĐ-UBND");
  *c->mutable_received_date() = ToProtoDate(absl::CivilDay(2026, 11, 20));
  return r;
}

}  // namespace reception::fuzz
