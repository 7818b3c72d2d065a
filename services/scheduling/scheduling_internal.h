// Helpers shared by the files of SchedulingRegistry (scheduling_registry.cc,
// scheduling_registrations.cc, scheduling_federation.cc). Not an interface.
#ifndef RECEPTION_SERVICES_SCHEDULING_SCHEDULING_INTERNAL_H_
#define RECEPTION_SERVICES_SCHEDULING_SCHEDULING_INTERNAL_H_

#include <algorithm>
#include <cstring>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "services/common/status.h"
#include "services/common/text.h"
#include "services/scheduling/scheduling_registry.h"

namespace reception::scheduling {

inline constexpr char kPlan[] = "plan";          // "plan" -> ReceptionPlan
inline constexpr char kSessions[] = "sessions";  // name -> StoredSession
inline constexpr char kOutbox[] = "outbox";      // key -> OutboxItem
inline constexpr char kNotices[] = "notices";    // BE64(seq) -> Notification

inline void SetTime(absl::Time t, google::protobuf::Timestamp* ts) {
  ts->set_seconds(absl::ToUnixSeconds(t));
}

inline bool Seated(v1::RegistrationState s) {
  return s == v1::REGISTRATION_STATE_CONFIRMED || s == v1::REGISTRATION_STATE_CHECKED_IN ||
         s == v1::REGISTRATION_STATE_NO_SHOW;
}

inline std::string StateName(v1::RegistrationState s) {
  return absl::AsciiStrToLower(v1::RegistrationState_Name(s).substr(strlen("REGISTRATION_STATE_")));
}

inline absl::Status ValidCitizenId(absl::string_view id, absl::string_view field) {
  if (id.size() != 12 ||
      !std::all_of(id.begin(), id.end(), [](char c) { return absl::ascii_isdigit(c); })) {
    return InvalidField(field, "must be the 12-digit citizen ID");
  }
  return absl::OkStatus();
}

inline absl::Status ValidText(absl::string_view text, absl::string_view field, size_t max,
                              bool required) {
  if (required && text.empty()) return InvalidField(field, "must be set");
  if (text.size() > max)
    return InvalidField(field, absl::StrCat("must be at most ", max, " bytes"));
  if (!IsValidUtf8(text) || HasControlCharacters(text, false)) {
    return InvalidField(field, "must be UTF-8 text without control characters");
  }
  return absl::OkStatus();
}

// The session id in a name "sessions/{id}" or a registration's name.
inline std::string SessionOf(absl::string_view name) {
  const size_t r = name.find("/registrations/");
  return std::string(r == absl::string_view::npos ? name : name.substr(0, r));
}

inline v1::Registration* FindRegistration(internal::StoredSession& s, absl::string_view name,
                                          std::string* request = nullptr) {
  for (int i = 0; i < s.registrations_size(); ++i) {
    if (s.registrations(i).name() == name) {
      if (request) *request = s.registration_requests(i);
      return s.mutable_registrations(i);
    }
  }
  return nullptr;
}

// Changes to a session are made at its host, while it is scheduled.
inline absl::Status HostedAndScheduled(const v1::Session& x, absl::string_view verb) {
  if (x.replica()) {
    return absl::FailedPreconditionError(
        absl::StrCat(x.name(), " is hosted by unit ", x.host_unit(), "; ", verb, " it there"));
  }
  if (x.state() != v1::SESSION_STATE_SCHEDULED)
    return absl::FailedPreconditionError(absl::StrCat(x.name(), " is no longer scheduled"));
  return absl::OkStatus();
}

// Answers with the changed session.
inline Callback<internal::StoredSession> SessionOut(Callback<v1::Session> done) {
  return [done = std::move(done)](absl::StatusOr<internal::StoredSession> s) mutable {
    if (!s.ok()) return done(s.status());
    done(s->session());
  };
}

// Answers with the registration named `key` (or made with request `key`).
inline Callback<internal::StoredSession> RegistrationOut(std::string key, bool by_request,
                                                         Callback<v1::Registration> done) {
  return
      [key, by_request, done = std::move(done)](absl::StatusOr<internal::StoredSession> s) mutable {
        if (!s.ok()) return done(s.status());
        for (int i = 0; i < s->registrations_size(); ++i) {
          if ((by_request ? s->registration_requests(i) : s->registrations(i).name()) == key)
            return done(s->registrations(i));
        }
        done(absl::InternalError("the registration was not kept"));
      };
}

}  // namespace reception::scheduling

#endif  // RECEPTION_SERVICES_SCHEDULING_SCHEDULING_INTERNAL_H_
