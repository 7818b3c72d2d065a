#include "services/scheduling/scheduling_registry.h"

#include <sodium.h>

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
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

namespace reception::scheduling {

std::vector<std::string> SchedulingRegistry::ColumnFamilies() {
  return {kPlan, kSessions, kOutbox, kNotices};
}

std::string SchedulingRegistry::ForDisk(const internal::StoredSession& s) const {
  internal::StoredSession disk = s;
  disk.clear_sealed_persons();
  for (auto& reg : *disk.mutable_registrations()) {
    internal::Person person;
    person.set_full_name(reg.full_name());
    person.set_citizen_id(reg.citizen_id());
    *disk.add_sealed_persons() = d_.vault->Seal(person.SerializeAsString(), s.session().name());
    reg.clear_full_name();
    reg.clear_citizen_id();
  }
  return disk.SerializeAsString();
}

absl::Status SchedulingRegistry::FromDisk(internal::StoredSession& s) const {
  // Sessions written before registrations were sealed have none: kept as
  // they are, sealed at their next write.
  if (s.sealed_persons_size() == 0) return absl::OkStatus();
  if (s.sealed_persons_size() != s.registrations_size()) {
    return absl::DataLossError(absl::StrCat("stored session ", s.session().name().substr(0, 80),
                                            ": sealed persons do not match its registrations"));
  }
  for (int i = 0; i < s.registrations_size(); ++i) {
    auto plain = d_.vault->Unseal(s.sealed_persons(i), s.session().name());
    if (!plain.ok()) return plain.status();
    internal::Person person;
    if (!person.ParseFromString(*plain))
      return absl::DataLossError("a sealed person does not parse");
    s.mutable_registrations(i)->set_full_name(person.full_name());
    s.mutable_registrations(i)->set_citizen_id(person.citizen_id());
  }
  s.clear_sealed_persons();
  return absl::OkStatus();
}

std::string SchedulingRegistry::RegistrationEtag(const v1::Registration& reg) {
  v1::Registration copy = reg;
  copy.clear_etag();
  const std::string bytes = copy.SerializeAsString();
  unsigned char hash[8];
  crypto_generichash(hash, sizeof hash, reinterpret_cast<const unsigned char*>(bytes.data()),
                     bytes.size(), nullptr, 0);
  return absl::StrCat("r", absl::BytesToHexString(absl::string_view(
                               reinterpret_cast<const char*>(hash), sizeof hash)));
}

void SchedulingRegistry::SetEtags(internal::StoredSession& s) {
  s.mutable_session()->set_etag(absl::StrCat("v", s.session().version()));
  for (auto& reg : *s.mutable_registrations()) reg.set_etag(RegistrationEtag(reg));
}

absl::Status SchedulingRegistry::CheckRegistrationEtag(const v1::Registration& reg,
                                                       const std::string& etag) {
  if (etag.empty() || etag == RegistrationEtag(reg)) return absl::OkStatus();
  return WithReason(absl::AbortedError(absl::StrCat("etag ", etag.substr(0, 64),
                                                    " is stale: ", reg.name(), " changed (it is ",
                                                    StateName(reg.state()), "); read it again")),
                    "ETAG_MISMATCH");
}

void SchedulingRegistry::Keep(WriteTxn& txn, internal::StoredSession& s) {
  SetEtags(s);
  const std::string& name = s.session().name();
  txn.Put(sessions_cf_, name, ForDisk(s));
  sessions_[name] = s;
  txn.OnDurable([this, s] {
    absl::MutexLock lock(&mu_);
    published_[s.session().name()] = s;
  });
}

v1::Registration SchedulingRegistry::ForPeople(v1::Registration reg) {
  const std::string& id = reg.citizen_id();
  if (!id.empty()) {
    const size_t shown = std::min<size_t>(3, id.size());
    reg.set_citizen_id(std::string(id.size() - shown, '*') + id.substr(id.size() - shown));
  }
  return reg;
}

SchedulingRegistry::SchedulingRegistry(Deps deps)
    : d_(std::move(deps)),
      plan_cf_(d_.store->Family(kPlan)),
      sessions_cf_(d_.store->Family(kSessions)),
      outbox_cf_(d_.store->Family(kOutbox)),
      notices_cf_(d_.store->Family(kNotices)) {}

absl::Status SchedulingRegistry::Load() {
  SchedulingRegistry* r = this;
  absl::MutexLock lock(&mu_);
  r->plan_.set_unit(r->d_.unit_code);
  r->plan_.set_opens(kDefaultOpens);
  r->plan_.set_closes(kDefaultCloses);
  auto plan = r->d_.store->Get(r->plan_cf_, "plan");
  if (!plan.ok()) return plan.status();
  if (plan->has_value() && !r->plan_.ParseFromString(**plan))
    return absl::DataLossError("the stored plan does not parse");
  auto it = r->d_.store->NewIterator(r->sessions_cf_);
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    internal::StoredSession s;
    if (!s.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      return absl::DataLossError("a stored session does not parse");
    }
    if (auto opened = r->FromDisk(s); !opened.ok()) return opened;
    if (!s.create_request().empty()) r->create_requests_[s.create_request()] = s.session().name();
    SetEtags(s);
    r->published_[s.session().name()] = s;
    r->sessions_[s.session().name()] = std::move(s);
  }
  auto notes = r->d_.store->NewIterator(r->notices_cf_);
  for (notes->SeekToFirst(); notes->Valid(); notes->Next()) {
    v1::Notification n;
    if (n.ParseFromArray(notes->value().data(), static_cast<int>(notes->value().size()))) {
      r->notifications_.push_back(std::move(n));
    }
    r->next_notice_ =
        FromBigEndian64(absl::string_view(notes->key().data(), notes->key().size())) + 1;
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<SchedulingRegistry>> SchedulingRegistry::Open(Deps deps) {
  std::unique_ptr<SchedulingRegistry> r(new SchedulingRegistry(std::move(deps)));
  RECEPTION_RETURN_IF_ERROR(r->Load());
  Outbox::Options o;
  o.store = r->d_.store;
  o.family = kOutbox;
  o.clock = r->d_.clock;
  o.initial_backoff = r->d_.retry_initial;
  o.max_backoff = r->d_.retry_max;
  o.name = "scheduling";
  // One at a time, in order: the host seats registrations in the order they
  // arrive, which must be the order the bridge took them.
  o.window = 1;
  SchedulingRegistry* self = r.get();
  auto box = Outbox::Open(
      o,
      [self](const Outbox::Item& item, absl::AnyInvocable<void(Outbox::Answer)> answer) {
        auto sending = self->ToSend(item);
        if (!sending.ok()) {
          // Nothing to send any more (the session is gone): settled as refused.
          return answer({Outbox::Verdict::kRefused, std::string(sending.status().message()), ""});
        }
        if (!self->d_.send) return answer({Outbox::Verdict::kRetry, "no delivery configured", ""});
        self->d_.send(*sending, std::move(answer));
      },
      [self](const Outbox::Item& item, const Outbox::Answer& answer, WriteTxn& txn) {
        return self->Settle(item, answer, txn);
      });
  if (!box.ok()) return box.status();
  r->outbox_ = *std::move(box);
  if (auto migrated = r->MigrateOldOutbox(); !migrated.ok()) return migrated;
  return r;
}

absl::Status SchedulingRegistry::CheckStaff(const Principal& p) const {
  if (p.role != Role::kReceptionOfficer && p.role != Role::kHead && p.role != Role::kInspector) {
    return absl::PermissionDeniedError(
        absl::StrCat("role ", RoleName(p.role),
                     " may not change the reception calendar; an officer, inspector or head may"));
  }
  if (p.unit_code != d_.unit_code) {
    return absl::PermissionDeniedError(absl::StrCat(
        "unit ", p.unit_code.substr(0, 32), " may not change unit ", d_.unit_code, "'s calendar"));
  }
  return absl::OkStatus();
}

void SchedulingRegistry::SetPlan(const Principal& p, v1::ReceptionPlan plan,
                                 Callback<v1::ReceptionPlan> done) {
  if (auto s = CheckStaff(p); !s.ok()) return done(s);
  if (auto s = ValidatePlan(plan); !s.ok()) return done(s);
  plan.set_unit(d_.unit_code);
  SetTime(d_.clock->Now(), plan.mutable_update_time());
  d_.store->Submit(
      [this, plan](WriteTxn& txn) -> absl::Status {
        txn.Put(plan_cf_, "plan", plan.SerializeAsString());
        absl::MutexLock lock(&mu_);
        plan_ = plan;
        return absl::OkStatus();
      },
      [plan, done = std::move(done)](absl::Status s) mutable {
        if (!s.ok()) return done(s);
        done(plan);
      });
}

v1::ReceptionPlan SchedulingRegistry::Plan() const {
  absl::MutexLock lock(&mu_);
  return plan_;
}

absl::StatusOr<v1::ListPlannedDaysResponse> SchedulingRegistry::ListPlannedDays(
    const v1::ListPlannedDaysRequest& r) const {
  auto from = ToCivilDay(r.from(), "from");
  if (!from.ok()) return from.status();
  auto to = ToCivilDay(r.to(), "to");
  if (!to.ok()) return to.status();
  if (*to < *from || *to - *from > 400)
    return InvalidField("to", "must be on or after from, at most 400 days later");
  auto days = PlannedDays(Plan(), *d_.calendar, *from, *to);
  if (!days.ok()) return days.status();
  v1::ListPlannedDaysResponse out;
  for (const auto& d : *days) {
    auto* q = out.add_days();
    *q->mutable_date() = ToProtoDate(d.day);
    q->set_kind(d.kind);
    if (d.moved_from) *q->mutable_moved_from() = ToProtoDate(*d.moved_from);
  }
  return out;
}

std::vector<Booking> SchedulingRegistry::BookingsLocked() const {
  std::vector<Booking> out;
  for (const auto& [name, s] : sessions_) {
    const v1::Session& x = s.session();
    if (x.state() != v1::SESSION_STATE_SCHEDULED) continue;
    auto day = ToCivilDay(x.date(), "date");
    auto start = ParseClock(x.start(), "start");
    auto end = ParseClock(x.end(), "end");
    if (!day.ok() || !start.ok() || !end.ok()) continue;
    Booking b{name, *day, *start, *end, x.replica() ? "" : x.presiding(), {}};
    for (const auto& br : x.bridges()) b.bridges.push_back(br.unit());
    if (x.replica()) b.bridges = {d_.unit_code};  // this unit is busy as a bridge then
    out.push_back(std::move(b));
  }
  return out;
}

void SchedulingRegistry::Mutate(const std::string& name, Mutation fn,
                                Callback<internal::StoredSession> done, const std::string& etag) {
  if (etag.size() > 64) return done(InvalidField("etag", "is not an etag this service returned"));
  auto result = std::make_shared<internal::StoredSession>();
  d_.store->Submit(
      [this, name, fn = std::move(fn), result, etag](WriteTxn& txn) mutable -> absl::Status {
        absl::MutexLock lock(&mu_);
        auto it = sessions_.find(name);
        if (it == sessions_.end())
          return absl::NotFoundError(absl::StrCat(name.substr(0, 80), " does not exist"));
        const std::string now = absl::StrCat("v", it->second.session().version());
        if (!etag.empty() && etag != now) {
          return WithReason(
              absl::AbortedError(absl::StrCat("etag ", etag, " is stale: ", name.substr(0, 80),
                                              " is now at ", now, "; read it again")),
              "ETAG_MISMATCH");
        }
        internal::StoredSession copy = it->second;
        if (auto s = fn(copy, txn); !s.ok()) return s;
        // The version is the host's: a bridge's copy keeps the host's number.
        if (!copy.session().replica())
          copy.mutable_session()->set_version(copy.session().version() + 1);
        Keep(txn, copy);  // sets the etags on `copy`, the answer
        *result = std::move(copy);
        return absl::OkStatus();
      },
      [this, result, done = std::move(done)](absl::Status s) mutable {
        if (!s.ok()) return done(s);
        done(*result);
        Changed();
      });
}

void SchedulingRegistry::CreateSession(const Principal& p, const v1::CreateSessionRequest& r,
                                       Callback<v1::Session> done) {
  if (auto s = CheckStaff(p); !s.ok()) return done(s);
  v1::Session x = r.session();
  if (x.kind() == v1::SESSION_KIND_UNSPECIFIED || !v1::SessionKind_IsValid(x.kind())) {
    return done(InvalidField("session.kind", "must be regular, periodic, unscheduled or online"));
  }
  auto day = ToCivilDay(x.date(), "session.date");
  if (!day.ok()) return done(day.status());
  if (auto s = ValidText(x.presiding(), "session.presiding", 200, true); !s.ok()) return done(s);
  if (auto s = ValidText(x.title(), "session.title", 500, false); !s.ok()) return done(s);
  if (auto s =
          ValidText(x.reason(), "session.reason", 1000, x.kind() == v1::SESSION_KIND_UNSCHEDULED);
      !s.ok()) {
    return done(x.reason().empty()
                    ? InvalidField("session.reason", "must say why an unscheduled session is held")
                    : s);
  }
  if (r.request_id().size() > 128)
    return done(InvalidField("request_id", "must be at most 128 characters"));
  if (x.kind() == v1::SESSION_KIND_ONLINE) {
    if (x.bridges_size() == 0)
      return done(
          InvalidField("session.bridges", "an online session needs at least one bridge point"));
    if (x.bridges_size() > 300)
      return done(InvalidField("session.bridges", "must list at most 300 bridge points"));
    std::set<std::string> seen;
    for (int i = 0; i < x.bridges_size(); ++i) {
      auto* b = x.mutable_bridges(i);
      const std::string field = absl::StrCat("session.bridges[", i, "]");
      if (d_.topology->Find(b->unit()) == nullptr)
        return done(InvalidField(field + ".unit", "is not a unit of the topology"));
      if (b->unit() == d_.unit_code)
        return done(InvalidField(field + ".unit", "is the host itself"));
      if (!seen.insert(b->unit()).second)
        return done(InvalidField(field + ".unit", "is listed twice"));
      if (b->capacity() < 1 || b->capacity() > 500)
        return done(InvalidField(field + ".capacity", "must be 1-500"));
      b->set_registered(0);
      b->set_waiting(0);
    }
    if (x.has_registration_cutoff()) {
      auto cutoff = ToCivilDay(x.registration_cutoff(), "session.registration_cutoff");
      if (!cutoff.ok()) return done(cutoff.status());
      if (*cutoff > *day)
        return done(
            InvalidField("session.registration_cutoff", "must not be after the session's day"));
    }
  } else if (x.bridges_size() > 0) {
    return done(InvalidField("session.bridges", "only online sessions have bridge points"));
  }
  x.set_host_unit(d_.unit_code);
  x.set_state(v1::SESSION_STATE_SCHEDULED);
  x.clear_cancel_reason();
  x.clear_room();
  x.clear_record();
  x.clear_problem();
  x.set_replica(false);
  x.set_version(1);
  x.set_etag("v1");
  auto result = std::make_shared<internal::StoredSession>();
  d_.store->Submit(
      [this, x, r, result](WriteTxn& txn) mutable -> absl::Status {
        absl::MutexLock lock(&mu_);
        if (!r.request_id().empty()) {
          auto it = create_requests_.find(r.request_id());
          if (it != create_requests_.end()) {
            *result = sessions_.at(it->second);
            return absl::OkStatus();
          }
        }
        if (auto s = CheckConflicts(x, plan_, *d_.calendar, BookingsLocked()); !s.ok()) return s;
        const std::string prefix =
            absl::StrCat("sessions/", d_.unit_code, "-",
                         absl::StrReplaceAll(FormatDate(x.date()), {{"-", ""}}), "-");
        int n = 1;
        while (sessions_.count(absl::StrCat(prefix, n))) ++n;
        x.set_name(absl::StrCat(prefix, n));
        internal::StoredSession s;
        *s.mutable_session() = x;
        s.set_create_request(r.request_id());
        Keep(txn, s);
        QueueNotices(s, txn);
        if (!r.request_id().empty()) create_requests_[r.request_id()] = x.name();
        *result = std::move(s);
        return absl::OkStatus();
      },
      [this, result, done = std::move(done)](absl::Status s) mutable {
        if (!s.ok()) return done(s);
        done(result->session());
        Changed();
      });
}

void SchedulingRegistry::RescheduleSession(const Principal& p,
                                           const v1::RescheduleSessionRequest& r,
                                           Callback<v1::Session> done) {
  if (auto s = CheckStaff(p); !s.ok()) return done(s);
  Mutate(
      r.name(),
      [this, r](internal::StoredSession& s, WriteTxn& txn) -> absl::Status {
        v1::Session& x = *s.mutable_session();
        if (auto st = HostedAndScheduled(x, "reschedule"); !st.ok()) return st;
        v1::Session moved = x;
        *moved.mutable_date() = r.date();
        moved.set_start(r.start());
        moved.set_end(r.end());
        if (r.has_registration_cutoff())
          *moved.mutable_registration_cutoff() = r.registration_cutoff();
        if (auto st = CheckConflicts(moved, plan_, *d_.calendar, BookingsLocked(), x.name());
            !st.ok())
          return st;
        const std::string when =
            absl::StrCat(FormatDate(moved.date()), " ", moved.start(), "-", moved.end());
        x = moved;
        for (const auto& reg : s.registrations()) {
          if (reg.state() == v1::REGISTRATION_STATE_CONFIRMED ||
              reg.state() == v1::REGISTRATION_STATE_WAITING ||
              reg.state() == v1::REGISTRATION_STATE_PENDING) {
            Notify(txn, reg, "session_rescheduled", absl::StrCat(x.name(), " moved to ", when));
          }
        }
        QueueNotices(s, txn);
        return absl::OkStatus();
      },
      SessionOut(std::move(done)), r.etag());
}

void SchedulingRegistry::CancelSession(const Principal& p, const v1::CancelSessionRequest& r,
                                       Callback<v1::Session> done) {
  if (auto s = CheckStaff(p); !s.ok()) return done(s);
  if (auto s = ValidText(r.reason(), "reason", 1000, true); !s.ok()) return done(s);
  Mutate(
      r.name(),
      [this, r](internal::StoredSession& s, WriteTxn& txn) -> absl::Status {
        v1::Session& x = *s.mutable_session();
        if (auto st = HostedAndScheduled(x, "cancel"); !st.ok()) return st;
        x.set_state(v1::SESSION_STATE_CANCELLED);
        x.set_cancel_reason(r.reason());
        for (auto& reg : *s.mutable_registrations()) {
          if (reg.state() == v1::REGISTRATION_STATE_CONFIRMED ||
              reg.state() == v1::REGISTRATION_STATE_WAITING) {
            reg.set_state(v1::REGISTRATION_STATE_CANCELLED);
            Notify(txn, reg, "session_cancelled",
                   absl::StrCat(x.name(), " was cancelled: ", r.reason()));
          }
        }
        for (const auto& b : x.bridges()) Renumber(s, b.unit());
        QueueNotices(s, txn);
        return absl::OkStatus();
      },
      SessionOut(std::move(done)), r.etag());
}

void SchedulingRegistry::RecordSession(const Principal& p, const v1::RecordSessionRequest& r,
                                       Callback<v1::Session> done) {
  if (auto s = CheckStaff(p); !s.ok()) return done(s);
  const v1::SessionRecord& rec = r.record();
  if (auto s = ValidText(rec.presided_by(), "record.presided_by", 200, true); !s.ok())
    return done(s);
  if (rec.presiding_role() == v1::PRESIDING_ROLE_UNSPECIFIED ||
      !v1::PresidingRole_IsValid(rec.presiding_role())) {
    return done(InvalidField("record.presiding_role", "must be head, deputy or staff"));
  }
  if (rec.citizens() < 0 || rec.citizens() > 100000)
    return done(InvalidField("record.citizens", "must be 0-100000"));
  for (int i = 0; i < rec.cases_size(); ++i) {
    if (!absl::StartsWith(rec.cases(i), "cases/"))
      return done(InvalidField(absl::StrCat("record.cases[", i, "]"), "must be cases/{number}"));
  }
  if (auto s = ValidText(rec.note(), "record.note", 2000, false); !s.ok()) return done(s);
  Mutate(
      r.name(),
      [this, r](internal::StoredSession& s, WriteTxn& txn) -> absl::Status {
        v1::Session& x = *s.mutable_session();
        if (auto st = HostedAndScheduled(x, "record"); !st.ok()) return st;
        auto day = ToCivilDay(x.date(), "date");
        if (day.ok() && *day > d_.clock->Today()) {
          return absl::FailedPreconditionError(absl::StrCat(
              x.name(), " is on ", FormatDate(*day), ": it cannot be recorded before it happens"));
        }
        x.set_state(v1::SESSION_STATE_HELD);
        *x.mutable_record() = r.record();
        for (auto& reg : *s.mutable_registrations()) {
          if (reg.state() == v1::REGISTRATION_STATE_CONFIRMED)
            reg.set_state(v1::REGISTRATION_STATE_NO_SHOW);
          if (reg.state() == v1::REGISTRATION_STATE_WAITING)
            reg.set_state(v1::REGISTRATION_STATE_CANCELLED);
        }
        for (const auto& b : x.bridges()) Renumber(s, b.unit());
        QueueNotices(s, txn);
        return absl::OkStatus();
      },
      SessionOut(std::move(done)), r.etag());
}

absl::StatusOr<v1::Session> SchedulingRegistry::GetSession(const std::string& name) const {
  absl::MutexLock lock(&mu_);
  auto it = published_.find(name);
  if (it == published_.end())
    return absl::NotFoundError(absl::StrCat(name.substr(0, 80), " does not exist"));
  return it->second.session();
}

namespace {

// The order sessions are listed in: date, start, name.
std::string SessionKey(const v1::Session& s) {
  return absl::StrCat(FormatDate(s.date()), "|", s.start(), "|", s.name());
}

absl::StatusOr<int> PageSize(int requested) {
  if (requested < 0 || requested > 1000) {
    return InvalidField("page_size", "must be between 0 and 1000 (0: 100)");
  }
  return requested == 0 ? 100 : requested;
}

}  // namespace

absl::StatusOr<v1::ListSessionsResponse> SchedulingRegistry::ListSessions(
    const v1::ListSessionsRequest& r) const {
  auto from = ToCivilDay(r.from(), "from");
  if (!from.ok()) return from.status();
  auto to = ToCivilDay(r.to(), "to");
  if (!to.ok()) return to.status();
  RECEPTION_ASSIGN_OR_RETURN(const int page_size, PageSize(r.page_size()));
  // The token: the range it was made for and the last key returned.
  const std::string range = absl::StrCat(FormatDate(*from), "/", FormatDate(*to), "/");
  std::string after;
  if (!r.page_token().empty()) {
    std::string raw;
    if (!absl::WebSafeBase64Unescape(r.page_token(), &raw) || !absl::StartsWith(raw, range)) {
      return InvalidField("page_token",
                          "is not a token ListSessions returned for this from and to");
    }
    after = raw.substr(range.size());
  }
  std::vector<std::pair<std::string, const v1::Session*>> all;
  absl::MutexLock lock(&mu_);
  for (const auto& [name, s] : published_) {
    auto day = ToCivilDay(s.session().date(), "date");
    if (!day.ok() || *day < *from || *day > *to) continue;
    std::string key = SessionKey(s.session());
    if (!after.empty() && key <= after) continue;
    all.emplace_back(std::move(key), &s.session());
  }
  std::sort(all.begin(), all.end());
  v1::ListSessionsResponse out;
  for (size_t i = 0; i < all.size() && out.sessions_size() < page_size; ++i) {
    *out.add_sessions() = *all[i].second;
  }
  if (static_cast<int>(all.size()) > page_size) {
    out.set_next_page_token(absl::WebSafeBase64Escape(range + all[page_size - 1].first));
  }
  return out;
}

absl::StatusOr<v1::ListNotificationsResponse> SchedulingRegistry::Notifications(
    const v1::ListNotificationsRequest& r) const {
  RECEPTION_ASSIGN_OR_RETURN(const int page_size, PageSize(r.page_size()));
  absl::MutexLock lock(&mu_);
  // Notifications are only ever appended: the token is the position of the
  // oldest one returned, and the next page starts just before it.
  size_t end = notifications_.size();
  if (!r.page_token().empty()) {
    std::string raw;
    uint64_t position = 0;
    if (!absl::WebSafeBase64Unescape(r.page_token(), &raw) || !absl::StartsWith(raw, "n/") ||
        !absl::SimpleAtoi(absl::string_view(raw).substr(2), &position) ||
        position > notifications_.size()) {
      return InvalidField("page_token", "is not a token ListNotifications returned");
    }
    end = position;
  }
  v1::ListNotificationsResponse out;
  size_t i = end;
  while (i > 0 && out.notifications_size() < page_size)
    *out.add_notifications() = notifications_[--i];
  if (i > 0) out.set_next_page_token(absl::WebSafeBase64Escape(absl::StrCat("n/", i)));
  return out;
}

absl::StatusOr<v1::ComplianceReport> SchedulingRegistry::Compliance(
    const v1::GetComplianceReportRequest& r) const {
  const std::string unit = r.unit().empty() ? d_.unit_code : r.unit();
  if (unit != d_.unit_code) {
    return absl::FailedPreconditionError(absl::StrCat(
        "unit ", unit.substr(0, 32), "'s reception is recorded at its own node; ask it there"));
  }
  const auto* u = d_.topology->Find(unit);
  if (u == nullptr)
    return absl::FailedPreconditionError(absl::StrCat("unit ", unit, " is not in the topology"));
  auto range = ReportRange(r.period(), r.year(), r.number(), *d_.rules);
  if (!range.ok()) return range.status();
  // Spans reach back to the Monday or the 1st before the period.
  const absl::CivilDay reach =
      std::min(range->first - 6, absl::CivilDay(absl::CivilMonth(range->first)));
  std::vector<HeldDay> held;
  {
    absl::MutexLock lock(&mu_);
    for (const auto& [name, s] : published_) {
      const v1::Session& x = s.session();
      if (x.replica() || x.state() != v1::SESSION_STATE_HELD) continue;
      if (x.kind() != v1::SESSION_KIND_PERIODIC && x.kind() != v1::SESSION_KIND_ONLINE) continue;
      auto day = ToCivilDay(x.date(), "date");
      if (day.ok()) held.push_back({*day, x.record().presided_by(), x.record().presiding_role()});
    }
  }
  std::vector<PlannedDay> planned;
  auto days = PlannedDays(Plan(), *d_.calendar, reach, range->second);
  if (days.ok()) planned = *std::move(days);
  return scheduling::Compliance(unit, u->level(), range->first, range->second, held, planned,
                                *d_.rules, d_.calendar);
}

absl::StatusOr<std::string> SchedulingRegistry::ExportCalendar(
    const v1::ExportCalendarRequest& r) const {
  auto from = ToCivilDay(r.from(), "from");
  if (!from.ok()) return from.status();
  auto to = ToCivilDay(r.to(), "to");
  if (!to.ok()) return to.status();
  if (*to < *from || *to - *from > 400)
    return InvalidField("to", "must be on or after from, at most 400 days later");
  v1::ListSessionsRequest list;
  *list.mutable_from() = r.from();
  *list.mutable_to() = r.to();
  list.set_page_size(1000);
  v1::ListSessionsResponse all;
  for (;;) {
    auto page = ListSessions(list);
    if (!page.ok()) return page.status();
    for (auto& s : *page->mutable_sessions()) *all.add_sessions() = std::move(s);
    if (page->next_page_token().empty()) break;
    list.set_page_token(page->next_page_token());
  }
  const v1::ListSessionsResponse* sessions = &all;
  const v1::ReceptionPlan plan = Plan();
  auto days = PlannedDays(plan, *d_.calendar, *from, *to);
  if (!days.ok()) return days.status();
  return RenderICalendar(d_.unit_code, plan, *days, *sessions);
}

std::map<std::pair<std::string, std::string>, int> SchedulingRegistry::SessionCounts() const {
  absl::MutexLock lock(&mu_);
  std::map<std::pair<std::string, std::string>, int> out;
  for (const auto& [name, s] : published_) {
    ++out[{absl::AsciiStrToLower(
               v1::SessionKind_Name(s.session().kind()).substr(strlen("SESSION_KIND_"))),
           absl::AsciiStrToLower(
               v1::SessionState_Name(s.session().state()).substr(strlen("SESSION_STATE_")))}];
  }
  return out;
}

std::vector<SchedulingRegistry::RoomWork> SchedulingRegistry::RoomWorkToDo() const {
  absl::MutexLock lock(&mu_);
  std::vector<RoomWork> out;
  for (const auto& [name, s] : published_) {
    const v1::Session& x = s.session();
    if (x.replica() || x.kind() != v1::SESSION_KIND_ONLINE) continue;
    if (x.state() == v1::SESSION_STATE_SCHEDULED && !s.room_created()) out.push_back({x, true});
    if (x.state() != v1::SESSION_STATE_SCHEDULED && s.room_created() && !s.room_closed())
      out.push_back({x, false});
  }
  return out;
}

void SchedulingRegistry::RoomDone(const std::string& session_name, bool created,
                                  const std::string& room, const std::string& problem) {
  Mutate(
      session_name,
      [created, room, problem](internal::StoredSession& s, WriteTxn&) -> absl::Status {
        s.mutable_session()->set_problem(problem);
        if (!problem.empty()) return absl::OkStatus();
        if (created) {
          s.set_room_created(true);
          s.mutable_session()->set_room(room);
        } else {
          s.set_room_closed(true);
        }
        return absl::OkStatus();
      },
      [](absl::StatusOr<internal::StoredSession>) {});
}

}  // namespace reception::scheduling
