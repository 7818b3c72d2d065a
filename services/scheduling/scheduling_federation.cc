// SchedulingRegistry across nodes: what the outbox sends to a peer and how
// its answer is recorded, and the notices and registrations a peer offers.
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
  if (!absl::StartsWith(x.name(), "sessions/") || x.version() < 1)
    return done(InvalidField("session", "must be a host's session"));
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
  if (!ours)
    return done(absl::FailedPreconditionError(
        absl::StrCat("unit ", d_.unit_code, " is not a bridge of ", x.name())));
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
        if (before.state() == v1::SESSION_STATE_SCHEDULED &&
            x.state() == v1::SESSION_STATE_CANCELLED) {
          for (auto& reg : *s.mutable_registrations()) {
            if (reg.state() == v1::REGISTRATION_STATE_PENDING ||
                reg.state() == v1::REGISTRATION_STATE_CONFIRMED ||
                reg.state() == v1::REGISTRATION_STATE_WAITING) {
              reg.set_state(v1::REGISTRATION_STATE_CANCELLED);
              Notify(txn, reg, "session_cancelled",
                     absl::StrCat(x.name(), " was cancelled: ", x.cancel_reason()));
            }
          }
        } else if (before.version() > 0 && (FormatDate(before.date()) != FormatDate(x.date()) ||
                                            before.start() != x.start())) {
          for (const auto& reg : s.registrations()) {
            if (reg.state() != v1::REGISTRATION_STATE_CANCELLED) {
              Notify(txn, reg, "session_rescheduled",
                     absl::StrCat(x.name(), " moved to ", FormatDate(x.date()), " ", x.start(), "-",
                                  x.end()));
            }
          }
        }
        // The host's view of this bridge's registrations, unless a change
        // made here is still on its way there; one taken at the host (or at
        // another node) for this bridge is added, so the bridge's agenda
        // shows everyone who will come to it.
        for (const auto& host : regs) {
          if (host.bridge_unit() != d_.unit_code) continue;
          if (!absl::StartsWith(host.name(), absl::StrCat(x.name(), "/registrations/"))) continue;
          bool known = false;
          for (const auto& mine : s.registrations()) known = known || mine.name() == host.name();
          if (!known) {
            *s.add_registrations() = host;
            s.add_registration_requests("");  // taken elsewhere: nothing owed from here
            continue;
          }
          for (int i = 0; i < s.registrations_size(); ++i) {
            v1::Registration* mine = s.mutable_registrations(i);
            if (mine->name() != host.name()) continue;
            if (outbox_->Queued(txn, absl::StrCat("r/", s.registration_requests(i)))) break;
            if (mine->state() == v1::REGISTRATION_STATE_WAITING &&
                host.state() == v1::REGISTRATION_STATE_CONFIRMED) {
              Notify(txn, host, "moved_up",
                     absl::StrCat("a seat freed for ", x.name(), ": queue number ",
                                  host.queue_number()));
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
  if (auto s = ValidCitizenId(offered.citizen_id(), "registration.citizen_id"); !s.ok())
    return done(s);
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
        if (s.session().replica())
          return absl::FailedPreconditionError(
              absl::StrCat(s.session().name(), " is not hosted here"));
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
          if (offered.state() == v1::REGISTRATION_STATE_CHECKED_IN &&
              reg->state() == v1::REGISTRATION_STATE_CONFIRMED) {
            reg->set_state(v1::REGISTRATION_STATE_CHECKED_IN);
          }
        } else if (offered.state() == v1::REGISTRATION_STATE_CANCELLED &&
                   reg->state() != v1::REGISTRATION_STATE_CANCELLED) {
          const bool seated = Seated(reg->state());
          reg->set_state(v1::REGISTRATION_STATE_CANCELLED);
          reg->clear_queue_number();
          if (seated) Promote(s, bridge, txn);
        } else if (offered.state() == v1::REGISTRATION_STATE_CHECKED_IN &&
                   reg->state() == v1::REGISTRATION_STATE_CONFIRMED) {
          reg->set_state(v1::REGISTRATION_STATE_CHECKED_IN);
        }
        Renumber(s, bridge);
        QueueNotices(s, txn);
        return absl::OkStatus();
      },
      RegistrationOut(request, /*by_request=*/true, std::move(done)));
}

}  // namespace reception::scheduling
