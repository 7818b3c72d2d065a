// SchedulingRegistry: registrations of citizens for sessions (seats, waiting
// lists, check-in, the agenda) and the notices they cause.
#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/strip.h"
#include "services/common/civil_date.h"
#include "services/common/key_file.h"
#include "services/common/logging.h"
#include "services/common/status.h"
#include "services/common/text.h"
#include "services/scheduling/ical_export.h"
#include "services/scheduling/schedule_rules.h"
#include "services/scheduling/scheduling_internal.h"
#include "services/scheduling/scheduling_registry.h"

namespace reception::scheduling {

void SchedulingRegistry::QueueNotices(const internal::StoredSession& s, WriteTxn& txn) {
  if (s.session().replica()) return;
  for (const auto& b : s.session().bridges()) {
    if (!d_.peers.count(b.unit()))
      continue;  // a bridge without a node learns nothing by federation
    // The item is built when sent, from the session as it is durably then;
    // a newer change replaces an older one not yet sent.
    outbox_->Put(txn, b.unit(), absl::StrCat("n/", b.unit(), "/", s.session().name()),
                 s.session().name());
  }
}

void SchedulingRegistry::QueueOffer(const internal::StoredSession& s, const v1::Registration& reg,
                                    const std::string& request, WriteTxn& txn) {
  internal::OutboxItem item;
  item.set_peer(s.session().host_unit());
  auto* offer = item.mutable_registration();
  *offer->mutable_registration() = reg;
  offer->set_request_id(request);
  // Kept with the personal data sealed; opened when sent.
  internal::Person person;
  person.set_full_name(reg.full_name());
  person.set_citizen_id(reg.citizen_id());
  *offer->mutable_sealed_person() = d_.vault->Seal(person.SerializeAsString(), request);
  offer->mutable_registration()->clear_full_name();
  offer->mutable_registration()->clear_citizen_id();
  outbox_->Put(txn, item.peer(), absl::StrCat("r/", request), item.SerializeAsString());
}

void SchedulingRegistry::Notify(WriteTxn& txn, const v1::Registration& reg, const std::string& kind,
                                const std::string& message) {
  v1::Notification n;
  n.set_registration(reg.name());
  n.set_kind(kind);
  n.set_message(message);
  SetTime(d_.clock->Now(), n.mutable_time());
  txn.Put(notices_cf_, BigEndian64(next_notice_++), n.SerializeAsString());
  txn.OnDurable([this, n = std::move(n)]() mutable {
    absl::MutexLock lock(&mu_);
    notifications_.push_back(std::move(n));
  });
}

void SchedulingRegistry::Renumber(internal::StoredSession& s, const std::string& bridge) const {
  int position = 0;
  for (auto& r : *s.mutable_registrations()) {
    if (r.bridge_unit() != bridge) continue;
    r.set_waiting_position(r.state() == v1::REGISTRATION_STATE_WAITING ? ++position : 0);
  }
  for (auto& b : *s.mutable_session()->mutable_bridges()) {
    if (b.unit() != bridge) continue;
    int seated = 0;
    for (const auto& r : s.registrations())
      seated += r.bridge_unit() == bridge && Seated(r.state());
    b.set_registered(seated);
    b.set_waiting(position);
  }
}

absl::Status SchedulingRegistry::Admit(internal::StoredSession& s, v1::Registration& reg,
                                       absl::Time taken) const {
  const v1::Session& x = s.session();
  if (x.state() != v1::SESSION_STATE_SCHEDULED) {
    return absl::FailedPreconditionError(absl::StrCat(
        x.name(), " is ", absl::AsciiStrToLower(v1::SessionState_Name(x.state()).substr(14)),
        ": no more registrations"));
  }
  const v1::SessionBridge* bridge = nullptr;
  for (const auto& b : x.bridges()) {
    if (b.unit() == reg.bridge_unit()) bridge = &b;
  }
  if (bridge == nullptr) {
    return InvalidField("registration.bridge_unit",
                        absl::StrCat("is not a bridge point of ", x.name()));
  }
  auto cutoff = ToCivilDay(x.registration_cutoff().year() ? x.registration_cutoff() : x.date(),
                           "registration_cutoff");
  if (cutoff.ok() && absl::ToCivilDay(taken, VietnamTimeZone()) > *cutoff) {
    return absl::FailedPreconditionError(absl::StrCat(
        "registrations for ", x.name(), " closed at the end of ", FormatDate(*cutoff)));
  }
  for (const auto& r : s.registrations()) {
    if (r.citizen_id() == reg.citizen_id() && r.state() != v1::REGISTRATION_STATE_CANCELLED &&
        r.state() != v1::REGISTRATION_STATE_REFUSED && r.name() != reg.name()) {
      return absl::AlreadyExistsError(
          absl::StrCat("this citizen is already registered for ", x.name(), " as ", r.name()));
    }
  }
  int seated = 0, last_queue = 0;
  for (const auto& r : s.registrations()) {
    if (r.bridge_unit() != reg.bridge_unit()) continue;
    seated += Seated(r.state());
    last_queue = std::max(last_queue, r.queue_number());
  }
  if (seated < bridge->capacity()) {
    reg.set_state(v1::REGISTRATION_STATE_CONFIRMED);
    reg.set_queue_number(last_queue + 1);
  } else {
    reg.set_state(v1::REGISTRATION_STATE_WAITING);
  }
  return absl::OkStatus();
}

void SchedulingRegistry::Promote(internal::StoredSession& s, const std::string& bridge,
                                 WriteTxn& txn) {
  int capacity = 0;
  for (const auto& b : s.session().bridges()) {
    if (b.unit() == bridge) capacity = b.capacity();
  }
  while (true) {
    int seated = 0, last_queue = 0;
    v1::Registration* first_waiting = nullptr;
    for (auto& r : *s.mutable_registrations()) {
      if (r.bridge_unit() != bridge) continue;
      seated += Seated(r.state());
      last_queue = std::max(last_queue, r.queue_number());
      if (r.state() == v1::REGISTRATION_STATE_WAITING && first_waiting == nullptr)
        first_waiting = &r;
    }
    if (seated >= capacity || first_waiting == nullptr) break;
    first_waiting->set_state(v1::REGISTRATION_STATE_CONFIRMED);
    first_waiting->set_queue_number(last_queue + 1);
    Notify(txn, *first_waiting, "moved_up",
           absl::StrCat("a seat freed at bridge ", bridge, " for ", s.session().name(),
                        ": queue number ", first_waiting->queue_number()));
  }
  Renumber(s, bridge);
}

void SchedulingRegistry::RegisterCitizen(const Principal& p, const v1::RegisterCitizenRequest& r,
                                         Callback<v1::Registration> done) {
  if (auto s = CheckStaff(p); !s.ok()) return done(s);
  v1::Registration reg = r.registration();
  if (r.request_id().empty() || r.request_id().size() > 128)
    return done(InvalidField("request_id", "must be 1-128 characters"));
  if (auto s = ValidText(reg.full_name(), "registration.full_name", 200, true); !s.ok())
    return done(s);
  if (auto s = ValidCitizenId(reg.citizen_id(), "registration.citizen_id"); !s.ok()) return done(s);
  if (!reg.case_().empty() && !absl::StartsWith(reg.case_(), "cases/"))
    return done(InvalidField("registration.case", "must be cases/{number}"));
  if (reg.case_().empty() && reg.summary().empty()) {
    return done(InvalidField("registration.summary",
                             "must summarise the matter when there is no case number"));
  }
  if (auto s = ValidText(reg.summary(), "registration.summary", 1000, false); !s.ok())
    return done(s);
  if (reg.bridge_unit().empty()) reg.set_bridge_unit(d_.unit_code);
  const std::string request = absl::StrCat(d_.unit_code, "/", r.request_id());
  Mutate(
      reg.session(),
      [this, reg, request](internal::StoredSession& s, WriteTxn& txn) mutable -> absl::Status {
        for (int i = 0; i < s.registrations_size(); ++i) {
          if (s.registration_requests(i) == request) return absl::OkStatus();  // a retry
        }
        const bool replica = s.session().replica();
        if (replica && reg.bridge_unit() != d_.unit_code) {
          return InvalidField(
              "registration.bridge_unit",
              absl::StrCat("must be ", d_.unit_code, ": this node registers for its own bridge"));
        }
        const int n = (*s.mutable_next_registration())[reg.bridge_unit()] + 1;
        (*s.mutable_next_registration())[reg.bridge_unit()] = n;
        reg.set_name(absl::StrCat(s.session().name(), "/registrations/", reg.bridge_unit(),
                                  replica ? "-" : "-h", n));
        reg.set_session(s.session().name());
        SetTime(d_.clock->Now(), reg.mutable_create_time());
        reg.clear_queue_number();
        reg.clear_waiting_position();
        reg.clear_problem();
        reg.clear_checked_in_by();
        reg.clear_check_in_time();
        if (replica) {
          // Checked here against the copy; the host decides the queue.
          if (s.session().state() != v1::SESSION_STATE_SCHEDULED) {
            return absl::FailedPreconditionError(
                absl::StrCat(s.session().name(), " is no longer scheduled"));
          }
          v1::Registration probe = reg;
          internal::StoredSession trial = s;
          if (auto st = Admit(trial, probe, d_.clock->Now()); !st.ok()) return st;
          reg.set_state(v1::REGISTRATION_STATE_PENDING);
          QueueOffer(s, reg, request, txn);
        } else {
          if (auto st = Admit(s, reg, d_.clock->Now()); !st.ok()) return st;
        }
        *s.add_registrations() = reg;
        s.add_registration_requests(request);
        Renumber(s, reg.bridge_unit());
        QueueNotices(s, txn);
        return absl::OkStatus();
      },
      RegistrationOut(request, /*by_request=*/true, std::move(done)));
}

void SchedulingRegistry::CancelRegistration(const Principal& p,
                                            const v1::CancelRegistrationRequest& r,
                                            Callback<v1::Registration> done) {
  if (auto s = CheckStaff(p); !s.ok()) return done(s);
  const std::string name = r.name();
  if (r.etag().size() > 64)
    return done(InvalidField("etag", "is not an etag this service returned"));
  Mutate(
      SessionOf(name),
      [this, name, etag = r.etag()](internal::StoredSession& s, WriteTxn& txn) -> absl::Status {
        std::string request;
        v1::Registration* reg = FindRegistration(s, name, &request);
        if (reg == nullptr)
          return absl::NotFoundError(absl::StrCat(name.substr(0, 120), " does not exist"));
        RECEPTION_RETURN_IF_ERROR(CheckRegistrationEtag(*reg, etag));
        if (reg->state() == v1::REGISTRATION_STATE_CANCELLED) return absl::OkStatus();
        if (reg->state() == v1::REGISTRATION_STATE_CHECKED_IN ||
            reg->state() == v1::REGISTRATION_STATE_NO_SHOW) {
          return absl::FailedPreconditionError(
              absl::StrCat(name, " is ", StateName(reg->state()), ": too late to cancel"));
        }
        const bool seated = Seated(reg->state());
        reg->set_state(v1::REGISTRATION_STATE_CANCELLED);
        reg->clear_queue_number();
        const std::string bridge = reg->bridge_unit();
        if (s.session().replica()) {
          QueueOffer(s, *reg, request, txn);
          Renumber(s, bridge);
          return absl::OkStatus();
        }
        if (seated)
          Promote(s, bridge, txn);
        else
          Renumber(s, bridge);
        QueueNotices(s, txn);
        return absl::OkStatus();
      },
      RegistrationOut(name, /*by_request=*/false, std::move(done)));
}

void SchedulingRegistry::CheckInCitizen(const Principal& p, const v1::CheckInCitizenRequest& r,
                                        Callback<v1::Registration> done) {
  if (auto s = CheckStaff(p); !s.ok()) return done(s);
  if (auto s = ValidCitizenId(r.citizen_id(), "citizen_id"); !s.ok()) return done(s);
  if (r.etag().size() > 64)
    return done(InvalidField("etag", "is not an etag this service returned"));
  const std::string name = r.name();
  const std::string checked_by = p.subject.substr(0, 200);
  Mutate(
      SessionOf(name),
      [this, r, name, checked_by](internal::StoredSession& s, WriteTxn& txn) -> absl::Status {
        std::string request;
        v1::Registration* reg = FindRegistration(s, name, &request);
        if (reg == nullptr)
          return absl::NotFoundError(absl::StrCat(name.substr(0, 120), " does not exist"));
        RECEPTION_RETURN_IF_ERROR(CheckRegistrationEtag(*reg, r.etag()));
        if (reg->bridge_unit() != d_.unit_code && s.session().replica()) {
          return absl::PermissionDeniedError("citizens check in at their own bridge point");
        }
        if (reg->citizen_id() != r.citizen_id()) {
          return absl::PermissionDeniedError(
              "citizen_id does not match the registration: identity not confirmed");
        }
        if (reg->state() == v1::REGISTRATION_STATE_CHECKED_IN) return absl::OkStatus();
        if (reg->state() != v1::REGISTRATION_STATE_CONFIRMED) {
          return absl::FailedPreconditionError(absl::StrCat(
              name, " is ", StateName(reg->state()), "; only a confirmed registration checks in"));
        }
        auto day = ToCivilDay(s.session().date(), "date");
        if (day.ok() && *day != d_.clock->Today()) {
          return absl::FailedPreconditionError(
              absl::StrCat("check-in is on the session's day, ", FormatDate(*day)));
        }
        reg->set_state(v1::REGISTRATION_STATE_CHECKED_IN);
        reg->set_checked_in_by(checked_by);
        SetTime(d_.clock->Now(), reg->mutable_check_in_time());
        if (s.session().replica()) {
          QueueOffer(s, *reg, request, txn);
        } else {
          QueueNotices(s, txn);
        }
        return absl::OkStatus();
      },
      RegistrationOut(name, /*by_request=*/false, std::move(done)));
}

absl::StatusOr<v1::SessionAgenda> SchedulingRegistry::Agenda(const Principal& p,
                                                             const std::string& session) const {
  absl::MutexLock lock(&mu_);
  auto it = published_.find(session);
  if (it == published_.end())
    return absl::NotFoundError(absl::StrCat(session.substr(0, 80), " does not exist"));
  v1::SessionAgenda out;
  out.set_session(session);
  std::vector<const v1::Registration*> regs;
  for (const auto& r : it->second.registrations()) {
    if (Seated(r.state())) regs.push_back(&r);
  }
  std::sort(regs.begin(), regs.end(), [](const v1::Registration* a, const v1::Registration* b) {
    const bool na = a->state() == v1::REGISTRATION_STATE_NO_SHOW,
               nb = b->state() == v1::REGISTRATION_STATE_NO_SHOW;
    if (na != nb) return nb;
    if (a->bridge_unit() != b->bridge_unit()) return a->bridge_unit() < b->bridge_unit();
    return a->queue_number() < b->queue_number();
  });
  const bool staff =
      p.role == Role::kReceptionOfficer || p.role == Role::kInspector || p.role == Role::kHead;
  const bool host_staff = staff && p.unit_code == it->second.session().host_unit();
  for (const auto* r : regs) {
    auto* item = out.add_items();
    item->set_bridge_unit(r->bridge_unit());
    item->set_queue_number(r->queue_number());
    item->set_registration(r->name());
    item->set_state(r->state());
    item->set_identity_protected(r->identity_protected());
    const bool sees_people = host_staff || (staff && p.unit_code == r->bridge_unit());
    if (!sees_people) continue;
    item->set_full_name(r->full_name());
    item->set_case_(r->case_());
    item->set_summary(r->summary());
  }
  return out;
}

}  // namespace reception::scheduling
