#include "services/scheduling/scheduling_registry.h"

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

namespace reception::scheduling {
namespace {

constexpr char kPlan[] = "plan";            // "plan" -> ReceptionPlan
constexpr char kSessions[] = "sessions";    // name -> StoredSession
constexpr char kOutbox[] = "outbox";        // key -> OutboxItem
constexpr char kNotices[] = "notices";      // BE64(seq) -> Notification

void SetTime(absl::Time t, google::protobuf::Timestamp* ts) { ts->set_seconds(absl::ToUnixSeconds(t)); }

bool Seated(v1::RegistrationState s) {
  return s == v1::REGISTRATION_STATE_CONFIRMED || s == v1::REGISTRATION_STATE_CHECKED_IN ||
         s == v1::REGISTRATION_STATE_NO_SHOW;
}

std::string StateName(v1::RegistrationState s) {
  return absl::AsciiStrToLower(v1::RegistrationState_Name(s).substr(strlen("REGISTRATION_STATE_")));
}

absl::Status ValidCitizenId(absl::string_view id, absl::string_view field) {
  if (id.size() != 12 || !std::all_of(id.begin(), id.end(), [](char c) { return absl::ascii_isdigit(c); })) {
    return InvalidField(field, "must be the 12-digit citizen ID");
  }
  return absl::OkStatus();
}

absl::Status ValidText(absl::string_view text, absl::string_view field, size_t max, bool required) {
  if (required && text.empty()) return InvalidField(field, "must be set");
  if (text.size() > max) return InvalidField(field, absl::StrCat("must be at most ", max, " bytes"));
  if (!IsValidUtf8(text) || HasControlCharacters(text, false)) {
    return InvalidField(field, "must be UTF-8 text without control characters");
  }
  return absl::OkStatus();
}

// The session id in a name "sessions/{id}" or a registration's name.
std::string SessionOf(absl::string_view name) {
  const size_t r = name.find("/registrations/");
  return std::string(r == absl::string_view::npos ? name : name.substr(0, r));
}

v1::Registration* FindRegistration(internal::StoredSession& s, absl::string_view name, std::string* request = nullptr) {
  for (int i = 0; i < s.registrations_size(); ++i) {
    if (s.registrations(i).name() == name) {
      if (request) *request = s.registration_requests(i);
      return s.mutable_registrations(i);
    }
  }
  return nullptr;
}

// Changes to a session are made at its host, while it is scheduled.
absl::Status HostedAndScheduled(const v1::Session& x, absl::string_view verb) {
  if (x.replica()) {
    return absl::FailedPreconditionError(absl::StrCat(x.name(), " is hosted by unit ", x.host_unit(), "; ", verb, " it there"));
  }
  if (x.state() != v1::SESSION_STATE_SCHEDULED) return absl::FailedPreconditionError(absl::StrCat(x.name(), " is no longer scheduled"));
  return absl::OkStatus();
}

// Answers with the changed session.
Callback<internal::StoredSession> SessionOut(Callback<v1::Session> done) {
  return [done = std::move(done)](absl::StatusOr<internal::StoredSession> s) mutable {
    if (!s.ok()) return done(s.status());
    done(s->session());
  };
}

// Answers with the registration named `key` (or made with request `key`).
Callback<internal::StoredSession> RegistrationOut(std::string key, bool by_request, Callback<v1::Registration> done) {
  return [key, by_request, done = std::move(done)](absl::StatusOr<internal::StoredSession> s) mutable {
    if (!s.ok()) return done(s.status());
    for (int i = 0; i < s->registrations_size(); ++i) {
      if ((by_request ? s->registration_requests(i) : s->registrations(i).name()) == key) return done(s->registrations(i));
    }
    done(absl::InternalError("the registration was not kept"));
  };
}

}  // namespace

std::vector<std::string> SchedulingRegistry::ColumnFamilies() { return {kPlan, kSessions, kOutbox, kNotices}; }

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

void SchedulingRegistry::Keep(WriteTxn& txn, const internal::StoredSession& s) {
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
  if (plan->has_value() && !r->plan_.ParseFromString(**plan)) return absl::DataLossError("the stored plan does not parse");
  auto it = r->d_.store->NewIterator(r->sessions_cf_);
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    internal::StoredSession s;
    if (!s.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      return absl::DataLossError("a stored session does not parse");
    }
    if (auto opened = r->FromDisk(s); !opened.ok()) return opened;
    if (!s.create_request().empty()) r->create_requests_[s.create_request()] = s.session().name();
    r->published_[s.session().name()] = s;
    r->sessions_[s.session().name()] = std::move(s);
  }
  auto notes = r->d_.store->NewIterator(r->notices_cf_);
  for (notes->SeekToFirst(); notes->Valid(); notes->Next()) {
    v1::Notification n;
    if (n.ParseFromArray(notes->value().data(), static_cast<int>(notes->value().size()))) {
      r->notifications_.push_back(std::move(n));
    }
    r->next_notice_ = FromBigEndian64(absl::string_view(notes->key().data(), notes->key().size())) + 1;
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

absl::Status SchedulingRegistry::MigrateOldOutbox() {
  // Before the shared outbox, items were kept as "n/{peer}/{session}" (a
  // marker) and "r/{request}" (an OutboxItem) in the same family.
  std::vector<std::pair<std::string, std::string>> old;
  auto it = d_.store->NewIterator(outbox_cf_);
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    const std::string key = it->key().ToString();
    if (absl::StartsWith(key, "n/") || absl::StartsWith(key, "r/")) {
      old.emplace_back(key, it->value().ToString());
    }
  }
  if (old.empty()) return absl::OkStatus();
  return d_.store->CommitAndWait([this, &old](WriteTxn& txn) -> absl::Status {
    for (const auto& [key, value] : old) {
      txn.Delete(outbox_cf_, key);
      if (absl::StartsWith(key, "n/")) {
        const size_t slash = key.find('/', 2);
        if (slash == std::string::npos) continue;
        outbox_->Put(txn, key.substr(2, slash - 2), key, key.substr(slash + 1));
        continue;
      }
      internal::OutboxItem item;
      if (!item.ParseFromString(value)) continue;
      outbox_->Put(txn, item.peer(), key, value);
    }
    return absl::OkStatus();
  });
}

absl::StatusOr<internal::OutboxItem> SchedulingRegistry::ToSend(const Outbox::Item& item) const {
  internal::OutboxItem out;
  out.set_peer(item.peer);
  if (absl::StartsWith(item.key, "n/")) {
    // The session as it is durably now: never a state a crash could take back.
    auto stored = d_.store->Get(sessions_cf_, item.payload);
    if (!stored.ok()) return stored.status();
    if (!stored->has_value()) return absl::NotFoundError(absl::StrCat(item.payload, " is gone"));
    internal::StoredSession s;
    if (!s.ParseFromString(**stored)) return absl::DataLossError("a stored session does not parse");
    RECEPTION_RETURN_IF_ERROR(FromDisk(s));
    *out.mutable_notice()->mutable_session() = s.session();
    for (const auto& reg : s.registrations()) {
      if (reg.bridge_unit() == item.peer) *out.mutable_notice()->add_registrations() = reg;
    }
    return out;
  }
  if (!out.ParseFromString(item.payload))
    return absl::DataLossError("an outbox item does not parse");
  auto* offer = out.mutable_registration();
  if (offer->has_sealed_person()) {
    auto plain = d_.vault->Unseal(offer->sealed_person(), offer->request_id());
    if (!plain.ok()) return plain.status();
    internal::Person person;
    if (!person.ParseFromString(*plain))
      return absl::DataLossError("a sealed person does not parse");
    offer->mutable_registration()->set_full_name(person.full_name());
    offer->mutable_registration()->set_citizen_id(person.citizen_id());
    offer->clear_sealed_person();
  }
  return out;
}

absl::Status SchedulingRegistry::Settle(const Outbox::Item& item, const Outbox::Answer& answer,
                                        WriteTxn& txn) {
  if (!absl::StartsWith(item.key, "r/")) return absl::OkStatus();  // notices: nothing to record
  const std::string request = item.key.substr(2);
  internal::OutboxItem sent;
  if (!sent.ParseFromString(item.payload)) return absl::OkStatus();
  const v1::Registration& offered = sent.registration().registration();
  v1::Registration host_view;
  if (answer.verdict == Outbox::Verdict::kDelivered) {
    if (!host_view.ParseFromString(answer.response)) return absl::OkStatus();
  } else {
    // The host will never take it (or an operator cancelled it): the
    // citizen's registration says so here.
    host_view = offered;
    host_view.set_state(v1::REGISTRATION_STATE_REFUSED);
    host_view.set_problem(
        absl::StrCat("unit ", item.peer, " refused it: ", answer.detail.substr(0, 300)));
  }
  absl::MutexLock lock(&mu_);
  auto s = sessions_.find(offered.session());
  if (s == sessions_.end()) return absl::OkStatus();
  internal::StoredSession copy = s->second;
  for (int i = 0; i < copy.registrations_size(); ++i) {
    if (copy.registration_requests(i) != request) continue;
    Log()->info("event=registration_answer peer={} request={} here={} host={}", item.peer,
                LogValue(request), StateName(copy.registrations(i).state()),
                StateName(host_view.state()));
    // Moved up at the host while this answer was on its way: the citizen is
    // told, whichever way the news arrives (here or by the host's notice).
    if (copy.registrations(i).state() == v1::REGISTRATION_STATE_WAITING &&
        host_view.state() == v1::REGISTRATION_STATE_CONFIRMED) {
      Notify(txn, host_view, "moved_up",
             absl::StrCat("a seat freed for ", offered.session(), ": queue number ",
                          host_view.queue_number()));
    }
    // The host's answer (masked or not) never replaces the personal data
    // taken here.
    v1::Registration merged = host_view;
    merged.set_full_name(copy.registrations(i).full_name());
    merged.set_citizen_id(copy.registrations(i).citizen_id());
    *copy.mutable_registrations(i) = std::move(merged);
  }
  Keep(txn, copy);
  return absl::OkStatus();
}

absl::Status SchedulingRegistry::CheckStaff(const Principal& p) const {
  if (p.role != Role::kReceptionOfficer && p.role != Role::kHead && p.role != Role::kInspector) {
    return absl::PermissionDeniedError(absl::StrCat("role ", RoleName(p.role), " may not change the reception calendar; an officer, inspector or head may"));
  }
  if (p.unit_code != d_.unit_code) {
    return absl::PermissionDeniedError(absl::StrCat("unit ", p.unit_code.substr(0, 32), " may not change unit ", d_.unit_code, "'s calendar"));
  }
  return absl::OkStatus();
}

void SchedulingRegistry::SetPlan(const Principal& p, v1::ReceptionPlan plan, Callback<v1::ReceptionPlan> done) {
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

absl::StatusOr<v1::ListPlannedDaysResponse> SchedulingRegistry::ListPlannedDays(const v1::ListPlannedDaysRequest& r) const {
  auto from = ToCivilDay(r.from(), "from");
  if (!from.ok()) return from.status();
  auto to = ToCivilDay(r.to(), "to");
  if (!to.ok()) return to.status();
  if (*to < *from || *to - *from > 400) return InvalidField("to", "must be on or after from, at most 400 days later");
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

void SchedulingRegistry::Mutate(const std::string& name, Mutation fn, Callback<internal::StoredSession> done) {
  auto result = std::make_shared<internal::StoredSession>();
  d_.store->Submit(
      [this, name, fn = std::move(fn), result](WriteTxn& txn) mutable -> absl::Status {
        absl::MutexLock lock(&mu_);
        auto it = sessions_.find(name);
        if (it == sessions_.end()) return absl::NotFoundError(absl::StrCat(name.substr(0, 80), " does not exist"));
        internal::StoredSession copy = it->second;
        if (auto s = fn(copy, txn); !s.ok()) return s;
        // The version is the host's: a bridge's copy keeps the host's number.
        if (!copy.session().replica()) copy.mutable_session()->set_version(copy.session().version() + 1);
        Keep(txn, copy);
        *result = std::move(copy);
        return absl::OkStatus();
      },
      [this, result, done = std::move(done)](absl::Status s) mutable {
        if (!s.ok()) return done(s);
        done(*result);
        Changed();
      });
}

void SchedulingRegistry::QueueNotices(const internal::StoredSession& s, WriteTxn& txn) {
  if (s.session().replica()) return;
  for (const auto& b : s.session().bridges()) {
    if (!d_.peers.count(b.unit())) continue;  // a bridge without a node learns nothing by federation
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
    for (const auto& r : s.registrations()) seated += r.bridge_unit() == bridge && Seated(r.state());
    b.set_registered(seated);
    b.set_waiting(position);
  }
}

absl::Status SchedulingRegistry::Admit(internal::StoredSession& s, v1::Registration& reg, absl::Time taken) const {
  const v1::Session& x = s.session();
  if (x.state() != v1::SESSION_STATE_SCHEDULED) {
    return absl::FailedPreconditionError(absl::StrCat(x.name(), " is ", absl::AsciiStrToLower(v1::SessionState_Name(x.state()).substr(14)), ": no more registrations"));
  }
  const v1::SessionBridge* bridge = nullptr;
  for (const auto& b : x.bridges()) {
    if (b.unit() == reg.bridge_unit()) bridge = &b;
  }
  if (bridge == nullptr) {
    return InvalidField("registration.bridge_unit", absl::StrCat("is not a bridge point of ", x.name()));
  }
  auto cutoff = ToCivilDay(x.registration_cutoff().year() ? x.registration_cutoff() : x.date(), "registration_cutoff");
  if (cutoff.ok() && absl::ToCivilDay(taken, VietnamTimeZone()) > *cutoff) {
    return absl::FailedPreconditionError(absl::StrCat("registrations for ", x.name(), " closed at the end of ", FormatDate(*cutoff)));
  }
  for (const auto& r : s.registrations()) {
    if (r.citizen_id() == reg.citizen_id() && r.state() != v1::REGISTRATION_STATE_CANCELLED &&
        r.state() != v1::REGISTRATION_STATE_REFUSED && r.name() != reg.name()) {
      return absl::AlreadyExistsError(absl::StrCat("this citizen is already registered for ", x.name(), " as ", r.name()));
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

void SchedulingRegistry::Promote(internal::StoredSession& s, const std::string& bridge, WriteTxn& txn) {
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
      if (r.state() == v1::REGISTRATION_STATE_WAITING && first_waiting == nullptr) first_waiting = &r;
    }
    if (seated >= capacity || first_waiting == nullptr) break;
    first_waiting->set_state(v1::REGISTRATION_STATE_CONFIRMED);
    first_waiting->set_queue_number(last_queue + 1);
    Notify(txn, *first_waiting, "moved_up",
           absl::StrCat("a seat freed at bridge ", bridge, " for ", s.session().name(), ": queue number ",
                        first_waiting->queue_number()));
  }
  Renumber(s, bridge);
}

void SchedulingRegistry::CreateSession(const Principal& p, const v1::CreateSessionRequest& r, Callback<v1::Session> done) {
  if (auto s = CheckStaff(p); !s.ok()) return done(s);
  v1::Session x = r.session();
  if (x.kind() == v1::SESSION_KIND_UNSPECIFIED || !v1::SessionKind_IsValid(x.kind())) {
    return done(InvalidField("session.kind", "must be regular, periodic, unscheduled or online"));
  }
  auto day = ToCivilDay(x.date(), "session.date");
  if (!day.ok()) return done(day.status());
  if (auto s = ValidText(x.presiding(), "session.presiding", 200, true); !s.ok()) return done(s);
  if (auto s = ValidText(x.title(), "session.title", 500, false); !s.ok()) return done(s);
  if (auto s = ValidText(x.reason(), "session.reason", 1000, x.kind() == v1::SESSION_KIND_UNSCHEDULED); !s.ok()) {
    return done(x.reason().empty() ? InvalidField("session.reason", "must say why an unscheduled session is held") : s);
  }
  if (r.request_id().size() > 128) return done(InvalidField("request_id", "must be at most 128 characters"));
  if (x.kind() == v1::SESSION_KIND_ONLINE) {
    if (x.bridges_size() == 0) return done(InvalidField("session.bridges", "an online session needs at least one bridge point"));
    if (x.bridges_size() > 300) return done(InvalidField("session.bridges", "must list at most 300 bridge points"));
    std::set<std::string> seen;
    for (int i = 0; i < x.bridges_size(); ++i) {
      auto* b = x.mutable_bridges(i);
      const std::string field = absl::StrCat("session.bridges[", i, "]");
      if (d_.topology->Find(b->unit()) == nullptr) return done(InvalidField(field + ".unit", "is not a unit of the topology"));
      if (b->unit() == d_.unit_code) return done(InvalidField(field + ".unit", "is the host itself"));
      if (!seen.insert(b->unit()).second) return done(InvalidField(field + ".unit", "is listed twice"));
      if (b->capacity() < 1 || b->capacity() > 500) return done(InvalidField(field + ".capacity", "must be 1-500"));
      b->set_registered(0);
      b->set_waiting(0);
    }
    if (x.has_registration_cutoff()) {
      auto cutoff = ToCivilDay(x.registration_cutoff(), "session.registration_cutoff");
      if (!cutoff.ok()) return done(cutoff.status());
      if (*cutoff > *day) return done(InvalidField("session.registration_cutoff", "must not be after the session's day"));
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
        const std::string prefix = absl::StrCat("sessions/", d_.unit_code, "-", absl::StrReplaceAll(FormatDate(x.date()), {{"-", ""}}), "-");
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

void SchedulingRegistry::RescheduleSession(const Principal& p, const v1::RescheduleSessionRequest& r,
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
        if (r.has_registration_cutoff()) *moved.mutable_registration_cutoff() = r.registration_cutoff();
        if (auto st = CheckConflicts(moved, plan_, *d_.calendar, BookingsLocked(), x.name()); !st.ok()) return st;
        const std::string when = absl::StrCat(FormatDate(moved.date()), " ", moved.start(), "-", moved.end());
        x = moved;
        for (const auto& reg : s.registrations()) {
          if (reg.state() == v1::REGISTRATION_STATE_CONFIRMED || reg.state() == v1::REGISTRATION_STATE_WAITING ||
              reg.state() == v1::REGISTRATION_STATE_PENDING) {
            Notify(txn, reg, "session_rescheduled", absl::StrCat(x.name(), " moved to ", when));
          }
        }
        QueueNotices(s, txn);
        return absl::OkStatus();
      },
      SessionOut(std::move(done)));
}

void SchedulingRegistry::CancelSession(const Principal& p, const v1::CancelSessionRequest& r, Callback<v1::Session> done) {
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
          if (reg.state() == v1::REGISTRATION_STATE_CONFIRMED || reg.state() == v1::REGISTRATION_STATE_WAITING) {
            reg.set_state(v1::REGISTRATION_STATE_CANCELLED);
            Notify(txn, reg, "session_cancelled", absl::StrCat(x.name(), " was cancelled: ", r.reason()));
          }
        }
        for (const auto& b : x.bridges()) Renumber(s, b.unit());
        QueueNotices(s, txn);
        return absl::OkStatus();
      },
      SessionOut(std::move(done)));
}

void SchedulingRegistry::RecordSession(const Principal& p, const v1::RecordSessionRequest& r, Callback<v1::Session> done) {
  if (auto s = CheckStaff(p); !s.ok()) return done(s);
  const v1::SessionRecord& rec = r.record();
  if (auto s = ValidText(rec.presided_by(), "record.presided_by", 200, true); !s.ok()) return done(s);
  if (rec.presiding_role() == v1::PRESIDING_ROLE_UNSPECIFIED || !v1::PresidingRole_IsValid(rec.presiding_role())) {
    return done(InvalidField("record.presiding_role", "must be head, deputy or staff"));
  }
  if (rec.citizens() < 0 || rec.citizens() > 100000) return done(InvalidField("record.citizens", "must be 0-100000"));
  for (int i = 0; i < rec.cases_size(); ++i) {
    if (!absl::StartsWith(rec.cases(i), "cases/")) return done(InvalidField(absl::StrCat("record.cases[", i, "]"), "must be cases/{number}"));
  }
  if (auto s = ValidText(rec.note(), "record.note", 2000, false); !s.ok()) return done(s);
  Mutate(
      r.name(),
      [this, r](internal::StoredSession& s, WriteTxn& txn) -> absl::Status {
        v1::Session& x = *s.mutable_session();
        if (auto st = HostedAndScheduled(x, "record"); !st.ok()) return st;
        auto day = ToCivilDay(x.date(), "date");
        if (day.ok() && *day > d_.clock->Today()) {
          return absl::FailedPreconditionError(absl::StrCat(x.name(), " is on ", FormatDate(*day), ": it cannot be recorded before it happens"));
        }
        x.set_state(v1::SESSION_STATE_HELD);
        *x.mutable_record() = r.record();
        for (auto& reg : *s.mutable_registrations()) {
          if (reg.state() == v1::REGISTRATION_STATE_CONFIRMED) reg.set_state(v1::REGISTRATION_STATE_NO_SHOW);
          if (reg.state() == v1::REGISTRATION_STATE_WAITING) reg.set_state(v1::REGISTRATION_STATE_CANCELLED);
        }
        for (const auto& b : x.bridges()) Renumber(s, b.unit());
        QueueNotices(s, txn);
        return absl::OkStatus();
      },
      SessionOut(std::move(done)));
}

absl::StatusOr<v1::Session> SchedulingRegistry::GetSession(const std::string& name) const {
  absl::MutexLock lock(&mu_);
  auto it = published_.find(name);
  if (it == published_.end())
    return absl::NotFoundError(absl::StrCat(name.substr(0, 80), " does not exist"));
  return it->second.session();
}

absl::StatusOr<v1::ListSessionsResponse> SchedulingRegistry::ListSessions(const v1::ListSessionsRequest& r) const {
  auto from = ToCivilDay(r.from(), "from");
  if (!from.ok()) return from.status();
  auto to = ToCivilDay(r.to(), "to");
  if (!to.ok()) return to.status();
  v1::ListSessionsResponse out;
  absl::MutexLock lock(&mu_);
  for (const auto& [name, s] : published_) {
    auto day = ToCivilDay(s.session().date(), "date");
    if (day.ok() && *day >= *from && *day <= *to) *out.add_sessions() = s.session();
  }
  std::sort(out.mutable_sessions()->begin(), out.mutable_sessions()->end(), [](const v1::Session& a, const v1::Session& b) {
    const std::string ka = absl::StrCat(FormatDate(a.date()), a.start(), a.name());
    const std::string kb = absl::StrCat(FormatDate(b.date()), b.start(), b.name());
    return ka < kb;
  });
  return out;
}

void SchedulingRegistry::RegisterCitizen(const Principal& p, const v1::RegisterCitizenRequest& r,
                                         Callback<v1::Registration> done) {
  if (auto s = CheckStaff(p); !s.ok()) return done(s);
  v1::Registration reg = r.registration();
  if (r.request_id().empty() || r.request_id().size() > 128) return done(InvalidField("request_id", "must be 1-128 characters"));
  if (auto s = ValidText(reg.full_name(), "registration.full_name", 200, true); !s.ok()) return done(s);
  if (auto s = ValidCitizenId(reg.citizen_id(), "registration.citizen_id"); !s.ok()) return done(s);
  if (!reg.case_().empty() && !absl::StartsWith(reg.case_(), "cases/")) return done(InvalidField("registration.case", "must be cases/{number}"));
  if (reg.case_().empty() && reg.summary().empty()) {
    return done(InvalidField("registration.summary", "must summarise the matter when there is no case number"));
  }
  if (auto s = ValidText(reg.summary(), "registration.summary", 1000, false); !s.ok()) return done(s);
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
          return InvalidField("registration.bridge_unit", absl::StrCat("must be ", d_.unit_code, ": this node registers for its own bridge"));
        }
        const int n = (*s.mutable_next_registration())[reg.bridge_unit()] + 1;
        (*s.mutable_next_registration())[reg.bridge_unit()] = n;
        reg.set_name(absl::StrCat(s.session().name(), "/registrations/", reg.bridge_unit(), replica ? "-" : "-h", n));
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
            return absl::FailedPreconditionError(absl::StrCat(s.session().name(), " is no longer scheduled"));
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

void SchedulingRegistry::CancelRegistration(const Principal& p, const v1::CancelRegistrationRequest& r,
                                            Callback<v1::Registration> done) {
  if (auto s = CheckStaff(p); !s.ok()) return done(s);
  const std::string name = r.name();
  Mutate(
      SessionOf(name),
      [this, name](internal::StoredSession& s, WriteTxn& txn) -> absl::Status {
        std::string request;
        v1::Registration* reg = FindRegistration(s, name, &request);
        if (reg == nullptr) return absl::NotFoundError(absl::StrCat(name.substr(0, 120), " does not exist"));
        if (reg->state() == v1::REGISTRATION_STATE_CANCELLED) return absl::OkStatus();
        if (reg->state() == v1::REGISTRATION_STATE_CHECKED_IN || reg->state() == v1::REGISTRATION_STATE_NO_SHOW) {
          return absl::FailedPreconditionError(absl::StrCat(name, " is ", StateName(reg->state()), ": too late to cancel"));
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
        if (seated) Promote(s, bridge, txn); else Renumber(s, bridge);
        QueueNotices(s, txn);
        return absl::OkStatus();
      },
      RegistrationOut(name, /*by_request=*/false, std::move(done)));
}

void SchedulingRegistry::CheckInCitizen(const Principal& p, const v1::CheckInCitizenRequest& r,
                                        Callback<v1::Registration> done) {
  if (auto s = CheckStaff(p); !s.ok()) return done(s);
  if (auto s = ValidCitizenId(r.citizen_id(), "citizen_id"); !s.ok()) return done(s);
  const std::string name = r.name();
  const std::string checked_by = p.subject.substr(0, 200);
  Mutate(
      SessionOf(name),
      [this, r, name, checked_by](internal::StoredSession& s, WriteTxn& txn) -> absl::Status {
        std::string request;
        v1::Registration* reg = FindRegistration(s, name, &request);
        if (reg == nullptr)
          return absl::NotFoundError(absl::StrCat(name.substr(0, 120), " does not exist"));
        if (reg->bridge_unit() != d_.unit_code && s.session().replica()) {
          return absl::PermissionDeniedError("citizens check in at their own bridge point");
        }
        if (reg->citizen_id() != r.citizen_id()) {
          return absl::PermissionDeniedError("citizen_id does not match the registration: identity not confirmed");
        }
        if (reg->state() == v1::REGISTRATION_STATE_CHECKED_IN) return absl::OkStatus();
        if (reg->state() != v1::REGISTRATION_STATE_CONFIRMED) {
          return absl::FailedPreconditionError(absl::StrCat(name, " is ", StateName(reg->state()), "; only a confirmed registration checks in"));
        }
        auto day = ToCivilDay(s.session().date(), "date");
        if (day.ok() && *day != d_.clock->Today()) {
          return absl::FailedPreconditionError(absl::StrCat("check-in is on the session's day, ", FormatDate(*day)));
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
    const bool na = a->state() == v1::REGISTRATION_STATE_NO_SHOW, nb = b->state() == v1::REGISTRATION_STATE_NO_SHOW;
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

v1::ListNotificationsResponse SchedulingRegistry::Notifications(int page_size) const {
  absl::MutexLock lock(&mu_);
  v1::ListNotificationsResponse out;
  for (auto it = notifications_.rbegin(); it != notifications_.rend() && out.notifications_size() < page_size; ++it) {
    *out.add_notifications() = *it;
  }
  return out;
}

absl::StatusOr<v1::ComplianceReport> SchedulingRegistry::Compliance(const v1::GetComplianceReportRequest& r) const {
  const std::string unit = r.unit().empty() ? d_.unit_code : r.unit();
  if (unit != d_.unit_code) {
    return absl::FailedPreconditionError(absl::StrCat("unit ", unit.substr(0, 32), "'s reception is recorded at its own node; ask it there"));
  }
  const auto* u = d_.topology->Find(unit);
  if (u == nullptr) return absl::FailedPreconditionError(absl::StrCat("unit ", unit, " is not in the topology"));
  auto range = ReportRange(r.period(), r.year(), r.number(), *d_.rules);
  if (!range.ok()) return range.status();
  // Spans reach back to the Monday or the 1st before the period.
  const absl::CivilDay reach = std::min(range->first - 6, absl::CivilDay(absl::CivilMonth(range->first)));
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
  return scheduling::Compliance(unit, u->level(), range->first, range->second, held, planned, *d_.rules);
}

absl::StatusOr<std::string> SchedulingRegistry::ExportCalendar(const v1::ExportCalendarRequest& r) const {
  auto from = ToCivilDay(r.from(), "from");
  if (!from.ok()) return from.status();
  auto to = ToCivilDay(r.to(), "to");
  if (!to.ok()) return to.status();
  if (*to < *from || *to - *from > 400) return InvalidField("to", "must be on or after from, at most 400 days later");
  v1::ListSessionsRequest list;
  *list.mutable_from() = r.from();
  *list.mutable_to() = r.to();
  auto sessions = ListSessions(list);
  if (!sessions.ok()) return sessions.status();
  const v1::ReceptionPlan plan = Plan();
  auto days = PlannedDays(plan, *d_.calendar, *from, *to);
  if (!days.ok()) return days.status();
  return RenderICalendar(d_.unit_code, plan, *days, *sessions);
}

void SchedulingRegistry::ApplyNotice(const Principal& p,
                                     const federation::v1::OfferSessionNoticeRequest& r,
                                     Callback<int64_t> done) {
  if (p.role != Role::kNode || p.unit_code != r.session().host_unit()) {
    return done(absl::PermissionDeniedError("session notices come from the host's node"));
  }
  const v1::Session& x = r.session();
  // A peer's notice is input, never truth: from a configured peer, about a
  // session with a real date and times.
  if (!d_.peers.contains(x.host_unit())) {
    return done(absl::PermissionDeniedError(absl::StrCat(
        "unit ", x.host_unit().substr(0, 32), " is not a federation peer of this node")));
  }
  if (!absl::StartsWith(x.name(), "sessions/") || x.version() < 1) return done(InvalidField("session", "must be a host's session"));
  if (auto d = ToCivilDay(x.date(), "session.date"); !d.ok()) return done(d.status());
  auto start = ParseClock(x.start(), "session.start");
  if (!start.ok()) return done(start.status());
  auto end = ParseClock(x.end(), "session.end");
  if (!end.ok()) return done(end.status());
  if (*end <= *start) return done(InvalidField("session.end", "must be after session.start"));
  if (auto s = ValidText(x.presiding(), "session.presiding", 200, true); !s.ok()) return done(s);
  if (auto s = ValidText(x.title(), "session.title", 500, false); !s.ok()) return done(s);
  bool ours = false;
  for (const auto& b : x.bridges()) ours |= b.unit() == d_.unit_code;
  if (!ours) return done(absl::FailedPreconditionError(absl::StrCat("unit ", d_.unit_code, " is not a bridge of ", x.name())));
  auto held = std::make_shared<int64_t>(0);
  d_.store->Submit(
      [this, x, regs = r.registrations(), held](WriteTxn& txn) -> absl::Status {
        absl::MutexLock lock(&mu_);
        auto it = sessions_.find(x.name());
        if (it != sessions_.end() && !it->second.session().replica()) {
          return absl::FailedPreconditionError(absl::StrCat(x.name(), " is hosted here"));
        }
        internal::StoredSession s;
        if (it != sessions_.end()) {
          s = it->second;
          if (s.session().version() >= x.version()) {
            *held = s.session().version();
            return absl::OkStatus();
          }
        }
        const v1::Session before = s.session();
        *s.mutable_session() = x;
        s.mutable_session()->set_replica(true);
        s.mutable_session()->clear_problem();
        if (before.state() == v1::SESSION_STATE_SCHEDULED && x.state() == v1::SESSION_STATE_CANCELLED) {
          for (auto& reg : *s.mutable_registrations()) {
            if (reg.state() == v1::REGISTRATION_STATE_PENDING || reg.state() == v1::REGISTRATION_STATE_CONFIRMED ||
                reg.state() == v1::REGISTRATION_STATE_WAITING) {
              reg.set_state(v1::REGISTRATION_STATE_CANCELLED);
              Notify(txn, reg, "session_cancelled", absl::StrCat(x.name(), " was cancelled: ", x.cancel_reason()));
            }
          }
        } else if (before.version() > 0 && (FormatDate(before.date()) != FormatDate(x.date()) || before.start() != x.start())) {
          for (const auto& reg : s.registrations()) {
            if (reg.state() != v1::REGISTRATION_STATE_CANCELLED) {
              Notify(txn, reg, "session_rescheduled",
                     absl::StrCat(x.name(), " moved to ", FormatDate(x.date()), " ", x.start(), "-", x.end()));
            }
          }
        }
        // The host's view of this bridge's registrations, unless a change
        // made here is still on its way there.
        for (const auto& host : regs) {
          if (host.bridge_unit() != d_.unit_code) continue;
          for (int i = 0; i < s.registrations_size(); ++i) {
            v1::Registration* mine = s.mutable_registrations(i);
            if (mine->name() != host.name()) continue;
            if (outbox_->Queued(txn, absl::StrCat("r/", s.registration_requests(i)))) break;
            if (mine->state() == v1::REGISTRATION_STATE_WAITING && host.state() == v1::REGISTRATION_STATE_CONFIRMED) {
              Notify(txn, host, "moved_up",
                     absl::StrCat("a seat freed for ", x.name(), ": queue number ", host.queue_number()));
            }
            *mine = host;
          }
        }
        Keep(txn, s);
        *held = x.version();
        return absl::OkStatus();
      },
      [this, held, done = std::move(done)](absl::Status s) mutable {
        if (!s.ok()) return done(s);
        done(*held);
        Changed();
      });
}

void SchedulingRegistry::ApplyOffer(const Principal& p,
                                    const federation::v1::OfferRegistrationRequest& r,
                                    Callback<v1::Registration> done) {
  const v1::Registration& offered = r.registration();
  if (p.role != Role::kNode || p.unit_code != offered.bridge_unit()) {
    return done(absl::PermissionDeniedError("registrations are offered by the bridge's own node"));
  }
  if (!d_.peers.contains(offered.bridge_unit())) {
    return done(absl::PermissionDeniedError(absl::StrCat(
        "unit ", offered.bridge_unit().substr(0, 32), " is not a federation peer of this node")));
  }
  if (!absl::StartsWith(r.request_id(), offered.bridge_unit() + "/")) {
    return done(InvalidField("request_id", "must start with the bridge's unit"));
  }
  // Validated as strictly as a registration taken here.
  if (auto s = ValidCitizenId(offered.citizen_id(), "registration.citizen_id"); !s.ok()) return done(s);
  if (auto s = ValidText(offered.full_name(), "registration.full_name", 200, true); !s.ok())
    return done(s);
  if (auto s = ValidText(offered.summary(), "registration.summary", 1000, false); !s.ok())
    return done(s);
  if (!offered.case_().empty() && !absl::StartsWith(offered.case_(), "cases/")) {
    return done(InvalidField("registration.case", "must be cases/{number}"));
  }
  // A check-in is an identity check made at the bridge: it comes with who
  // made it and when, on the session's day (compared below), never ahead
  // of this node's clock.
  if (offered.state() == v1::REGISTRATION_STATE_CHECKED_IN) {
    if (auto s = ValidText(offered.checked_in_by(), "registration.checked_in_by", 200, true);
        !s.ok()) {
      return done(InvalidField("registration.checked_in_by",
                               "must name who checked the citizen's identity at the bridge"));
    }
    if (!offered.has_check_in_time() || offered.check_in_time().seconds() < 946684800 ||
        absl::FromUnixSeconds(offered.check_in_time().seconds()) >
            d_.clock->Now() + absl::Minutes(5)) {
      return done(InvalidField("registration.check_in_time",
                               "must be when the identity was checked, not in the future"));
    }
  }
  const std::string request = r.request_id();
  Mutate(
      offered.session(),
      [this, offered, request](internal::StoredSession& s, WriteTxn& txn) -> absl::Status {
        if (s.session().replica()) return absl::FailedPreconditionError(absl::StrCat(s.session().name(), " is not hosted here"));
        if (std::none_of(
                s.session().bridges().begin(), s.session().bridges().end(),
                [&](const v1::SessionBridge& b) { return b.unit() == offered.bridge_unit(); })) {
          return absl::PermissionDeniedError(absl::StrCat(
              "unit ", offered.bridge_unit(), " is not a bridge point of ", s.session().name()));
        }
        v1::Registration* reg = nullptr;
        for (int i = 0; i < s.registrations_size(); ++i) {
          if (s.registration_requests(i) == request) reg = s.mutable_registrations(i);
        }
        const std::string bridge = offered.bridge_unit();
        if (offered.state() == v1::REGISTRATION_STATE_CHECKED_IN) {
          const absl::CivilDay checked = absl::ToCivilDay(
              absl::FromUnixSeconds(offered.check_in_time().seconds()), VietnamTimeZone());
          auto day = ToCivilDay(s.session().date(), "date");
          if (!day.ok() || checked != *day) {
            return InvalidField("registration.check_in_time", "must be on the session's day");
          }
        }
        if (reg == nullptr) {
          // First time: admitted as of when the bridge took it.
          v1::Registration fresh = offered;
          fresh.clear_queue_number();
          fresh.clear_waiting_position();
          const absl::Time taken = absl::FromUnixSeconds(offered.create_time().seconds());
          if (offered.state() == v1::REGISTRATION_STATE_CANCELLED) {
            fresh.set_state(v1::REGISTRATION_STATE_CANCELLED);
          } else if (auto st = Admit(s, fresh, taken); !st.ok()) {
            fresh.set_state(v1::REGISTRATION_STATE_REFUSED);
            fresh.set_problem(std::string(st.message()));
          }
          *s.add_registrations() = fresh;
          s.add_registration_requests(request);
          reg = s.mutable_registrations(s.registrations_size() - 1);
          if (offered.state() == v1::REGISTRATION_STATE_CHECKED_IN && reg->state() == v1::REGISTRATION_STATE_CONFIRMED) {
            reg->set_state(v1::REGISTRATION_STATE_CHECKED_IN);
          }
        } else if (offered.state() == v1::REGISTRATION_STATE_CANCELLED && reg->state() != v1::REGISTRATION_STATE_CANCELLED) {
          const bool seated = Seated(reg->state());
          reg->set_state(v1::REGISTRATION_STATE_CANCELLED);
          reg->clear_queue_number();
          if (seated) Promote(s, bridge, txn);
        } else if (offered.state() == v1::REGISTRATION_STATE_CHECKED_IN && reg->state() == v1::REGISTRATION_STATE_CONFIRMED) {
          reg->set_state(v1::REGISTRATION_STATE_CHECKED_IN);
        }
        Renumber(s, bridge);
        QueueNotices(s, txn);
        return absl::OkStatus();
      },
      RegistrationOut(request, /*by_request=*/true, std::move(done)));
}

std::map<std::pair<std::string, std::string>, int> SchedulingRegistry::SessionCounts() const {
  absl::MutexLock lock(&mu_);
  std::map<std::pair<std::string, std::string>, int> out;
  for (const auto& [name, s] : published_) {
    ++out[{absl::AsciiStrToLower(v1::SessionKind_Name(s.session().kind()).substr(strlen("SESSION_KIND_"))),
           absl::AsciiStrToLower(v1::SessionState_Name(s.session().state()).substr(strlen("SESSION_STATE_")))}];
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
    if (x.state() != v1::SESSION_STATE_SCHEDULED && s.room_created() && !s.room_closed()) out.push_back({x, false});
  }
  return out;
}

void SchedulingRegistry::RoomDone(const std::string& session_name, bool created, const std::string& room,
                                  const std::string& problem) {
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
