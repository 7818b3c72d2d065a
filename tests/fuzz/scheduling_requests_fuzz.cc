// Every mutating method of the scheduling registry (reception plans,
// sessions, registrations, a bridge's offered registration, and the host's
// session notice at a bridge's node) with hostile requests, on real stores.
//
// Input: byte 0 picks the method, byte 1 the caller and whether the rest is
// merged into a valid request naming a fresh online session (and a
// registration on it) or parsed alone; the rest is the request's wire
// bytes. Invariants: no crash or sanitizer report; a refusal is never
// INTERNAL, UNKNOWN or DATA_LOSS; what was accepted reads back.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>

#include "absl/strings/str_cat.h"
#include "services/common/civil_date.h"
#include "services/common/clock.h"
#include "services/common/logging.h"
#include "services/scheduling/scheduling_registry.h"
#include "tests/fuzz/fuzz_world.h"

namespace reception::fuzz {
namespace {

namespace v1 = scheduling::v1;
using scheduling::SchedulingRegistry;
namespace internal = scheduling::internal;

struct World {
  reception::testing::TempDir dir;
  FakeClock clock{absl::FromCivil(absl::CivilSecond(2026, 9, 21, 9, 0, 0), VietnamTimeZone())};
  std::unique_ptr<Store> store;
  std::unique_ptr<IdentityVault> vault;
  std::unique_ptr<SchedulingRegistry> registry;
  // A bridge point's node (48-29), for the host's session notices.
  std::unique_ptr<Store> bridge_store;
  std::unique_ptr<SchedulingRegistry> bridge;
};

World& Get() {
  static World* w = [] {
    using reception::testing::SourcePath;
    auto* w = new World;
    (void)SetLogLevel("warn");  // millions of calls: warnings and errors only
    Store::Options o;
    o.path = w->dir.Join("scheduling");
    o.column_families = SchedulingRegistry::ColumnFamilies();
    o.sync = false;
    auto store = Store::Open(o);
    Require(store.ok(), "store", store.status());
    w->store = *std::move(store);
    auto vault = IdentityVault::Open(w->dir.Join("identity.keys"), true);
    Require(vault.ok(), "vault", vault.status());
    w->vault = *std::move(vault);
    const Shipped& data = ShippedData();
    SchedulingRegistry::Deps d{w->store.get(),
                               data.calendar.get(),
                               data.rules.get(),
                               data.da_nang.get(),
                               &w->clock,
                               "48",
                               std::set<std::string>{"48-29"},
                               w->vault.get()};
    // Peers never answer: what is owed waits in the outbox.
    d.send = [](const internal::OutboxItem&, absl::AnyInvocable<void(Outbox::Answer)> answer) {
      answer({Outbox::Verdict::kRetry, "offline", ""});
    };
    auto r = SchedulingRegistry::Open(d);
    Require(r.ok(), "registry", r.status());
    w->registry = *std::move(r);
    o.path = w->dir.Join("bridge");
    auto bridge_store = Store::Open(o);
    Require(bridge_store.ok(), "bridge store", bridge_store.status());
    w->bridge_store = *std::move(bridge_store);
    d.store = w->bridge_store.get();
    d.unit_code = "48-29";
    d.peers = {"48"};
    auto b = SchedulingRegistry::Open(d);
    Require(b.ok(), "bridge registry", b.status());
    w->bridge = *std::move(b);
    return w;
  }();
  return *w;
}

const Principal kCallers[] = {
    {"officer.lan", Role::kReceptionOfficer, "48"},
    {"chairman", Role::kHead, "48"},
    {"auditor", Role::kViewer, "48"},
    {"node-48-29", Role::kNode, "48-29"},
    {"officer.bridge", Role::kReceptionOfficer, "48-29"},
    {"node-48-2", Role::kNode, "48-2"},
    {"officer.other", Role::kReceptionOfficer, "48-2"},
    {"node-48", Role::kNode, "48"},
};

// A fresh online session on a working day ahead, with one registration.
struct Prepared {
  std::string session;
  std::string registration;
  absl::CivilDay day;
  v1::Registration registered;  // as the host answered it
};

Prepared Prepare(World& w) {
  static int next = 0;
  Prepared out;
  // The next working day each time (wrapping after about two years), so
  // sessions do not clash.
  static absl::CivilDay cursor(2026, 10, 1);
  const int n = next++;
  if (n % 500 == 0) cursor = absl::CivilDay(2026, 10, 1) + (n / 500) % 3;
  absl::CivilDay day = cursor;
  for (int i = 0; i < 10; ++i) {
    auto working = ShippedData().calendar->IsWorkingDay(day);
    if (working.ok() && *working) break;
    day += 1;
  }
  cursor = day + 1;
  out.day = day;
  v1::CreateSessionRequest c;
  auto* s = c.mutable_session();
  s->set_kind(v1::SESSION_KIND_ONLINE);
  *s->mutable_date() = ToProtoDate(day);
  s->set_start("08:00");
  s->set_end("09:30");
  s->set_presiding(absl::StrCat("chairman.", n));
  auto* b = s->add_bridges();
  b->set_unit("48-29");
  b->set_capacity(2);
  *s->mutable_registration_cutoff() = ToProtoDate(day - 1);
  auto created =
      Run<v1::Session>([&](auto cb) { w.registry->CreateSession(kCallers[0], c, std::move(cb)); });
  RequireClientError(created.status(), "preparing a session");
  if (!created.ok()) Verbose("preparing a session", created.status());
  if (!created.ok()) return out;
  out.session = created->name();
  v1::RegisterCitizenRequest r;
  r.set_request_id(absl::StrCat("fuzz-", n));
  auto* reg = r.mutable_registration();
  reg->set_session(out.session);
  reg->set_bridge_unit("48-29");
  reg->set_full_name("Nguyễn Văn An");
  reg->set_citizen_id("049201001234");
  reg->set_summary("Đề nghị giải quyết tranh chấp đất đai");
  auto registered = Run<v1::Registration>(
      [&](auto cb) { w.registry->RegisterCitizen(kCallers[0], r, std::move(cb)); });
  RequireClientError(registered.status(), "preparing a registration");
  if (registered.ok()) {
    out.registration = registered->name();
    out.registered = *registered;
  }
  if (!registered.ok()) Verbose("preparing a registration", registered.status());
  return out;
}

template <typename Resp, typename Call>
void Check(const char* method, Call call) {
  auto out = Run<Resp>(std::move(call));
  RequireClientError(out.status(), method);
  Verbose(method, out.status());
}

}  // namespace
}  // namespace reception::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace reception;
  using namespace reception::fuzz;
  if (size < 2) return 0;
  World& w = Get();
  const Principal& p = kCallers[data[1] & 7];
  const bool merge = !((data[1] >> 3) & 1);
  const std::string bytes(reinterpret_cast<const char*>(data) + 2, size - 2);
  const Prepared at = Prepare(w);
  auto& reg = *w.registry;
  switch (data[0] % 10) {
    case 0: {
      v1::ReceptionPlan plan = reg.Plan();
      if (!Fill(plan, bytes, merge)) return 0;
      Check<v1::ReceptionPlan>("SetPlan", [&](auto cb) { reg.SetPlan(p, plan, std::move(cb)); });
      break;
    }
    case 1: {
      v1::CreateSessionRequest r;
      auto* s = r.mutable_session();
      s->set_kind(v1::SESSION_KIND_REGULAR);
      *s->mutable_date() = ToProtoDate(at.day);
      s->set_start("14:00");
      s->set_end("16:00");
      s->set_presiding("deputy.minh");
      if (!Fill(r, bytes, merge)) return 0;
      Check<v1::Session>("CreateSession", [&](auto cb) { reg.CreateSession(p, r, std::move(cb)); });
      break;
    }
    case 2: {
      v1::RescheduleSessionRequest r;
      r.set_name(at.session);
      *r.mutable_date() = ToProtoDate(at.day + 1);
      r.set_start("15:00");
      r.set_end("16:00");
      if (!Fill(r, bytes, merge)) return 0;
      Check<v1::Session>("RescheduleSession",
                         [&](auto cb) { reg.RescheduleSession(p, r, std::move(cb)); });
      break;
    }
    case 3: {
      v1::CancelSessionRequest r;
      r.set_name(at.session);
      r.set_reason("Chủ tịch đi công tác");
      if (!Fill(r, bytes, merge)) return 0;
      Check<v1::Session>("CancelSession", [&](auto cb) { reg.CancelSession(p, r, std::move(cb)); });
      break;
    }
    case 4: {
      v1::RecordSessionRequest r;
      r.set_name(at.session);
      r.mutable_record()->set_presided_by("chairman.son");
      r.mutable_record()->set_presiding_role(v1::PRESIDING_ROLE_HEAD);
      r.mutable_record()->set_citizens(3);
      if (!Fill(r, bytes, merge)) return 0;
      Check<v1::Session>("RecordSession", [&](auto cb) { reg.RecordSession(p, r, std::move(cb)); });
      break;
    }
    case 5: {
      v1::RegisterCitizenRequest r;
      static int n = 0;
      r.set_request_id(absl::StrCat("fuzz-register-", ++n));
      auto* x = r.mutable_registration();
      x->set_session(at.session);
      x->set_bridge_unit("48-29");
      x->set_full_name("Trần Thị Bích");
      x->set_citizen_id("049301002345");
      x->set_summary("Kiến nghị về đường giao thông");
      if (!Fill(r, bytes, merge)) return 0;
      Check<v1::Registration>("RegisterCitizen",
                              [&](auto cb) { reg.RegisterCitizen(p, r, std::move(cb)); });
      break;
    }
    case 6: {
      v1::CancelRegistrationRequest r;
      r.set_name(at.registration);
      if (!Fill(r, bytes, merge)) return 0;
      Check<v1::Registration>("CancelRegistration",
                              [&](auto cb) { reg.CancelRegistration(p, r, std::move(cb)); });
      break;
    }
    case 7: {
      v1::CheckInCitizenRequest r;
      r.set_name(at.registration);
      r.set_citizen_id("049201001234");
      if (!Fill(r, bytes, merge)) return 0;
      Check<v1::Registration>("CheckInCitizen",
                              [&](auto cb) { reg.CheckInCitizen(p, r, std::move(cb)); });
      break;
    }
    case 9: {
      // The host's notice of a session to its bridge point's node.
      federation::v1::OfferSessionNoticeRequest r;
      auto session = reg.GetSession(at.session);
      if (session.ok()) *r.mutable_session() = *session;
      if (!at.registration.empty()) *r.add_registrations() = at.registered;
      if (!Fill(r, bytes, merge)) return 0;
      Check<int64_t>("ApplyNotice", [&](auto cb) { w.bridge->ApplyNotice(p, r, std::move(cb)); });
      break;
    }
    default: {
      federation::v1::OfferRegistrationRequest r;
      static int n = 0;
      r.set_request_id(absl::StrCat("48-29/fuzz-", ++n));
      auto* x = r.mutable_registration();
      x->set_session(at.session);
      x->set_bridge_unit("48-29");
      x->set_full_name("Lê Văn Cầu");
      x->set_citizen_id("049201005555");
      x->set_summary("Khiếu nại về bồi thường");
      if (!Fill(r, bytes, merge)) return 0;
      Check<v1::Registration>("ApplyOffer", [&](auto cb) { reg.ApplyOffer(p, r, std::move(cb)); });
      break;
    }
  }
  return 0;
}
